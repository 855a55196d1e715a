//! Pruning (`--history.blocks`): after each L1 block, every chain's changesets (with their
//! history index entries) and receipts older than the kept window, and the L1 block records
//! older than it, in the L1 block's own write transaction. Never a block that no closed
//! superchain batch holds yet: the cross-chain check reads its receipts when the batch closes,
//! however long another chain stalls. A little at a time (at most
//! [`PRUNE_STEP`] blocks of each chain per L1 block), so that pruning a long history never
//! holds up one L1 block. Unwinding has nothing to undo: what was pruned is gone, and an unwind
//! below it is refused by the storage layer.

use super::{L1Input, Parts, Stage, StepOutput, UnwindInput};
use crate::NodeError;
use lockstep_storage::{
    tables::{L1Blocks, SuperchainBatches},
    ChainProvider, DbTx, RW,
};

/// The most blocks of one chain (and L1 records) pruned per L1 block.
pub const PRUNE_STEP: u64 = 256;

/// The fewest L1 block records kept whatever the window: a pipeline reset reads back two
/// channel timeouts (at most 600 L1 blocks), an L1 reorg unwinds to the newest record the L1
/// still has, and `finalized` names the record at the finalized L1 block.
pub const MIN_L1_RECORDS: u64 = 1_024;

/// The pruning stage.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct PruneStage;

impl Stage for PruneStage {
    fn name(&self) -> &'static str {
        "prune"
    }

    fn execute(
        &mut self,
        parts: &mut Parts<'_>,
        tx: &DbTx<'_, RW>,
        input: &L1Input,
        _: &mut StepOutput,
    ) -> Result<(), NodeError> {
        let Some(keep) = parts.history_blocks else { return Ok(()) };
        let last_batch = tx.cursor::<SuperchainBatches>()?.last()?.map(|(_, b)| b);
        for chain in parts.chains.iter() {
            // the state after each of the last `keep` blocks needs the changesets after it
            let window = (chain.head.block_info.number + 1).saturating_sub(keep);
            // and the next batch's check needs the receipts of every block after the last one's
            let unbatched = last_batch
                .as_ref()
                .and_then(|b| b.ranges.iter().find(|r| r.chain_id == chain.chain_id()))
                .map_or(0, |r| r.last.saturating_add(1).max(r.first));
            let below = window.min(unbatched);
            ChainProvider::new(tx, chain.chain_id()).prune_history(below, PRUNE_STEP)?;
        }
        let below = input.number.saturating_sub(keep.max(MIN_L1_RECORDS));
        let mut cursor = tx.cursor::<L1Blocks>()?;
        let mut old = Vec::new();
        let mut entry = cursor.first()?;
        while let Some((number, _)) = entry {
            if number >= below || old.len() as u64 >= PRUNE_STEP {
                break;
            }
            old.push(number);
            entry = cursor.next()?;
        }
        drop(cursor);
        for number in old {
            tx.delete::<L1Blocks>(&number)?;
        }
        Ok(())
    }

    fn unwind(
        &mut self,
        _: &mut Parts<'_>,
        _: &DbTx<'_, RW>,
        _: &UnwindInput,
    ) -> Result<Vec<(u64, u64)>, NodeError> {
        Ok(Vec::new())
    }
}
