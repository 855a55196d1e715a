//! Polled filters over a node that follows a devnet: a block filter reports each new block's
//! hash once, a log filter each new matching log once, in order, also when the per-poll limits
//! split the work over several polls; expected values are read from the node's stored blocks
//! and receipts, not from the RPC.

#![allow(clippy::unwrap_used, clippy::needless_pass_by_value)]

mod common;

use alloy_primitives::{Address, B256};
use common::{call, eth_rpc, node_for};
use jsonrpsee::RpcModule;
use lockstep_devnet::{Devnet, DevnetOptions, BRIDGE};
use lockstep_node::Node;
use lockstep_storage::ChainProvider;
use serde_json::{json, Value};

const CHAIN: u64 = 901;

fn head(node: &Node) -> u64 {
    let tx = node.database().tx().unwrap();
    ChainProvider::new(&tx, CHAIN).head().unwrap().unwrap().number
}

/// `(block, log index in the block)` of every stored log in `from..=to` from `address` (any
/// address if `None`).
fn stored_logs(node: &Node, from: u64, to: u64, address: Option<Address>) -> Vec<(u64, u64)> {
    let tx = node.database().tx().unwrap();
    let provider = ChainProvider::new(&tx, CHAIN);
    let mut out = Vec::new();
    for number in from..=to {
        let logs = provider.receipts(number).unwrap().into_iter().flat_map(|r| r.logs().to_vec());
        for (index, log) in logs.enumerate() {
            if address.is_none_or(|a| log.address == a) {
                out.push((number, index as u64));
            }
        }
    }
    out
}

fn positions(logs: &Value) -> Vec<(u64, u64)> {
    let number = |v: &Value| u64::from_str_radix(v.as_str().unwrap().trim_start_matches("0x"), 16);
    logs.as_array()
        .unwrap()
        .iter()
        .map(|l| (number(&l["blockNumber"]).unwrap(), number(&l["logIndex"]).unwrap()))
        .collect()
}

#[test]
fn filters_report_each_new_block_and_matching_log_once_across_polls_and_limits() {
    let dir = tempfile::tempdir().unwrap();
    let options = DevnetOptions { txs_per_block: 4, ..DevnetOptions::default() };
    let mut devnet = Devnet::start(&dir.path().join("sequencer"), options).unwrap();
    let mut node = node_for(devnet.config(), &dir.path().join("node"));
    let step = |node: &mut Node, devnet: &mut Devnet, batches: usize| {
        let mut posted = 0;
        while posted < batches {
            posted += usize::from(devnet.step().unwrap().is_some());
            node.sync(&devnet.l1).unwrap();
        }
    };
    step(&mut node, &mut devnet, 1);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let rpc = eth_rpc(&node, devnet.config(), CHAIN, lockstep_rpc::EthLimits::default());
    // small limits: one poll reads at most 3 blocks and about 5 logs
    let small = lockstep_rpc::EthLimits { max_log_range: 3, max_logs: 5, ..Default::default() };
    let tight = eth_rpc(&node, devnet.config(), CHAIN, small);
    let result = |rpc: &RpcModule<()>, method: &str, params: Value| {
        let answer = call(&runtime, rpc, method, params);
        assert!(answer.get("error").is_none(), "{method}: {answer}");
        answer["result"].clone()
    };

    let start = head(&node);
    let blocks = result(&rpc, "eth_newBlockFilter", json!([]));
    let bridge = result(&rpc, "eth_newFilter", json!([{"address": BRIDGE}]));
    let everything = result(&tight, "eth_newFilter", json!([{}]));
    let bounded = result(
        &rpc,
        "eth_newFilter",
        json!([{"fromBlock": "0x1", "toBlock": format!("0x{:x}", start + 2)}]),
    );
    assert_ne!(blocks, bridge, "every filter has its own id");
    assert_eq!(result(&rpc, "eth_getFilterChanges", json!([blocks])), json!([]));

    step(&mut node, &mut devnet, 2);
    let now = head(&node);
    assert!(now > start + 2, "the devnet made blocks");

    // the block filter: each new block's hash, once
    let hashes = result(&rpc, "eth_getFilterChanges", json!([blocks]));
    let tx = node.database().tx().unwrap();
    let provider = ChainProvider::new(&tx, CHAIN);
    let expected: Vec<B256> =
        (start + 1..=now).map(|n| provider.block_hash(n).unwrap().unwrap()).collect();
    assert_eq!(hashes, json!(expected));
    assert_eq!(result(&rpc, "eth_getFilterChanges", json!([blocks])), json!([]));

    // the bridge's logs since the filter was made, once
    let logs = result(&rpc, "eth_getFilterChanges", json!([bridge]));
    let wanted = stored_logs(&node, start + 1, now, Some(BRIDGE));
    assert!(!wanted.is_empty(), "the devnet's traffic burns and mints");
    assert_eq!(positions(&logs), wanted);
    assert!(logs.as_array().unwrap().iter().all(|l| l["address"] == json!(BRIDGE)));
    assert_eq!(result(&rpc, "eth_getFilterChanges", json!([bridge])), json!([]));

    // every log, three blocks and about five logs per poll: the polls together give each once
    // each poll covers at least one block, so this many polls cover them all, and the rest
    // find nothing new
    let mut polled = Vec::new();
    let mut fruitful = 0;
    for _ in 0..(now - start) + 5 {
        let changes = positions(&result(&tight, "eth_getFilterChanges", json!([everything])));
        fruitful += usize::from(!changes.is_empty());
        polled.extend(changes);
    }
    assert_eq!(polled, stored_logs(&node, start + 1, now, None));
    assert!(fruitful > 3, "the limits split the work over {fruitful} polls");

    // a filter with a range: its changes end at its toBlock; getFilterLogs gives its whole range
    let bounded_logs = result(&rpc, "eth_getFilterChanges", json!([bounded]));
    assert_eq!(positions(&bounded_logs), stored_logs(&node, 1, start + 2, None));
    assert_eq!(result(&rpc, "eth_getFilterChanges", json!([bounded])), json!([]));
    let all = result(&rpc, "eth_getFilterLogs", json!([bounded]));
    assert_eq!(positions(&all), stored_logs(&node, 1, start + 2, None));

    // uninstalled: gone; ids and filters that are not, refused
    assert_eq!(result(&rpc, "eth_uninstallFilter", json!([bridge])), json!(true));
    assert_eq!(result(&rpc, "eth_uninstallFilter", json!([bridge])), json!(false));
    let gone = call(&runtime, &rpc, "eth_getFilterChanges", json!([bridge]));
    assert_eq!(gone["error"]["message"], "filter not found", "{gone}");
    let other_endpoint = call(&runtime, &tight, "eth_getFilterChanges", json!([blocks]));
    assert_eq!(other_endpoint["error"]["message"], "filter not found");
    for (method, params) in [
        ("eth_getFilterChanges", json!(["nonsense"])),
        ("eth_getFilterLogs", json!([blocks])),
        ("eth_newFilter", json!([{"blockHash": B256::ZERO}])),
        ("eth_newFilter", json!([{"fromBlock": "0x9", "toBlock": "0x2"}])),
        ("eth_newFilter", json!([{"topic": []}])),
        // a filter lives on in memory: its lists are bounded (geth's 1,000)
        (
            "eth_newFilter",
            json!([{"address": vec![BRIDGE; lockstep_rpc::MAX_FILTER_ALTERNATIVES + 1]}]),
        ),
        (
            "eth_newFilter",
            json!([{"topics": [vec![B256::ZERO; lockstep_rpc::MAX_FILTER_ALTERNATIVES + 1]]}]),
        ),
        (
            "eth_getLogs",
            json!([{"address": vec![BRIDGE; lockstep_rpc::MAX_FILTER_ALTERNATIVES + 1]}]),
        ),
    ] {
        let answer = call(&runtime, &rpc, method, params.clone());
        assert_eq!(answer["error"]["code"], -32602, "{method} {params}: {answer}");
    }
}

#[test]
fn subscriptions_push_each_new_head_and_matching_log_once() {
    let dir = tempfile::tempdir().unwrap();
    let options = DevnetOptions { txs_per_block: 4, ..DevnetOptions::default() };
    let mut devnet = Devnet::start(&dir.path().join("sequencer"), options).unwrap();
    let mut node = node_for(devnet.config(), &dir.path().join("node"));
    devnet.step().unwrap();
    node.sync(&devnet.l1).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let rpc = eth_rpc(&node, devnet.config(), CHAIN, lockstep_rpc::EthLimits::default());
    let start = head(&node);
    let (mut heads, mut logs) = runtime.block_on(async {
        let heads = rpc.subscribe_unbounded("eth_subscribe", ["newHeads"]).await.unwrap();
        let logs = rpc
            .subscribe_unbounded("eth_subscribe", (json!("logs"), json!({"address": BRIDGE})))
            .await
            .unwrap();
        (heads, logs)
    });
    // a poll or two, so that both start from this head
    std::thread::sleep(lockstep_rpc::SUBSCRIPTION_POLL * 3);
    while head(&node) < start + 6 {
        devnet.step().unwrap();
        node.sync(&devnet.l1).unwrap();
    }
    let now = head(&node);
    let tx = node.database().tx().unwrap();
    let provider = ChainProvider::new(&tx, CHAIN);
    let wait = std::time::Duration::from_secs(60);
    runtime.block_on(async {
        for number in start + 1..=now {
            let (header, _) = tokio::time::timeout(wait, heads.next::<Value>())
                .await
                .expect("a head in time")
                .unwrap()
                .unwrap();
            assert_eq!(header["hash"], json!(provider.block_hash(number).unwrap().unwrap()));
            assert!(header.get("transactions").is_none(), "a header, not a block: {header}");
        }
        let wanted = stored_logs(&node, start + 1, now, Some(BRIDGE));
        assert!(!wanted.is_empty());
        let mut pushed = Vec::new();
        while pushed.len() < wanted.len() {
            let (log, _) = tokio::time::timeout(wait, logs.next::<Value>())
                .await
                .expect("a log in time")
                .unwrap()
                .unwrap();
            pushed.extend(positions(&json!([log])));
        }
        assert_eq!(pushed, wanted);
        // nothing more comes without a new block
        let more = tokio::time::timeout(lockstep_rpc::SUBSCRIPTION_POLL * 4, heads.next::<Value>());
        assert!(more.await.is_err(), "no head without a block");
        // a subscription this node does not push is refused
        let refused = rpc.subscribe_unbounded("eth_subscribe", ["newPendingTransactions"]).await;
        assert!(refused.is_err());
        let ranged = rpc
            .subscribe_unbounded("eth_subscribe", (json!("logs"), json!({"fromBlock": "0x1"})))
            .await;
        assert!(ranged.is_err(), "a logs subscription takes no range");
    });
}
