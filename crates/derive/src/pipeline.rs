//! One chain's kona-derive pipeline, and the loop that steps it.

use crate::{DeriveError, L1Window, L2Window};
use futures_executor::block_on;
use kona_derive::{
    DerivationPipeline, EthereumDataSource, OriginProvider, Pipeline, PipelineBuilder,
    PipelineErrorKind, PolledAttributesQueueStage, ResetSignal, Signal, SignalReceiver,
    StatefulAttributesBuilder, StepResult,
};
use kona_genesis::RollupConfig;
use kona_protocol::{BlockInfo, L2BlockInfo, OpAttributesWithParent};
use std::sync::Arc;

type DataSource = EthereumDataSource<L1Window, L1Window>;
type Builder = StatefulAttributesBuilder<L1Window, L2Window>;
type Stages = PolledAttributesQueueStage<DataSource, L1Window, L2Window, Builder>;

/// Temporary failures in a row, without new attributes or a new origin, before the pipeline
/// counts as stalled.
pub const MAX_IDLE_STEPS: u64 = 10_000;

/// Failed origin advances in a row, at the L1 window's limit, before the pipeline counts as
/// having derived everything the limit makes safe.
pub(crate) const EXHAUSTED_AFTER: u32 = 3;

/// What [`ChainDeriver::next`] found.
#[derive(Debug)]
pub enum Derived {
    /// The next block's attributes, building on the cursor.
    Attributes(Box<OpAttributesWithParent>),
    /// Everything the L1 window's limit makes safe has been derived.
    Exhausted,
}

/// One chain's derivation: a kona-derive pipeline (L1 traversal, calldata and blob retrieval,
/// frames, channels, batches, attributes) over the shared [`L1Window`] and the chain's
/// [`L2Window`].
#[derive(Debug)]
pub struct ChainDeriver {
    chain_id: u64,
    rollup: Arc<RollupConfig>,
    l1: L1Window,
    l2: L2Window,
    pipeline: DerivationPipeline<Stages, L2Window>,
}

impl ChainDeriver {
    /// A pipeline for `chain_id` that resumes after `safe_head`, reading L1 from `origin`.
    pub fn new(
        chain_id: u64,
        rollup: Arc<RollupConfig>,
        l1: L1Window,
        l2: L2Window,
        safe_head: L2BlockInfo,
        origin: BlockInfo,
    ) -> Result<Self, DeriveError> {
        let pipeline = Self::build(&rollup, &l1, &l2, origin);
        let mut deriver = Self { chain_id, rollup, l1, l2, pipeline };
        deriver.reset(safe_head, origin)?;
        Ok(deriver)
    }

    fn build(
        rollup: &Arc<RollupConfig>,
        l1: &L1Window,
        l2: &L2Window,
        origin: BlockInfo,
    ) -> DerivationPipeline<Stages, L2Window> {
        let source = EthereumDataSource::new_from_parts(l1.clone(), l1.clone(), rollup);
        let builder = StatefulAttributesBuilder::new(rollup.clone(), l2.clone(), l1.clone());
        PipelineBuilder::new()
            .rollup_config(rollup.clone())
            .dap_source(source)
            .l2_chain_provider(l2.clone())
            .chain_provider(l1.clone())
            .builder(builder)
            .origin(origin)
            .build_polled()
    }

    /// The L1 block to start reading from so that `safe_head`'s successors derive exactly as
    /// they would have without a restart: the safe head's L1 origin, less the channel timeout,
    /// so that channels still open at the safe head are read again.
    pub fn reset_origin_number(rollup: &RollupConfig, safe_head: &L2BlockInfo) -> u64 {
        let timeout = rollup.channel_timeout(safe_head.block_info.timestamp);
        safe_head.l1_origin.number.saturating_sub(timeout).max(rollup.genesis.l1.number)
    }

    /// Rebuilds the pipeline to resume after `safe_head`, reading L1 from `origin`.
    pub fn reset(&mut self, safe_head: L2BlockInfo, origin: BlockInfo) -> Result<(), DeriveError> {
        self.pipeline = Self::build(&self.rollup, &self.l1, &self.l2, origin);
        let signal = Signal::Reset(ResetSignal {
            l2_safe_head: safe_head,
            l1_origin: origin,
            system_config: None,
        });
        block_on(self.pipeline.signal(signal)).map_err(|e| self.classify(e))
    }

    /// The chain.
    pub const fn chain_id(&self) -> u64 {
        self.chain_id
    }

    /// The L1 block the pipeline is reading.
    pub fn origin(&self) -> Option<BlockInfo> {
        self.pipeline.origin()
    }

    /// The chain's L2 window.
    pub const fn l2(&self) -> &L2Window {
        &self.l2
    }

    fn classify(&self, err: PipelineErrorKind) -> DeriveError {
        match err {
            PipelineErrorKind::Reset(e) => {
                DeriveError::Reset { chain: self.chain_id, reason: e.to_string() }
            }
            other => DeriveError::Critical { chain: self.chain_id, reason: other.to_string() },
        }
    }

    /// Steps the pipeline until it yields the attributes of the block after `cursor`, or has
    /// derived everything up to the L1 window's limit.
    ///
    /// Errors are handled by kind, as kona's driver does: temporary ones step again (the
    /// pipeline drops malformed batcher data by itself and moves on), a reset is returned for
    /// the driver to reset from its safe head, and a critical error stops the chain.
    pub fn next(&mut self, cursor: L2BlockInfo) -> Result<Derived, DeriveError> {
        let mut idle = 0u64;
        // a stage may report the end of its data before the L1 block's data is used up (after a
        // dropped batch flushes its channel, say), so the pipeline counts as exhausted only
        // once stepping again finds nothing more, several times in a row
        let mut at_limit_in_a_row = 0u32;
        loop {
            if let Some(attributes) = self.pipeline.next() {
                if attributes.parent.block_info.hash != cursor.block_info.hash {
                    return Err(DeriveError::ParentMismatch {
                        chain: self.chain_id,
                        parent: attributes.parent.block_info.hash,
                        head: cursor.block_info.hash,
                    });
                }
                return Ok(Derived::Attributes(Box::new(attributes)));
            }
            let (err, advancing) = match block_on(self.pipeline.step(cursor)) {
                StepResult::PreparedAttributes => {
                    at_limit_in_a_row = 0;
                    continue;
                }
                StepResult::AdvancedOrigin => {
                    idle = 0;
                    at_limit_in_a_row = 0;
                    continue;
                }
                StepResult::OriginAdvanceErr(err) => (err, true),
                StepResult::StepFailed(err) => (err, false),
            };
            match err {
                PipelineErrorKind::Temporary(err) => {
                    let at_limit =
                        self.pipeline.origin().is_some_and(|o| o.number >= self.l1.limit());
                    if advancing && at_limit {
                        at_limit_in_a_row += 1;
                        if at_limit_in_a_row >= EXHAUSTED_AFTER {
                            return Ok(Derived::Exhausted);
                        }
                        continue;
                    }
                    at_limit_in_a_row = 0;
                    idle += 1;
                    if idle >= MAX_IDLE_STEPS {
                        return Err(DeriveError::Stalled {
                            chain: self.chain_id,
                            steps: idle,
                            last: err.to_string(),
                        });
                    }
                    tracing::trace!(target: "lockstep::derive", chain = self.chain_id, %err, "temporary");
                }
                other => return Err(self.classify(other)),
            }
        }
    }
}
