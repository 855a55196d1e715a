//! The L2 window: each chain's recent blocks, as the deriver's batch checks and attributes
//! builder read them.

use crate::{
    block_ref::{l2_block_info, L2BlockInfo, L2Source},
    system_config::SystemConfig,
    DeriveError,
};
use alloy_consensus::{Block, BlockBody, Header};
use alloy_eips::{eip2718::Encodable2718, eip4895::Withdrawals};
use alloy_primitives::Bytes;
use lockstep_chainspec::RollupConfig;
use lockstep_storage::{tables::Transactions, ChainProvider, DbTx, TableRead, TransactionKind};
use op_alloy_consensus::{OpBlock, OpTxEnvelope};
use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex, MutexGuard},
};

/// How many recent blocks keep their full bodies in memory (older ones a span batch overlaps
/// are read from the database).
pub const FULL_BLOCKS: u64 = 512;
/// How many recent blocks keep their summaries.
pub const SUMMARIES: u64 = 8192;

#[derive(Debug)]
struct Entry {
    info: L2BlockInfo,
    system_config: SystemConfig,
    block: Option<Arc<OpBlock>>,
}

#[derive(Debug)]
struct Window {
    entries: BTreeMap<u64, Entry>,
}

/// One chain's recent L2 blocks, held in memory.
///
/// The driver pushes each block it executes, before it commits, so the deriver sees the blocks
/// of the L1 block being processed.
#[derive(Debug, Clone)]
pub struct L2Window {
    chain_id: u64,
    rollup: Arc<RollupConfig>,
    inner: Arc<Mutex<Window>>,
}

/// An OP block from a header and its transactions.
pub fn op_block(header: Header, transactions: Vec<OpTxEnvelope>) -> OpBlock {
    Block {
        header,
        body: BlockBody {
            transactions,
            ommers: Vec::new(),
            withdrawals: Some(Withdrawals::default()),
        },
    }
}

fn encoded(block: &OpBlock) -> Vec<Bytes> {
    block.body.transactions.iter().map(|t| t.encoded_2718().into()).collect()
}

impl L2Window {
    /// An empty window for `chain_id`.
    pub fn new(chain_id: u64, rollup: Arc<RollupConfig>) -> Self {
        Self { chain_id, rollup, inner: Arc::new(Mutex::new(Window { entries: BTreeMap::new() })) }
    }

    fn lock(&self) -> MutexGuard<'_, Window> {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The chain.
    pub const fn chain_id(&self) -> u64 {
        self.chain_id
    }

    /// Fills the window from the database with the blocks before and at `head`.
    pub fn load<K: TransactionKind>(&self, tx: &DbTx<'_, K>, head: u64) -> Result<(), DeriveError> {
        let provider = ChainProvider::new(tx, self.chain_id);
        let genesis = self.rollup.genesis.l2.number;
        let first = head.saturating_sub(SUMMARIES - 1).max(genesis);
        self.lock().entries.clear();
        for number in first..=head {
            let header = provider
                .header(number)?
                .ok_or(DeriveError::L2Missing { chain: self.chain_id, number })?;
            // older blocks keep only their summary, which needs just the L1 info deposit
            let transactions = if head - number < FULL_BLOCKS {
                provider.transactions(number)?
            } else {
                let first = tx.get::<Transactions>(&(self.chain_id, number, 0))?;
                first.into_iter().collect()
            };
            self.push(op_block(header, transactions))?;
        }
        Ok(())
    }

    /// Reads block `number` back from the database as a summary, a system config and its
    /// transactions.
    pub fn read<T: TableRead>(
        &self,
        tx: &T,
        number: u64,
    ) -> Result<(L2BlockInfo, SystemConfig, Vec<Bytes>), DeriveError> {
        let provider = ChainProvider::new(tx, self.chain_id);
        let missing = DeriveError::L2Missing { chain: self.chain_id, number };
        let header = provider.header(number)?.ok_or(missing)?;
        let block = op_block(header, provider.transactions(number)?);
        let (info, config) = self.summarise(&block)?;
        Ok((info, config, encoded(&block)))
    }

    fn summarise(&self, block: &OpBlock) -> Result<(L2BlockInfo, SystemConfig), DeriveError> {
        let number = block.header.number;
        l2_block_info(block, block.header.hash_slow(), &self.rollup)
            .map_err(|reason| DeriveError::BadL2Block { chain: self.chain_id, number, reason })
    }

    /// Adds the next block and returns its summary.
    pub fn push(&self, block: OpBlock) -> Result<L2BlockInfo, DeriveError> {
        let number = block.header.number;
        let (info, system_config) = self.summarise(&block)?;
        let mut window = self.lock();
        window.entries.insert(number, Entry { info, system_config, block: Some(Arc::new(block)) });
        if let Some(old) = number.checked_sub(FULL_BLOCKS) {
            if let Some(entry) = window.entries.get_mut(&old) {
                entry.block = None;
            }
        }
        if number >= SUMMARIES {
            window.entries = window.entries.split_off(&(number - SUMMARIES + 1));
        }
        Ok(info)
    }

    /// The summary of block `number`.
    pub fn info(&self, number: u64) -> Result<L2BlockInfo, DeriveError> {
        self.lock()
            .entries
            .get(&number)
            .map(|e| e.info)
            .ok_or(DeriveError::L2Missing { chain: self.chain_id, number })
    }

    /// The summary of the newest block held.
    pub fn head(&self) -> Option<L2BlockInfo> {
        self.lock().entries.values().next_back().map(|e| e.info)
    }
}

impl L2Source for L2Window {
    fn info(&self, number: u64) -> Result<L2BlockInfo, DeriveError> {
        Self::info(self, number)
    }

    fn system_config(&self, number: u64) -> Result<SystemConfig, DeriveError> {
        self.lock()
            .entries
            .get(&number)
            .map(|e| e.system_config)
            .ok_or(DeriveError::L2Missing { chain: self.chain_id, number })
    }

    fn transactions(&self, number: u64) -> Result<Vec<Bytes>, DeriveError> {
        self.lock()
            .entries
            .get(&number)
            .and_then(|e| e.block.as_deref().map(encoded))
            .ok_or(DeriveError::L2Missing { chain: self.chain_id, number })
    }
}

/// A chain's L2 window with the database behind it: what the window no longer holds (a span
/// batch that overlaps far back, say) is read from `tx`.
#[derive(Debug)]
pub struct L2Chain<'a, T> {
    window: &'a L2Window,
    tx: &'a T,
}

impl<'a, T: TableRead> L2Chain<'a, T> {
    /// The window over `tx`.
    pub const fn new(window: &'a L2Window, tx: &'a T) -> Self {
        Self { window, tx }
    }
}

impl<T: TableRead> L2Source for L2Chain<'_, T> {
    fn info(&self, number: u64) -> Result<L2BlockInfo, DeriveError> {
        match self.window.info(number) {
            Err(DeriveError::L2Missing { .. }) => Ok(self.window.read(self.tx, number)?.0),
            other => other,
        }
    }

    fn system_config(&self, number: u64) -> Result<SystemConfig, DeriveError> {
        match L2Source::system_config(self.window, number) {
            Err(DeriveError::L2Missing { .. }) => Ok(self.window.read(self.tx, number)?.1),
            other => other,
        }
    }

    fn transactions(&self, number: u64) -> Result<Vec<Bytes>, DeriveError> {
        match L2Source::transactions(self.window, number) {
            Err(DeriveError::L2Missing { .. }) => Ok(self.window.read(self.tx, number)?.2),
            other => other,
        }
    }
}
