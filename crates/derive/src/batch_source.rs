//! The L1 side of one chain's derivation, up to its batches: the traversal's origin, the
//! batcher data of each origin, frames, channels (the channel bank before Holocene, the
//! channel assembler from it, by the origin's time) and the channel reader.
//!
//! Each step pulls from the one before, as op-node's stages do: [`Pull::NotEnoughData`] says
//! "call again", [`Pull::Eof`] that the origin's data is used up and the traversal must move.

use crate::{
    batch::{Batch, DerivedBatch},
    block_ref::BlockInfo,
    channel::decompress,
    channel_assembler::{Assembled, ChannelAssembler, FrameQueue},
    channel_bank::{BankRead, ChannelBank},
    data_source::batcher_data,
    frame::Frame,
    span_batch::DerivedSpan,
    system_config::SystemConfig,
    traversal::{Advanced, Traversal},
    DeriveError, L1Window,
};
use lockstep_chainspec::RollupConfig;
use std::{collections::VecDeque, sync::Arc};

/// What a stage gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pull<T> {
    /// The next item.
    Ready(T),
    /// Nothing yet, but more may come from the same origin: pull again.
    NotEnoughData,
    /// The origin's data is used up.
    Eof,
}

/// The channel stage of the fork at the origin.
#[derive(Debug, Clone)]
enum Channels {
    Bank(ChannelBank),
    Assembler(ChannelAssembler),
}

impl Channels {
    fn at(rollup: &RollupConfig, origin: &BlockInfo) -> Self {
        if rollup.is_holocene_active(origin.timestamp) {
            Self::Assembler(ChannelAssembler::default())
        } else {
            Self::Bank(ChannelBank::default())
        }
    }
}

/// A decompressed channel being read batch by batch.
#[derive(Debug, Clone)]
struct Reading {
    bytes: Vec<u8>,
    pos: usize,
}

/// The L1 side of a chain's derivation.
#[derive(Debug, Clone)]
pub struct BatchSource {
    rollup: Arc<RollupConfig>,
    traversal: Traversal,
    data: Option<VecDeque<Vec<u8>>>,
    frames: FrameQueue,
    channels: Channels,
    reading: Option<Reading>,
    /// How many data items, frames, timed-out channels and batch items have been used up: the
    /// deriver's proof that a pull which gave nothing still moved on.
    consumed: u64,
}

impl BatchSource {
    /// Starts reading at `origin`, with the system config of the L2 block derivation resumes
    /// after.
    pub fn new(rollup: Arc<RollupConfig>, origin: BlockInfo, system_config: SystemConfig) -> Self {
        let channels = Channels::at(&rollup, &origin);
        Self {
            rollup,
            traversal: Traversal::new(origin, system_config),
            data: None,
            frames: FrameQueue::default(),
            channels,
            reading: None,
            consumed: 0,
        }
    }

    /// The L1 block being read.
    pub const fn origin(&self) -> BlockInfo {
        self.traversal.origin()
    }

    /// Moves to the next L1 block. Crossing Holocene's activation replaces the channel bank
    /// by the assembler (what the bank held is dropped, as in op-node).
    pub fn advance(&mut self, l1: &L1Window) -> Result<Advanced, DeriveError> {
        let before = self.origin();
        let advanced = self.traversal.advance(l1, &self.rollup)?;
        let after = self.origin();
        if !self.rollup.is_holocene_active(before.timestamp)
            && self.rollup.is_holocene_active(after.timestamp)
        {
            tracing::info!(target: "lockstep::derive", origin = after.number, "Holocene: strict frame and batch ordering");
            self.channels = Channels::Assembler(ChannelAssembler::default());
        }
        Ok(advanced)
    }

    /// How much of the L1 data has been used up so far (it only grows).
    pub const fn consumed(&self) -> u64 {
        self.consumed
    }

    /// Drops the channel being read and the one being assembled (Holocene's flush).
    pub fn flush(&mut self) {
        self.reading = None;
        if let Channels::Assembler(assembler) = &mut self.channels {
            assembler.flush();
        }
    }

    fn next_data(&mut self, l1: &L1Window) -> Result<Pull<Vec<u8>>, DeriveError> {
        if self.data.is_none() {
            let Some(origin) = self.traversal.take() else { return Ok(Pull::Eof) };
            let block = l1.by_hash(origin.hash)?;
            let data = batcher_data(
                &block,
                l1,
                self.rollup.batch_inbox_address,
                self.traversal.system_config().batcher,
                self.rollup.is_ecotone_active(origin.timestamp),
            )?;
            self.data = Some(data.into());
        }
        match self.data.as_mut().and_then(VecDeque::pop_front) {
            Some(data) => {
                self.consumed += 1;
                Ok(Pull::Ready(data))
            }
            None => {
                self.data = None;
                Ok(Pull::Eof)
            }
        }
    }

    fn next_frame(&mut self, l1: &L1Window) -> Result<Pull<Frame>, DeriveError> {
        if self.frames.is_empty() {
            match self.next_data(l1)? {
                Pull::Ready(data) => match Frame::parse_all(&data) {
                    Ok(frames) if self.rollup.is_holocene_active(self.origin().timestamp) => {
                        self.frames.push(frames)
                    }
                    Ok(frames) => self.frames.extend(frames),
                    Err(err) => tracing::warn!(
                        target: "lockstep::derive",
                        origin = self.origin().number,
                        %err,
                        "dropping batcher data whose frames do not parse"
                    ),
                },
                Pull::NotEnoughData => return Ok(Pull::NotEnoughData),
                Pull::Eof => return Ok(Pull::Eof),
            }
        }
        let frame = self.frames.pop();
        self.consumed += u64::from(frame.is_some());
        Ok(frame.map_or(Pull::NotEnoughData, Pull::Ready))
    }

    fn next_channel(&mut self, l1: &L1Window) -> Result<Pull<Vec<u8>>, DeriveError> {
        let origin = self.origin();
        let timeout = self.rollup.channel_timeout(origin.timestamp);
        if let Channels::Bank(bank) = &mut self.channels {
            match bank.read(&origin, &self.rollup) {
                BankRead::Channel(_, data) => return Ok(Pull::Ready(data)),
                BankRead::TimedOut(_) => {
                    self.consumed += 1;
                    return Ok(Pull::NotEnoughData);
                }
                BankRead::Empty => {}
            }
        }
        loop {
            let frame = match self.next_frame(l1)? {
                Pull::Ready(frame) => frame,
                Pull::NotEnoughData => return Ok(Pull::NotEnoughData),
                Pull::Eof => return Ok(Pull::Eof),
            };
            match &mut self.channels {
                Channels::Bank(bank) => {
                    if let Some(why) = bank.ingest(frame, &origin, &self.rollup) {
                        tracing::debug!(target: "lockstep::derive", origin = origin.number, why, "frame dropped");
                    }
                    return Ok(Pull::NotEnoughData);
                }
                Channels::Assembler(assembler) => {
                    let max = self.rollup.max_rlp_bytes_per_channel(origin.timestamp) as usize;
                    match assembler.add(&frame, origin.number, timeout, max) {
                        Assembled::Ready(_, data) => return Ok(Pull::Ready(data)),
                        Assembled::Added => {}
                        Assembled::Dropped(why) => {
                            tracing::debug!(target: "lockstep::derive", origin = origin.number, why, "frame dropped")
                        }
                    }
                }
            }
        }
    }

    /// The next batch. A channel that does not decompress, or a batch that does not decode,
    /// ends its channel; a span batch before Delta (by the origin's time) is skipped.
    pub fn next_batch(&mut self, l1: &L1Window) -> Result<Pull<DerivedBatch>, DeriveError> {
        let origin = self.origin();
        if self.reading.is_none() {
            let data = match self.next_channel(l1)? {
                Pull::Ready(data) => data,
                Pull::NotEnoughData => return Ok(Pull::NotEnoughData),
                Pull::Eof => return Ok(Pull::Eof),
            };
            let fjord = self.rollup.is_fjord_active(origin.timestamp);
            let limit = self.rollup.max_rlp_bytes_per_channel(origin.timestamp) as usize;
            let Some(channel) = decompress(&data, fjord, limit) else {
                tracing::warn!(target: "lockstep::derive", origin = origin.number, "dropping a channel of an unknown or unallowed compression");
                return Ok(Pull::NotEnoughData);
            };
            self.reading = Some(Reading { bytes: channel.bytes, pos: 0 });
        }
        let Some(reading) = self.reading.as_mut() else { return Ok(Pull::NotEnoughData) };
        self.consumed += 1;
        let mut rest = &reading.bytes[reading.pos..];
        if rest.is_empty() {
            self.reading = None;
            return Ok(Pull::NotEnoughData);
        }
        let item = match alloy_rlp::Header::decode_bytes(&mut rest, false) {
            Ok(item) => item,
            Err(err) => {
                tracing::warn!(target: "lockstep::derive", origin = origin.number, %err, "channel ends in a malformed batch");
                self.reading = None;
                return Ok(Pull::NotEnoughData);
            }
        };
        let batch = Batch::decode(item);
        reading.pos = reading.bytes.len() - rest.len();
        match batch {
            Ok(Batch::Single(batch)) => Ok(Pull::Ready(DerivedBatch::Single(batch))),
            Ok(Batch::Span(_)) if !self.rollup.is_delta_active(origin.timestamp) => {
                tracing::warn!(target: "lockstep::derive", origin = origin.number, "span batch before Delta skipped");
                Ok(Pull::NotEnoughData)
            }
            Ok(Batch::Span(span)) => {
                let derived = DerivedSpan::new(
                    &span,
                    self.rollup.genesis.l2_time,
                    self.rollup.block_time,
                    self.rollup.l2_chain_id.id(),
                );
                match derived {
                    Ok(derived) => Ok(Pull::Ready(DerivedBatch::Span(derived))),
                    Err(err) => {
                        tracing::warn!(target: "lockstep::derive", origin = origin.number, %err, "span batch skipped");
                        Ok(Pull::NotEnoughData)
                    }
                }
            }
            Err(err) => {
                tracing::warn!(target: "lockstep::derive", origin = origin.number, %err, "channel ends in a batch that does not decode");
                self.reading = None;
                Ok(Pull::NotEnoughData)
            }
        }
    }
}
