//! Span batches (Delta; Isthmus adds SetCode transactions): consecutive L2 blocks in one compact
//! encoding.
//!
//! ```text
//! span_batch = prefix ++ payload
//! prefix     = rel_timestamp ++ l1_origin_num ++ parent_check ++ l1_origin_check
//! payload    = block_count ++ origin_bits ++ block_tx_counts ++ txs
//! txs        = contract_creation_bits ++ y_parity_bits ++ tx_sigs ++ tx_tos ++ tx_datas
//!              ++ tx_nonces ++ tx_gases ++ protected_bits
//! ```
//!
//! Numbers are unsigned LEB128 varints; bit lists are big-endian integers of `ceil(n / 8)`
//! bytes, bit `i` the `i`-th element, with no bit set at or above `n`.

use crate::DeriveError;
use alloy_consensus::{SignableTransaction, TxEip1559, TxEip2930, TxEip7702, TxLegacy};
use alloy_eips::{eip2718::Encodable2718, eip2930::AccessList, eip7702::SignedAuthorization};
use alloy_primitives::{Address, Bytes, Signature, TxKind, B256, U256};
use alloy_rlp::{Decodable, Header};

/// The most blocks, or transactions in all, that a span batch may hold.
pub const MAX_SPAN_BATCH_ELEMENTS: u64 = 10_000_000;

fn bad(what: impl Into<String>) -> DeriveError {
    DeriveError::BadInput(format!("span batch: {}", what.into()))
}

/// A transaction of a span batch, without what the span holds apart (signature, nonce, gas,
/// recipient).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TxData {
    Legacy {
        value: U256,
        gas_price: u128,
        data: Bytes,
    },
    Eip2930 {
        value: U256,
        gas_price: u128,
        data: Bytes,
        access_list: AccessList,
    },
    Eip1559 {
        value: U256,
        max_priority: u128,
        max_fee: u128,
        data: Bytes,
        access_list: AccessList,
    },
    Eip7702 {
        value: U256,
        max_priority: u128,
        max_fee: u128,
        data: Bytes,
        access_list: AccessList,
        authorizations: Vec<SignedAuthorization>,
    },
}

/// One transaction as the span batch stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpanTransaction {
    pub(crate) data: TxData,
    pub(crate) r: U256,
    pub(crate) s: U256,
    pub(crate) y_parity: bool,
    pub(crate) to: Option<Address>,
    pub(crate) nonce: u64,
    pub(crate) gas: u64,
    pub(crate) protected: bool,
}

/// A decoded span batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpanBatch {
    /// The first block's timestamp less the L2 genesis time.
    pub rel_timestamp: u64,
    /// The last block's L1 origin number.
    pub l1_origin_num: u64,
    /// The first 20 bytes of the first block's parent hash.
    pub parent_check: [u8; 20],
    /// The first 20 bytes of the last block's L1 origin hash.
    pub l1_origin_check: [u8; 20],
    /// Whether each block's L1 origin differs from its predecessor's.
    pub origin_changes: Vec<bool>,
    /// Each block's transaction count.
    pub block_tx_counts: Vec<u64>,
    /// The transactions of every block, in order.
    pub transactions: Vec<SpanTransaction>,
}

/// One L2 block of a span batch, with absolute values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpanBlock {
    /// Its timestamp.
    pub timestamp: u64,
    /// Its L1 origin's number.
    pub epoch_num: u64,
    /// Its transactions, EIP-2718 encoded.
    pub transactions: Vec<Bytes>,
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    /// A capacity for `n` elements of at least `size` bytes each: never more than the input
    /// left can hold, so that a count in a hostile batch cannot make a large allocation.
    fn room(&self, n: usize, size: usize) -> usize {
        n.min(self.0.len() / size)
    }

    fn bytes(&mut self, n: usize, what: &str) -> Result<&'a [u8], DeriveError> {
        if self.0.len() < n {
            return Err(bad(format!("{what}: {n} bytes needed, {} left", self.0.len())));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn uvarint(&mut self, what: &str) -> Result<u64, DeriveError> {
        let mut value = 0u64;
        for i in 0..10 {
            let byte = *self.bytes(1, what)?.first().unwrap_or(&0);
            if i == 9 && byte > 1 {
                return Err(bad(format!("{what}: varint overflows 64 bits")));
            }
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(bad(format!("{what}: varint overflows 64 bits")))
    }

    fn bits(&mut self, count: usize, what: &str) -> Result<Vec<bool>, DeriveError> {
        let bytes = self.bytes(count.div_ceil(8), what)?;
        // big-endian: bit i lives in the last byte for i < 8
        let bit = |i: usize| bytes[bytes.len() - 1 - i / 8] >> (i % 8) & 1 == 1;
        if (count..bytes.len() * 8).any(bit) {
            return Err(bad(format!("{what}: a bit is set past the {count} elements")));
        }
        Ok((0..count).map(bit).collect())
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], DeriveError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.bytes(N, what)?);
        Ok(out)
    }
}

fn rlp_list<T: Decodable>(buf: &mut &[u8], what: &str) -> Result<T, DeriveError> {
    T::decode(buf).map_err(|e| bad(format!("{what}: {e}")))
}

fn tx_data(r: &mut Reader<'_>) -> Result<TxData, DeriveError> {
    let first = *r.0.first().ok_or_else(|| bad("tx_datas: ended early"))?;
    let (kind, mut body) = if first >= 0xc0 { (0, r.0) } else { (first, &r.0[1..]) };
    let start = body.len();
    let header = Header::decode(&mut body).map_err(|e| bad(format!("tx_data: {e}")))?;
    if !header.list || body.len() < header.payload_length {
        return Err(bad("tx_data: not an RLP list"));
    }
    let mut fields = &body[..header.payload_length];
    let data = match kind {
        0 => TxData::Legacy {
            value: rlp_list(&mut fields, "value")?,
            gas_price: rlp_list(&mut fields, "gas price")?,
            data: rlp_list(&mut fields, "data")?,
        },
        1 => TxData::Eip2930 {
            value: rlp_list(&mut fields, "value")?,
            gas_price: rlp_list(&mut fields, "gas price")?,
            data: rlp_list(&mut fields, "data")?,
            access_list: rlp_list(&mut fields, "access list")?,
        },
        2 => TxData::Eip1559 {
            value: rlp_list(&mut fields, "value")?,
            max_priority: rlp_list(&mut fields, "max priority fee")?,
            max_fee: rlp_list(&mut fields, "max fee")?,
            data: rlp_list(&mut fields, "data")?,
            access_list: rlp_list(&mut fields, "access list")?,
        },
        4 => TxData::Eip7702 {
            value: rlp_list(&mut fields, "value")?,
            max_priority: rlp_list(&mut fields, "max priority fee")?,
            max_fee: rlp_list(&mut fields, "max fee")?,
            data: rlp_list(&mut fields, "data")?,
            access_list: rlp_list(&mut fields, "access list")?,
            authorizations: rlp_list(&mut fields, "authorization list")?,
        },
        other => return Err(bad(format!("transaction type {other} is not allowed"))),
    };
    if !fields.is_empty() {
        return Err(bad("tx_data: trailing fields"));
    }
    let used = usize::from(kind != 0) + (start - body.len()) + header.payload_length;
    r.0 = &r.0[used..];
    Ok(data)
}

impl SpanBatch {
    /// Decodes a span batch's body (after its type byte).
    pub fn decode(body: &[u8]) -> Result<Self, DeriveError> {
        let mut r = Reader(body);
        let rel_timestamp = r.uvarint("rel_timestamp")?;
        let l1_origin_num = r.uvarint("l1_origin_num")?;
        let parent_check = r.array::<20>("parent_check")?;
        let l1_origin_check = r.array::<20>("l1_origin_check")?;
        let block_count = r.uvarint("block_count")?;
        if block_count == 0 {
            return Err(bad("no blocks"));
        }
        if block_count > MAX_SPAN_BATCH_ELEMENTS {
            return Err(bad(format!("{block_count} blocks, over {MAX_SPAN_BATCH_ELEMENTS}")));
        }
        let origin_changes = r.bits(block_count as usize, "origin_bits")?;
        let mut block_tx_counts = Vec::with_capacity(r.room(block_count as usize, 1));
        let mut total = 0u64;
        for _ in 0..block_count {
            let count = r.uvarint("block_tx_counts")?;
            total = total.saturating_add(count);
            if total > MAX_SPAN_BATCH_ELEMENTS {
                return Err(bad(format!("over {MAX_SPAN_BATCH_ELEMENTS} transactions")));
            }
            block_tx_counts.push(count);
        }
        let total = total as usize;
        let creations = r.bits(total, "contract_creation_bits")?;
        let parities = r.bits(total, "y_parity_bits")?;
        let mut sigs = Vec::with_capacity(r.room(total, 64));
        for _ in 0..total {
            let rs = r.bytes(64, "tx_sigs")?;
            sigs.push((U256::from_be_slice(&rs[..32]), U256::from_be_slice(&rs[32..])));
        }
        let mut tos = Vec::with_capacity(r.room(total, 1));
        for creation in &creations {
            tos.push(if *creation { None } else { Some(Address::from(r.array::<20>("tx_tos")?)) });
        }
        let mut datas = Vec::with_capacity(r.room(total, 1));
        for _ in 0..total {
            datas.push(tx_data(&mut r)?);
        }
        let mut nonces = Vec::with_capacity(r.room(total, 1));
        for _ in 0..total {
            nonces.push(r.uvarint("tx_nonces")?);
        }
        let mut gases = Vec::with_capacity(r.room(total, 1));
        for _ in 0..total {
            gases.push(r.uvarint("tx_gases")?);
        }
        let legacy = datas.iter().filter(|d| matches!(d, TxData::Legacy { .. })).count();
        let mut protected = r.bits(legacy, "protected_bits")?.into_iter();
        if !r.0.is_empty() {
            return Err(bad(format!("{} bytes after the transactions", r.0.len())));
        }
        let mut transactions = Vec::with_capacity(total);
        for (i, data) in datas.into_iter().enumerate() {
            let is_legacy = matches!(data, TxData::Legacy { .. });
            if matches!(data, TxData::Eip7702 { .. }) && tos[i].is_none() {
                return Err(bad(format!("transaction {i}: a SetCode transaction cannot create")));
            }
            transactions.push(SpanTransaction {
                data,
                r: sigs[i].0,
                s: sigs[i].1,
                y_parity: parities[i],
                to: tos[i],
                nonce: nonces[i],
                gas: gases[i],
                protected: is_legacy && protected.next().unwrap_or(true),
            });
        }
        Ok(Self {
            rel_timestamp,
            l1_origin_num,
            parent_check,
            l1_origin_check,
            origin_changes,
            block_tx_counts,
            transactions,
        })
    }

    /// How many L2 blocks.
    pub fn block_count(&self) -> usize {
        self.block_tx_counts.len()
    }

    /// The first block's L1 origin number: the last one's less every change after the first
    /// block.
    pub fn first_l1_origin(&self) -> u64 {
        let changes = self.origin_changes.iter().skip(1).filter(|c| **c).count() as u64;
        self.l1_origin_num.saturating_sub(changes)
    }

    /// The blocks with absolute timestamps and origins and their transactions signed again,
    /// for a chain with `genesis_time`, `block_time` and `chain_id`.
    pub fn blocks(
        &self,
        genesis_time: u64,
        block_time: u64,
        chain_id: u64,
    ) -> Result<Vec<SpanBlock>, DeriveError> {
        let mut epoch = self.first_l1_origin();
        let mut txs = self.transactions.iter();
        let mut blocks = Vec::with_capacity(self.block_count());
        for (i, count) in self.block_tx_counts.iter().enumerate() {
            if i > 0 && self.origin_changes[i] {
                epoch += 1;
            }
            let transactions = (0..*count)
                .map(|_| {
                    let tx = txs.next().ok_or_else(|| bad("fewer transactions than counted"))?;
                    Ok(tx.encode(chain_id)?.into())
                })
                .collect::<Result<_, DeriveError>>()?;
            let offset = (i as u64).checked_mul(block_time).ok_or_else(|| bad("timestamp"))?;
            let timestamp = genesis_time
                .checked_add(self.rel_timestamp)
                .and_then(|t| t.checked_add(offset))
                .ok_or_else(|| bad("timestamp overflows"))?;
            blocks.push(SpanBlock { timestamp, epoch_num: epoch, transactions });
        }
        Ok(blocks)
    }
}

impl SpanTransaction {
    /// The transaction's EIP-2718 encoding, signed as the span holds it.
    pub fn encode(&self, chain_id: u64) -> Result<Vec<u8>, DeriveError> {
        let signature = Signature::new(self.r, self.s, self.y_parity);
        let to = self.to.map_or(TxKind::Create, TxKind::Call);
        let (nonce, gas_limit) = (self.nonce, self.gas);
        Ok(match &self.data {
            TxData::Legacy { value, gas_price, data } => TxLegacy {
                chain_id: self.protected.then_some(chain_id),
                nonce,
                gas_price: *gas_price,
                gas_limit,
                to,
                value: *value,
                input: data.clone(),
            }
            .into_signed(signature)
            .encoded_2718(),
            TxData::Eip2930 { value, gas_price, data, access_list } => TxEip2930 {
                chain_id,
                nonce,
                gas_price: *gas_price,
                gas_limit,
                to,
                value: *value,
                input: data.clone(),
                access_list: access_list.clone(),
            }
            .into_signed(signature)
            .encoded_2718(),
            TxData::Eip1559 { value, max_priority, max_fee, data, access_list } => TxEip1559 {
                chain_id,
                nonce,
                gas_limit,
                max_fee_per_gas: *max_fee,
                max_priority_fee_per_gas: *max_priority,
                to,
                value: *value,
                access_list: access_list.clone(),
                input: data.clone(),
            }
            .into_signed(signature)
            .encoded_2718(),
            TxData::Eip7702 { value, max_priority, max_fee, data, access_list, authorizations } => {
                TxEip7702 {
                    chain_id,
                    nonce,
                    gas_limit,
                    max_fee_per_gas: *max_fee,
                    max_priority_fee_per_gas: *max_priority,
                    to: self.to.ok_or_else(|| bad("a SetCode transaction cannot create"))?,
                    value: *value,
                    access_list: access_list.clone(),
                    authorization_list: authorizations.clone(),
                    input: data.clone(),
                }
                .into_signed(signature)
                .encoded_2718()
            }
        })
    }

    /// Whether it is an EIP-7702 SetCode transaction (allowed from Isthmus).
    pub const fn is_set_code(&self) -> bool {
        matches!(self.data, TxData::Eip7702 { .. })
    }
}

/// The parent hash prefix a span batch checks.
pub fn parent_check_of(hash: &B256) -> [u8; 20] {
    let mut out = [0u8; 20];
    out.copy_from_slice(&hash[..20]);
    out
}

/// A span batch with its blocks made absolute, as the batch stages check it: op-node's
/// `DeriveSpanBatch`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DerivedSpan {
    /// The first 20 bytes of the parent's hash.
    pub parent_check: [u8; 20],
    /// The first 20 bytes of the last block's L1 origin hash.
    pub l1_origin_check: [u8; 20],
    /// The blocks, each with at least its timestamp and epoch.
    pub blocks: Vec<SpanBlock>,
}

impl DerivedSpan {
    /// Derives the blocks of `batch` for a chain with `genesis_time`, `block_time` and
    /// `chain_id`. A span batch has at least one block.
    pub fn new(
        batch: &SpanBatch,
        genesis_time: u64,
        block_time: u64,
        chain_id: u64,
    ) -> Result<Self, DeriveError> {
        let blocks = batch.blocks(genesis_time, block_time, chain_id)?;
        if blocks.is_empty() {
            return Err(bad("no blocks"));
        }
        Ok(Self {
            parent_check: batch.parent_check,
            l1_origin_check: batch.l1_origin_check,
            blocks,
        })
    }

    /// The first block's timestamp.
    pub fn timestamp(&self) -> u64 {
        self.blocks[0].timestamp
    }

    /// The first block's epoch.
    pub fn start_epoch(&self) -> u64 {
        self.blocks[0].epoch_num
    }

    /// The last block.
    pub fn last(&self) -> &SpanBlock {
        &self.blocks[self.blocks.len() - 1]
    }

    /// Whether `hash` is the parent the batch names.
    pub fn check_parent(&self, hash: &B256) -> bool {
        hash[..20] == self.parent_check
    }

    /// Whether `hash` is the last block's L1 origin the batch names.
    pub fn check_origin(&self, hash: &B256) -> bool {
        hash[..20] == self.l1_origin_check
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uvarint(mut n: u64, out: &mut Vec<u8>) {
        while n >= 0x80 {
            out.push((n as u8) | 0x80);
            n >>= 7;
        }
        out.push(n as u8);
    }

    #[test]
    fn a_huge_count_with_little_data_is_an_error() {
        // one block that claims ten million transactions, with their bit lists but nothing else
        let mut body = Vec::new();
        uvarint(1, &mut body);
        uvarint(7, &mut body);
        body.extend_from_slice(&[0u8; 40]);
        uvarint(1, &mut body);
        body.push(0);
        uvarint(MAX_SPAN_BATCH_ELEMENTS, &mut body);
        body.resize(body.len() + 2 * (MAX_SPAN_BATCH_ELEMENTS as usize).div_ceil(8), 0);
        let err = SpanBatch::decode(&body).unwrap_err();
        assert!(err.to_string().contains("tx_sigs"), "{err}");
        // one more than the limit is refused by its count
        let mut over = Vec::new();
        uvarint(1, &mut over);
        uvarint(7, &mut over);
        over.extend_from_slice(&[0u8; 40]);
        uvarint(MAX_SPAN_BATCH_ELEMENTS + 1, &mut over);
        assert!(SpanBatch::decode(&over).unwrap_err().to_string().contains("blocks"));
    }
}
