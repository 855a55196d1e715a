//! The lockstep driver.

use crate::NodeError;
use alloy_primitives::{Address, B256};
use lockstep_chainspec::ChainSpec;
use lockstep_chainspec::RollupConfig;
use lockstep_crosschain::{BatchVerdict, ChainOutput, CrossChainCheck};
use lockstep_derive::{
    block_info, op_block, ChainDeriver, DeriveError, Derived, L1Window, L2BlockInfo, L2Chain,
    L2Window,
};
use lockstep_execution::{ChainExecutor, ExecutionError};
use lockstep_l1::{L1Block, L1Source};
use lockstep_storage::{
    tables::{BatchByL1Block, DerivationCursors, L1Blocks, SuperchainBatches},
    BatchRecord, ChainCursor, ChainProvider, ChainRange, DatabaseEnv, DbTx, DerivationCursor,
    L1BlockRecord, Overlay, OverlayWrites, TableWrite, TransactionKind, RW,
};
use std::sync::Arc;

/// Resets one L1 block may trigger before the node gives up on it.
const MAX_RESETS_PER_BLOCK: u32 = 4;

struct ChainState {
    spec: Arc<ChainSpec>,
    rollup: Arc<RollupConfig>,
    executor: ChainExecutor,
    l2: L2Window,
    deriver: Option<ChainDeriver>,
    head: L2BlockInfo,
    /// The bridge predeploy, whose events the chain's thread extracts as it executes.
    bridge: Address,
    /// Bridge events of the blocks executed since the last batch that took them, by block:
    /// the check reads these rather than decoding the receipts again. Cleared whenever the
    /// windows are reloaded (restart, failed step, reorg); the check then reads the database.
    events: std::collections::BTreeMap<
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
    fn chain_id(&self) -> u64 {
        self.spec.chain_id()
    }

    fn genesis_l1(&self) -> u64 {
        self.rollup.genesis.l1.number
    }

    fn cursor(&self) -> ChainCursor {
        ChainCursor {
            chain_id: self.chain_id(),
            number: self.head.block_info.number,
            hash: self.head.block_info.hash,
            timestamp: self.head.block_info.timestamp,
        }
    }
}

/// The superchain-wide addresses the cross-chain check reads (DESIGN.md 5.1 and 5.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckAddresses {
    /// The bridge predeploy, the same on every chain.
    pub bridge: Address,
    /// The L1 contract where the sequencer commits each batch; `None`: no commitments are
    /// checked.
    pub commitments: Option<Address>,
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
}

impl Node {
    /// Opens (or creates) the node's database in `datadir` for `chains`, writing each chain's
    /// genesis if it is new.
    pub fn open(
        datadir: &std::path::Path,
        chains: Vec<ChainSpec>,
        addresses: CheckAddresses,
    ) -> Result<Self, NodeError> {
        let env = DatabaseEnv::open(datadir, lockstep_storage::DatabaseMode::ReadWrite)?;
        Self::with_env(Arc::new(env), chains, addresses)
    }

    /// The node over an open database (which RPC servers may share).
    pub fn with_env(
        env: Arc<DatabaseEnv>,
        chains: Vec<ChainSpec>,
        addresses: CheckAddresses,
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
        };
        let mut node = Self {
            env,
            chains: states,
            check,
            commitments: addresses.commitments,
            l1: L1Window::default(),
            prepared: false,
        };
        node.load_heads()?;
        Ok(node)
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
        source.block(number)?.ok_or_else(|| {
            NodeError::Inconsistent(format!("L1 block {number} disappeared from the L1"))
        })
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
        let from = self
            .chains
            .iter()
            .map(|c| ChainDeriver::reset_origin_number(&c.rollup, &c.head))
            .min()
            .unwrap_or_default();
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
            let origin_number = ChainDeriver::reset_origin_number(&chain.rollup, &chain.head);
            let origin = self.l1.get(origin_number).map(|b| block_info(&b)).ok_or_else(|| {
                NodeError::Inconsistent(format!("L1 block {origin_number} not fetched"))
            })?;
            chain.deriver = Some(ChainDeriver::new(
                chain.chain_id(),
                chain.rollup.clone(),
                self.l1.clone(),
                &L2Chain::new(&chain.l2, &tx),
                chain.head,
                origin,
            )?);
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
        let number = block.header.number;
        let l1_hash = block.hash;
        let parent_hash = block.header.parent_hash;
        let l1_timestamp = block.header.timestamp;
        let commitments = self.commitments_in(&block);
        self.l1.insert(block, blobs);
        self.l1.set_limit(number);
        // every chain derives and executes on its own thread, against a read snapshot with its
        // writes buffered; then the writes all land in the one write transaction
        let (env, l1) = (&self.env, &self.l1);
        let results: Vec<Result<(ChainStep, OverlayWrites), NodeError>> =
            std::thread::scope(|scope| {
                let handles: Vec<_> = self
                    .chains
                    .iter_mut()
                    .map(|chain| {
                        scope.spawn(move || {
                            let snapshot = env.tx()?;
                            let overlay = Overlay::new(&snapshot);
                            let step = Self::derive_chain(chain, l1, &overlay, number)?;
                            Ok((step, overlay.into_writes()))
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|handle| {
                        handle.join().unwrap_or_else(|_| {
                            Err(NodeError::Inconsistent("a chain's thread panicked".into()))
                        })
                    })
                    .collect()
            });
        let tx = self.env.tx_mut()?;
        let previous = last_l1(&tx)?;
        let mut steps = Vec::new();
        for result in results {
            let (step, writes) = result?;
            writes.apply(&tx)?;
            steps.push(step);
        }
        // DESIGN.md 5.3: T(n), the smallest head timestamp; a batch closes when it grows
        let safe_timestamp =
            self.chains.iter().map(|c| c.head.block_info.timestamp).min().unwrap_or_default();
        let previous_safe = match &previous {
            Some((_, record)) => record.safe_timestamp,
            None => self.chains.iter().map(|c| c.spec.genesis.timestamp).min().unwrap_or_default(),
        };
        let batch = if safe_timestamp > previous_safe {
            let index = tx.cursor::<SuperchainBatches>()?.last()?.map_or(0, |(i, _)| i + 1);
            let ranges = self
                .chains
                .iter()
                .map(|c| {
                    let (genesis_ts, genesis_n) =
                        (c.spec.genesis.timestamp, c.spec.genesis_number());
                    let bt = c.rollup.block_time;
                    let first = genesis_n + previous_safe.saturating_sub(genesis_ts) / bt + 1;
                    let last = genesis_n + safe_timestamp.saturating_sub(genesis_ts) / bt;
                    ChainRange { chain_id: c.chain_id(), first, last }
                })
                .collect();
            let record = BatchRecord {
                index,
                l1_number: number,
                l1_hash,
                from_timestamp: previous_safe,
                to_timestamp: safe_timestamp,
                ranges,
            };
            tx.put::<SuperchainBatches>(&index, &record)?;
            tx.put::<BatchByL1Block>(&number, &index)?;
            Some(record)
        } else {
            None
        };
        // DESIGN.md 5.4-5.6: the check, in the same transaction as the blocks it checks
        let mut verdicts = Vec::new();
        if let Some(record) = &batch {
            let outputs = self.outputs(&tx, record)?;
            let mut events = Vec::new();
            for (range, chain) in record.ranges.iter().zip(&mut self.chains) {
                for number in range.first..=range.last {
                    match chain.events.remove(&number) {
                        Some(found) => events.extend(lockstep_crosschain::located_events(
                            range.chain_id,
                            record.index,
                            found,
                        )),
                        // executed before a restart: from the stored receipts
                        None => events.extend(self.check.block_events(
                            &tx,
                            range.chain_id,
                            number,
                            record.index,
                        )?),
                    }
                }
                chain.events.retain(|n, _| *n > range.last);
            }
            verdicts.push(self.check.check_batch(&tx, record, outputs, &events)?);
        }
        for commitment in &commitments {
            if let Some(updated) = self.check.record_commitment(&tx, commitment)? {
                verdicts.retain(|v| v.batch != updated.batch);
                verdicts.push(updated);
            }
        }
        let heads: Vec<ChainCursor> = self.chains.iter().map(ChainState::cursor).collect();
        for head in &heads {
            let cursor = DerivationCursor { l1_number: number, l1_hash, head: *head };
            tx.put::<DerivationCursors>(&head.chain_id, &cursor)?;
        }
        let record = L1BlockRecord {
            hash: l1_hash,
            parent_hash,
            timestamp: l1_timestamp,
            safe_timestamp,
            heads,
        };
        tx.put::<L1Blocks>(&number, &record)?;
        tx.commit()?;
        // keep what a reset may read again: from the earliest reset origin on
        let keep = self
            .chains
            .iter()
            .map(|c| ChainDeriver::reset_origin_number(&c.rollup, &c.head))
            .min()
            .unwrap_or(number)
            .min(number);
        self.l1.prune_below(keep);
        for verdict in verdicts.iter().filter(|v| !v.matches) {
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
        Ok(StepOutcome::Processed { l1_number: number, l1_hash, chains: steps, batch, verdicts })
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

    /// Every chain's output at the end of `batch` (DESIGN.md 5.5).
    fn outputs<T: lockstep_storage::TableRead>(
        &self,
        tx: &T,
        batch: &BatchRecord,
    ) -> Result<Vec<ChainOutput>, NodeError> {
        batch
            .ranges
            .iter()
            .map(|range| {
                let provider = ChainProvider::new(tx, range.chain_id);
                let missing = |what: &str| {
                    NodeError::Inconsistent(format!(
                        "chain {} block {}: no {what}",
                        range.chain_id, range.last
                    ))
                };
                let header = provider.header(range.last)?.ok_or_else(|| missing("header"))?;
                let block_hash =
                    provider.block_hash(range.last)?.ok_or_else(|| missing("block hash"))?;
                let passer = provider
                    .message_passer_root(range.last)?
                    .ok_or_else(|| missing("message passer storage root"))?;
                Ok(ChainOutput {
                    chain_id: range.chain_id,
                    first: range.first,
                    last: range.last,
                    block_hash,
                    state_root: header.state_root,
                    message_passer_storage_root: passer,
                    output_root: lockstep_execution::output_root(
                        header.state_root,
                        passer,
                        block_hash,
                    ),
                })
            })
            .collect()
    }

    /// Derives and executes what L1 block `number` makes safe on one chain, in `tx`.
    fn derive_chain<T: TableWrite + std::fmt::Debug>(
        chain: &mut ChainState,
        l1: &L1Window,
        tx: &T,
        number: u64,
    ) -> Result<ChainStep, NodeError> {
        let mut step = ChainStep {
            chain_id: chain.chain_id(),
            blocks: 0,
            transactions: 0,
            gas: 0,
            head: chain.head.block_info.number,
            replaced: 0,
        };
        if number < chain.genesis_l1() {
            return Ok(step);
        }
        let mut resets = 0;
        loop {
            let deriver = chain.deriver.as_mut().ok_or_else(|| {
                NodeError::Inconsistent(format!("chain {}: no pipeline", chain.spec.chain_id()))
            })?;
            match deriver.next(&L2Chain::new(&chain.l2, tx), chain.head) {
                Ok(Derived::Attributes(attributes)) => {
                    let executed = match chain.executor.execute_payload(tx, &attributes.inner) {
                        Ok(executed) => executed,
                        Err(ExecutionError::InvalidPayload(reason)) => {
                            let timestamp = attributes.inner.payload_attributes.timestamp;
                            let number = chain.head.block_info.number + 1;
                            if !chain.rollup.is_holocene_active(timestamp) {
                                // before Holocene the attributes are dropped and derivation
                                // goes on from the same head
                                tracing::warn!(
                                    target: "lockstep::node",
                                    chain = chain.spec.chain_id(),
                                    block = number,
                                    %reason,
                                    "invalid payload dropped"
                                );
                                continue;
                            }
                            tracing::warn!(
                                target: "lockstep::node",
                                chain = chain.spec.chain_id(),
                                block = number,
                                %reason,
                                "invalid payload replaced by its deposits alone (Holocene)"
                            );
                            step.replaced += 1;
                            let replacement = deriver.deposit_only(&attributes);
                            // deposits alone cannot be invalid unless the L1 is: that stops
                            chain.executor.execute_payload(tx, &replacement.inner)?
                        }
                        Err(err) => return Err(err.into()),
                    };
                    let block = executed.block;
                    let l2_number = block.header.number;
                    let mut found = lockstep_crosschain::bridge_events(
                        chain.chain_id(),
                        l2_number,
                        &block.receipts,
                        &[],
                        chain.bridge,
                    );
                    for event in &mut found {
                        if let Some(t) = block.transactions.get(event.tx_index as usize) {
                            event.tx_hash = t.tx_hash();
                        }
                    }
                    chain.events.insert(l2_number, found);
                    if block.header.requests_hash.is_none() {
                        // before Isthmus the header does not carry it (from Canyon its
                        // withdrawals root is the empty root): keep it for output roots
                        let provider = ChainProvider::new(tx, chain.chain_id());
                        let root =
                            provider.storage_root(lockstep_chainspec::L2_TO_L1_MESSAGE_PASSER)?;
                        provider.put_message_passer_root(block.header.number, root)?;
                    }
                    step.blocks += 1;
                    step.transactions += block.transactions.len() as u64;
                    step.gas += block.header.gas_used;
                    chain.head = chain.l2.push(op_block(block.header, block.transactions))?;
                    step.head = chain.head.block_info.number;
                }
                Ok(Derived::Exhausted) => return Ok(step),
                Err(DeriveError::Reset { reason, .. }) if resets < MAX_RESETS_PER_BLOCK => {
                    resets += 1;
                    tracing::warn!(
                        target: "lockstep::node",
                        chain = chain.spec.chain_id(),
                        %reason,
                        "derivation reset from the chain's head"
                    );
                    let origin_number =
                        ChainDeriver::reset_origin_number(&chain.rollup, &chain.head);
                    let origin =
                        l1.get(origin_number).map(|b| block_info(&b)).ok_or_else(|| {
                            NodeError::Inconsistent(format!("L1 block {origin_number} not held"))
                        })?;
                    deriver.reset(&L2Chain::new(&chain.l2, tx), chain.head, origin)?;
                }
                Err(err) => return Err(err.into()),
            }
        }
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
        let mut doomed_batches = Vec::new();
        let mut batches = tx.cursor::<SuperchainBatches>()?;
        let mut entry = batches.last()?;
        while let Some((_, record)) = entry {
            if record.l1_number < above {
                break;
            }
            doomed_batches.push(record);
            entry = batches.prev()?;
        }
        drop(batches);
        // before the blocks go: the transfers are found again in their receipts
        self.check.unwind(&tx, &doomed_batches, ancestor.as_ref().map(|(n, _)| *n))?;
        let mut unwound = Vec::new();
        for chain in &self.chains {
            let provider = ChainProvider::new(&tx, chain.chain_id());
            let head = provider.head()?.map_or(0, |h| h.number);
            let target = match &ancestor {
                Some((_, record)) => record
                    .heads
                    .iter()
                    .find(|h| h.chain_id == chain.chain_id())
                    .map(|h| h.number)
                    .ok_or_else(|| {
                        NodeError::Inconsistent(format!(
                            "L1 record lacks chain {}",
                            chain.chain_id()
                        ))
                    })?,
                None => chain.spec.genesis_number(),
            };
            provider.unwind_to(target)?;
            unwound.push((chain.chain_id(), head - target));
        }
        delete_from::<L1Blocks>(&tx, above)?;
        delete_from::<BatchByL1Block>(&tx, above)?;
        for record in &doomed_batches {
            tx.delete::<SuperchainBatches>(&record.index)?;
        }
        for chain in &self.chains {
            match &ancestor {
                Some((number, record)) => {
                    let head =
                        record.heads.iter().find(|h| h.chain_id == chain.chain_id()).copied();
                    if let Some(head) = head {
                        let cursor =
                            DerivationCursor { l1_number: *number, l1_hash: record.hash, head };
                        tx.put::<DerivationCursors>(&chain.chain_id(), &cursor)?;
                    }
                }
                None => {
                    tx.delete::<DerivationCursors>(&chain.chain_id())?;
                }
            }
        }
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

/// Deletes the entries of a `u64`-keyed table from `from` on.
fn delete_from<T: lockstep_storage::Table<Key = u64>>(
    tx: &DbTx<'_, RW>,
    from: u64,
) -> Result<(), NodeError> {
    let mut keys = Vec::new();
    let mut cursor = tx.cursor::<T>()?;
    let mut entry = cursor.seek(&from)?;
    while let Some((key, _)) = entry {
        keys.push(key);
        entry = cursor.next()?;
    }
    drop(cursor);
    for key in keys {
        tx.delete::<T>(&key)?;
    }
    Ok(())
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
