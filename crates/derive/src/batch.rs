//! Batches as a channel carries them (derivation spec, "Batch format"): each item is a type
//! byte and its body, `0` a singular batch (one L2 block), `1` a span batch (consecutive L2
//! blocks, [`crate::span_batch`]).

use crate::{span_batch::SpanBatch, DeriveError};
use alloy_primitives::{Bytes, B256};
use alloy_rlp::{RlpDecodable, RlpEncodable};

/// The type byte of a singular batch.
pub const SINGLE_BATCH_TYPE: u8 = 0;
/// The type byte of a span batch (from Delta).
pub const SPAN_BATCH_TYPE: u8 = 1;

/// One L2 block's batch: `rlp([parent_hash, epoch_number, epoch_hash, timestamp,
/// transaction_list])`.
#[derive(Debug, Clone, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct SingleBatch {
    /// The parent L2 block's hash.
    pub parent_hash: B256,
    /// The L1 origin's number.
    pub epoch_num: u64,
    /// The L1 origin's hash.
    pub epoch_hash: B256,
    /// The L2 block's timestamp.
    pub timestamp: u64,
    /// The sequenced transactions, EIP-2718 encoded.
    pub transactions: Vec<Bytes>,
}

/// A batch item of a channel, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Batch {
    /// A singular batch.
    Single(SingleBatch),
    /// A span batch, still in its compact form.
    Span(SpanBatch),
}

impl Batch {
    /// The batch item's bytes: the type byte, then the singular batch's RLP or the span
    /// batch's encoding.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Self::Single(batch) => {
                let mut out = vec![SINGLE_BATCH_TYPE];
                alloy_rlp::Encodable::encode(batch, &mut out);
                out
            }
            Self::Span(span) => {
                let mut out = vec![SPAN_BATCH_TYPE];
                out.extend(span.encode());
                out
            }
        }
    }

    /// Decodes one batch item (the bytes inside its RLP string). Span batches need Delta,
    /// which the caller checks by the L1 origin's time.
    pub fn decode(item: &[u8]) -> Result<Self, DeriveError> {
        let bad = |what: String| DeriveError::BadInput(what);
        match item.split_first() {
            Some((&SINGLE_BATCH_TYPE, mut body)) => {
                let batch = <SingleBatch as alloy_rlp::Decodable>::decode(&mut body)
                    .map_err(|e| bad(format!("singular batch: {e}")))?;
                if !body.is_empty() {
                    return Err(bad("singular batch: trailing bytes".into()));
                }
                Ok(Self::Single(batch))
            }
            Some((&SPAN_BATCH_TYPE, body)) => Ok(Self::Span(SpanBatch::decode(body)?)),
            Some((other, _)) => Err(bad(format!("unknown batch type {other}"))),
            None => Err(bad("empty batch".into())),
        }
    }
}

/// A batch as the batch stages take it: a span batch with its blocks made absolute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DerivedBatch {
    /// A singular batch.
    Single(SingleBatch),
    /// A span batch's blocks.
    Span(crate::span_batch::DerivedSpan),
}
