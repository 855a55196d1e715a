//! One chain's derivation pipeline, and the loop that steps it.
//!
//! The stages, each in its own file: L1 traversal (`traversal`), the batcher data of each L1
//! block (`data_source`), frames, channels and the channel reader (`batch_source`), the batch
//! queue before Holocene and the batch stage from it (`batch_queue`, `batch_stage`), and the
//! payload attributes (`attributes`). Stepping pulls from the last stage; when every stage has
//! used up the origin's data, the traversal moves to the next L1 block.

use crate::{
    attributes::prepare_attributes,
    batch::SingleBatch,
    batch_queue::BatchQueue,
    batch_source::{BatchSource, Pull},
    batch_stage::BatchStage,
    block_ref::{BlockInfo, L2BlockInfo, L2Source},
    traversal::Advanced,
    DeriveError, L1Window,
};
use lockstep_chainspec::RollupConfig;
use op_alloy_rpc_types_engine::OpPayloadAttributes;
use std::sync::Arc;

/// Pulls in a row that yield nothing and use up no L1 data before the pipeline counts as
/// stalled (a bug, not an input: however many batches a batcher packs into a block, each pull
/// that reads one resets the count).
pub const MAX_IDLE_STEPS: u64 = 10_000;

/// The attributes of the next block, with what they build on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DerivedAttributes {
    /// What the engine builds.
    pub inner: OpPayloadAttributes,
    /// The block they build on.
    pub parent: L2BlockInfo,
    /// Whether the block ends its span batch (always from Holocene).
    pub is_last_in_span: bool,
    /// The L1 block the batch was read from.
    pub derived_from: BlockInfo,
}

/// What [`ChainDeriver::next`] found.
#[derive(Debug)]
pub enum Derived {
    /// The next block's attributes, building on the cursor.
    Attributes(Box<DerivedAttributes>),
    /// Everything the L1 window's limit makes safe has been derived.
    Exhausted,
}

/// The batch stage of the fork at the origin.
#[derive(Debug, Clone)]
enum Batches {
    Queue(BatchQueue),
    Stage(BatchStage),
}

/// One chain's derivation over the shared [`L1Window`].
#[derive(Debug)]
pub struct ChainDeriver {
    chain_id: u64,
    rollup: Arc<RollupConfig>,
    l1: L1Window,
    source: BatchSource,
    batches: Batches,
    /// The batch whose attributes are being prepared.
    pending: Option<(SingleBatch, bool)>,
    /// Attributes derived while resuming, for the block after the head: handed out first.
    ready: Option<Box<DerivedAttributes>>,
}

/// How [`ChainDeriver::resume`] brought the pipeline to the head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resumed {
    /// Every block from the base to the head was derived again and matched.
    Replayed {
        /// The block the replay started after.
        base: u64,
        /// The blocks derived again.
        blocks: u64,
    },
    /// The stored chain and the derivation parted ways: a plain reset at the head instead.
    Reset {
        /// Where and how they parted.
        reason: String,
    },
}

impl ChainDeriver {
    /// A pipeline for `chain_id` that resumes after `safe_head`, reading L1 from `origin`.
    pub fn new(
        chain_id: u64,
        rollup: Arc<RollupConfig>,
        l1: L1Window,
        l2: &dyn L2Source,
        safe_head: L2BlockInfo,
        origin: BlockInfo,
    ) -> Result<Self, DeriveError> {
        let system_config = l2.system_config(safe_head.block_info.number)?;
        let source = BatchSource::new(rollup.clone(), origin, system_config);
        let batches = Self::batches_at(&rollup, origin);
        Ok(Self { chain_id, rollup, l1, source, batches, pending: None, ready: None })
    }

    /// A pipeline for `chain_id` that resumes after `head` in the state it had when it derived
    /// `head`, as far as the L1 window reaches back.
    ///
    /// A plain reset at the head (what op-node does at start) reads the channels still open at
    /// the head again, but forgets what the blocks before it decided: after Holocene, a payload
    /// the engine refused became its deposits alone and the rest of its channel was flushed;
    /// read again, that channel's later batches would build on the replacement. So the
    /// pipeline starts at `base`, the newest block whose L1 origin is before `head`'s reset
    /// origin, and derives every block up to `head` again from the window, taking each from
    /// `l2` instead of executing it: a stored block that holds the deposits alone of its
    /// attributes was a refused payload (the channel is flushed again), and before Holocene
    /// attributes the stored block does not match were dropped. Where the stored chain and the
    /// derivation part ways otherwise, it falls back to the plain reset. The window must hold
    /// L1 from [`Self::resume_origin_number`].
    pub fn resume(
        chain_id: u64,
        rollup: &Arc<RollupConfig>,
        l1: &L1Window,
        l2: &dyn L2Source,
        head: L2BlockInfo,
    ) -> Result<(Self, Resumed), DeriveError> {
        // a pipeline after `safe`, reading from its reset origin whatever the window's limit
        // (a new node's is below genesis)
        let after = |safe: L2BlockInfo| -> Result<Self, DeriveError> {
            let number = Self::reset_origin_number(rollup, &safe);
            let origin =
                l1.get(number).ok_or_else(|| DeriveError::L1Missing(format!("number {number}")))?;
            Self::new(
                chain_id,
                rollup.clone(),
                l1.clone(),
                l2,
                safe,
                crate::block_ref::block_info(&origin),
            )
        };
        let base = Self::resume_base(rollup, l2, &head)?;
        let mut deriver = after(base)?;
        if base.block_info.hash == head.block_info.hash {
            return Ok((deriver, Resumed::Replayed { base: head.block_info.number, blocks: 0 }));
        }
        match deriver.replay(l2, base, &head) {
            Ok(blocks) => Ok((deriver, Resumed::Replayed { base: base.block_info.number, blocks })),
            Err(err) => Ok((after(head)?, Resumed::Reset { reason: err.to_string() })),
        }
    }

    /// Derives every block from `base` up to `head` again, taking each from `l2` (see
    /// [`Self::resume`]). Returns how many were derived; an error where they part ways.
    fn replay(
        &mut self,
        l2: &dyn L2Source,
        base: L2BlockInfo,
        head: &L2BlockInfo,
    ) -> Result<u64, DeriveError> {
        let chain = self.chain_id;
        let parted = |reason: String| DeriveError::Reset { reason, chain };
        let mut cursor = base;
        let mut blocks = 0u64;
        while cursor.block_info.number < head.block_info.number {
            let attributes = match self.next(l2, cursor)? {
                Derived::Attributes(attributes) => attributes,
                Derived::Exhausted => {
                    return Err(parted(format!(
                        "the window derives only up to block {} of {}",
                        cursor.block_info.number, head.block_info.number
                    )))
                }
            };
            let number = cursor.block_info.number + 1;
            let timestamp = attributes.inner.payload_attributes.timestamp;
            let stored = l2.transactions(number)?;
            let derived = attributes.inner.transactions.clone().unwrap_or_default();
            let info = l2.info(number)?;
            let same_time = info.block_info.timestamp == timestamp;
            let holocene = self.rollup.is_holocene_active(timestamp);
            if same_time && stored == derived {
                // the block these attributes gave
            } else if same_time
                && holocene
                && stored
                    == derived
                        .iter()
                        .filter(|t| t.first() == Some(&crate::batch_validity::DEPOSIT_TX_TYPE))
                        .cloned()
                        .collect::<Vec<_>>()
            {
                // a refused payload: its deposits alone, and its channel flushed
                self.deposit_only(&attributes);
            } else if !holocene {
                // before Holocene refused attributes are dropped and the next are tried
                continue;
            } else {
                return Err(parted(format!("block {number} is not what its batch derives")));
            }
            cursor = info;
            blocks += 1;
        }
        if cursor.block_info.hash != head.block_info.hash {
            return Err(parted(format!(
                "the replay ended on another block {}",
                cursor.block_info.number
            )));
        }
        // whatever else the window makes safe now comes after the head
        if let Derived::Attributes(next) = self.next(l2, *head)? {
            self.ready = Some(next);
        }
        Ok(blocks)
    }

    /// The oldest L1 block [`Self::resume`] reads for a chain at `head`.
    pub fn resume_origin_number(
        rollup: &RollupConfig,
        l2: &dyn L2Source,
        head: &L2BlockInfo,
    ) -> Result<u64, DeriveError> {
        Ok(Self::reset_origin_number(rollup, &Self::resume_base(rollup, l2, head)?))
    }

    /// The newest block whose L1 origin is before `head`'s reset origin (or genesis): every
    /// block after it was batched at or after that origin.
    fn resume_base(
        rollup: &RollupConfig,
        l2: &dyn L2Source,
        head: &L2BlockInfo,
    ) -> Result<L2BlockInfo, DeriveError> {
        let origin = Self::reset_origin_number(rollup, head);
        let genesis = rollup.genesis.l2.number;
        let mut base = *head;
        while base.block_info.number > genesis && base.l1_origin.number >= origin {
            base = l2.info(base.block_info.number - 1)?;
        }
        Ok(base)
    }

    fn batches_at(rollup: &RollupConfig, origin: BlockInfo) -> Batches {
        if rollup.is_holocene_active(origin.timestamp) {
            Batches::Stage(BatchStage::from_origins(crate::batch_queue::Origins::new(origin)))
        } else {
            Batches::Queue(BatchQueue::new(origin))
        }
    }

    /// The L1 block to start reading from so that `safe_head`'s successors derive exactly as
    /// they would have without a restart: the safe head's L1 origin, less the channel timeout,
    /// so that channels still open at the safe head are read again.
    pub fn reset_origin_number(rollup: &RollupConfig, safe_head: &L2BlockInfo) -> u64 {
        let timeout = rollup.channel_timeout(safe_head.block_info.timestamp);
        safe_head.l1_origin.number.saturating_sub(timeout).max(rollup.genesis.l1.number)
    }

    /// Rebuilds the pipeline to resume after `safe_head`, reading L1 from `origin`.
    pub fn reset(
        &mut self,
        l2: &dyn L2Source,
        safe_head: L2BlockInfo,
        origin: BlockInfo,
    ) -> Result<(), DeriveError> {
        *self =
            Self::new(self.chain_id, self.rollup.clone(), self.l1.clone(), l2, safe_head, origin)?;
        Ok(())
    }

    /// The chain.
    pub const fn chain_id(&self) -> u64 {
        self.chain_id
    }

    /// The L1 block the pipeline is reading.
    pub const fn origin(&self) -> BlockInfo {
        self.source.origin()
    }

    fn next_batch(
        &mut self,
        l2: &dyn L2Source,
        parent: &L2BlockInfo,
    ) -> Result<Pull<(SingleBatch, bool)>, DeriveError> {
        match &mut self.batches {
            Batches::Queue(queue) => {
                queue.next_batch(&mut self.source, &self.l1, l2, &self.rollup, parent)
            }
            Batches::Stage(stage) => {
                stage.next_batch(&mut self.source, &self.l1, l2, &self.rollup, parent)
            }
        }
    }

    /// One pull of the attributes stage (op-node's `AttributesQueue`).
    fn next_attributes(
        &mut self,
        l2: &dyn L2Source,
        parent: &L2BlockInfo,
    ) -> Result<Pull<DerivedAttributes>, DeriveError> {
        if self.pending.is_none() {
            match self.next_batch(l2, parent)? {
                Pull::Ready(batch) => self.pending = Some(batch),
                Pull::NotEnoughData => return Ok(Pull::NotEnoughData),
                Pull::Eof => return Ok(Pull::Eof),
            }
        }
        let Some((batch, is_last_in_span)) = self.pending.as_ref() else {
            return Ok(Pull::NotEnoughData);
        };
        let reset = |reason: String| DeriveError::Reset { chain: self.chain_id, reason };
        if batch.parent_hash != parent.block_info.hash {
            return Err(reset(format!(
                "a valid batch builds on {}, not on the safe head {}",
                batch.parent_hash, parent.block_info.hash
            )));
        }
        let expected = parent.block_info.timestamp + self.rollup.block_time;
        if batch.timestamp != expected {
            return Err(reset(format!(
                "a valid batch has timestamp {}, not {expected}",
                batch.timestamp
            )));
        }
        let epoch = alloy_eips::BlockNumHash { number: batch.epoch_num, hash: batch.epoch_hash };
        let mut inner = prepare_attributes(&self.rollup, &self.l1, l2, parent, epoch)?;
        if let Some(txs) = inner.transactions.as_mut() {
            txs.extend(batch.transactions.iter().cloned());
        }
        let attributes = DerivedAttributes {
            inner,
            parent: *parent,
            is_last_in_span: *is_last_in_span,
            derived_from: self.source.origin(),
        };
        self.pending = None;
        Ok(Pull::Ready(attributes))
    }

    /// Holocene's invalid-payload rule: the engine refused `attributes`, so the block is built
    /// from their deposits alone (the L1 info deposit, user deposits, upgrade deposits), and the
    /// channel they came from is flushed, with the rest of its span batch.
    pub fn deposit_only(&mut self, attributes: &DerivedAttributes) -> DerivedAttributes {
        self.source.flush();
        if let Batches::Stage(stage) = &mut self.batches {
            stage.origins.next_span.clear();
        }
        self.pending = None;
        let mut inner = attributes.inner.clone();
        if let Some(txs) = inner.transactions.as_mut() {
            txs.retain(|tx| tx.first() == Some(&crate::batch_validity::DEPOSIT_TX_TYPE));
        }
        DerivedAttributes { inner, is_last_in_span: true, ..attributes.clone() }
    }

    /// Moves the traversal on; crossing Holocene's activation hands the batch queue's L1
    /// blocks to the batch stage.
    fn advance(&mut self) -> Result<Advanced, DeriveError> {
        let advanced = self.source.advance(&self.l1)?;
        if let Batches::Queue(queue) = &self.batches {
            if self.rollup.is_holocene_active(self.source.origin().timestamp) {
                self.batches = Batches::Stage(BatchStage::from_origins(queue.origins.clone()));
            }
        }
        Ok(advanced)
    }

    /// Steps the pipeline until it yields the attributes of the block after `cursor`, or has
    /// derived everything up to the L1 window's limit.
    ///
    /// Malformed or invalid batcher data is dropped by the stages, which move on; an error is
    /// a reset (an L1 reorg, or the pipeline's view and the chain's head disagree) for the
    /// driver to reset from its safe head, or a stop.
    pub fn next(&mut self, l2: &dyn L2Source, cursor: L2BlockInfo) -> Result<Derived, DeriveError> {
        if let Some(ready) = self.ready.take() {
            if ready.parent.block_info.hash == cursor.block_info.hash {
                return Ok(Derived::Attributes(ready));
            }
        }
        let mut idle = 0u64;
        let mut consumed = self.source.consumed();
        loop {
            match self.next_attributes(l2, &cursor)? {
                Pull::Ready(attributes) => return Ok(Derived::Attributes(Box::new(attributes))),
                Pull::NotEnoughData => {
                    if self.source.consumed() != consumed {
                        consumed = self.source.consumed();
                        idle = 0;
                    }
                    idle += 1;
                    if idle >= MAX_IDLE_STEPS {
                        return Err(DeriveError::Stalled {
                            chain: self.chain_id,
                            steps: idle,
                            last: "no progress".into(),
                        });
                    }
                }
                Pull::Eof => match self.advance()? {
                    Advanced::Yes => idle = 0,
                    Advanced::NotYet => return Ok(Derived::Exhausted),
                },
            }
        }
    }
}
