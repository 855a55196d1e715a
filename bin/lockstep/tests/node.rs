//! `lockstep node` as a node runner runs it: a devnet posts to anvil (in calldata, and in blobs
//! served by anvil's beacon API), and the node syncs it from
//! anvil over JSON-RPC alone, through SIGKILLs at random moments.

#![allow(clippy::unwrap_used)]

mod common;

use common::{devnet_anvil, lockstep, stderr};

use lockstep_l1::test_utils::{spawn_anvil, Anvil};
use lockstep_storage::{
    tables::{DerivationCursors, L1Blocks},
    ChainProvider, DatabaseEnv, DatabaseMode,
};
use rand::{Rng, SeedableRng};
use serde_json::Value;
use std::{
    path::Path,
    process::{Command, Stdio},
    time::Duration,
};

/// Runs a bounded devnet on `anvil` in `dir` and returns its summary.
fn devnet_on(anvil: &Anvil, dir: &Path, batches: &str, da: &str) -> Value {
    let out = lockstep(&[
        "devnet",
        "--da",
        da,
        "--l1.rpc",
        &anvil.url,
        "--batches",
        batches,
        "--txs-per-block",
        "8",
        "--compression",
        "zlib",
        "--datadir",
        dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn node_args<'a>(anvil: &'a Anvil, devnet: &'a str, datadir: &'a str) -> Vec<String> {
    [
        "node",
        "--superchain",
        &format!("{devnet}/config/superchain.toml"),
        "--l1.rpc",
        &anvil.url,
        "--datadir",
        datadir,
        "--l1.poll-interval",
        "0.1",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn sync_to_tip(anvil: &Anvil, devnet: &str, datadir: &str) -> Value {
    let mut args = node_args(anvil, devnet, datadir);
    args.push("--exit-when-synced".into());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = lockstep(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Every block of every chain in `node` has the hash the sequencer built.
fn assert_sequencers_blocks(devnet: &Path, node: &Path, status: &Value) {
    let sequencer = DatabaseEnv::open(&devnet.join("sequencer"), DatabaseMode::ReadOnly).unwrap();
    let node = DatabaseEnv::open(node, DatabaseMode::ReadOnly).unwrap();
    let (built, derived) = (sequencer.tx().unwrap(), node.tx().unwrap());
    for head in status["heads"].as_array().unwrap() {
        let chain = head["chainId"].as_u64().unwrap();
        let number = head["number"].as_u64().unwrap();
        let (built, derived) =
            (ChainProvider::new(&built, chain), ChainProvider::new(&derived, chain));
        assert_eq!(number, built.head().unwrap().unwrap().number, "chain {chain}: all derived");
        for n in 0..=number {
            assert_eq!(derived.block_hash(n).unwrap(), built.block_hash(n).unwrap(), "{chain}/{n}");
        }
    }
}

/// The database is at one L1 cursor: every chain's derivation cursor is the last L1 block
/// recorded, and every chain's head is the head recorded with it.
/// Returns that cursor.
fn assert_one_cursor(datadir: &Path) -> Option<u64> {
    if !datadir.join("mdbx.dat").exists() {
        return None;
    }
    let env = DatabaseEnv::open(datadir, DatabaseMode::ReadOnly).unwrap();
    let tx = env.tx().unwrap();
    let (number, record) = tx.cursor::<L1Blocks>().unwrap().last().unwrap()?;
    for head in &record.heads {
        let cursor = tx.get::<DerivationCursors>(&head.chain_id).unwrap().unwrap();
        assert_eq!((cursor.l1_number, cursor.l1_hash), (number, record.hash));
        let stored = ChainProvider::new(&tx, head.chain_id).head().unwrap().unwrap();
        assert_eq!((stored.number, stored.hash), (head.number, head.hash));
    }
    Some(number)
}

#[test]
fn node_syncs_calldata_batches_from_anvil_to_the_sequencers_blocks() {
    let anvil = devnet_anvil();
    let dir = tempfile::tempdir().unwrap();
    let devnet = dir.path().join("devnet");
    devnet_on(&anvil, &devnet, "4", "calldata");
    let node = dir.path().join("node");
    let status = sync_to_tip(&anvil, devnet.to_str().unwrap(), node.to_str().unwrap());
    assert_sequencers_blocks(&devnet, &node, &status);
    assert_eq!(status["batches"], 4);
}

#[test]
fn node_syncs_blob_batches_from_anvil_and_survives_sigkill_at_random_moments() {
    let anvil = devnet_anvil();
    let dir = tempfile::tempdir().unwrap();
    let devnet = dir.path().join("devnet");
    let summary = devnet_on(&anvil, &devnet, "16", "blobs");
    for verifier in summary["verifier"].as_array().unwrap() {
        assert_eq!(verifier["matchesSequencer"], true, "{summary}");
    }
    let devnet_str = devnet.to_str().unwrap();

    // an uninterrupted sync
    let clean = dir.path().join("clean");
    let status = sync_to_tip(&anvil, devnet_str, clean.to_str().unwrap());
    assert_sequencers_blocks(&devnet, &clean, &status);
    assert_eq!(status["batches"], 16);
    let tip = status["l1"]["number"].as_u64().unwrap();

    // the same sync, killed at random moments
    let killed = dir.path().join("killed");
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let mut cursors = Vec::new();
    for _ in 0..30 {
        let args = node_args(&anvil, devnet_str, killed.to_str().unwrap());
        let mut child = Command::new(env!("CARGO_BIN_EXE_lockstep"))
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(rng.random_range(50..400)));
        // SIGKILL: no chance to clean up
        child.kill().unwrap();
        child.wait().unwrap();
        let cursor = assert_one_cursor(&killed);
        cursors.push(cursor);
        if cursor == Some(tip) {
            break;
        }
    }
    let mid_sync = cursors.iter().flatten().filter(|c| **c < tip).count();
    assert!(mid_sync >= 3, "most kills must land mid-sync: cursors {cursors:?}, tip {tip}");
    let kills = cursors.len();
    eprintln!("L1 cursor after each SIGKILL: {cursors:?} (tip {tip})");
    let resumed = sync_to_tip(&anvil, devnet_str, killed.to_str().unwrap());
    assert_eq!(resumed, status, "after {kills} kills, the same heads, roots and L1 cursor");
}

#[test]
fn node_refuses_the_wrong_l1_and_an_absent_one_with_clear_errors() {
    let superchain = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../etc/devnet/superchain.toml");
    let dir = tempfile::tempdir().unwrap();
    let datadir = dir.path().join("node");
    // an L1 of another chain id
    let anvil = spawn_anvil(&["--chain-id", "5"]);
    let out = lockstep(&[
        "node",
        "--superchain",
        superchain.to_str().unwrap(),
        "--l1.rpc",
        &anvil.url,
        "--datadir",
        datadir.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("expects L1 chain 900"), "{}", stderr(&out));
    assert!(!datadir.exists(), "nothing written");
    drop(anvil);
    // nothing listening
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let out = lockstep(&[
        "node",
        "--superchain",
        superchain.to_str().unwrap(),
        "--l1.rpc",
        &format!("http://127.0.0.1:{port}"),
        "--datadir",
        datadir.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("connecting to the L1"), "{}", stderr(&out));
    assert!(!datadir.exists(), "nothing written");
}
