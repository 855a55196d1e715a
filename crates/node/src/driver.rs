//! The lockstep driver.

use crate::{
    stages::{stages, L1Input, Parts, StepOutput, UnwindInput},
    NodeError,
};
use alloy_primitives::{Address, B256};
use lockstep_chainspec::ChainSpec;
use lockstep_chainspec::RollupConfig;
use lockstep_crosschain::{Atomicity, BatchVerdict, CrossChainCheck};
use lockstep_derive::{ChainDeriver, L1Window, L2BlockInfo, L2Chain, L2Window};
use lockstep_execution::ChainExecutor;
use lockstep_l1::{L1Block, L1Source};
use lockstep_storage::{
    tables::{DerivationCursors, L1Blocks, SuperchainBatches},
    BatchRecord, ChainCursor, ChainProvider, DatabaseEnv, DbTx, DerivationCursor, L1BlockRecord,
    TransactionKind,
};
use std::sync::Arc;

pub(crate) struct ChainState {
    pub(crate) spec: Arc<ChainSpec>,
    pub(crate) rollup: Arc<RollupConfig>,
    pub(crate) executor: ChainExecutor,
    pub(crate) l2: L2Window,
    pub(crate) deriver: Option<ChainDeriver>,
    pub(crate) head: L2BlockInfo,
    /// The bridge predeploy, whose events the chain's thread extracts as it executes.
    pub(crate) bridge: Address,
    /// Bridge events of the blocks executed since the last batch that took them, by block:
    /// the check reads these rather than decoding the receipts again. Cleared whenever the
    /// windows are reloaded (restart, failed step, reorg); the check then reads the database.
    pub(crate) events: std::collections::BTreeMap<
        u64,
        Vec<lockstep_crosschain::Located<lockstep_crosschain::BridgeEvent>>,
    >,
}

impl std::fmt::Debug for ChainState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChainState")
            .field("chain_id", &self.spec.chain_id())
            .field("head", &self.head.block_info.number)
            .finish_non_exhaustive()
    }
}

impl ChainState {
    pub(crate) fn chain_id(&self) -> u64 {
        self.spec.chain_id()
    }

    pub(crate) fn genesis_l1(&self) -> u64 {
        self.rollup.genesis.l1.number
    }

    pub(crate) fn cursor(&self) -> ChainCursor {
        ChainCursor {
            chain_id: self.chain_id(),
            number: self.head.block_info.number,
            hash: self.head.block_info.hash,
            timestamp: self.head.block_info.timestamp,
        }
    }
}

/// The superchain set's settings that the cross-chain check reads (DESIGN.md 5.1 and 5.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckSettings {
    /// The bridge predeploy, the same on every chain.
    pub bridge: Address,
    /// The shared sequencer: the only committer whose commitments count.
    pub sequencer: Address,
    /// The L1 contract where the sequencer commits each batch; `None`: no commitments are
    /// checked.
    pub commitments: Option<Address>,
    /// L1 blocks after the one that closes a batch within which its commitment must come.
    pub commitment_window: u64,
}

impl CheckSettings {
    /// The settings of a superchain set file.
    pub fn from_set(set: &lockstep_chainspec::SuperchainSet) -> Self {
        Self {
            bridge: set.bridge,
            sequencer: set.sequencer,
            commitments: set.commitments,
            commitment_window: set.commitment_window,
        }
    }
}

/// One chain's part of a processed L1 block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainStep {
    /// The chain.
    pub chain_id: u64,
    /// Blocks derived and executed.
    pub blocks: u64,
    /// Their transactions.
    pub transactions: u64,
    /// Their gas.
    pub gas: u64,
    /// The chain's head after the L1 block.
    pub head: u64,
    /// Derived payloads the engine refused that were replaced by their deposits alone
    /// (Holocene's invalid-payload rule).
    pub replaced: u64,
}

/// What one call to [`Node::step`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepOutcome {
    /// The L1 block was processed and committed.
    Processed {
        /// The L1 block number.
        l1_number: u64,
        /// Its hash.
        l1_hash: B256,
        /// Each chain's new blocks.
        chains: Vec<ChainStep>,
        /// The superchain batch it closed, if any.
        batch: Option<BatchRecord>,
        /// The verdicts written by this L1 block: the closed batch's, and those of earlier
        /// batches whose commitment arrived in this block.
        verdicts: Vec<BatchVerdict>,
    },
    /// The L1 reorganised: every chain and batch was unwound to the common ancestor.
    Reorged {
        /// The common ancestor, now the L1 cursor (`None`: before the first processed block).
        ancestor: Option<u64>,
        /// The blocks of each chain that were unwound.
        unwound: Vec<(u64, u64)>,
    },
}

/// The lockstep driver: for each new L1 block, every chain derives what that block makes safe
/// and executes it, the superchain batch boundary is computed, and everything (all chains'
/// blocks, state, receipts and changesets, the batch record, the L1 cursor) is committed in one
/// MDBX write transaction.
#[derive(Debug)]
pub struct Node {
    env: Arc<DatabaseEnv>,
    chains: Vec<ChainState>,
    check: CrossChainCheck,
    commitments: Option<Address>,
    l1: L1Window,
    prepared: bool,
    history_blocks: Option<u64>,
}

/// How many blocks of history (changesets and receipts) each chain keeps by default: what the
/// RPC has always promised for historical state.
pub const DEFAULT_HISTORY_BLOCKS: u64 = 8_192;

/// The fewest blocks of history a node may keep: an L1 reorg unwinds the blocks derived from
/// the reorganised L1 blocks, and an unwind needs their changesets.
pub const MIN_HISTORY_BLOCKS: u64 = 1_024;

impl Node {
    /// Opens (or creates) the node's database in `datadir` for `chains`, writing each chain's
    /// genesis if it is new.
    pub fn open(
        datadir: &std::path::Path,
        chains: Vec<ChainSpec>,
        addresses: CheckSettings,
    ) -> Result<Self, NodeError> {
        let env = DatabaseEnv::open(datadir, lockstep_storage::DatabaseMode::ReadWrite)?;
        Self::with_env(Arc::new(env), chains, addresses)
    }

    /// The node over an open database (which RPC servers may share).
    pub fn with_env(
        env: Arc<DatabaseEnv>,
        chains: Vec<ChainSpec>,
        addresses: CheckSettings,
    ) -> Result<Self, NodeError> {
        if chains.is_empty() {
            return Err(NodeError::Config("the superchain set has no chains".into()));
        }
        let block_time = chains[0].rollup.block_time;
        let tx = env.tx_mut()?;
        let mut states = Vec::new();
        for spec in chains {
            if spec.rollup.block_time != block_time {
                return Err(NodeError::Config(format!(
                    "chain {} has block time {}s but chain {} has {block_time}s; a superchain \
                     set's chains must share one block time",
                    spec.chain_id(),
                    spec.rollup.block_time,
                    states.first().map_or(0, |s: &ChainState| s.chain_id())
                )));
            }
            let spec = Arc::new(spec);
            let rollup = Arc::new(spec.rollup.clone());
            let executor = ChainExecutor::new(spec.clone());
            executor.init_genesis(&tx)?;
            let l2 = L2Window::new(spec.chain_id(), rollup.clone());
            states.push(ChainState {
                spec,
                rollup,
                executor,
                l2,
                deriver: None,
                head: L2BlockInfo::default(),
                bridge: addresses.bridge,
                events: std::collections::BTreeMap::new(),
            });
        }
        tx.commit()?;
        let check = CrossChainCheck {
            chains: states.iter().map(ChainState::chain_id).collect(),
            bridge: addresses.bridge,
            sequencer: addresses.sequencer,
            commitment_window: addresses.commitment_window,
            atomicity: Atomicity::Batch,
        };
        let mut node = Self {
            env,
            chains: states,
            check,
            commitments: addresses.commitments,
            l1: L1Window::default(),
            prepared: false,
            history_blocks: Some(DEFAULT_HISTORY_BLOCKS),
        };
        node.load_heads()?;
        Ok(node)
    }

    /// Keeps the last `blocks` blocks of each chain's history (changesets with their index
    /// entries, and receipts), pruning the older ones a little after each L1 block; `None`
    /// keeps everything (an archive node). A node that follows a real L1 keeps at least
    /// [`MIN_HISTORY_BLOCKS`] (the CLI holds it to that): an L1 reorg deeper than the kept
    /// history cannot be unwound, and the node stops with an error saying so.
    pub fn set_history_blocks(&mut self, blocks: Option<u64>) -> Result<(), NodeError> {
        if blocks == Some(0) {
            return Err(NodeError::Config("a node keeps at least one block of history".into()));
        }
        self.history_blocks = blocks;
        Ok(())
    }

    /// How many blocks of history each chain keeps (`None`: all).
    pub const fn history_blocks(&self) -> Option<u64> {
        self.history_blocks
    }

    /// Whether a mint must come in its burn's batch (the default) or at its burn's L2
    /// timestamp (DESIGN.md 5.6), for the batches checked from now on.
    pub const fn set_atomicity(&mut self, atomicity: Atomicity) {
        self.check.atomicity = atomicity;
    }

    /// The atomicity the check holds mints to.
    pub const fn atomicity(&self) -> Atomicity {
        self.check.atomicity
    }

    /// The database.
    pub fn database(&self) -> &DatabaseEnv {
        &self.env
    }

    /// The database, to share with readers such as the RPC server.
    pub fn shared_database(&self) -> Arc<DatabaseEnv> {
        self.env.clone()
    }

    /// The verdict of batch `index`, if it was checked.
    pub fn verdict(&self, index: u64) -> Result<Option<BatchVerdict>, NodeError> {
        Ok(lockstep_crosschain::verdict(&self.env.tx()?, index)?)
    }

    /// How many batches are flagged.
    pub fn flagged_count(&self) -> Result<u64, NodeError> {
        Ok(lockstep_crosschain::flagged_count(&self.env.tx()?)?)
    }

    /// The chain ids, in the superchain set's order.
    pub fn chain_ids(&self) -> Vec<u64> {
        self.chains.iter().map(ChainState::chain_id).collect()
    }

    /// Each chain's head: `(chain id, number, hash)`.
    pub fn heads(&self) -> Vec<(u64, u64, B256)> {
        self.chains
            .iter()
            .map(|c| (c.chain_id(), c.head.block_info.number, c.head.block_info.hash))
            .collect()
    }

    /// The last L1 block committed: `(number, hash)`.
    pub fn l1_cursor(&self) -> Result<Option<(u64, B256)>, NodeError> {
        let tx = self.env.tx()?;
        Ok(last_l1(&tx)?.map(|(n, r)| (n, r.hash)))
    }

    /// The number of superchain batches closed so far.
    pub fn batches(&self) -> Result<u64, NodeError> {
        let tx = self.env.tx()?;
        Ok(tx.cursor::<SuperchainBatches>()?.last()?.map_or(0, |(index, _)| index + 1))
    }

    /// How many checked batches still wait for their commitment within the commitment window
    /// (0 when the set names no commitment contract).
    pub fn commitments_pending(&self) -> Result<u64, NodeError> {
        if self.commitments.is_none() {
            return Ok(0);
        }
        let checked = self.batches()?;
        let tx = self.env.tx()?;
        let mut pending = 0;
        // one L1 block closes at most one batch: older ones are past their window
        for index in checked.saturating_sub(self.check.commitment_window + 1)..checked {
            let verdict = lockstep_crosschain::verdict(&tx, index)?;
            if verdict
                .is_some_and(|v| v.commitment == lockstep_crosschain::CommitmentCheck::NotSeen)
            {
                pending += 1;
            }
        }
        Ok(pending)
    }

    /// The superchain batch `index`.
    pub fn batch(&self, index: u64) -> Result<Option<BatchRecord>, NodeError> {
        Ok(self.env.tx()?.get::<SuperchainBatches>(&index)?)
    }

    /// Reads every chain's head from the database into the L2 windows; the pipelines are
    /// rebuilt at the next step.
    fn load_heads(&mut self) -> Result<(), NodeError> {
        let tx = self.env.tx()?;
        for chain in &mut self.chains {
            let head = ChainProvider::new(&tx, chain.chain_id()).head()?.ok_or_else(|| {
                NodeError::Inconsistent(format!("chain {} has no head", chain.chain_id()))
            })?;
            chain.l2.load(&tx, head.number)?;
            chain.head = chain.l2.info(head.number)?;
            chain.deriver = None;
            chain.events.clear();
        }
        self.prepared = false;
        Ok(())
    }

    /// The first L1 block any chain derives from.
    fn first_l1(&self) -> u64 {
        self.chains.iter().map(ChainState::genesis_l1).min().unwrap_or_default()
    }

    fn fetch<S: L1Source>(source: &S, number: u64) -> Result<L1Block, NodeError> {
        let block = source.block(number)?.ok_or_else(|| {
            NodeError::Inconsistent(format!("L1 block {number} disappeared from the L1"))
        })?;
        block.check()?;
        Ok(block)
    }

    /// The blobs of `block`'s transactions to any chain's batch inbox (whoever sent them:
    /// the pipeline checks the sender).
    fn batcher_blobs<S: L1Source>(
        &self,
        source: &S,
        block: &L1Block,
    ) -> Result<Vec<(B256, Box<lockstep_l1::Blob>)>, NodeError> {
        let hashes: Vec<B256> = block
            .transactions
            .iter()
            .filter(|tx| {
                let to = alloy_consensus::Transaction::to(*tx);
                self.chains.iter().any(|c| to == Some(c.rollup.batch_inbox_address))
            })
            .filter_map(|tx| alloy_consensus::Transaction::blob_versioned_hashes(tx))
            .flatten()
            .copied()
            .collect();
        let blobs = source.blobs(block, &hashes)?;
        Ok(hashes.into_iter().zip(blobs).collect())
    }

    /// Fills the L1 window from each chain's reset origin to the cursor and rebuilds the
    /// pipelines. Returns `false` when the L1 no longer holds the committed blocks (a reorg
    /// while the node was down): the caller unwinds first.
    fn prepare<S: L1Source>(&mut self, source: &S) -> Result<bool, NodeError> {
        let tx = self.env.tx()?;
        let cursor = last_l1(&tx)?;
        let limit = cursor.as_ref().map_or_else(|| self.first_l1(), |(n, _)| *n);
        let mut from = u64::MAX;
        for c in &self.chains {
            let l2 = L2Chain::new(&c.l2, &tx);
            from = from.min(ChainDeriver::resume_origin_number(&c.rollup, &l2, &c.head)?);
        }
        let from = if from == u64::MAX { 0 } else { from };
        for number in from..=limit {
            if self.l1.get(number).is_none() {
                let block = Self::fetch(source, number)?;
                let blobs = self.batcher_blobs(source, &block)?;
                self.l1.insert(block, blobs);
            }
            let held = self.l1.get(number).map(|b| b.hash);
            if let Some(record) = tx.get::<L1Blocks>(&number)? {
                if held != Some(record.hash) {
                    return Ok(false);
                }
            }
        }
        for chain in &self.chains {
            let genesis = chain.rollup.genesis.l1;
            if let Some(block) = self.l1.get(genesis.number) {
                if block.hash != genesis.hash {
                    return Err(NodeError::WrongL1 {
                        chain: chain.chain_id(),
                        number: genesis.number,
                        expected: genesis.hash,
                        found: block.hash,
                    });
                }
            }
        }
        self.l1.set_limit(cursor.as_ref().map_or(0, |(n, _)| *n));
        for chain in &mut self.chains {
            let (deriver, resumed) = ChainDeriver::resume(
                chain.chain_id(),
                &chain.rollup,
                &self.l1,
                &L2Chain::new(&chain.l2, &tx),
                chain.head,
            )?;
            match resumed {
                lockstep_derive::Resumed::Replayed { base, blocks } => tracing::debug!(
                    target: "lockstep::node",
                    chain = chain.chain_id(),
                    base,
                    blocks,
                    "derivation resumed: the blocks since the base derived again and matched"
                ),
                lockstep_derive::Resumed::Reset { reason } => tracing::warn!(
                    target: "lockstep::node",
                    chain = chain.chain_id(),
                    %reason,
                    "derivation resumed by a plain reset at the head"
                ),
            }
            chain.deriver = Some(deriver);
        }
        drop(tx);
        self.prepared = true;
        Ok(true)
    }

    /// Processes the next L1 block, if the L1 has one: derives and executes every chain, closes
    /// a superchain batch when one is due, and commits it all at once. Returns `None` when the
    /// node is at the L1 head.
    pub fn step<S: L1Source>(&mut self, source: &S) -> Result<Option<StepOutcome>, NodeError> {
        if !self.prepared && !self.prepare(source)? {
            return self.unwind_reorg(source).map(Some);
        }
        let cursor = self.l1_cursor()?;
        let number = cursor.map_or_else(|| self.first_l1(), |(n, _)| n + 1);
        let Some(block) = source.block(number)? else { return Ok(None) };
        // whatever the source: the block must hold together before anything is derived from it
        block.check()?;
        if let Some((_, hash)) = cursor {
            if block.header.parent_hash != hash {
                return self.unwind_reorg(source).map(Some);
            }
        }
        let blobs = self.batcher_blobs(source, &block)?;
        match self.process(block, blobs) {
            Ok(outcome) => Ok(Some(outcome)),
            Err(err) => {
                // the write transaction was dropped: forget what the windows saw of it
                self.l1.truncate_above(number.saturating_sub(1));
                self.load_heads()?;
                Err(err)
            }
        }
    }

    /// Processes L1 blocks until the node reaches the L1 head. Returns the outcomes.
    pub fn sync<S: L1Source>(&mut self, source: &S) -> Result<Vec<StepOutcome>, NodeError> {
        let mut outcomes = Vec::new();
        while let Some(outcome) = self.step(source)? {
            outcomes.push(outcome);
        }
        Ok(outcomes)
    }

    fn process(
        &mut self,
        block: L1Block,
        blobs: Vec<(B256, Box<lockstep_l1::Blob>)>,
    ) -> Result<StepOutcome, NodeError> {
        let input = L1Input {
            number: block.header.number,
            hash: block.hash,
            parent_hash: block.header.parent_hash,
            timestamp: block.header.timestamp,
            commitments: self.commitments_in(&block),
            deposits: self.deposits_in(&block),
        };
        self.l1.insert(block, blobs);
        self.l1.set_limit(input.number);
        let tx = self.env.tx_mut()?;
        let mut out = StepOutput::default();
        let mut parts = Parts {
            env: &self.env,
            chains: &mut self.chains,
            l1: &self.l1,
            check: &mut self.check,
            commitments_checked: self.commitments.is_some(),
            history_blocks: self.history_blocks,
        };
        for mut stage in stages() {
            stage.execute(&mut parts, &tx, &input, &mut out).map_err(|err| {
                tracing::debug!(target: "lockstep::node", stage = stage.name(), %err, "stage failed");
                err
            })?;
        }
        tx.commit()?;
        // keep what a reset may read again: from the earliest reset origin on
        let keep = self
            .chains
            .iter()
            .map(|c| ChainDeriver::reset_origin_number(&c.rollup, &c.head))
            .min()
            .unwrap_or(input.number)
            .min(input.number);
        self.l1.prune_below(keep);
        for verdict in out.verdicts.iter().filter(|v| !v.matches) {
            let counts: Vec<String> =
                verdict.counts().iter().map(|(c, n)| format!("{c}={n}")).collect();
            tracing::warn!(
                target: "lockstep::crosschain",
                batch = verdict.batch,
                l1_block = verdict.l1_block,
                differences = %counts.join(" "),
                "superchain batch FLAGGED: burns and mints disagree; `lockstep evidence export \
                 --batch {}` writes the evidence",
                verdict.batch
            );
        }
        Ok(StepOutcome::Processed {
            l1_number: input.number,
            l1_hash: input.hash,
            chains: out.chains,
            batch: out.batch,
            verdicts: out.verdicts,
        })
    }

    /// The user deposits of `block` to every chain's deposit contract: each one's source hash
    /// and where on L1 it was sent (the log index counts every log of the block, as
    /// derivation counts it).
    fn deposits_in(&self, block: &L1Block) -> Vec<(B256, lockstep_storage::DepositOrigin)> {
        let portals: Vec<Address> =
            self.chains.iter().map(|c| c.rollup.deposit_contract_address).collect();
        let mut out = Vec::new();
        let mut index = 0u64;
        for (transaction, receipt) in block.transactions.iter().zip(&block.receipts) {
            let ok = alloy_consensus::TxReceipt::status(receipt);
            for log in alloy_consensus::TxReceipt::logs(receipt) {
                let deposit = portals.contains(&log.address)
                    && log.topics().first()
                        == Some(&lockstep_derive::deposits::DEPOSIT_EVENT_TOPIC);
                if ok && deposit {
                    out.push((
                        lockstep_derive::l1_block_info::user_deposit_source_hash(block.hash, index),
                        lockstep_storage::DepositOrigin {
                            l1_block: block.header.number,
                            l1_block_hash: block.hash,
                            l1_tx_hash: *transaction.tx_hash(),
                            log_index: index,
                        },
                    ));
                }
                index += 1;
            }
        }
        out
    }

    /// The sequencer's commitments in `block`: `Committed` logs of the commitment contract in
    /// successful transactions.
    fn commitments_in(&self, block: &L1Block) -> Vec<lockstep_crosschain::Commitment> {
        let Some(address) = self.commitments else { return Vec::new() };
        let mut out = Vec::new();
        for (transaction, receipt) in block.transactions.iter().zip(&block.receipts) {
            if !alloy_consensus::TxReceipt::status(receipt) {
                continue;
            }
            for log in alloy_consensus::TxReceipt::logs(receipt) {
                if log.address != address {
                    continue;
                }
                let hash = *transaction.tx_hash();
                if let Some(c) =
                    lockstep_crosschain::decode_commitment(block.header.number, hash, log)
                {
                    out.push(c);
                }
            }
        }
        out
    }

    /// Finds the newest committed L1 block that the L1 still has, and unwinds every chain and
    /// every batch record above it, in one write transaction.
    fn unwind_reorg<S: L1Source>(&mut self, source: &S) -> Result<StepOutcome, NodeError> {
        let tx = self.env.tx_mut()?;
        let mut ancestor = None;
        let mut walker = tx.cursor::<L1Blocks>()?;
        let mut entry = walker.last()?;
        while let Some((number, record)) = entry {
            if source.block(number)?.is_some_and(|b| b.hash == record.hash) {
                ancestor = Some((number, record));
                break;
            }
            entry = walker.prev()?;
        }
        drop(walker);
        let above = ancestor.as_ref().map_or(0, |(n, _)| n + 1);
        let mut batches = Vec::new();
        let mut walker = tx.cursor::<SuperchainBatches>()?;
        let mut entry = walker.last()?;
        while let Some((_, record)) = entry {
            if record.l1_number < above {
                break;
            }
            batches.push(record);
            entry = walker.prev()?;
        }
        drop(walker);
        let input = UnwindInput { ancestor, above, batches };
        let mut parts = Parts {
            env: &self.env,
            chains: &mut self.chains,
            l1: &self.l1,
            check: &mut self.check,
            commitments_checked: self.commitments.is_some(),
            history_blocks: self.history_blocks,
        };
        // in reverse order: the check is undone while the blocks it read are still there
        let mut unwound = Vec::new();
        for mut stage in stages().into_iter().rev() {
            unwound.extend(stage.unwind(&mut parts, &tx, &input)?);
        }
        let ancestor = input.ancestor;
        tx.commit()?;
        let ancestor = ancestor.map(|(n, _)| n);
        tracing::warn!(target: "lockstep::node", ?ancestor, ?unwound, "L1 reorg: unwound every chain to the common ancestor");
        self.l1.truncate_above(ancestor.unwrap_or_default());
        if ancestor.is_none() {
            self.l1 = L1Window::default();
        }
        self.load_heads()?;
        Ok(StepOutcome::Reorged { ancestor, unwound })
    }
}

fn last_l1<K: TransactionKind>(
    tx: &DbTx<'_, K>,
) -> Result<Option<(u64, L1BlockRecord)>, NodeError> {
    Ok(tx.cursor::<L1Blocks>()?.last()?)
}

/// One chain's place in a database, as [`cursor_report`] reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainCursorReport {
    /// The chain.
    pub chain_id: u64,
    /// Its head block.
    pub head: (u64, B256),
    /// Its derivation cursor: the L1 block and the head recorded with it.
    pub cursor: Option<DerivationCursor>,
}

/// Where a node's database stands: the superchain's L1 cursor and every chain's head and
/// derivation cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CursorReport {
    /// The last L1 block committed.
    pub l1: Option<(u64, B256)>,
    /// Every chain with a head.
    pub chains: Vec<ChainCursorReport>,
}

impl CursorReport {
    /// Whether every chain is at the superchain's L1 cursor, with the head recorded there.
    pub fn consistent(&self) -> bool {
        self.chains.iter().all(|c| match (&c.cursor, self.l1) {
            (Some(cursor), Some((number, hash))) => {
                cursor.l1_number == number
                    && cursor.l1_hash == hash
                    && (cursor.head.number, cursor.head.hash) == c.head
            }
            (None, None) => true,
            _ => false,
        })
    }
}

/// Reads where the database at `env` stands (for `lockstep db status` and crash tests).
pub fn cursor_report(env: &DatabaseEnv) -> Result<CursorReport, NodeError> {
    let tx = env.tx()?;
    let l1 = last_l1(&tx)?.map(|(n, r)| (n, r.hash));
    let mut chains = Vec::new();
    let mut heads = tx.cursor::<lockstep_storage::tables::ChainHeads>()?;
    let mut entry = heads.first()?;
    while let Some((chain_id, head)) = entry {
        chains.push(ChainCursorReport {
            chain_id,
            head: (head.number, head.hash),
            cursor: tx.get::<DerivationCursors>(&chain_id)?,
        });
        entry = heads.next()?;
    }
    Ok(CursorReport { l1, chains })
}
