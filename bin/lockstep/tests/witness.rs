//! Round trip through a real client's view: for every block of both chains of a devnet run
//! (transfers, burns, mints, deposits, contract creations, self-destructs, storage writes and
//! deletes), the node's `debug_executionWitness`, the parent header from `eth_getBlockByNumber`
//! and the raw transactions from `debug_getRawTransaction`, put in a file, make `lockstep
//! stateless` compute that block's hash. The witness is cut from the node's stored trie and the
//! stateless run computes the root over a sparse trie, so every block checks one against the
//! other.

#![allow(clippy::unwrap_used)]

use serde_json::{json, Value};
use std::{
    process::{Command, Stdio},
    time::{Duration, Instant},
};

mod common;

use common::{curl, devnet_anvil, lockstep, spawn_node_http, stderr};

fn result(url: &str, method: &str, params: &Value) -> Value {
    let answer = curl(url, method, params);
    assert!(answer.get("error").is_none(), "{method} {params}: {answer}");
    answer["result"].clone()
}

#[test]
fn every_devnet_block_replays_statelessly_from_the_nodes_witness() {
    let anvil = devnet_anvil();
    let dir = tempfile::tempdir().unwrap();
    let devnet_dir = dir.path().join("devnet");
    let batches = "4";
    let out = Command::new(env!("CARGO_BIN_EXE_lockstep"))
        .args(["devnet", "--batches", batches, "--l1.rpc", &anvil.url])
        .args(["--datadir", devnet_dir.to_str().unwrap()])
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert!(out.status.success(), "devnet: {}", stderr(&out));
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    let served = spawn_node_http(&devnet_dir, &anvil.url, &dir.path().join("node"), &[]);
    let chains = [(901u64, "op"), (902, "base")];
    let mut replayed = 0;
    let mut contracts: Vec<(String, u64)> = Vec::new();
    let mut cleared = 0;
    let (mut creations, mut deposits, mut self_destructs) = (0, 0, 0);
    for (chain, name) in chains {
        let url = served.eth(chain).to_string();
        let head =
            summary["verifier"].as_array().unwrap().iter().find(|v| v["chainId"] == chain).unwrap()
                ["head"]
                .as_u64()
                .unwrap();
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            assert!(Instant::now() < deadline, "chain {chain}: the node did not reach {head}");
            std::thread::sleep(Duration::from_millis(200));
            let number = result(&url, "eth_blockNumber", &json!([]));
            if u64::from_str_radix(number.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
                >= head
            {
                break;
            }
        }
        let rollup: Value = serde_json::from_slice(
            &std::fs::read(devnet_dir.join(format!("config/{name}/rollup.json"))).unwrap(),
        )
        .unwrap();
        for n in 1..=head {
            let block = result(&url, "eth_getBlockByNumber", &json!([format!("0x{n:x}"), false]));
            let parent =
                result(&url, "eth_getBlockByNumber", &json!([format!("0x{:x}", n - 1), false]));
            let witness = result(&url, "debug_executionWitness", &json!([format!("0x{n:x}")]));
            let transactions: Vec<Value> = block["transactions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|hash| result(&url, "debug_getRawTransaction", &json!([hash])))
                .collect();
            let receipts = result(&url, "eth_getBlockReceipts", &json!([format!("0x{n:x}")]));
            for receipt in receipts.as_array().unwrap() {
                creations += usize::from(!receipt["contractAddress"].is_null());
                deposits += usize::from(receipt["type"] == "0x7e");
            }
            // a self-destructing constructor leaves no code behind
            for receipt in receipts.as_array().unwrap() {
                if let Some(address) = receipt["contractAddress"].as_str() {
                    let code = result(&url, "eth_getCode", &json!([address, format!("0x{n:x}")]));
                    if code == "0x" {
                        self_destructs += 1;
                    } else {
                        contracts.push((address.to_owned(), n));
                    }
                }
            }
            let eip1559: String = block["extraData"].as_str().unwrap()[4..20].to_owned();
            let file = json!({
                "chainId": chain,
                "rollupConfig": rollup,
                "parentHash": parent["hash"],
                "parentHeader": parent,
                "payloadAttributes": {
                    "timestamp": block["timestamp"],
                    "prevRandao": block["mixHash"],
                    "suggestedFeeRecipient": block["miner"],
                    "parentBeaconBlockRoot": block["parentBeaconBlockRoot"],
                    "withdrawals": [],
                    "transactions": transactions,
                    "noTxPool": true,
                    "gasLimit": block["gasLimit"],
                    "eip1559Params": format!("0x{eip1559}"),
                },
                "witness": witness,
                "expected": {"blockHash": block["hash"]},
            });
            let path = dir.path().join(format!("block-{chain}-{n}.json"));
            std::fs::write(&path, serde_json::to_vec(&file).unwrap()).unwrap();
            let out = lockstep(&["stateless", path.to_str().unwrap()]);
            assert!(out.status.success(), "chain {chain} block {n}: {}", stderr(&out));
            let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(printed["matches"], true, "chain {chain} block {n}");
            assert_eq!(printed["blockHash"], block["hash"], "chain {chain} block {n}");
            replayed += 1;
        }
        // storage deletes: a slot of a storage contract set at one block and zero at a later one
        for (address, created) in contracts.drain(..) {
            for slot in 0..4u64 {
                let mut was_set = false;
                for n in created..=head {
                    let at = format!("0x{n:x}");
                    let value = result(
                        &url,
                        "eth_getStorageAt",
                        &json!([address, format!("0x{slot:x}"), at]),
                    );
                    let zero = value
                        .as_str()
                        .unwrap()
                        .trim_start_matches("0x")
                        .trim_start_matches('0')
                        .is_empty();
                    if was_set && zero {
                        cleared += 1;
                    }
                    was_set = !zero;
                }
            }
        }
    }
    assert_eq!(replayed, 48);
    // the same from the devnet verifier's database, in one command: every header field matches
    let file = dir.path().join("evidence-block.json");
    let (datadir, rollup) = (devnet_dir.join("node"), devnet_dir.join("config/base/rollup.json"));
    let evidence_block = |block: &str, extra: &[&str]| {
        let mut args = vec!["evidence", "block", "--datadir", datadir.to_str().unwrap()];
        args.extend(["--rollup-config", rollup.to_str().unwrap(), "--block", block]);
        args.extend_from_slice(extra);
        lockstep(&args)
    };
    let out = evidence_block("7", &["--out", file.to_str().unwrap()]);
    assert!(out.status.success(), "evidence block: {}", stderr(&out));
    let out = lockstep(&["stateless", file.to_str().unwrap()]);
    assert!(out.status.success(), "stateless: {}", stderr(&out));
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed["matches"], true);
    assert!(printed.get("mismatches").is_none());
    let out = evidence_block("0", &[]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("not an executed block"), "{}", stderr(&out));
    // the run exercised what the test claims
    assert!(
        creations > 0 && self_destructs > 0 && deposits > 48,
        "{creations} {self_destructs} {deposits}"
    );
    assert!(creations > self_destructs);
    assert!(cleared > 0, "no storage slot was deleted");
}
