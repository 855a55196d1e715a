//! Pruning seen from the RPC: a node that keeps 12 blocks of history syncs to the same heads and
//! state roots as an archive node over the same devnet, answers every read inside its window
//! as the archive node does, and refuses older state and receipts with error 4444 while still
//! serving the blocks themselves.

#![allow(clippy::unwrap_used)]

mod common;

use common::{eth_rpc, node_for};
use jsonrpsee::RpcModule;
use lockstep_devnet::{Devnet, DevnetOptions};
use lockstep_node::Node;
use lockstep_storage::ChainProvider;
use serde_json::json;

const CHAIN: u64 = 901;
const KEPT: u64 = 12;

fn module(node: &Node, config: &lockstep_devnet::DevnetConfig, kept: u64) -> RpcModule<()> {
    eth_rpc(
        node,
        config,
        CHAIN,
        lockstep_rpc::EthLimits { max_history: kept, ..Default::default() },
    )
}

#[test]
fn a_pruned_node_answers_its_window_as_an_archive_node_and_refuses_the_rest_with_4444() {
    let dir = tempfile::tempdir().unwrap();
    let options = DevnetOptions { txs_per_block: 4, ..DevnetOptions::default() };
    let mut devnet = Devnet::start(&dir.path().join("sequencer"), options).unwrap();
    let config = devnet.config().clone();
    let open = |name: &str| node_for(&config, &dir.path().join(name));
    let mut archive = open("archive");
    archive.set_history_blocks(None).unwrap();
    let mut pruned = open("pruned");
    pruned.set_history_blocks(Some(KEPT)).unwrap();
    for _ in 0..6 {
        devnet.step().unwrap();
        archive.sync(&devnet.l1).unwrap();
        pruned.sync(&devnet.l1).unwrap();
    }
    let (a, p) = (archive.database().tx().unwrap(), pruned.database().tx().unwrap());
    let head = ChainProvider::new(&a, CHAIN).head().unwrap().unwrap();
    for chain in archive.chain_ids() {
        let (a, p) = (ChainProvider::new(&a, chain), ChainProvider::new(&p, chain));
        assert_eq!(a.head().unwrap(), p.head().unwrap(), "chain {chain}");
        assert_eq!(a.state_root().unwrap(), p.state_root().unwrap(), "chain {chain}");
        assert_eq!(a.history_start().unwrap(), 0);
        let start = p.history_start().unwrap();
        assert_eq!(start, p.head().unwrap().unwrap().number + 1 - KEPT, "chain {chain}");
    }
    assert!(head.number > 2 * KEPT, "the devnet made {} blocks", head.number);

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (archive_rpc, pruned_rpc) =
        (module(&archive, &config, u64::MAX), module(&pruned, &config, KEPT));
    let bridge = format!("{:?}", lockstep_devnet::BRIDGE);
    let sender = format!("{:?}", config.sequencer());
    // inside the window: the same answers
    for back in 0..KEPT {
        let at = format!("0x{:x}", head.number - back);
        for (method, params) in [
            ("eth_getBalance", json!([bridge, at])),
            ("eth_getTransactionCount", json!([sender, at])),
            ("eth_getStorageAt", json!([bridge, "0x0", at])),
            ("eth_getBlockReceipts", json!([at])),
            ("eth_getBlockByNumber", json!([at, true])),
        ] {
            let x = common::call(&runtime, &archive_rpc, method, params.clone());
            let y = common::call(&runtime, &pruned_rpc, method, params.clone());
            assert!(x.get("result").is_some(), "{method}: {x}");
            assert_eq!(x, y, "{method} at {at}");
        }
    }
    // before it: state and receipts refused, with the code geth and reth use; blocks still served
    let old = format!("0x{:x}", head.number - KEPT - 2);
    for (method, params) in [
        ("eth_getBalance", json!([bridge, old])),
        ("eth_getBlockReceipts", json!([old])),
        ("debug_getRawReceipts", json!([old])),
        ("eth_getLogs", json!([{"fromBlock": "0x1", "toBlock": "latest"}])),
    ] {
        let answer = common::call(&runtime, &pruned_rpc, method, params.clone());
        assert_eq!(answer["error"]["code"], lockstep_rpc::PRUNED_CODE, "{method}: {answer}");
        assert!(answer["error"]["message"].as_str().unwrap().contains("pruned"), "{answer}");
        let full = common::call(&runtime, &archive_rpc, method, params.clone());
        assert!(full.get("result").is_some(), "the archive node answers {method}: {full}");
    }
    let block = json!([old, true]);
    assert_eq!(
        common::call(&runtime, &pruned_rpc, "eth_getBlockByNumber", block.clone())["result"]
            ["hash"],
        common::call(&runtime, &archive_rpc, "eth_getBlockByNumber", block)["result"]["hash"]
    );
}
