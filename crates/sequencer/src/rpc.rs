//! The sequencer's JSON-RPC intake, one endpoint per chain: enough of the `eth_` namespace for a
//! wallet or `cast` to send a transaction and wait for its receipt.
//!
//! - `eth_chainId`, `eth_blockNumber`
//! - `eth_sendRawTransaction`: validated as [`SharedSequencer::submit`] does; a refusal is a
//!   JSON-RPC error (code -32000) whose message says why
//! - `eth_getTransactionReceipt`: the receipt of an included transaction, or `null`

use crate::SharedSequencer;
use alloy_consensus::{Transaction, TxReceipt};
use alloy_primitives::{hex, B256};
use jsonrpsee::{
    server::{Server, ServerConfig, ServerHandle},
    types::{ErrorObjectOwned, Params},
    RpcModule,
};
use lockstep_storage::ChainProvider;
use op_alloy_consensus::OpReceiptEnvelope;
use serde_json::{json, Value};
use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
};

/// The sequencer shared between the block builder and the RPC endpoints.
pub type SequencerHandle = Arc<Mutex<SharedSequencer>>;

struct Endpoint {
    sequencer: SequencerHandle,
    chain_id: u64,
}

fn invalid_params(message: impl Into<String>) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(-32602, message.into(), None::<()>)
}

fn server_error(message: impl Into<String>) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(-32000, message.into(), None::<()>)
}

fn hex_u64(n: u64) -> String {
    format!("0x{n:x}")
}

fn lock(
    sequencer: &SequencerHandle,
) -> Result<std::sync::MutexGuard<'_, SharedSequencer>, ErrorObjectOwned> {
    sequencer.lock().map_err(|_| server_error("the sequencer stopped"))
}

impl Endpoint {
    fn block_number(&self) -> Result<String, ErrorObjectOwned> {
        let sequencer = lock(&self.sequencer)?;
        let db = sequencer.database().tx().map_err(|e| server_error(e.to_string()))?;
        let head = ChainProvider::new(&db, self.chain_id)
            .head()
            .map_err(|e| server_error(e.to_string()))?;
        Ok(hex_u64(head.map_or(0, |h| h.number)))
    }

    fn send_raw_transaction(&self, params: &Params<'_>) -> Result<String, ErrorObjectOwned> {
        let (raw,): (String,) = params.parse().map_err(|e| invalid_params(e.to_string()))?;
        let bytes = hex::decode(raw.trim()).map_err(|e| invalid_params(format!("not hex: {e}")))?;
        let hash = lock(&self.sequencer)?
            .submit(self.chain_id, &bytes)
            .map_err(|e| server_error(e.to_string()))?;
        Ok(hash.to_string())
    }

    fn transaction_receipt(&self, params: &Params<'_>) -> Result<Value, ErrorObjectOwned> {
        let (hash,): (B256,) = params.parse().map_err(|e| invalid_params(e.to_string()))?;
        let sequencer = lock(&self.sequencer)?;
        let db = sequencer.database().tx().map_err(|e| server_error(e.to_string()))?;
        let provider = ChainProvider::new(&db, self.chain_id);
        let internal = |e: lockstep_storage::DatabaseError| server_error(e.to_string());
        let Some(location) = provider.transaction_location(hash).map_err(internal)? else {
            return Ok(Value::Null);
        };
        let block_hash = provider.block_hash(location.block).map_err(internal)?.unwrap_or_default();
        let header = provider.header(location.block).map_err(internal)?.unwrap_or_default();
        let txs = provider.transactions(location.block).map_err(internal)?;
        let receipts = provider.receipts(location.block).map_err(internal)?;
        let index = location.index as usize;
        let (Some(tx), Some(receipt)) = (txs.get(index), receipts.get(index)) else {
            return Ok(Value::Null);
        };
        let previous = index
            .checked_sub(1)
            .and_then(|i| receipts.get(i))
            .map_or(0, |r| r.cumulative_gas_used());
        let first_log: usize = receipts[..index].iter().map(|r| r.logs().len()).sum();
        let from =
            alloy_consensus::transaction::SignerRecoverable::recover_signer(tx).unwrap_or_default();
        let logs: Vec<Value> = receipt
            .logs()
            .iter()
            .enumerate()
            .map(|(i, log)| {
                json!({
                    "address": log.address,
                    "topics": log.topics(),
                    "data": log.data.data,
                    "blockNumber": hex_u64(location.block),
                    "blockHash": block_hash,
                    "transactionHash": hash,
                    "transactionIndex": hex_u64(location.index.into()),
                    "logIndex": hex_u64((first_log + i) as u64),
                    "removed": false,
                })
            })
            .collect();
        let base_fee = header.base_fee_per_gas.unwrap_or_default();
        let contract = tx.to().is_none().then(|| from.create(tx.nonce()));
        Ok(json!({
            "transactionHash": hash,
            "transactionIndex": hex_u64(location.index.into()),
            "blockHash": block_hash,
            "blockNumber": hex_u64(location.block),
            "from": from,
            "to": tx.to(),
            "cumulativeGasUsed": hex_u64(receipt.cumulative_gas_used()),
            "gasUsed": hex_u64(receipt.cumulative_gas_used() - previous),
            "effectiveGasPrice": format!("0x{:x}", tx.effective_gas_price(Some(base_fee))),
            "contractAddress": contract,
            "logs": logs,
            "logsBloom": receipt.bloom(),
            "status": if receipt.status() { "0x1" } else { "0x0" },
            "type": hex_u64(u8::from(receipt_type(receipt)).into()),
        }))
    }
}

fn receipt_type(receipt: &OpReceiptEnvelope) -> op_alloy_consensus::OpTxType {
    receipt.tx_type()
}

/// Serves chain `chain_id`'s endpoint on `addr` (port 0 picks a free one); returns the bound
/// address and the server handle (stop it, or drop it to keep serving).
pub async fn serve(
    sequencer: SequencerHandle,
    chain_id: u64,
    addr: SocketAddr,
) -> std::io::Result<(SocketAddr, ServerHandle)> {
    // a raw transaction is at most a block's worth of calldata; keep requests small
    let config =
        ServerConfig::builder().max_request_body_size(1 << 21).max_connections(256).build();
    let server = Server::builder().set_config(config).build(addr).await?;
    let local = server.local_addr()?;
    let mut module = RpcModule::new(Endpoint { sequencer, chain_id });
    let register = |e: jsonrpsee::core::RegisterMethodError| std::io::Error::other(e.to_string());
    module
        .register_method("eth_chainId", |_, ep, _| Ok::<_, ErrorObjectOwned>(hex_u64(ep.chain_id)))
        .map_err(register)?;
    module.register_method("eth_blockNumber", |_, ep, _| ep.block_number()).map_err(register)?;
    module
        .register_method("eth_sendRawTransaction", |p, ep, _| ep.send_raw_transaction(&p))
        .map_err(register)?;
    module
        .register_method("eth_getTransactionReceipt", |p, ep, _| ep.transaction_receipt(&p))
        .map_err(register)?;
    Ok((local, server.start(module)))
}
