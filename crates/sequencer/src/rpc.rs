//! The sequencer's JSON-RPC, one endpoint per chain: a wallet or `cast` sends transactions and
//! reads the chain as it is built.
//!
//! - `eth_sendRawTransaction`: validated as [`SharedSequencer::submit`] does; a refusal is a
//!   JSON-RPC error (code -32000) whose message says why
//! - the node's `eth_` read namespace ([`lockstep_rpc::eth_module`]) over the sequencer's own
//!   database: blocks, transactions, receipts, logs, state, `eth_call`, and what a wallet asks
//!   before it signs (`eth_estimateGas`, `eth_gasPrice`, `eth_maxPriorityFeePerGas`,
//!   `eth_feeHistory`); `eth_getTransactionCount` at `pending` counts the transactions waiting
//!   in the pool

use crate::SharedSequencer;
use alloy_primitives::hex;
use jsonrpsee::{
    server::{Server, ServerHandle},
    types::{ErrorObjectOwned, Params},
    RpcModule,
};
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

fn lock(
    sequencer: &SequencerHandle,
) -> Result<std::sync::MutexGuard<'_, SharedSequencer>, ErrorObjectOwned> {
    sequencer.lock().map_err(|_| server_error("the sequencer stopped"))
}

impl Endpoint {
    fn send_raw_transaction(&self, params: &Params<'_>) -> Result<String, ErrorObjectOwned> {
        let (raw,): (String,) = params.parse().map_err(|e| invalid_params(e.to_string()))?;
        let bytes = hex::decode(raw.trim()).map_err(|e| invalid_params(format!("not hex: {e}")))?;
        let hash = lock(&self.sequencer)?
            .submit(self.chain_id, &bytes)
            .map_err(|e| server_error(e.to_string()))?;
        Ok(hash.to_string())
    }
}

/// The sequencer's pool, as the reads see it: `eth_getTransactionCount` at `pending`.
struct Pool(SequencerHandle);

impl lockstep_rpc::PendingNonces for Pool {
    fn next_nonce(&self, chain_id: u64, sender: alloy_primitives::Address) -> Option<u64> {
        self.0.lock().ok()?.next_nonce(chain_id, sender)
    }
}

/// Serves chain `chain_id`'s endpoint on `addr` (port 0 picks a free one); returns the bound
/// address and the server handle (stop it, or drop it to keep serving).
pub async fn serve(
    sequencer: SequencerHandle,
    chain_id: u64,
    pool: &lockstep_rpc::CallPool,
    addr: SocketAddr,
) -> std::io::Result<(SocketAddr, ServerHandle)> {
    // a raw transaction is at most a block's worth of calldata
    let server =
        Server::builder().set_config(lockstep_rpc::server_config(&LIMITS)).build(addr).await?;
    let local = server.local_addr()?;
    Ok((local, server.start(module(sequencer, chain_id, pool)?)))
}

/// The sequencer endpoint's limits: a raw transaction is at most a block's worth of calldata.
const LIMITS: lockstep_rpc::EthLimits =
    lockstep_rpc::EthLimits { max_request_bytes: 1 << 21, ..lockstep_rpc::EthLimits::DEFAULT };

/// Chain `chain_id`'s methods, their calls run on `pool`: what [`serve`] serves, to serve or
/// call in-process.
pub fn module(
    sequencer: SequencerHandle,
    chain_id: u64,
    pool: &lockstep_rpc::CallPool,
) -> std::io::Result<RpcModule<()>> {
    let (env, spec) = {
        let sequencer =
            lock(&sequencer).map_err(|e| std::io::Error::other(e.message().to_string()))?;
        let spec = sequencer.chain_spec(chain_id).ok_or_else(|| {
            std::io::Error::other(format!("chain {chain_id} is not sequenced here"))
        })?;
        (sequencer.shared_database(), spec)
    };
    let register = |e: jsonrpsee::core::RegisterMethodError| std::io::Error::other(e.to_string());
    let sequencer_for_reads = Arc::clone(&sequencer);
    let mut writes = RpcModule::new(Endpoint { sequencer, chain_id });
    // the pool's blocking threads wait for the sequencer's lock, not the server's workers
    pool.register(&mut writes, "eth_sendRawTransaction", |ep, p| {
        ep.send_raw_transaction(p).map(serde_json::Value::String)
    })
    .map_err(|e| std::io::Error::other(e.to_string()))?;
    // the reads: the same eth_ namespace the node serves, over the sequencer's own database
    let pending: Arc<dyn lockstep_rpc::PendingNonces> = Arc::new(Pool(sequencer_for_reads));
    let reads = lockstep_rpc::eth_module_with_pool(
        env,
        std::sync::Arc::new(lockstep_rpc::LiveStatus::default()),
        chain_id,
        std::sync::Arc::new(spec.rollup.clone()),
        LIMITS,
        pool,
        Some(pending),
    )
    .map_err(|e| std::io::Error::other(e.to_string()))?;
    let mut module = RpcModule::new(());
    module.merge(writes).map_err(register)?;
    module.merge(reads).map_err(register)?;
    Ok(module)
}
