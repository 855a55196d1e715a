//! Frames: the pieces of a channel that batcher transactions carry (derivation spec, "Frame
//! format").
//!
//! `frame = channel_id (16) ++ frame_number (u16 BE) ++ frame_data_length (u32 BE) ++
//! frame_data ++ is_last (1)`, and batcher data is the derivation version byte `0` followed by
//! one or more frames. A transaction with any malformed frame contributes no frame at all.

use crate::DeriveError;

/// The derivation version of batcher data.
pub const DERIVATION_VERSION_0: u8 = 0;
/// The largest frame data accepted.
pub const MAX_FRAME_LEN: usize = 1_000_000;
/// The bytes of a frame around its data.
const FRAME_OVERHEAD: usize = 16 + 2 + 4 + 1;

/// A channel's id.
pub type ChannelId = [u8; 16];

/// One frame of a channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The channel it belongs to.
    pub channel_id: ChannelId,
    /// Its position in the channel.
    pub number: u16,
    /// Its piece of the compressed channel.
    pub data: Vec<u8>,
    /// Whether it is the channel's last frame.
    pub is_last: bool,
}

fn bad(what: String) -> DeriveError {
    DeriveError::BadInput(what)
}

impl Frame {
    /// Parses one frame at the start of `data`; returns it and the bytes it took.
    pub fn parse(data: &[u8]) -> Result<(Self, usize), DeriveError> {
        if data.len() < FRAME_OVERHEAD {
            return Err(bad(format!("a frame needs {FRAME_OVERHEAD} bytes, {} left", data.len())));
        }
        let mut channel_id = [0u8; 16];
        channel_id.copy_from_slice(&data[..16]);
        let number = u16::from_be_bytes([data[16], data[17]]);
        let length = u32::from_be_bytes([data[18], data[19], data[20], data[21]]) as usize;
        if length > MAX_FRAME_LEN {
            return Err(bad(format!("frame data of {length} bytes is over {MAX_FRAME_LEN}")));
        }
        let end = 22 + length;
        if data.len() < end + 1 {
            return Err(bad(format!("frame data of {length} bytes runs past the end")));
        }
        let is_last = match data[end] {
            0 => false,
            1 => true,
            other => return Err(bad(format!("frame is_last byte {other}, not 0 or 1"))),
        };
        Ok((Self { channel_id, number, data: data[22..end].to_vec(), is_last }, end + 1))
    }

    /// Every frame of batcher data (the version byte, then frames). Any malformed frame, an
    /// unknown version or trailing bytes drop the whole lot, as the spec says.
    pub fn parse_all(data: &[u8]) -> Result<Vec<Self>, DeriveError> {
        let Some((&version, mut rest)) = data.split_first() else {
            return Err(bad("empty batcher data".into()));
        };
        if version != DERIVATION_VERSION_0 {
            return Err(bad(format!("derivation version {version}; only version 0 exists")));
        }
        let mut frames = Vec::new();
        while !rest.is_empty() {
            let (frame, used) = Self::parse(rest)?;
            frames.push(frame);
            rest = &rest[used..];
        }
        if frames.is_empty() {
            return Err(bad("batcher data without a frame".into()));
        }
        Ok(frames)
    }

    /// The frame's encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(FRAME_OVERHEAD + self.data.len());
        out.extend_from_slice(&self.channel_id);
        out.extend_from_slice(&self.number.to_be_bytes());
        out.extend_from_slice(&(self.data.len() as u32).to_be_bytes());
        out.extend_from_slice(&self.data);
        out.push(u8::from(self.is_last));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_roundtrip_and_malformed_ones_drop_the_lot() {
        let a = Frame { channel_id: [1; 16], number: 0, data: vec![9; 40], is_last: false };
        let b = Frame { channel_id: [1; 16], number: 1, data: vec![], is_last: true };
        let mut data = vec![0];
        data.extend(a.encode());
        data.extend(b.encode());
        assert_eq!(Frame::parse_all(&data).unwrap(), vec![a.clone(), b]);
        let first_end = 1 + a.encode().len();
        for cut in (1..data.len()).filter(|cut| *cut != first_end) {
            assert!(Frame::parse_all(&data[..cut]).is_err(), "cut at {cut}");
        }
        let mut bad_last = data.clone();
        let at = bad_last.len() - 1;
        bad_last[at] = 2;
        assert!(Frame::parse_all(&bad_last).is_err());
        data[0] = 1;
        assert!(Frame::parse_all(&data).is_err());
    }
}
