//! Holocene's batch stage: batches are taken strictly in order. A batch for blocks already
//! safe is skipped; an invalid one is dropped with the rest of its channel (a flush); a span
//! batch is checked by its prefix and then block by block as singular batches; and when the
//! origin's batches run out past the sequencer window, empty batches follow
//! (Holocene derivation spec, "Batch Queue"; op-node's `BatchStage`).

use crate::{
    batch::{DerivedBatch, SingleBatch},
    batch_queue::Origins,
    batch_source::{BatchSource, Pull},
    batch_validity::{check_single, check_span_prefix, Validity},
    block_ref::{L2BlockInfo, L2Source},
    DeriveError, L1Window,
};
use lockstep_chainspec::RollupConfig;

/// The batch stage from Holocene.
#[derive(Debug, Clone, Default)]
pub struct BatchStage {
    pub(crate) origins: Origins,
}

impl BatchStage {
    /// Takes over from the batch queue's origins (at Holocene's activation, the first
    /// Holocene channel may still hold batches of the epochs before).
    pub fn from_origins(mut origins: Origins) -> Self {
        origins.next_span.clear();
        Self { origins }
    }

    /// The next singular batch on `parent`, and whether it ends its span batch (always, from
    /// Holocene: each block is safe on its own).
    pub fn next_batch(
        &mut self,
        source: &mut BatchSource,
        l1: &L1Window,
        l2: &dyn L2Source,
        rollup: &RollupConfig,
        parent: &L2BlockInfo,
    ) -> Result<Pull<(SingleBatch, bool)>, DeriveError> {
        let chain = rollup.l2_chain_id.id();
        self.origins.update(source, parent);
        if self.origins.origin_behind(source, parent)
            || parent.l1_origin.number == self.origins.origin.number
        {
            // a channel read before or at the safe head's origin holds only past batches
            return Ok(match source.next_batch(l1)? {
                Pull::Eof => Pull::Eof,
                _ => Pull::NotEnoughData,
            });
        }
        if self.origins.l1_blocks.len() < 2 {
            return Err(DeriveError::Critical {
                chain,
                reason: format!(
                    "only {} L1 blocks held at origin {}",
                    self.origins.l1_blocks.len(),
                    self.origins.origin.number
                ),
            });
        }
        self.origins.check_epoch(parent, chain)?;
        let batch = match self.candidate(source, l1, l2, rollup, parent)? {
            Pull::Ready(batch) => batch,
            Pull::NotEnoughData => return Ok(Pull::NotEnoughData),
            Pull::Eof => {
                return Ok(match self.origins.empty_batch(rollup, true, parent) {
                    Some(batch) => Pull::Ready((batch, true)),
                    None => Pull::Eof,
                });
            }
        };
        let inclusion = self.origins.origin;
        match check_single(rollup, &self.origins.l1_blocks, parent, &batch, &inclusion) {
            Validity::Accept => Ok(Pull::Ready((batch, true))),
            Validity::Past => {
                tracing::debug!(target: "lockstep::derive", chain, "past batch skipped");
                Ok(Pull::NotEnoughData)
            }
            Validity::Drop(reason) => {
                tracing::warn!(target: "lockstep::derive", chain, %reason, "batch dropped, channel flushed");
                self.flush(source);
                Ok(Pull::NotEnoughData)
            }
            Validity::Undecided => Ok(Pull::NotEnoughData),
            Validity::Future => {
                Err(DeriveError::Critical { chain, reason: "a future batch after Holocene".into() })
            }
        }
    }

    fn flush(&mut self, source: &mut BatchSource) {
        self.origins.next_span.clear();
        source.flush();
    }

    fn candidate(
        &mut self,
        source: &mut BatchSource,
        l1: &L1Window,
        l2: &dyn L2Source,
        rollup: &RollupConfig,
        parent: &L2BlockInfo,
    ) -> Result<Pull<SingleBatch>, DeriveError> {
        let chain = rollup.l2_chain_id.id();
        if let Some((batch, _)) = self.origins.next_from_span(parent, rollup) {
            return Ok(Pull::Ready(batch));
        }
        let span = match source.next_batch(l1)? {
            Pull::Ready(DerivedBatch::Single(batch)) => return Ok(Pull::Ready(batch)),
            Pull::Ready(DerivedBatch::Span(span)) => span,
            Pull::NotEnoughData => return Ok(Pull::NotEnoughData),
            Pull::Eof => return Ok(Pull::Eof),
        };
        let inclusion = self.origins.origin;
        let (validity, _) =
            check_span_prefix(rollup, &self.origins.l1_blocks, parent, &span, &inclusion, l2);
        match validity {
            Validity::Accept => {}
            Validity::Past => {
                tracing::debug!(target: "lockstep::derive", chain, "past span batch skipped");
                return Ok(Pull::NotEnoughData);
            }
            Validity::Drop(reason) => {
                tracing::warn!(target: "lockstep::derive", chain, %reason, "span batch dropped, channel flushed");
                self.flush(source);
                return Ok(Pull::NotEnoughData);
            }
            Validity::Undecided => return Ok(Pull::NotEnoughData),
            Validity::Future => {
                return Err(DeriveError::Critical {
                    chain,
                    reason: "a future span batch after Holocene".into(),
                })
            }
        }
        let Some(singles) = self.origins.singular_batches(&span, parent) else {
            tracing::warn!(target: "lockstep::derive", chain, "span batch names an epoch not held: dropped, channel flushed");
            self.flush(source);
            return Ok(Pull::NotEnoughData);
        };
        self.origins.next_span = singles;
        Ok(self
            .origins
            .next_from_span(parent, rollup)
            .map_or(Pull::NotEnoughData, |(b, _)| Pull::Ready(b)))
    }
}
