//! The L2 window: each chain's recent blocks, as the pipeline's batch checks and attribute
//! builder read them.

use crate::DeriveError;
use alloy_consensus::{Block, BlockBody, Header};
use alloy_eips::eip4895::Withdrawals;
use async_trait::async_trait;
use kona_derive::L2ChainProvider;
use kona_genesis::{RollupConfig, SystemConfig};
use kona_protocol::{to_system_config, BatchValidationProvider, L2BlockInfo};
use lockstep_storage::{tables::Transactions, ChainProvider, DbTx, TransactionKind};
use op_alloy_consensus::{OpBlock, OpTxEnvelope};
use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex, MutexGuard},
};

/// How many recent blocks keep their full bodies (for span batches that overlap the safe
/// head).
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
/// The driver pushes each block it executes, before it commits, so the pipeline sees the
/// blocks of the L1 block being processed; the pipeline never touches the database.
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

impl L2Window {
    /// An empty window for `chain_id`.
    pub fn new(chain_id: u64, rollup: Arc<RollupConfig>) -> Self {
        Self { chain_id, rollup, inner: Arc::new(Mutex::new(Window { entries: BTreeMap::new() })) }
    }

    fn lock(&self) -> MutexGuard<'_, Window> {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
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

    /// Adds the next block and returns its summary.
    pub fn push(&self, block: OpBlock) -> Result<L2BlockInfo, DeriveError> {
        let number = block.header.number;
        let bad = |reason: String| DeriveError::BadL2Block { chain: self.chain_id, number, reason };
        let info = L2BlockInfo::from_block_and_genesis(&block, &self.rollup.genesis)
            .map_err(|e| bad(e.to_string()))?;
        let system_config =
            to_system_config(&block, &self.rollup).map_err(|e| bad(e.to_string()))?;
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

#[async_trait]
impl BatchValidationProvider for L2Window {
    type Error = DeriveError;

    async fn l2_block_info_by_number(&mut self, number: u64) -> Result<L2BlockInfo, DeriveError> {
        self.info(number)
    }

    async fn block_by_number(&mut self, number: u64) -> Result<OpBlock, DeriveError> {
        self.lock()
            .entries
            .get(&number)
            .and_then(|e| e.block.as_deref().cloned())
            .ok_or(DeriveError::L2Missing { chain: self.chain_id, number })
    }
}

#[async_trait]
impl L2ChainProvider for L2Window {
    type Error = DeriveError;

    async fn system_config_by_number(
        &mut self,
        number: u64,
        _rollup_config: Arc<RollupConfig>,
    ) -> Result<SystemConfig, DeriveError> {
        self.lock()
            .entries
            .get(&number)
            .map(|e| e.system_config)
            .ok_or(DeriveError::L2Missing { chain: self.chain_id, number })
    }
}
