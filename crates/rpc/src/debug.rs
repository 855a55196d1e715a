//! The `debug_` methods of one chain: the execution witness of a block, for stateless
//! re-execution elsewhere (`lockstep stateless`), and blocks, headers, transactions and
//! receipts in their raw encodings, as geth and reth serve them.

use crate::{
    eth::Chain,
    superchain::{invalid_params, params_by_name, required, server_error},
};
use alloy_consensus::{Block, BlockBody};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Bytes, B256};
use alloy_rlp::Encodable;
use jsonrpsee::types::{ErrorObjectOwned, Params};
use lockstep_storage::ChainProvider;
use serde_json::{json, Value};

fn rlp(value: &impl Encodable) -> Value {
    let mut out = Vec::new();
    value.encode(&mut out);
    json!(Bytes::from(out))
}

impl Chain {
    /// `debug_executionWitness(block)`: every trie node, bytecode and ancestor header that
    /// executing `block` reads or rewrites, built by executing it again over the state before
    /// it (within the history window).
    pub(crate) fn execution_witness(&self, params: &Params<'_>) -> Result<Value, ErrorObjectOwned> {
        let p = params_by_name(params, &["block"])?;
        let tx = self.tx()?;
        let provider = ChainProvider::new(&tx, self.chain_id);
        let number = self.resolve(&tx, &provider, Some(required("block", &p[0])?))?;
        if number <= self.rollup.genesis.l2.number {
            return Err(invalid_params(format!(
                "block {number} is the genesis or before it: no execution to witness"
            )));
        }
        self.check_history(&provider, number - 1)?;
        let witness =
            lockstep_execution::execution_witness(&self.rollup, &tx, self.chain_id, number)
                .map_err(server_error)?;
        serde_json::to_value(&witness.witness).map_err(server_error)
    }

    /// `debug_getRawHeader(block)`: the header's RLP.
    pub(crate) fn raw_header(&self, params: &Params<'_>) -> Result<Value, ErrorObjectOwned> {
        let p = params_by_name(params, &["block"])?;
        let tx = self.tx()?;
        let provider = ChainProvider::new(&tx, self.chain_id);
        let number = self.lookup(&tx, &provider, required("block", &p[0])?)?;
        Ok(provider.header(number).map_err(server_error)?.map_or(Value::Null, |h| rlp(&h)))
    }

    /// `debug_getRawBlock(block)`: the block's RLP (header, transactions, no ommers, and the
    /// empty withdrawals list from Canyon).
    pub(crate) fn raw_block(&self, params: &Params<'_>) -> Result<Value, ErrorObjectOwned> {
        let p = params_by_name(params, &["block"])?;
        let tx = self.tx()?;
        let provider = ChainProvider::new(&tx, self.chain_id);
        let number = self.lookup(&tx, &provider, required("block", &p[0])?)?;
        let Some(header) = provider.header(number).map_err(server_error)? else {
            return Ok(Value::Null);
        };
        let withdrawals = header.withdrawals_root.map(|_| Default::default());
        let body = BlockBody {
            transactions: provider.transactions(number).map_err(server_error)?,
            ommers: Vec::new(),
            withdrawals,
        };
        Ok(rlp(&Block::new(header, body)))
    }

    /// `debug_getRawTransaction(hash)`: the transaction's EIP-2718 encoding, or `null`.
    pub(crate) fn raw_transaction(&self, params: &Params<'_>) -> Result<Value, ErrorObjectOwned> {
        let p = params_by_name(params, &["hash"])?;
        let value = required("hash", &p[0])?;
        let hash: B256 = serde_json::from_value(value.clone())
            .map_err(|e| invalid_params(format!("`hash`: {e}")))?;
        let tx = self.tx()?;
        let provider = ChainProvider::new(&tx, self.chain_id);
        let Some(at) = provider.transaction_location(hash).map_err(server_error)? else {
            return Ok(Value::Null);
        };
        let transactions = provider.transactions(at.block).map_err(server_error)?;
        Ok(transactions
            .get(at.index as usize)
            .map_or(Value::Null, |t| json!(Bytes::from(t.encoded_2718()))))
    }

    /// `debug_getRawReceipts(block)`: every receipt's EIP-2718 encoding.
    pub(crate) fn raw_receipts(&self, params: &Params<'_>) -> Result<Value, ErrorObjectOwned> {
        let p = params_by_name(params, &["block"])?;
        let tx = self.tx()?;
        let provider = ChainProvider::new(&tx, self.chain_id);
        let number = self.lookup(&tx, &provider, required("block", &p[0])?)?;
        if provider.header(number).map_err(server_error)?.is_none() {
            return Ok(Value::Null);
        }
        crate::eth::refuse_pruned_receipts(&provider, number)?;
        let receipts = provider.receipts(number).map_err(server_error)?;
        Ok(json!(receipts.iter().map(|r| Bytes::from(r.encoded_2718())).collect::<Vec<_>>()))
    }
}
