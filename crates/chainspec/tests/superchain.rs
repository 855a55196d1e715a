//! The superchain-set file and its errors.

#![allow(clippy::unwrap_used)]

use lockstep_chainspec::{ChainSpecError, SuperchainSet};
use std::path::{Path, PathBuf};

fn testdata(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata").join(rel)
}

/// A set of Base mainnet and a copy of it under another chain id.
fn write_set(dir: &Path, body: &str) -> PathBuf {
    let rollup = std::fs::read_to_string(testdata("base-mainnet/rollup.json")).unwrap();
    std::fs::write(dir.join("base.json"), &rollup).unwrap();
    std::fs::write(
        dir.join("other.json"),
        rollup.replace("\"l2_chain_id\": 8453", "\"l2_chain_id\": 9999"),
    )
    .unwrap();
    std::fs::copy(testdata("base-mainnet/genesis.json.gz"), dir.join("genesis.json.gz")).unwrap();
    let path = dir.join("set.toml");
    std::fs::write(&path, body).unwrap();
    path
}

const GOOD: &str = r#"
name = "test"
bridge = "0x4200000000000000000000000000000000000100"
sequencer = "0x00000000000000000000000000000000000000ee"

[[chain]]
name = "base"
rollup = "base.json"
genesis = "genesis.json.gz"

[[chain]]
name = "other"
rollup = "other.json"
genesis = "genesis.json.gz"
"#;

#[test]
fn loads_every_chain_relative_to_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let set = SuperchainSet::load(&write_set(dir.path(), GOOD)).unwrap();
    assert_eq!(set.name, "test");
    let ids: Vec<u64> = set.chains.iter().map(|(_, spec)| spec.chain_id()).collect();
    assert_eq!(ids, vec![8453, 9999]);
    assert_eq!(set.chains[1].0.name, "other");
    assert_eq!(set.bridge.to_string(), "0x4200000000000000000000000000000000000100");
}

#[test]
fn errors_name_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let bad_address = GOOD.replace("0x00000000000000000000000000000000000000ee", "0xnothex");
    let err = SuperchainSet::load(&write_set(dir.path(), &bad_address)).unwrap_err();
    assert!(matches!(&err, ChainSpecError::Field { field, .. } if field == "sequencer"), "{err}");

    let missing = GOOD.replace("genesis = \"genesis.json.gz\"\n\n[[chain]]", "\n[[chain]]");
    let err = SuperchainSet::load(&write_set(dir.path(), &missing)).unwrap_err();
    assert!(err.to_string().contains("genesis"), "{err}");

    let duplicate = GOOD.replace("other.json", "base.json");
    let err = SuperchainSet::load(&write_set(dir.path(), &duplicate)).unwrap_err();
    assert!(err.to_string().contains("same chain id 8453"), "{err}");

    let err = SuperchainSet::load(&write_set(dir.path(), "name = [")).unwrap_err();
    assert!(err.to_string().contains("not valid TOML"), "{err}");

    let err = SuperchainSet::load(&dir.path().join("absent.toml")).unwrap_err();
    assert!(matches!(err, ChainSpecError::Io { .. }), "{err}");
}
