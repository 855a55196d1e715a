//! Holocene's frame queue and channel assembler (Holocene derivation spec, "Frame Queue" and
//! "Channel Bank"): frames must arrive in order, so at most one channel is open at a time.
//!
//! - The queue drops a non-first frame that does not follow the frame before it (another
//!   channel, a gap, or a channel already closed), and when a first frame arrives after an
//!   unclosed channel, that channel's frames.
//! - The assembler stages one channel: a first frame replaces an unfinished one; a frame without
//!   a channel, or one that comes after the channel timed out, is dropped; a channel whose raw
//!   size (frame data plus 200 bytes a frame) exceeds the RLP limit is dropped; a closed channel
//!   is handed on whole.

use crate::frame::{ChannelId, Frame};
use std::collections::VecDeque;

/// The bytes a frame counts for in a channel's size beyond its data.
pub const FRAME_OVERHEAD: usize = 200;

/// Holocene's frame queue.
#[derive(Debug, Clone, Default)]
pub struct FrameQueue {
    frames: VecDeque<Frame>,
}

impl FrameQueue {
    /// Queues a batcher transaction's frames and prunes the queue.
    pub fn push(&mut self, frames: impl IntoIterator<Item = Frame>) {
        self.frames.extend(frames);
        self.prune();
    }

    /// Queues frames as they are, without pruning (before Holocene).
    pub fn extend(&mut self, frames: impl IntoIterator<Item = Frame>) {
        self.frames.extend(frames);
    }

    /// Drops every queued frame.
    pub fn clear(&mut self) {
        self.frames.clear();
    }

    /// The next frame, oldest first.
    pub fn pop(&mut self) -> Option<Frame> {
        self.frames.pop_front()
    }

    /// How many frames are queued.
    pub fn len(&self) -> usize {
        self.frames.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    fn prune(&mut self) {
        let mut i = 0;
        while i + 1 < self.frames.len() {
            let (prev, curr) = (&self.frames[i], &self.frames[i + 1]);
            if prev.channel_id == curr.channel_id {
                if prev.is_last || curr.number != prev.number.wrapping_add(1) {
                    // out of order: a gap, a repeat, or a frame after the channel closed
                    self.frames.remove(i + 1);
                    continue;
                }
            } else if curr.number > 0 {
                // a non-first frame of another channel
                self.frames.remove(i + 1);
                continue;
            } else if !prev.is_last {
                // a new channel starts while the previous one is open: drop the open one's
                // frames, one by one back to its first
                self.frames.remove(i);
                i = i.saturating_sub(1);
                continue;
            }
            i += 1;
        }
    }
}

/// The one channel being assembled.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Staging {
    id: ChannelId,
    opened_at: u64,
    next: u16,
    size: usize,
    data: Vec<u8>,
}

/// What handing a frame to the assembler did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Assembled {
    /// The frame went into the staging channel, which is still open.
    Added,
    /// The frame closed the channel: its compressed data.
    Ready(ChannelId, Vec<u8>),
    /// The frame was dropped, and why.
    Dropped(&'static str),
}

/// Holocene's channel assembler.
#[derive(Debug, Clone, Default)]
pub struct ChannelAssembler {
    staging: Option<Staging>,
}

impl ChannelAssembler {
    /// Adds `frame`, read from L1 block `origin`, with the fork's `channel_timeout` (in L1
    /// blocks) and `max_size` (the RLP limit).
    pub fn add(
        &mut self,
        frame: &Frame,
        origin: u64,
        channel_timeout: u64,
        max_size: usize,
    ) -> Assembled {
        if self
            .staging
            .as_ref()
            .is_some_and(|s| s.opened_at.saturating_add(channel_timeout) < origin)
        {
            self.staging = None;
            if frame.number > 0 {
                return Assembled::Dropped("the channel timed out");
            }
        }
        if frame.number == 0 {
            // a first frame replaces an unfinished channel
            self.staging = Some(Staging {
                id: frame.channel_id,
                opened_at: origin,
                next: 0,
                size: 0,
                data: Vec::new(),
            });
        }
        let Some(staging) = self.staging.as_mut() else {
            return Assembled::Dropped("a non-first frame without an open channel");
        };
        if staging.id != frame.channel_id || staging.next != frame.number {
            return Assembled::Dropped("a frame that does not follow the open channel");
        }
        staging.next = staging.next.wrapping_add(1);
        staging.size += frame.data.len() + FRAME_OVERHEAD;
        staging.data.extend_from_slice(&frame.data);
        if staging.size > max_size {
            self.staging = None;
            return Assembled::Dropped("the channel is over the size limit");
        }
        if frame.is_last {
            let done = self.staging.take().map(|s| (s.id, s.data));
            return done
                .map_or(Assembled::Dropped("no channel"), |(id, data)| Assembled::Ready(id, data));
        }
        Assembled::Added
    }

    /// Drops the staging channel (Holocene's flush after an invalid batch or payload).
    pub fn flush(&mut self) {
        self.staging = None;
    }

    /// Whether a channel is open.
    pub const fn is_open(&self) -> bool {
        self.staging.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(id: u8, number: u16, is_last: bool) -> Frame {
        Frame { channel_id: [id; 16], number, data: vec![id, number as u8], is_last }
    }

    fn ids(queue: &FrameQueue) -> Vec<(u8, u16)> {
        queue.frames.iter().map(|f| (f.channel_id[0], f.number)).collect()
    }

    #[test]
    fn the_queue_drops_out_of_order_frames() {
        let mut queue = FrameQueue::default();
        // a gap, a repeat, and another channel's non-first frame are dropped
        queue.push([
            frame(1, 0, false),
            frame(1, 2, false),
            frame(1, 1, false),
            frame(1, 1, false),
        ]);
        queue.push([frame(2, 3, false), frame(1, 2, true), frame(1, 3, false)]);
        assert_eq!(ids(&queue), vec![(1, 0), (1, 1), (1, 2)]);
        // after a closed channel, a first frame of the next is kept
        queue.push([frame(3, 0, false), frame(3, 1, false)]);
        assert_eq!(ids(&queue), vec![(1, 0), (1, 1), (1, 2), (3, 0), (3, 1)]);
        // a first frame while channel 3 is open drops every frame of 3
        queue.push([frame(4, 0, true)]);
        assert_eq!(ids(&queue), vec![(1, 0), (1, 1), (1, 2), (4, 0)]);
    }

    #[test]
    fn the_assembler_stages_one_channel() {
        let mut asm = ChannelAssembler::default();
        assert_eq!(
            asm.add(&frame(1, 1, false), 10, 50, 1000),
            Assembled::Dropped("a non-first frame without an open channel")
        );
        assert_eq!(asm.add(&frame(1, 0, false), 10, 50, 1000), Assembled::Added);
        // a new first frame replaces the unfinished channel
        assert_eq!(asm.add(&frame(2, 0, false), 11, 50, 1000), Assembled::Added);
        assert!(matches!(asm.add(&frame(1, 1, true), 11, 50, 1000), Assembled::Dropped(_)));
        match asm.add(&frame(2, 1, true), 12, 50, 1000) {
            Assembled::Ready(id, data) => {
                assert_eq!(id, [2; 16]);
                assert_eq!(data, vec![2, 0, 2, 1]);
            }
            other => panic!("{other:?}"),
        }
        assert!(!asm.is_open());
        // the timeout: opened at 20, timeout 5, so a frame read at 26 is too late
        assert_eq!(asm.add(&frame(3, 0, false), 20, 5, 1000), Assembled::Added);
        assert_eq!(asm.add(&frame(3, 1, false), 25, 5, 1000), Assembled::Added);
        assert_eq!(
            asm.add(&frame(3, 2, true), 26, 5, 1000),
            Assembled::Dropped("the channel timed out")
        );
        // the size limit counts 200 bytes a frame
        assert_eq!(asm.add(&frame(4, 0, false), 30, 5, 403), Assembled::Added);
        assert_eq!(
            asm.add(&frame(4, 1, false), 30, 5, 403),
            Assembled::Dropped("the channel is over the size limit")
        );
        assert_eq!(asm.add(&frame(5, 0, false), 30, 5, 1000), Assembled::Added);
        asm.flush();
        assert!(!asm.is_open());
    }
}
