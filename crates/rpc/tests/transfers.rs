//! Transfers that never settle, seen from the `superchain_` RPC: how many L1 blocks a missing
//! transfer has waited (and a late one waited), and flagged batches filtered by classification
//! and pair. The expected transfers and L1 blocks come from the devnet that made them.

#![allow(clippy::unwrap_used)]

mod common;

use common::{call, node_for};
use lockstep_devnet::{Devnet, DevnetOptions, PostedBatch};
use lockstep_l1::{L1Node, L1Source};
use lockstep_primitives::Transfer;
use serde_json::{json, Value};
use std::sync::Arc;

/// The burns of `batch` that it does not mint.
fn unminted(batch: &PostedBatch) -> Vec<Transfer> {
    let key = |t: &Transfer| (t.source, t.destination, t.nonce);
    batch.burns.iter().filter(|b| !batch.mints.iter().any(|m| key(m) == key(b))).copied().collect()
}

fn batches(answer: &Value) -> Vec<u64> {
    answer["result"]["flagged"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["batch"].as_u64().unwrap())
        .collect()
}

#[test]
fn a_missing_transfer_says_how_long_it_has_waited_and_flagged_batches_filter_by_kind_and_pair() {
    let dir = tempfile::tempdir().unwrap();
    // batch 1 never pays one of its burns; batch 2 pays one only in batch 3
    let faults = vec!["drop-mint@1".parse().unwrap(), "delay-mint@2".parse().unwrap()];
    let options = DevnetOptions { faults, ..DevnetOptions::default() };
    let mut devnet = Devnet::start(&dir.path().join("sequencer"), options).unwrap();
    let mut node = node_for(devnet.config(), &dir.path().join("node"));
    let mut posted = Vec::new();
    while posted.len() < 6 {
        if let Some(batch) = devnet.step().unwrap() {
            posted.push(batch);
        }
        node.sync(&devnet.l1).unwrap();
    }
    // a few more L1 blocks, with nothing in them for the missing transfer
    for _ in 0..3 {
        devnet.l1.mine(12).unwrap();
        node.sync(&devnet.l1).unwrap();
    }
    let l1_head = devnet.l1.head_number().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let live = Arc::new(lockstep_rpc::LiveStatus::default());
    let rpc = lockstep_rpc::superchain_module(
        node.shared_database(),
        live,
        &lockstep_rpc::CallPool::default(),
    )
    .unwrap();
    let get = |t: &Transfer| {
        call(&runtime, &rpc, "superchain_getTransfer", json!([t.source, t.destination, t.nonce]))
            ["result"]
            .clone()
    };

    let [dropped] = unminted(&posted[1])[..] else { panic!("batch 1 leaves one burn unpaid") };
    let missing = get(&dropped);
    assert_eq!(missing["status"], "missing", "{missing}");
    assert_eq!(missing["burnL1Block"], posted[1].l1_block, "{missing}");
    assert_eq!(missing["waitedL1Blocks"], l1_head - posted[1].l1_block, "{missing}");

    let [delayed] = unminted(&posted[2])[..] else { panic!("batch 2 pays one burn late") };
    assert!(posted[3].mints.contains(&delayed), "batch 3 pays it");
    let late = get(&delayed);
    assert_eq!(late["status"], "late", "{late}");
    assert_eq!(late["waitedL1Blocks"], posted[3].l1_block - posted[2].l1_block, "{late}");

    let settled = get(&posted[0].burns[0]);
    assert_eq!(settled["status"], "settled", "{settled}");
    assert!(settled.get("waitedL1Blocks").is_none(), "{settled}");

    let list = |params: Value| call(&runtime, &rpc, "superchain_listFlagged", params);
    assert_eq!(batches(&list(json!({}))), [1, 2, 3]);
    assert_eq!(batches(&list(json!({"classification": "MissingMint"}))), [1, 2]);
    assert_eq!(batches(&list(json!({"classification": "LateMint"}))), [3]);
    assert_eq!(batches(&list(json!({"classification": "AlteredMint"}))), Vec::<u64>::new());
    let pair = json!({"source": dropped.source, "destination": dropped.destination});
    let on_pair = list(pair);
    assert!(batches(&on_pair).contains(&1), "{on_pair}");
    let reverse = json!({"source": dropped.destination, "destination": dropped.source,
        "classification": "MissingMint"});
    let expected: Vec<u64> = [(1, dropped), (2, delayed)]
        .iter()
        .filter(|(_, t)| t.source == dropped.destination)
        .map(|(b, _)| *b)
        .collect();
    assert_eq!(batches(&list(reverse)), expected);
    // pages over a filter: `next` is where the following page starts
    let first = list(json!({"classification": "MissingMint", "limit": 1}));
    assert_eq!(batches(&first), [1]);
    assert_eq!(first["result"]["next"], 2, "{first}");
    let second = list(json!({"classification": "MissingMint", "limit": 1, "from": 2}));
    assert_eq!(batches(&second), [2]);
    let third = list(
        json!({"classification": "MissingMint", "limit": 1, "from": second["result"]["next"]}),
    );
    assert_eq!(batches(&third), Vec::<u64>::new());
    assert_eq!(third["result"]["next"], Value::Null);

    let bad = list(json!({"classification": "Nonsense"}));
    assert_eq!(bad["error"]["code"], -32602, "{bad}");
    assert!(bad["error"]["message"].as_str().unwrap().contains("MissingMint"), "{bad}");
}
