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
        Ok(Self { chain_id, rollup, l1, source, batches, pending: None })
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
