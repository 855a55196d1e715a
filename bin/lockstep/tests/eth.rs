//! An indexer's view: `cast`, a third-party client, reads blocks, receipts, logs and state of
//! both chains from `lockstep node`'s `eth_` endpoints, and each answer equals the sequencer's
//! own endpoint for the same block. Historical reads are checked against counts taken from the
//! chain's own logs and transactions; limits hold and the node keeps serving.

#![allow(clippy::unwrap_used)]

use alloy_primitives::U256;
use serde_json::{json, Value};
use std::{
    process::Command,
    time::{Duration, Instant},
};

mod common;

use common::{curl_raw, devnet_anvil, repo, spawn_node_http, Logged};

/// Runs `cast` (pinned in package.json) and returns its stdout.
fn cast(args: &[&str]) -> String {
    let out = Command::new(repo().join("node_modules/.bin/cast"))
        .args(args)
        .output()
        .expect("cast is installed by scripts/setup.sh");
    assert!(
        out.status.success(),
        "cast {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn cast_json(args: &[&str]) -> Value {
    serde_json::from_str(&cast(args)).unwrap()
}

fn block_number(url: &str) -> u64 {
    cast(&["block-number", "--rpc-url", url]).parse().unwrap()
}

#[test]
fn cast_reads_both_chains_from_the_node_as_from_the_sequencer() {
    let anvil = devnet_anvil();
    let dir = tempfile::tempdir().unwrap();
    let devnet_dir = dir.path().join("devnet");
    let mut devnet = Logged::spawn(
        Command::new(env!("CARGO_BIN_EXE_lockstep"))
            .args(["devnet", "--l1.rpc", &anvil.url, "--txs-per-block", "6"])
            .args(["--http", "--http.port", "0", "--datadir", devnet_dir.to_str().unwrap()]),
    );
    // the devnet writes its config before it serves
    let sequencer: Vec<String> = ["chain=901", "chain=902"]
        .iter()
        .map(|chain| devnet.rpc_url("sequencer JSON-RPC", &[chain], "eth_chainId"))
        .collect();
    assert!(devnet_dir.join("config/superchain.toml").exists());
    let served = spawn_node_http(
        &devnet_dir,
        &anvil.url,
        &dir.path().join("node"),
        &["--rpc.max-logs-range", "20"],
    );
    let chains = [
        (901u64, sequencer[0].clone(), served.eth(901).to_string()),
        (902, sequencer[1].clone(), served.eth(902).to_string()),
    ];
    let target = 24;
    let deadline = Instant::now() + Duration::from_secs(180);
    for (_, _, url) in &chains {
        while block_number(url) < target {
            assert!(Instant::now() < deadline, "the node did not reach block {target}");
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    let bridge = lockstep_devnet::BRIDGE.to_string();
    for (chain, seq, node) in chains {
        assert_eq!(cast(&["chain-id", "--rpc-url", &node]), chain.to_string());
        let mut burns_seen = 0usize;
        // the bridge's native reserve: burns pay in, mints pay out (DESIGN.md 5.1)
        let genesis_reserve = U256::from_str_radix(
            &cast(&["balance", &bridge, "--block", "0", "--rpc-url", &node]),
            10,
        )
        .unwrap();
        let mint_topic = cast(&["keccak", "Mint(uint256,uint256,address,address,address,uint256)"]);
        let (mut paid_in, mut paid_out) = (U256::ZERO, U256::ZERO);
        let mut senders: std::collections::BTreeMap<String, u64> = Default::default();
        for n in 1..=target {
            let n = n.to_string();
            // blocks, with full transactions, as cast parses them
            let ours = cast_json(&["block", &n, "--full", "--json", "--rpc-url", &node]);
            let theirs = cast_json(&["block", &n, "--full", "--json", "--rpc-url", &seq]);
            assert_eq!(ours, theirs, "chain {chain} block {n}");
            let by_hash =
                cast_json(&["block", ours["hash"].as_str().unwrap(), "--json", "--rpc-url", &node]);
            assert_eq!(by_hash["number"], ours["number"]);
            // every receipt, one by one and for the whole block
            for tx in ours["transactions"].as_array().unwrap() {
                let hash = tx["hash"].as_str().unwrap();
                let r = cast_json(&["receipt", hash, "--json", "--rpc-url", &node]);
                assert_eq!(r, cast_json(&["receipt", hash, "--json", "--rpc-url", &seq]), "{hash}");
                let t = cast_json(&["tx", hash, "--json", "--rpc-url", &node]);
                assert_eq!(t, cast_json(&["tx", hash, "--json", "--rpc-url", &seq]), "{hash}");
                // deposits count too: they bump their sender's nonce from Regolith on
                *senders.entry(tx["from"].as_str().unwrap().to_lowercase()).or_default() += 1;
            }
            let hex = format!("0x{:x}", n.parse::<u64>().unwrap());
            let receipts = cast_json(&["rpc", "eth_getBlockReceipts", &hex, "--rpc-url", &node]);
            assert_eq!(
                receipts,
                cast_json(&["rpc", "eth_getBlockReceipts", &hex, "--rpc-url", &seq])
            );
            assert_eq!(
                receipts.as_array().unwrap().len(),
                ours["transactions"].as_array().unwrap().len()
            );
            // historical state: nextNonce at block n is the number of burns up to n, counted
            // from the chain's own logs; an account's nonce is its transactions up to n
            let other = if chain == 901 { "902" } else { "901" };
            let burn_topic =
                cast(&["keccak", "Burn(uint256,uint256,address,address,address,uint256)"]);
            let logs = cast_json(&[
                "logs",
                "--json",
                "--from-block",
                &n,
                "--to-block",
                &n,
                "--address",
                &bridge,
                &burn_topic,
                "--rpc-url",
                &node,
            ]);
            let dest_topic = format!("0x{:0>64}", format!("{:x}", other.parse::<u64>().unwrap()));
            burns_seen += logs
                .as_array()
                .unwrap()
                .iter()
                .filter(|l| l["topics"][1] == dest_topic.as_str())
                .count();
            let next = cast(&[
                "call",
                &bridge,
                "nextNonce(uint256)(uint256)",
                other,
                "--block",
                &n,
                "--rpc-url",
                &node,
            ]);
            assert_eq!(
                next,
                burns_seen.to_string(),
                "chain {chain}: burns to {other} up to block {n}"
            );
            let events = cast_json(&[
                "logs",
                "--json",
                "--from-block",
                &n,
                "--to-block",
                &n,
                "--address",
                &bridge,
                "--rpc-url",
                &node,
            ]);
            for log in events.as_array().unwrap() {
                let native = log["topics"][3] == format!("0x{}", "0".repeat(64)).as_str();
                let data = log["data"].as_str().unwrap().trim_start_matches("0x");
                let amount = U256::from_str_radix(&data[128..192], 16).unwrap();
                if native && log["topics"][0] == burn_topic.as_str() {
                    paid_in += amount;
                } else if native && log["topics"][0] == mint_topic.as_str() {
                    paid_out += amount;
                }
            }
            let reserve = cast(&["balance", &bridge, "--block", &n, "--rpc-url", &node]);
            assert_eq!(
                U256::from_str_radix(&reserve, 10).unwrap(),
                genesis_reserve + paid_in - paid_out,
                "chain {chain}: the bridge's balance at block {n} from its own events"
            );
        }
        assert!(burns_seen > 0, "the devnet burns towards the other chain");
        for (who, sent) in &senders {
            let nonce = cast(&["nonce", who, "--block", &target.to_string(), "--rpc-url", &node]);
            assert_eq!(nonce, sent.to_string(), "{who} sent {sent} by block {target}");
        }
        let (who, _) = senders.iter().next().unwrap();
        let then = cast(&["balance", who, "--block", "5", "--rpc-url", &node]);
        assert_eq!(then, cast(&["balance", who, "--block", "5", "--rpc-url", &seq]));
        // logs over a range, filtered by address and topic, as from the sequencer
        let range = ["--from-block", "1", "--to-block", "16", "--address", &bridge];
        let ours = cast_json(&[&["logs", "--json"][..], &range, &["--rpc-url", &node]].concat());
        assert!(!ours.as_array().unwrap().is_empty());
        assert_eq!(
            ours,
            cast_json(&[&["logs", "--json"][..], &range, &["--rpc-url", &seq]].concat())
        );
        // tags: safe is derived from L1, finalized from finalized L1 (anvil has no finality
        // beyond its genesis here, so the finalized block is at most the head)
        let safe = cast_json(&["block", "safe", "--json", "--rpc-url", &node]);
        let fin = cast_json(&["block", "finalized", "--json", "--rpc-url", &node]);
        let num = |v: &Value| {
            u64::from_str_radix(v["number"].as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
        };
        assert!(num(&fin) <= num(&safe));
        // the output root, as op-node serves it
        let output = cast_json(&["rpc", "optimism_outputAtBlock", "0x10", "--rpc-url", &node]);
        let block16 = cast_json(&["block", "16", "--json", "--rpc-url", &seq]);
        assert_eq!(output["blockRef"]["hash"], block16["hash"]);
        assert_eq!(output["stateRoot"], block16["stateRoot"]);
        assert_eq!(output["withdrawalStorageRoot"], block16["withdrawalsRoot"]);

        // limits: a log range over --rpc.max-logs-range, a batch over 100 calls, malformed
        // requests; each a clear error, and the node keeps serving
        let wide = curl_raw(
            &node,
            &json!({"jsonrpc":"2.0","id":1,"method":"eth_getLogs","params":[{"fromBlock":"0x1","toBlock":"0x18"}]}).to_string(),
        );
        assert_eq!(wide["error"]["code"], -32005, "{wide}");
        assert!(wide["error"]["message"].as_str().unwrap().contains("the limit is 20"), "{wide}");
        let batch: Vec<Value> = (0..101)
            .map(|i| json!({"jsonrpc":"2.0","id":i,"method":"eth_blockNumber","params":[]}))
            .collect();
        let big = curl_raw(&node, &Value::Array(batch).to_string());
        assert!(
            big["error"]["message"].as_str().unwrap_or_default().to_lowercase().contains("batch"),
            "{big}"
        );
        let malformed = curl_raw(&node, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":");
        assert_eq!(malformed["error"]["code"], -32700, "{malformed}");
        let bad = curl_raw(
            &node,
            &json!({"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":["0x12", "latest"]})
                .to_string(),
        );
        assert_eq!(bad["error"]["code"], -32602, "{bad}");
        assert!(bad["error"]["message"].as_str().unwrap().contains("20-byte"), "{bad}");
        assert!(block_number(&node) >= target);
    }
}
