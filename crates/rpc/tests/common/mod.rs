//! What the RPC tests share: a node following a devnet, and a call into an in-process module.

#![allow(dead_code, clippy::unwrap_used, clippy::needless_pass_by_value)]

use jsonrpsee::RpcModule;
use lockstep_devnet::DevnetConfig;
use lockstep_node::{CheckSettings, Node};
use serde_json::{json, Value};
use std::{path::Path, sync::Arc};

/// A node in `dir` that checks the devnet of `config`, as `lockstep node` would.
pub(crate) fn node_for(config: &DevnetConfig, dir: &Path) -> Node {
    let specs = config.chains.iter().map(|c| config.chain_spec(c.chain_id)).collect();
    let settings = CheckSettings {
        bridge: lockstep_devnet::BRIDGE,
        sequencer: config.sequencer(),
        commitments: Some(config.commitments()),
        commitment_window: config.commitment_window,
    };
    Node::open(dir, specs, settings).unwrap()
}

/// The whole JSON-RPC answer of `method` with `params`, from `module`.
pub(crate) fn call(
    runtime: &tokio::runtime::Runtime,
    module: &RpcModule<()>,
    method: &str,
    params: Value,
) -> Value {
    let request = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let (answer, _) = runtime.block_on(module.raw_json_request(&request.to_string(), 1)).unwrap();
    serde_json::from_str(answer.get()).unwrap()
}

/// Chain `chain`'s `eth_` module over `node`'s database, with `limits`.
pub(crate) fn eth_rpc(
    node: &Node,
    config: &DevnetConfig,
    chain: u64,
    limits: lockstep_rpc::EthLimits,
) -> RpcModule<()> {
    lockstep_rpc::eth_module(
        node.shared_database(),
        Arc::new(lockstep_rpc::LiveStatus::default()),
        chain,
        Arc::new(config.rollup_config(chain)),
        limits,
        &lockstep_rpc::CallPool::default(),
    )
    .unwrap()
}
