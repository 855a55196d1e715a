//! The `lockstep` binary as a user runs it, on real chain data.

#![allow(clippy::unwrap_used)]

use serde_json::Value;
use std::{
    io::Read,
    path::{Path, PathBuf},
    process::{Command, Output},
};

fn testdata(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata").join(rel)
}

fn lockstep(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lockstep"))
        .args(args)
        .env("RUST_BACKTRACE", "0")
        .env_remove("LOCKSTEP_DATADIR")
        .output()
        .expect("run lockstep")
}

fn init(datadir: &Path, rollup: &Path, genesis: &Path) -> Output {
    lockstep(&[
        "init",
        "--datadir",
        datadir.to_str().unwrap(),
        "--rollup-config",
        rollup.to_str().unwrap(),
        "--genesis",
        genesis.to_str().unwrap(),
    ])
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn base_genesis_json() -> Value {
    let mut raw = Vec::new();
    let file = std::fs::File::open(testdata("base-mainnet/genesis.json.gz")).unwrap();
    flate2::read::GzDecoder::new(file).read_to_end(&mut raw).unwrap();
    serde_json::from_slice(&raw).unwrap()
}

#[test]
fn init_base_mainnet_reproduces_the_registry_genesis() {
    let dir = tempfile::tempdir().unwrap();
    let datadir = dir.path().join("db");
    let rollup = testdata("base-mainnet/rollup.json");
    let genesis = testdata("base-mainnet/genesis.json.gz");
    let out = init(&datadir, &rollup, &genesis);
    assert!(out.status.success(), "{}", stderr(&out));
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    // expected values from the superchain registry (testdata/README.md)
    assert_eq!(
        printed["stateRoot"],
        "0xb2afcb88cd1d0ab228f0415d99b0fb90a18e8515daf5eb31f55b5c4697e18328"
    );
    assert_eq!(
        printed["blockHash"],
        "0xf712aa9241cc24369b143cf6dce85f0902a9731e70d66818a3a5845b296c73dd"
    );
    assert_eq!(printed["written"], true);

    // idempotent: the same files again change nothing
    let before = std::fs::read(datadir.join("mdbx.dat")).unwrap();
    let again = init(&datadir, &rollup, &genesis);
    assert!(again.status.success(), "{}", stderr(&again));
    let printed_again: Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(printed_again["blockHash"], printed["blockHash"]);
    assert_eq!(printed_again["written"], false);
    assert_eq!(std::fs::read(datadir.join("mdbx.dat")).unwrap(), before);

    // a different genesis for the same chain id is refused, and nothing changes
    let mut other = base_genesis_json();
    other["alloc"]["4200000000000000000000000000000000000000"]["balance"] = "0x1".into();
    let other_path = dir.path().join("other-genesis.json");
    std::fs::write(&other_path, other.to_string()).unwrap();
    let refused = init(&datadir, &rollup, &other_path);
    assert!(!refused.status.success());
    assert!(stderr(&refused).contains("refusing to overwrite"), "{}", stderr(&refused));
    assert_eq!(std::fs::read(datadir.join("mdbx.dat")).unwrap(), before);

    let stats = lockstep(&["db", "stats", "--datadir", datadir.to_str().unwrap()]);
    assert!(stats.status.success(), "{}", stderr(&stats));
    let text = String::from_utf8_lossy(&stats.stdout);
    let accounts_line = text.lines().find(|l| l.starts_with("PlainAccounts")).unwrap();
    assert!(accounts_line.contains(" 2064 "), "{accounts_line}");
}

#[test]
fn malformed_config_files_name_the_field_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let datadir = dir.path().join("db");
    let rollup_text = std::fs::read_to_string(testdata("base-mainnet/rollup.json")).unwrap();
    let mut rollup: Value = serde_json::from_str(&rollup_text).unwrap();
    rollup["genesis"]["l2"]["hash"] = "0x1234".into();
    let bad_rollup = dir.path().join("rollup.json");
    std::fs::write(&bad_rollup, rollup.to_string()).unwrap();
    let out = init(&datadir, &bad_rollup, &testdata("base-mainnet/genesis.json.gz"));
    assert!(!out.status.success());
    assert!(stderr(&out).contains("genesis.l2.hash"), "{}", stderr(&out));
    assert!(!datadir.exists(), "a failed init must not create the database");

    let mut genesis = base_genesis_json();
    genesis["gasLimit"] = "lots".into();
    let bad_genesis = dir.path().join("genesis.json");
    std::fs::write(&bad_genesis, genesis.to_string()).unwrap();
    let out = init(&datadir, &testdata("base-mainnet/rollup.json"), &bad_genesis);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("gasLimit"), "{}", stderr(&out));

    std::fs::write(&bad_genesis, "{ not json").unwrap();
    let out = init(&datadir, &testdata("base-mainnet/rollup.json"), &bad_genesis);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("not valid JSON"), "{}", stderr(&out));
    assert!(!datadir.exists());

    let out = lockstep(&["db", "stats", "--datadir", datadir.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("no lockstep database"), "{}", stderr(&out));
}

#[test]
fn init_both_devnet_chains_into_one_datadir() {
    let dir = tempfile::tempdir().unwrap();
    let datadir = dir.path().join("db");
    let devnet = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../etc/devnet");
    for (name, chain_id) in [("op", 901), ("base", 902)] {
        let rollup = devnet.join(name).join("rollup.json");
        let out = init(&datadir, &rollup, &devnet.join(name).join("genesis.json"));
        assert!(out.status.success(), "{}", stderr(&out));
        let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
        let rollup: Value =
            serde_json::from_str(&std::fs::read_to_string(rollup).unwrap()).unwrap();
        assert_eq!(printed["chainId"], chain_id);
        // the MDBX trie path agrees with the in-memory computation that wrote rollup.json
        assert_eq!(printed["blockHash"], rollup["genesis"]["l2"]["hash"]);
    }
    let stats = lockstep(&["db", "stats", "--datadir", datadir.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&stats.stdout);
    let line = text.lines().find(|l| l.starts_with("ChainGenesis")).unwrap();
    assert!(line.contains(" 2 "), "{line}");
}

#[test]
fn bounded_devnet_prints_a_summary_with_the_injected_fault() {
    let out =
        lockstep(&["devnet", "--batches", "3", "--fault", "drop-mint@1", "--txs-per-block", "4"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["batchesPosted"], 3);
    let batches = summary["batches"].as_array().unwrap();
    let differing: Vec<u64> = batches
        .iter()
        .filter(|b| !b["pairsDiffering"].as_array().unwrap().is_empty())
        .map(|b| b["index"].as_u64().unwrap())
        .collect();
    assert_eq!(differing, vec![1], "only the faulty batch differs");
    let burned = summary["transfers"]["burned"].as_u64().unwrap();
    assert_eq!(summary["transfers"]["minted"].as_u64().unwrap(), burned - 1);

    let bad = lockstep(&["devnet", "--batches", "1", "--blocks-per-batch", "4"]);
    assert!(!bad.status.success());
    assert!(stderr(&bad).contains("multiple of 6"), "{}", stderr(&bad));
    let bad = lockstep(&["devnet", "--fault", "drop-mint"]);
    assert!(!bad.status.success());
    assert!(stderr(&bad).contains("KIND@BATCH"), "{}", stderr(&bad));
}
