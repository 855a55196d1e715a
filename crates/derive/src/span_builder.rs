//! Building span batches, the batcher's side of `span_batch`: consecutive blocks' batches
//! into one span batch, and its encoding, byte for byte the layout the reader takes.

use crate::{
    batch::SingleBatch,
    span_batch::{SpanBatch, SpanTransaction, TxData},
    DeriveError,
};
use alloy_consensus::{Transaction, TxEnvelope};
use alloy_eips::eip2718::Decodable2718;
use alloy_primitives::TxKind;
use alloy_rlp::{Encodable, Header};

fn bad(what: impl Into<String>) -> DeriveError {
    DeriveError::BadInput(format!("span batch: {}", what.into()))
}

impl SpanTransaction {
    /// A signed transaction's span form. Deposits and blob transactions have none.
    pub fn from_encoded(raw: &[u8]) -> Result<Self, DeriveError> {
        let tx =
            TxEnvelope::decode_2718_exact(raw).map_err(|e| bad(format!("transaction: {e}")))?;
        let signature = *tx.signature();
        let to = match tx.kind() {
            TxKind::Call(to) => Some(to),
            TxKind::Create => None,
        };
        let (data, protected) = match &tx {
            TxEnvelope::Legacy(t) => {
                let t = t.tx();
                let data = TxData::Legacy {
                    value: t.value,
                    gas_price: t.gas_price,
                    data: t.input.clone(),
                };
                (data, t.chain_id.is_some())
            }
            TxEnvelope::Eip2930(t) => {
                let t = t.tx();
                let data = TxData::Eip2930 {
                    value: t.value,
                    gas_price: t.gas_price,
                    data: t.input.clone(),
                    access_list: t.access_list.clone(),
                };
                (data, false)
            }
            TxEnvelope::Eip1559(t) => {
                let t = t.tx();
                let data = TxData::Eip1559 {
                    value: t.value,
                    max_priority: t.max_priority_fee_per_gas,
                    max_fee: t.max_fee_per_gas,
                    data: t.input.clone(),
                    access_list: t.access_list.clone(),
                };
                (data, false)
            }
            TxEnvelope::Eip7702(t) => {
                let t = t.tx();
                let data = TxData::Eip7702 {
                    value: t.value,
                    max_priority: t.max_priority_fee_per_gas,
                    max_fee: t.max_fee_per_gas,
                    data: t.input.clone(),
                    access_list: t.access_list.clone(),
                    authorizations: t.authorization_list.clone(),
                };
                (data, false)
            }
            TxEnvelope::Eip4844(_) => return Err(bad("a blob transaction cannot be batched")),
        };
        Ok(Self {
            data,
            r: signature.r(),
            s: signature.s(),
            y_parity: signature.v(),
            to,
            nonce: tx.nonce(),
            gas: tx.gas_limit(),
            protected,
        })
    }

    fn encode_data(&self, out: &mut Vec<u8>) {
        let list = |out: &mut Vec<u8>, fields: &[&dyn Encodable]| {
            let payload_length = fields.iter().map(|f| f.length()).sum();
            Header { list: true, payload_length }.encode(out);
            for field in fields {
                field.encode(out);
            }
        };
        match &self.data {
            TxData::Legacy { value, gas_price, data } => list(out, &[value, gas_price, data]),
            TxData::Eip2930 { value, gas_price, data, access_list } => {
                out.push(1);
                list(out, &[value, gas_price, data, access_list]);
            }
            TxData::Eip1559 { value, max_priority, max_fee, data, access_list } => {
                out.push(2);
                list(out, &[value, max_priority, max_fee, data, access_list]);
            }
            TxData::Eip7702 { value, max_priority, max_fee, data, access_list, authorizations } => {
                out.push(4);
                list(out, &[value, max_priority, max_fee, data, access_list, authorizations]);
            }
        }
    }
}

fn uvarint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn bits(out: &mut Vec<u8>, bits: impl ExactSizeIterator<Item = bool>) {
    let count = bits.len();
    let start = out.len();
    out.resize(start + count.div_ceil(8), 0);
    let len = count.div_ceil(8);
    for (i, bit) in bits.enumerate() {
        if bit {
            out[start + len - 1 - i / 8] |= 1 << (i % 8);
        }
    }
}

impl SpanBatch {
    /// The span batch of consecutive blocks' `batches`, the first of which is number
    /// `first_seq_num` of its epoch, for a chain with L2 genesis time `genesis_time`.
    /// Deposits must already be left out of the batches' transactions.
    pub fn from_batches(
        batches: &[SingleBatch],
        first_seq_num: u64,
        genesis_time: u64,
    ) -> Result<Self, DeriveError> {
        let first = batches.first().ok_or_else(|| bad("no blocks"))?;
        let last = &batches[batches.len() - 1];
        let rel_timestamp = first
            .timestamp
            .checked_sub(genesis_time)
            .ok_or_else(|| bad("a block before the L2 genesis"))?;
        let mut origin_changes = Vec::with_capacity(batches.len());
        let mut block_tx_counts = Vec::with_capacity(batches.len());
        let mut transactions = Vec::new();
        for (i, batch) in batches.iter().enumerate() {
            origin_changes.push(if i == 0 {
                first_seq_num == 0
            } else {
                batch.epoch_num != batches[i - 1].epoch_num
            });
            block_tx_counts.push(batch.transactions.len() as u64);
            for tx in &batch.transactions {
                transactions.push(SpanTransaction::from_encoded(tx)?);
            }
        }
        let mut parent_check = [0u8; 20];
        parent_check.copy_from_slice(&first.parent_hash[..20]);
        let mut l1_origin_check = [0u8; 20];
        l1_origin_check.copy_from_slice(&last.epoch_hash[..20]);
        Ok(Self {
            rel_timestamp,
            l1_origin_num: last.epoch_num,
            parent_check,
            l1_origin_check,
            origin_changes,
            block_tx_counts,
            transactions,
        })
    }

    /// The encoding of the span batch's body (after its type byte).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        uvarint(&mut out, self.rel_timestamp);
        uvarint(&mut out, self.l1_origin_num);
        out.extend_from_slice(&self.parent_check);
        out.extend_from_slice(&self.l1_origin_check);
        uvarint(&mut out, self.block_tx_counts.len() as u64);
        bits(&mut out, self.origin_changes.iter().copied());
        for count in &self.block_tx_counts {
            uvarint(&mut out, *count);
        }
        let txs = &self.transactions;
        bits(&mut out, txs.iter().map(|t| t.to.is_none()));
        bits(&mut out, txs.iter().map(|t| t.y_parity));
        for tx in txs {
            out.extend_from_slice(&tx.r.to_be_bytes::<32>());
            out.extend_from_slice(&tx.s.to_be_bytes::<32>());
        }
        for to in txs.iter().filter_map(|t| t.to) {
            out.extend_from_slice(to.as_slice());
        }
        for tx in txs {
            tx.encode_data(&mut out);
        }
        for tx in txs {
            uvarint(&mut out, tx.nonce);
        }
        for tx in txs {
            uvarint(&mut out, tx.gas);
        }
        let legacy = txs.iter().filter(|t| matches!(t.data, TxData::Legacy { .. }));
        let protected: Vec<bool> = legacy.map(|t| t.protected).collect();
        bits(&mut out, protected.into_iter());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{Bytes, B256};

    #[test]
    fn what_is_built_reads_back() {
        let batches = vec![
            SingleBatch {
                parent_hash: B256::repeat_byte(1),
                epoch_num: 7,
                epoch_hash: B256::repeat_byte(2),
                timestamp: 110,
                transactions: vec![],
            },
            SingleBatch {
                parent_hash: B256::repeat_byte(3),
                epoch_num: 8,
                epoch_hash: B256::repeat_byte(4),
                timestamp: 112,
                transactions: vec![],
            },
        ];
        let span = SpanBatch::from_batches(&batches, 3, 100).unwrap();
        let read = SpanBatch::decode(&span.encode()).unwrap();
        assert_eq!(read, span);
        let blocks = read.blocks(100, 2, 10).unwrap();
        assert_eq!((blocks[0].timestamp, blocks[0].epoch_num), (110, 7));
        assert_eq!((blocks[1].timestamp, blocks[1].epoch_num), (112, 8));
        assert!(SpanBatch::from_batches(&[], 0, 0).is_err());
        assert!(SpanTransaction::from_encoded(&Bytes::from_static(&[0x7e, 0xc0])).is_err());
    }
}
