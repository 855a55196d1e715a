//! The batcher: blocks become a span batch, the span batch a compressed channel, the channel
//! frames, and the frames batcher-transaction calldata, as op-batcher does.

use alloy_primitives::{Bytes, B256};
use lockstep_chainspec::RollupConfig;
use lockstep_derive::{
    batch::{Batch, SingleBatch},
    frame::{ChannelId, Frame, DERIVATION_VERSION_0},
    l1_block_info::L1BlockInfo,
    span_batch::SpanBatch,
};
use lockstep_storage::StoredBlock;

/// How a channel is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// zlib (channel version 0), for every hardfork.
    Zlib,
    /// brotli at level 10 (channel version byte `0x01`), from Fjord.
    Brotli,
}

/// Brotli channels start with this byte, from Fjord.
const CHANNEL_VERSION_BROTLI: u8 = 0x01;

/// Why a channel could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BatcherError {
    /// There were no blocks.
    #[error("a channel needs at least one block")]
    Empty,
    /// The span batch could not be built or encoded.
    #[error("span batch: {0}")]
    SpanBatch(String),
    /// The compressor failed.
    #[error("compression: {0}")]
    Compression(String),
    /// The frame size leaves no room for data.
    #[error("frame size {0} is too small")]
    FrameSize(usize),
}

/// One L2 block as the batcher posts it: the block and its L1 origin (epoch).
#[derive(Debug, Clone, Copy)]
pub struct BatchedBlock<'a> {
    /// The block.
    pub block: &'a StoredBlock,
    /// Its L1 origin's number.
    pub epoch_num: u64,
    /// Its L1 origin's hash.
    pub epoch_hash: B256,
}

/// The singular batches of consecutive `blocks`, carrying their non-deposit transactions,
/// and the first block's place in its epoch.
pub fn singular_batches(
    blocks: &[BatchedBlock<'_>],
) -> Result<(Vec<SingleBatch>, u64), BatcherError> {
    let first = blocks.first().ok_or(BatcherError::Empty)?;
    // the first block's place in its epoch comes from its L1 info deposit
    let seq_num = first
        .block
        .transactions
        .first()
        .and_then(|tx| tx.as_deposit())
        .and_then(|tx| L1BlockInfo::decode(&tx.input).ok())
        .map_or(0, |(_, info)| info.sequence_number);
    let batches = blocks
        .iter()
        .map(|b| SingleBatch {
            parent_hash: b.block.header.parent_hash,
            epoch_num: b.epoch_num,
            epoch_hash: b.epoch_hash,
            timestamp: b.block.header.timestamp,
            transactions: b
                .block
                .transactions
                .iter()
                .filter(|tx| !tx.is_deposit())
                .map(|tx| Bytes::from(alloy_eips::eip2718::Encodable2718::encoded_2718(tx)))
                .collect(),
        })
        .collect();
    Ok((batches, seq_num))
}

/// The span batch of consecutive `blocks`, carrying their non-deposit transactions.
pub fn span_batch(
    rollup: &RollupConfig,
    blocks: &[BatchedBlock<'_>],
) -> Result<SpanBatch, BatcherError> {
    let (batches, seq_num) = singular_batches(blocks)?;
    SpanBatch::from_batches(&batches, seq_num, rollup.genesis.l2_time)
        .map_err(|e| BatcherError::SpanBatch(e.to_string()))
}

/// The channel's uncompressed content: the RLP string of each batch, concatenated.
pub fn channel_rlp(batches: &[Batch]) -> Result<Vec<u8>, BatcherError> {
    let mut out = Vec::new();
    for batch in batches {
        alloy_rlp::Encodable::encode(&Bytes::from(batch.encode()), &mut out);
    }
    Ok(out)
}

/// Compresses channel content.
pub fn compress(data: &[u8], compression: Compression) -> Result<Vec<u8>, BatcherError> {
    match compression {
        Compression::Zlib => {
            use std::io::Write;
            // op-batcher writes a zlib stream (with its header)
            let mut encoder =
                flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
            encoder.write_all(data).map_err(|e| BatcherError::Compression(e.to_string()))?;
            encoder.finish().map_err(|e| BatcherError::Compression(e.to_string()))
        }
        Compression::Brotli => {
            use std::io::Write;
            // op-batcher's brotli-10: quality 10, a 2^22-byte window
            let mut out = vec![CHANNEL_VERSION_BROTLI];
            let mut writer = brotli::CompressorWriter::new(&mut out, 4096, 10, 22);
            writer.write_all(data).map_err(|e| BatcherError::Compression(e.to_string()))?;
            writer.flush().map_err(|e| BatcherError::Compression(e.to_string()))?;
            drop(writer);
            Ok(out)
        }
    }
}

/// Splits channel data into frames of at most `max_frame_size` encoded bytes.
pub fn frames(
    id: ChannelId,
    data: &[u8],
    max_frame_size: usize,
) -> Result<Vec<Frame>, BatcherError> {
    // frame overhead: id (16) + number (2) + length (4) + is_last (1)
    let room = max_frame_size
        .checked_sub(23)
        .filter(|r| *r > 0)
        .ok_or(BatcherError::FrameSize(max_frame_size))?;
    let chunks: Vec<&[u8]> = if data.is_empty() { vec![&[]] } else { data.chunks(room).collect() };
    let last = chunks.len() - 1;
    Ok(chunks
        .into_iter()
        .enumerate()
        .map(|(i, chunk)| Frame {
            channel_id: id,
            number: i as u16,
            data: chunk.to_vec(),
            is_last: i == last,
        })
        .collect())
}

/// Batcher-transaction calldata: the derivation version byte, then the frames.
pub fn calldata(frames: &[Frame]) -> Bytes {
    let mut out = vec![DERIVATION_VERSION_0];
    for frame in frames {
        out.extend(frame.encode());
    }
    out.into()
}

/// The channel id of a chain's `n`th channel: deterministic, unique per chain and channel.
pub fn channel_id(chain_id: u64, n: u64) -> ChannelId {
    let hash = alloy_primitives::keccak256([chain_id.to_be_bytes(), n.to_be_bytes()].concat());
    let mut id = ChannelId::default();
    id.copy_from_slice(&hash[..16]);
    id
}
