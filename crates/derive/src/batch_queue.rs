//! The batch stages: before Holocene the batch queue, which buffers batches until the safe
//! head reaches them; from Holocene the batch stage, which takes them strictly in order (see
//! `batch_stage`). Both track the L1 blocks from the safe head's epoch to the origin, turn span
//! batches into singular ones, and make empty batches once an epoch's sequencer window has
//! passed without a batch (derivation spec, "Batch Queue"; op-node's `BatchQueue`).

use crate::{
    batch::{DerivedBatch, SingleBatch},
    batch_source::{BatchSource, Pull},
    batch_validity::{check_single, check_span, Validity},
    block_ref::{BlockInfo, L2BlockInfo, L2Source},
    span_batch::DerivedSpan,
    DeriveError, L1Window,
};
use lockstep_chainspec::RollupConfig;
use std::collections::VecDeque;

/// What both batch stages keep: the origin they last saw, the L1 blocks from the safe head's
/// epoch on, and the rest of the span batch being applied.
#[derive(Debug, Clone, Default)]
pub struct Origins {
    pub(crate) origin: BlockInfo,
    pub(crate) l1_blocks: Vec<BlockInfo>,
    pub(crate) next_span: VecDeque<SingleBatch>,
}

impl Origins {
    /// Starts at `origin`.
    pub fn new(origin: BlockInfo) -> Self {
        Self { origin, l1_blocks: vec![origin], next_span: VecDeque::new() }
    }

    /// The next block of the span batch being applied, if it builds on `parent`; a span whose
    /// next block does not is dropped.
    pub(crate) fn next_from_span(
        &mut self,
        parent: &L2BlockInfo,
        rollup: &RollupConfig,
    ) -> Option<(SingleBatch, bool)> {
        let next = self.next_span.front()?;
        if next.timestamp != parent.block_info.timestamp + rollup.block_time {
            tracing::warn!(target: "lockstep::derive", "the rest of a span batch does not follow the safe head: dropped");
            self.next_span.clear();
            return None;
        }
        let mut batch = self.next_span.pop_front()?;
        batch.parent_hash = parent.block_info.hash;
        Some((batch, self.next_span.is_empty()))
    }

    pub(crate) fn origin_behind(&self, source: &BatchSource, parent: &L2BlockInfo) -> bool {
        source.origin().number < parent.l1_origin.number
    }

    /// Follows the source's origin and drops the L1 blocks before the safe head's epoch.
    pub(crate) fn update(&mut self, source: &BatchSource, parent: &L2BlockInfo) {
        let behind = self.origin_behind(source, parent);
        if self.origin != source.origin() {
            self.origin = source.origin();
            if behind {
                self.l1_blocks.clear();
            } else {
                self.l1_blocks.push(self.origin);
            }
        }
        if self.l1_blocks.first().is_some_and(|b| parent.l1_origin.number > b.number) {
            if let Some(i) = self.l1_blocks.iter().position(|b| b.number == parent.l1_origin.number)
            {
                self.l1_blocks.drain(..i);
            }
        }
    }

    /// The safe head's epoch must be the first L1 block held, or the one before it.
    pub(crate) fn check_epoch(&self, parent: &L2BlockInfo, chain: u64) -> Result<(), DeriveError> {
        let Some(epoch) = self.l1_blocks.first() else {
            return Err(DeriveError::Critical { chain, reason: "no L1 origin prepared".into() });
        };
        if parent.l1_origin != epoch.id() && parent.l1_origin.number + 1 != epoch.number {
            return Err(DeriveError::Reset {
                chain,
                reason: format!(
                    "the batch stage's epoch {} does not match the safe head's origin {}",
                    epoch.number, parent.l1_origin.number
                ),
            });
        }
        Ok(())
    }

    /// An empty batch when the epoch's sequencer window has passed (`out_of_data`: this
    /// origin's batches are all read); `None` when there is none to make yet, which may move
    /// the epoch on.
    pub(crate) fn empty_batch(
        &mut self,
        rollup: &RollupConfig,
        out_of_data: bool,
        parent: &L2BlockInfo,
    ) -> Option<SingleBatch> {
        let epoch = *self.l1_blocks.first()?;
        let expiry = epoch.number + rollup.seq_window_size;
        let force = (expiry == self.origin.number && out_of_data) || expiry < self.origin.number;
        if !force {
            return None;
        }
        let next_epoch = *self.l1_blocks.get(1)?;
        let next_timestamp = parent.block_info.timestamp + rollup.block_time;
        let first_of_epoch = epoch.number == parent.l1_origin.number + 1;
        if next_timestamp < next_epoch.timestamp || first_of_epoch {
            tracing::debug!(target: "lockstep::derive", epoch = epoch.number, timestamp = next_timestamp, "empty batch");
            return Some(SingleBatch {
                parent_hash: parent.block_info.hash,
                epoch_num: epoch.number,
                epoch_hash: epoch.hash,
                timestamp: next_timestamp,
                transactions: Vec::new(),
            });
        }
        // every empty batch of this epoch is made: on to the next
        self.l1_blocks.remove(0);
        None
    }

    /// The singular batches of a span batch's blocks after the safe head, with their epochs'
    /// hashes. `None` when an epoch is not among the L1 blocks held.
    pub(crate) fn singular_batches(
        &self,
        span: &DerivedSpan,
        parent: &L2BlockInfo,
    ) -> Option<VecDeque<SingleBatch>> {
        let mut out = VecDeque::new();
        let mut index = 0;
        for block in span.blocks.iter().filter(|b| b.timestamp > parent.block_info.timestamp) {
            let found = self.l1_blocks[index..].iter().position(|b| b.number == block.epoch_num)?;
            index += found;
            out.push_back(SingleBatch {
                parent_hash: Default::default(),
                epoch_num: block.epoch_num,
                epoch_hash: self.l1_blocks[index].hash,
                timestamp: block.timestamp,
                transactions: block.transactions.clone(),
            });
        }
        Some(out)
    }
}

/// The batch queue before Holocene.
#[derive(Debug, Clone, Default)]
pub struct BatchQueue {
    pub(crate) origins: Origins,
    /// Batches in the order first seen, with the L1 block each was read from.
    batches: Vec<(BlockInfo, DerivedBatch)>,
}

fn check(
    rollup: &RollupConfig,
    l1_blocks: &[BlockInfo],
    parent: &L2BlockInfo,
    inclusion: &BlockInfo,
    batch: &DerivedBatch,
    l2: &dyn L2Source,
) -> Validity {
    match batch {
        DerivedBatch::Single(b) => check_single(rollup, l1_blocks, parent, b, inclusion),
        DerivedBatch::Span(s) => check_span(rollup, l1_blocks, parent, s, inclusion, l2),
    }
}

impl BatchQueue {
    /// Starts at `origin`.
    pub fn new(origin: BlockInfo) -> Self {
        Self { origins: Origins::new(origin), batches: Vec::new() }
    }

    /// The next singular batch on `parent`, and whether it ends its span batch.
    pub fn next_batch(
        &mut self,
        source: &mut BatchSource,
        l1: &L1Window,
        l2: &dyn L2Source,
        rollup: &RollupConfig,
        parent: &L2BlockInfo,
    ) -> Result<Pull<(SingleBatch, bool)>, DeriveError> {
        if let Some(next) = self.origins.next_from_span(parent, rollup) {
            return Ok(Pull::Ready(next));
        }
        self.origins.update(source, parent);
        let behind = self.origins.origin_behind(source, parent);
        let mut out_of_data = false;
        match source.next_batch(l1)? {
            Pull::Eof => out_of_data = true,
            Pull::NotEnoughData => {}
            Pull::Ready(batch) if !behind => self.add(rollup, parent, batch, l2),
            Pull::Ready(_) => {}
        }
        if behind {
            return Ok(if out_of_data { Pull::Eof } else { Pull::NotEnoughData });
        }
        let chain = rollup.l2_chain_id.id();
        let Some(batch) = self.derive_next(rollup, out_of_data, parent, l2, chain)? else {
            return Ok(if out_of_data { Pull::Eof } else { Pull::NotEnoughData });
        };
        match batch {
            DerivedBatch::Single(batch) => Ok(Pull::Ready((batch, true))),
            DerivedBatch::Span(span) => {
                let Some(singles) = self.origins.singular_batches(&span, parent) else {
                    return Err(DeriveError::Critical {
                        chain,
                        reason: "an accepted span batch names an epoch not held".into(),
                    });
                };
                self.origins.next_span = singles;
                Ok(self
                    .origins
                    .next_from_span(parent, rollup)
                    .map_or(Pull::NotEnoughData, Pull::Ready))
            }
        }
    }

    fn add(
        &mut self,
        rollup: &RollupConfig,
        parent: &L2BlockInfo,
        batch: DerivedBatch,
        l2: &dyn L2Source,
    ) {
        let inclusion = self.origins.origin;
        match check(rollup, &self.origins.l1_blocks, parent, &inclusion, &batch, l2) {
            Validity::Drop(reason) => {
                tracing::warn!(target: "lockstep::derive", chain = rollup.l2_chain_id.id(), %reason, "batch dropped");
            }
            _ => self.batches.push((inclusion, batch)),
        }
    }

    fn derive_next(
        &mut self,
        rollup: &RollupConfig,
        out_of_data: bool,
        parent: &L2BlockInfo,
        l2: &dyn L2Source,
        chain: u64,
    ) -> Result<Option<DerivedBatch>, DeriveError> {
        self.origins.check_epoch(parent, chain)?;
        // a batch names an epoch no later than the L1 block it was included in (it cannot know
        // a later block's hash), so one included before the current epoch can never be taken:
        // dropping it keeps the queue bounded, whatever a batcher posts for the far future
        let epoch = self.origins.l1_blocks.first().map_or(0, |b| b.number);
        self.batches.retain(|(inclusion, _)| inclusion.number >= epoch);
        let mut remaining = Vec::with_capacity(self.batches.len());
        let mut found = None;
        let mut batches = std::mem::take(&mut self.batches).into_iter();
        for (inclusion, batch) in batches.by_ref() {
            match check(rollup, &self.origins.l1_blocks, parent, &inclusion, &batch, l2) {
                Validity::Future => remaining.push((inclusion, batch)),
                Validity::Drop(reason) => {
                    tracing::warn!(target: "lockstep::derive", chain, %reason, "batch dropped");
                }
                Validity::Past => {
                    tracing::warn!(target: "lockstep::derive", chain, "past batch dropped");
                }
                Validity::Accept => {
                    tracing::debug!(target: "lockstep::derive", chain, inclusion = inclusion.number, "batch accepted");
                    found = Some(batch);
                    break;
                }
                Validity::Undecided => {
                    remaining.push((inclusion, batch));
                    remaining.extend(batches);
                    self.batches = remaining;
                    return Ok(None);
                }
            }
        }
        remaining.extend(batches);
        self.batches = remaining;
        if found.is_some() {
            return Ok(found);
        }
        Ok(self.origins.empty_batch(rollup, out_of_data, parent).map(DerivedBatch::Single))
    }
}
