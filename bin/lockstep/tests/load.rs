//! The load test's short version (scripts/load.sh runs the long one): a node syncing a devnet
//! from anvil while `lockstep load` drives both its `eth_` endpoints with 256 connections of
//! heavy reads. The node keeps syncing and ends on the same heads, state roots, batches and
//! verdicts as a node that synced the same L1 with no load; every request gets a JSON-RPC
//! answer.

#![allow(clippy::unwrap_used)]

use serde_json::Value;
use std::{
    process::Command,
    time::{Duration, Instant},
};

mod common;

use common::{curl, devnet_anvil, lockstep, spawn_node_http, stderr};

/// `lockstep node --exit-when-synced` over `datadir`: its final status.
fn synced_status(superchain: &std::path::Path, l1: &str, datadir: &std::path::Path) -> Value {
    let out = lockstep(&[
        "node",
        "--superchain",
        superchain.to_str().unwrap(),
        "--l1.rpc",
        l1,
        "--datadir",
        datadir.to_str().unwrap(),
        "--l1.poll-interval",
        "0.1",
        "--exit-when-synced",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn a_node_under_256_connections_of_heavy_reads_syncs_to_the_same_heads_as_an_unloaded_one() {
    let anvil = devnet_anvil();
    let dir = tempfile::tempdir().unwrap();
    let devnet = dir.path().join("devnet");
    let out = lockstep(&[
        "devnet",
        "--l1.rpc",
        &anvil.url,
        "--batches",
        "8",
        "--txs-per-block",
        "8",
        "--datadir",
        devnet.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let superchain = devnet.join("config/superchain.toml");

    let started = Instant::now();
    let unloaded = synced_status(&superchain, &anvil.url, &dir.path().join("unloaded"));
    let unloaded_seconds = started.elapsed().as_secs_f64();

    let started = Instant::now();
    let served = spawn_node_http(&devnet, &anvil.url, &dir.path().join("loaded"), &[]);
    let mut load = Command::new(env!("CARGO_BIN_EXE_lockstep"));
    load.args(["load", "--connections", "256", "--duration", "12", "--json"]);
    for url in served.chains.values() {
        load.args(["--url", url]);
    }
    let load = load
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // the node syncs while the load runs
    let deadline = Instant::now() + Duration::from_secs(300);
    let target = unloaded["l1"]["number"].as_u64().unwrap();
    let loaded_seconds = loop {
        assert!(Instant::now() < deadline, "the loaded node did not sync");
        let status = curl(&served.superchain, "superchain_syncStatus", &serde_json::json!([]));
        if status["result"]["l1Cursor"]["number"].as_u64() >= Some(target) {
            break started.elapsed().as_secs_f64();
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let load = load.wait_with_output().unwrap();
    assert!(load.status.success(), "load: {}", String::from_utf8_lossy(&load.stderr));
    let report: Value = serde_json::from_slice(&load.stdout).unwrap();
    let load_seconds = report["seconds"].as_f64().unwrap();
    eprintln!(
        "unloaded sync {unloaded_seconds:.1} s; under load {loaded_seconds:.1} s; load: {} \
         requests, {:.0} req/s, p50 {} ms, p99 {} ms, answers {}",
        report["total"]["requests"],
        report["total"]["perSecond"].as_f64().unwrap(),
        report["total"]["p50Ms"],
        report["total"]["p99Ms"],
        report["outcomes"]
    );
    assert!(
        loaded_seconds < load_seconds,
        "the node synced in {loaded_seconds:.1} s, after the {load_seconds:.1} s of load ended: \
         the test did not load a syncing node"
    );
    let outcomes = report["outcomes"].as_object().unwrap();
    assert!(outcomes["result"].as_u64().unwrap() > 100, "{outcomes:?}");
    assert!(!outcomes.contains_key("no answer"), "{report}");
    assert!(!outcomes.contains_key("malformed"), "{report}");
    // the node never stopped, and ends where the unloaded node ended
    drop(served);
    let loaded = synced_status(&superchain, &anvil.url, &dir.path().join("loaded"));
    assert_eq!(loaded, unloaded);
}
