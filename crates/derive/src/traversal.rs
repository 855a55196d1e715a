//! L1 traversal: the L1 block the deriver reads (its origin), one at a time, and the system
//! config as of that block. Each step checks that the next block builds on the current one
//! (a reorg otherwise) and applies the next block's `ConfigUpdate` logs before its batcher
//! data is read, so a batcher change counts from the block that makes it.

use crate::{
    block_ref::{block_info, BlockInfo},
    system_config::SystemConfig,
    DeriveError, L1Window,
};
use lockstep_chainspec::RollupConfig;

/// Where the deriver is on L1.
#[derive(Debug, Clone)]
pub struct Traversal {
    origin: BlockInfo,
    system_config: SystemConfig,
    /// Whether the origin's data has been handed on.
    taken: bool,
}

/// What [`Traversal::advance`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Advanced {
    /// The origin moved to the next block.
    Yes,
    /// The next block is past the L1 window's limit.
    NotYet,
}

impl Traversal {
    /// Starts at `origin` with the system config of the L2 block derivation resumes after.
    pub const fn new(origin: BlockInfo, system_config: SystemConfig) -> Self {
        Self { origin, system_config, taken: false }
    }

    /// The L1 block being read.
    pub const fn origin(&self) -> BlockInfo {
        self.origin
    }

    /// The system config as of the origin.
    pub const fn system_config(&self) -> &SystemConfig {
        &self.system_config
    }

    /// The origin, the first time it is asked for after each advance.
    pub fn take(&mut self) -> Option<BlockInfo> {
        (!std::mem::replace(&mut self.taken, true)).then_some(self.origin)
    }

    /// Moves to the next L1 block. A next block whose parent is not the origin is an L1 reorg:
    /// the deriver must reset. A malformed `ConfigUpdate` log stops derivation, as in op-node.
    pub fn advance(
        &mut self,
        l1: &L1Window,
        rollup: &RollupConfig,
    ) -> Result<Advanced, DeriveError> {
        let number = self.origin.number + 1;
        let next = match l1.block(number) {
            Ok(block) => block,
            Err(DeriveError::L1NotYetAvailable(_)) => return Ok(Advanced::NotYet),
            Err(err) => return Err(err),
        };
        if next.header.parent_hash != self.origin.hash {
            return Err(DeriveError::Reset {
                chain: rollup.l2_chain_id.id(),
                reason: format!(
                    "L1 reorg: block {number} builds on {}, not on {}",
                    next.header.parent_hash, self.origin.hash
                ),
            });
        }
        let ecotone = rollup.is_ecotone_active(next.header.timestamp);
        self.system_config
            .apply_receipts(&next.receipts, rollup.l1_system_config_address, ecotone)
            .map_err(|e| DeriveError::Critical {
                chain: rollup.l2_chain_id.id(),
                reason: format!("L1 block {number}: {e}"),
            })?;
        self.origin = block_info(&next);
        self.taken = false;
        Ok(Advanced::Yes)
    }
}
