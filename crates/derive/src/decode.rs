//! `lockstep decode`: what a piece of batcher data holds, for a node runner looking at a batch
//! that seems wrong. Everything is decoded with lockstep's own frame, channel and batch readers
//! ([`crate::frame`], [`crate::channel`], [`crate::batch`]).

use crate::{
    batch::Batch,
    channel::{batch_items, decompress},
    frame::Frame,
};
use alloy_consensus::{transaction::SignerRecoverable, Transaction, TxEnvelope};
use alloy_eips::eip2718::Decodable2718;
use alloy_primitives::{hex, Address, B256};
use lockstep_chainspec::RollupConfig;
use serde::Serialize;
use std::collections::BTreeMap;

use crate::DeriveError;

/// The most a channel may decompress to here (the Fjord limit is 10,000,000 bytes).
pub const MAX_DECOMPRESSED: usize = 64 << 20;

/// What the input is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum InputKind {
    /// A raw signed L1 transaction (EIP-2718) to a batch inbox.
    Transaction,
    /// Batcher calldata: the derivation version byte, then frames.
    Calldata,
    /// One EIP-4844 blob in the OP blob encoding.
    Blob,
    /// A whole compressed channel.
    Channel,
}

/// The transaction that carried the data.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TxSummary {
    /// Its hash.
    pub hash: B256,
    /// Its chain id.
    pub chain_id: Option<u64>,
    /// Its nonce.
    pub nonce: u64,
    /// The recovered sender (the batcher, if all is well).
    pub from: Option<Address>,
    /// The recipient (the batch inbox, if all is well).
    pub to: Option<Address>,
    /// Calldata length.
    pub calldata_length: usize,
    /// Blob versioned hashes, for a blob transaction.
    pub blob_hashes: Vec<B256>,
}

/// One frame.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FrameSummary {
    /// The channel id.
    pub channel_id: String,
    /// The frame number.
    pub number: u16,
    /// The frame data's length.
    pub length: usize,
    /// Whether it is the channel's last frame.
    pub is_last: bool,
}

/// A batch in a channel.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum BatchSummary {
    /// A singular batch (one L2 block).
    #[serde(rename_all = "camelCase")]
    Single {
        /// The parent block hash.
        parent_hash: B256,
        /// The L1 origin number.
        l1_origin: u64,
        /// The L1 origin hash.
        l1_origin_hash: B256,
        /// The block timestamp.
        timestamp: u64,
        /// Transactions.
        transactions: usize,
    },
    /// A span batch (consecutive L2 blocks).
    #[serde(rename_all = "camelCase")]
    Span {
        /// The first block's timestamp less the L2 genesis time.
        rel_timestamp: u64,
        /// The first block's timestamp (with a rollup config).
        first_timestamp: Option<u64>,
        /// The last block's timestamp (with a rollup config).
        last_timestamp: Option<u64>,
        /// The first block's L1 origin number.
        first_l1_origin: u64,
        /// The last block's L1 origin number.
        last_l1_origin: u64,
        /// The first 20 bytes of the first block's parent hash.
        parent_check: String,
        /// The first 20 bytes of the last block's L1 origin hash.
        l1_origin_check: String,
        /// L2 blocks.
        block_count: u64,
        /// Transactions, all blocks together.
        transactions: u64,
    },
    /// A batch that does not decode.
    #[serde(rename_all = "camelCase")]
    Invalid {
        /// The batch type byte.
        batch_type: Option<u8>,
        /// Why it does not decode.
        error: String,
    },
}

/// A channel and its batches.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChannelReport {
    /// The channel id, when the channel came from frames.
    pub id: Option<String>,
    /// Whether every frame up to the last one is present.
    pub complete: bool,
    /// `zlib`, `brotli`, or `unknown`.
    pub compression: &'static str,
    /// The compressed length.
    pub compressed_length: usize,
    /// The decompressed length.
    pub decompressed_length: usize,
    /// Whether the compressed stream ended properly (OP Mainnet's zlib streams often do not;
    /// derivation reads them all the same).
    pub stream_terminated: bool,
    /// The batches, in order.
    pub batches: Vec<BatchSummary>,
    /// What went wrong reading the channel, if anything.
    pub error: Option<String>,
}

/// Everything decoded from the input.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DecodeReport {
    /// What the input was taken to be.
    pub input: InputKind,
    /// The carrying transaction.
    pub transaction: Option<TxSummary>,
    /// The frames.
    pub frames: Vec<FrameSummary>,
    /// The channels.
    pub channels: Vec<ChannelReport>,
}

/// Reads input bytes given as binary or as hex text (with or without `0x`, whitespace
/// ignored).
pub fn read_input(raw: &[u8]) -> Vec<u8> {
    let text: Vec<u8> = raw.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
    let body = text.strip_prefix(b"0x").unwrap_or(&text);
    if !body.is_empty() && body.len().is_multiple_of(2) && body.iter().all(u8::is_ascii_hexdigit) {
        if let Ok(bytes) = hex::decode(body) {
            return bytes;
        }
    }
    raw.to_vec()
}

/// Guesses what `data` is: a blob by its size, a transaction by its type byte, calldata by
/// its version byte and parseable frames, else a channel.
pub fn detect(data: &[u8]) -> InputKind {
    if data.len() == alloy_eips::eip4844::BYTES_PER_BLOB {
        return InputKind::Blob;
    }
    if matches!(data.first(), Some(1..=4)) && TxEnvelope::decode_2718_exact(data).is_ok() {
        return InputKind::Transaction;
    }
    if data.first() == Some(&0) && Frame::parse_all(data).is_ok() {
        return InputKind::Calldata;
    }
    InputKind::Channel
}

/// Decodes `data` as `kind`. `rollup`, when given, turns span batch timestamps absolute.
pub fn decode(
    data: &[u8],
    kind: InputKind,
    rollup: Option<&RollupConfig>,
) -> Result<DecodeReport, DeriveError> {
    let bad = |what: String| DeriveError::BadInput(what);
    let mut report =
        DecodeReport { input: kind, transaction: None, frames: Vec::new(), channels: Vec::new() };
    let calldata = match kind {
        InputKind::Channel => {
            report.channels.push(read_channel(None, true, data, rollup));
            return Ok(report);
        }
        InputKind::Calldata => data.to_vec(),
        InputKind::Blob => crate::blob::decode_blob(data)?,
        InputKind::Transaction => {
            let tx = TxEnvelope::decode_2718_exact(data)
                .map_err(|e| bad(format!("not an EIP-2718 transaction: {e}")))?;
            report.transaction = Some(TxSummary {
                hash: *tx.tx_hash(),
                chain_id: tx.chain_id(),
                nonce: tx.nonce(),
                from: tx.recover_signer().ok(),
                to: tx.to(),
                calldata_length: tx.input().len(),
                blob_hashes: tx.blob_versioned_hashes().map(<[B256]>::to_vec).unwrap_or_default(),
            });
            if tx.blob_versioned_hashes().is_some_and(|h| !h.is_empty()) {
                // the frames are in the blobs, which the transaction does not carry
                return Ok(report);
            }
            tx.input().to_vec()
        }
    };
    match calldata.split_first() {
        Some((0, _)) => {
            let frames = Frame::parse_all(&calldata).map_err(|e| bad(format!("frames: {e}")))?;
            let mut channels: BTreeMap<[u8; 16], Vec<Frame>> = BTreeMap::new();
            for frame in frames {
                report.frames.push(FrameSummary {
                    channel_id: hex::encode_prefixed(frame.channel_id),
                    number: frame.number,
                    length: frame.data.len(),
                    is_last: frame.is_last,
                });
                channels.entry(frame.channel_id).or_default().push(frame);
            }
            for (id, mut frames) in channels {
                frames.sort_by_key(|f| f.number);
                let complete = frames.last().is_some_and(|f| f.is_last)
                    && frames.iter().enumerate().all(|(i, f)| usize::from(f.number) == i);
                let data: Vec<u8> = frames.iter().flat_map(|f| f.data.iter().copied()).collect();
                report.channels.push(read_channel(
                    Some(hex::encode_prefixed(id)),
                    complete,
                    &data,
                    rollup,
                ));
            }
        }
        Some((version, _)) => {
            return Err(bad(format!("derivation version {version}; only version 0 exists")))
        }
        None => return Err(bad("empty batcher data".into())),
    }
    Ok(report)
}

/// Decompresses a channel and lists its batches.
fn read_channel(
    id: Option<String>,
    complete: bool,
    data: &[u8],
    rollup: Option<&RollupConfig>,
) -> ChannelReport {
    let mut report = ChannelReport {
        id,
        complete,
        compression: "unknown",
        compressed_length: data.len(),
        decompressed_length: 0,
        stream_terminated: false,
        batches: Vec::new(),
        error: None,
    };
    // a tool reads what any fork allows: brotli whatever the L1 origin's time
    let Some(read) = decompress(data, true, MAX_DECOMPRESSED) else {
        report.error = Some("not a zlib or brotli channel".into());
        return report;
    };
    report.compression = read.compression.name();
    report.decompressed_length = read.bytes.len();
    report.stream_terminated = read.terminated;
    report.error = read.error;
    let (items, error) = batch_items(&read.bytes);
    if let Some(error) = error {
        report.error.get_or_insert(error);
    }
    report.batches = items.into_iter().map(|item| batch_summary(item, rollup)).collect();
    report
}

fn batch_summary(item: &[u8], rollup: Option<&RollupConfig>) -> BatchSummary {
    let batch = match Batch::decode(item) {
        Ok(batch) => batch,
        Err(e) => {
            return BatchSummary::Invalid {
                batch_type: item.first().copied(),
                error: e.to_string(),
            }
        }
    };
    match batch {
        Batch::Single(b) => BatchSummary::Single {
            parent_hash: b.parent_hash,
            l1_origin: b.epoch_num,
            l1_origin_hash: b.epoch_hash,
            timestamp: b.timestamp,
            transactions: b.transactions.len(),
        },
        Batch::Span(span) => {
            let count = span.block_count() as u64;
            let first = rollup.map(|r| r.genesis.l2_time + span.rel_timestamp);
            BatchSummary::Span {
                rel_timestamp: span.rel_timestamp,
                first_timestamp: first,
                last_timestamp: first
                    .zip(rollup)
                    .map(|(f, r)| f + count.saturating_sub(1) * r.block_time),
                first_l1_origin: span.first_l1_origin(),
                last_l1_origin: span.l1_origin_num,
                parent_check: hex::encode_prefixed(span.parent_check),
                l1_origin_check: hex::encode_prefixed(span.l1_origin_check),
                block_count: count,
                transactions: span.block_tx_counts.iter().sum(),
            }
        }
    }
}
