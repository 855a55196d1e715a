//! The channel bank before Holocene (derivation spec, "Channel Bank"): frames of any number of
//! channels, in any order, are collected by channel ID until a channel is complete.
//!
//! - A channel opens at the L1 block of its first frame seen (whatever its number) and times
//!   out `channel_timeout` blocks later; frames for a timed-out channel are dropped, and a
//!   timed-out channel at the head of the queue is discarded.
//! - A frame with a number already seen, a second closing frame, or a frame at or past the
//!   closing frame's number is dropped. A closing frame prunes the frames above it.
//! - Reading takes the first channel of the queue if it is complete; from Canyon (by the L1
//!   origin's time), the first complete channel anywhere in the queue.
//! - When the bank's size (frame data plus 200 bytes a frame) is over the fork's limit, the
//!   oldest channels are dropped.

use crate::{
    block_ref::BlockInfo,
    channel_assembler::FRAME_OVERHEAD,
    frame::{ChannelId, Frame},
};
use lockstep_chainspec::RollupConfig;
use std::collections::{BTreeMap, HashMap, VecDeque};

/// The bank's size limit before Fjord.
pub const MAX_CHANNEL_BANK_SIZE: usize = 100_000_000;
/// The bank's size limit from Fjord.
pub const MAX_CHANNEL_BANK_SIZE_FJORD: usize = 1_000_000_000;

#[derive(Debug, Clone, Default)]
struct Pending {
    opened_at: u64,
    frames: BTreeMap<u16, Vec<u8>>,
    closed: bool,
    end: u16,
    highest: u16,
    size: usize,
}

impl Pending {
    fn add(&mut self, frame: Frame) -> Result<(), &'static str> {
        if frame.is_last && self.closed {
            return Err("a second closing frame");
        }
        if self.frames.contains_key(&frame.number) {
            return Err("a frame number already seen");
        }
        if self.closed && frame.number >= self.end {
            return Err("a frame past the closing frame");
        }
        if frame.is_last {
            self.end = frame.number;
            self.closed = true;
            if self.end < self.highest {
                // as op-node counts it: every held frame leaves the size, the pruned ones
                // leave the channel
                let end = self.end;
                for data in self.frames.values() {
                    self.size = self.size.saturating_sub(data.len() + FRAME_OVERHEAD);
                }
                self.frames.retain(|number, _| *number < end);
                self.highest = end;
            }
        }
        self.highest = self.highest.max(frame.number);
        self.size += frame.data.len() + FRAME_OVERHEAD;
        self.frames.insert(frame.number, frame.data);
        Ok(())
    }

    fn is_ready(&self) -> bool {
        self.closed && self.frames.len() == usize::from(self.end) + 1
    }

    fn data(self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.frames.values().map(Vec::len).sum());
        for data in self.frames.into_values() {
            out.extend_from_slice(&data);
        }
        out
    }
}

/// What [`ChannelBank::read`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BankRead {
    /// A complete channel's compressed data.
    Channel(ChannelId, Vec<u8>),
    /// The head channel timed out and was discarded: read again.
    TimedOut(ChannelId),
    /// Nothing to read.
    Empty,
}

/// The pre-Holocene channel bank.
#[derive(Debug, Clone, Default)]
pub struct ChannelBank {
    channels: HashMap<ChannelId, Pending>,
    queue: VecDeque<ChannelId>,
}

impl ChannelBank {
    /// Adds a frame read from L1 block `origin`. Returns why it was dropped, if it was.
    pub fn ingest(
        &mut self,
        frame: Frame,
        origin: &BlockInfo,
        rollup: &RollupConfig,
    ) -> Option<&'static str> {
        let id = frame.channel_id;
        let channel = self.channels.entry(id).or_insert_with(|| {
            self.queue.push_back(id);
            Pending { opened_at: origin.number, ..Default::default() }
        });
        if channel.opened_at + rollup.channel_timeout(origin.timestamp) < origin.number {
            return Some("the channel timed out");
        }
        if let Err(why) = channel.add(frame) {
            return Some(why);
        }
        self.prune(rollup, origin);
        None
    }

    fn prune(&mut self, rollup: &RollupConfig, origin: &BlockInfo) {
        let limit = if rollup.is_fjord_active(origin.timestamp) {
            MAX_CHANNEL_BANK_SIZE_FJORD
        } else {
            MAX_CHANNEL_BANK_SIZE
        };
        let mut total: usize = self.channels.values().map(|c| c.size).sum();
        while total > limit {
            let Some(id) = self.queue.pop_front() else { break };
            if let Some(channel) = self.channels.remove(&id) {
                total = total.saturating_sub(channel.size);
            }
        }
    }

    /// Reads the next complete channel, at L1 block `origin`.
    pub fn read(&mut self, origin: &BlockInfo, rollup: &RollupConfig) -> BankRead {
        let Some(first) = self.queue.front().copied() else { return BankRead::Empty };
        let timeout = rollup.channel_timeout(origin.timestamp);
        let timed_out = |c: &Pending| c.opened_at + timeout < origin.number;
        if self.channels.get(&first).is_none_or(timed_out) {
            self.channels.remove(&first);
            self.queue.pop_front();
            return BankRead::TimedOut(first);
        }
        let candidates =
            if rollup.is_canyon_active(origin.timestamp) { self.queue.len() } else { 1 };
        for index in 0..candidates {
            let id = self.queue[index];
            let ready = self.channels.get(&id).is_some_and(|c| !timed_out(c) && c.is_ready());
            if ready {
                self.queue.remove(index);
                if let Some(channel) = self.channels.remove(&id) {
                    return BankRead::Channel(id, channel.data());
                }
            }
        }
        BankRead::Empty
    }

    /// How many channels are held.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }
}
