//! Karst's derivation rules against the monorepo's bundle and the clients' own test vectors
//! (`testdata/specs/karst/`, `testdata/specs/vectors/`): the bundle file is the one
//! `fork_lock.toml` pins, its 31 deposits carry the qualified intents and the fixture's exact
//! encodings, the activation block has room for them, and the next block's system config keeps
//! or strips that room as `keep_karst_upgrade_gas` says.

#![allow(clippy::unwrap_used, missing_docs)]

use alloy_consensus::Header;
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{hex, Address, B256};
use lockstep_chainspec::RollupConfig;
use lockstep_derive::{
    attributes::deposit_bytes,
    block_ref::l2_block_info,
    l1_block_info::{upgrade_source_hash, L1BlockInfo},
    op_block,
    system_config::SystemConfig,
    upgrades::{karst, parse_bundle, upgrade_gas, upgrades_at, KARST_BUNDLE},
};
use op_alloy_consensus::OpTxEnvelope;
use serde_json::Value;
use sha2::{Digest, Sha256};

fn testdata(rel: &str) -> String {
    let path = format!("{}/../../testdata/specs/{rel}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(path).unwrap()
}

fn vector(name: &str) -> Value {
    serde_json::from_str(&testdata(&format!("vectors/{name}"))).unwrap()
}

/// Jovian at genesis, Karst at 1000, two-second blocks.
fn rollup() -> RollupConfig {
    let mut rollup = RollupConfig { block_time: 2, ..Default::default() };
    rollup.hardforks.regolith_time = Some(0);
    rollup.hardforks.isthmus_time = Some(0);
    rollup.hardforks.jovian_time = Some(0);
    rollup.hardforks.karst_time = Some(1000);
    rollup
}

#[test]
fn the_embedded_bundle_is_the_one_fork_lock_pins() {
    // fork_lock.toml's [karst] hash, read from the file rather than written here
    let lock = testdata("karst/fork_lock.toml");
    let karst = lock.split("[karst]").nth(1).unwrap().split('[').next().unwrap();
    let pinned = karst
        .lines()
        .find_map(|l| l.trim().strip_prefix("hash = \"sha256:"))
        .unwrap()
        .trim_end_matches('"');
    let ours = hex::encode(Sha256::digest(KARST_BUNDLE.as_bytes()));
    assert_eq!(ours, pinned);
    assert_eq!(KARST_BUNDLE, testdata("karst/karst_nut_bundle.json"));
    let facts = vector("karst_bundle_assertions.json");
    assert_eq!(ours, facts["sha256"].as_str().unwrap());
    assert_eq!(KARST_BUNDLE.len() as u64, facts["sizeBytes"].as_u64().unwrap());
}

#[test]
fn the_bundle_gives_31_deposits_with_the_upstream_tests_facts() {
    let facts = vector("karst_bundle_assertions.json");
    let fact = |what: &str| -> Value {
        facts["assertions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["what"].as_str().unwrap().starts_with(what))
            .unwrap()["value"]
            .clone()
    };
    let upgrades = karst();
    assert_eq!(upgrades.len() as u64, fact("transaction count").as_u64().unwrap());
    let gas: u64 = upgrades.iter().map(|u| u.gas).sum();
    assert_eq!(gas, fact("total upgrade gas").as_u64().unwrap());
    // the intents are qualified with the capitalised fork name and the index
    let bundle: Value = serde_json::from_str(KARST_BUNDLE).unwrap();
    let fork = fact("fork_name").as_str().unwrap().to_string();
    for (i, (upgrade, raw)) in
        upgrades.iter().zip(bundle["transactions"].as_array().unwrap()).enumerate()
    {
        let intent = format!("{fork} {i}: {}", raw["intent"].as_str().unwrap());
        assert_eq!(upgrade.intent, intent);
        let deposit = upgrade.deposit();
        assert_eq!(deposit.source_hash, upgrade_source_hash(&intent));
        assert_eq!(deposit.from, raw["from"].as_str().unwrap().parse::<Address>().unwrap());
        assert_eq!(deposit.gas_limit, raw["gasLimit"].as_u64().unwrap());
        assert_eq!(deposit.input.as_ref(), hex::decode(raw["data"].as_str().unwrap()).unwrap());
        assert_eq!((deposit.mint, deposit.is_system_transaction), (0, false));
        assert!(deposit_bytes(deposit).starts_with(&[0x7e]));
    }
    assert_eq!(upgrades[0].intent, "Karst 0: ConditionalDeployer Deployment");
    // the last calls upgradePredeploys with the L2ContractsManager the upstream test extracts
    let manager = fact("L2ContractsManager").as_str().unwrap().parse::<Address>().unwrap();
    let last = upgrades.last().unwrap().deposit();
    assert_eq!(&last.input[..4], hex!("7c36f37e"));
    assert_eq!(&last.input[16..36], manager.as_slice());
    // that manager is what the one before it deploys: `deploy(bytes32 salt, bytes code)` on the
    // ConditionalDeployer, which creates through the CREATE2 deployer
    let deploy = upgrades[29].deposit();
    assert_eq!(&deploy.input[..4], hex!("cdcb760a"));
    let salt = B256::from_slice(&deploy.input[4..36]);
    let len =
        usize::try_from(alloy_primitives::U256::from_be_slice(&deploy.input[68..100])).unwrap();
    let code = &deploy.input[100..100 + len];
    let create2_deployer: Address = "0x4e59b44847b379578588920cA78FbF26c0B4956C".parse().unwrap();
    assert_eq!(upgrades[0].to, Some(create2_deployer));
    assert_eq!(create2_deployer.create2_from_code(salt, code), manager);
}

#[test]
fn the_fixture_bundle_encodes_as_op_alloy_asserts() {
    let v = vector("nut_bundle_test_fixture_encoding.json");
    let vectors = v["vectors"].as_array().unwrap();
    let fork = vectors[0]["forkName"].as_str().unwrap();
    // the fixture's transactions as a bundle file
    let txs: Vec<Value> = vectors
        .iter()
        .map(|t| {
            serde_json::json!({
                "data": t["data"], "from": t["from"], "gasLimit": t["gasLimit"],
                "intent": t["intent"], "to": t["to"],
            })
        })
        .collect();
    let json = serde_json::json!({ "metadata": { "version": "1.0.0" }, "transactions": txs });
    let json: &'static str = Box::leak(json.to_string().into_boxed_str());
    let upgrades = parse_bundle(fork, json).unwrap();
    assert_eq!(upgrades.len(), vectors.len());
    for (upgrade, want) in upgrades.iter().zip(vectors) {
        let deposit = upgrade.deposit();
        assert_eq!(
            deposit.source_hash,
            want["expectedSourceHash"].as_str().unwrap().parse::<B256>().unwrap()
        );
        let encoded = OpTxEnvelope::Deposit(alloy_primitives::Sealed::new(deposit)).encoded_2718();
        assert_eq!(hex::encode_prefixed(encoded), want["expectedEncoded"].as_str().unwrap());
    }
}

#[test]
fn a_malformed_bundle_is_a_clear_error() {
    let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
    let tx = |intent: &str, data: &str| {
        format!(
            r#"{{"data":"{data}","from":"0x0000000000000000000000000000000000000000","gasLimit":1,"intent":"{intent}","to":null}}"#
        )
    };
    let bundle = |version: &str, tx: String| {
        leak(format!(r#"{{"metadata":{{"version":"{version}"}},"transactions":[{tx}]}}"#))
    };
    assert!(parse_bundle("Test", bundle("1.0.0", tx("ok", "0x00"))).is_ok());
    for (json, says) in [
        (bundle("1.1.0", tx("ok", "0x00")), "version 1.1.0"),
        (bundle("1.0.0", tx("", "0x00")), "no intent"),
        (bundle("1.0.0", tx("ok", "0xzz")), "not hex"),
        (leak(r#"{"metadata":{"version":"1.0.0"},"transactions":[],"extra":1}"#.into()), "extra"),
    ] {
        let err = parse_bundle("Test", json).unwrap_err().to_string();
        assert!(err.contains("Test") && err.contains(says), "{err}");
    }
}

#[test]
fn only_the_activation_block_carries_the_bundle_and_its_gas() {
    let rollup = rollup();
    let bundle_gas: u64 = karst().iter().map(|u| u.gas).sum();
    assert_eq!(upgrades_at(&rollup, 998).len(), 0);
    assert_eq!(upgrades_at(&rollup, 1000).len(), 31);
    assert_eq!(upgrades_at(&rollup, 1002).len(), 0);
    assert_eq!(
        (upgrade_gas(&rollup, 998), upgrade_gas(&rollup, 1000), upgrade_gas(&rollup, 1002)),
        (0, bundle_gas, 0)
    );
    assert!(rollup.forbids_user_transactions(1000) && !rollup.forbids_user_transactions(1002));
    // Karst at genesis: no activation block, no bundle
    let mut genesis = rollup.clone();
    genesis.hardforks.karst_time = Some(0);
    assert_eq!(upgrades_at(&genesis, 0).len() + upgrades_at(&genesis, 2).len(), 0);
    // with Jovian at the same time, Jovian's five come first, then Karst's 31
    let mut both = rollup;
    both.hardforks.jovian_time = Some(1000);
    let at = upgrades_at(&both, 1000);
    assert_eq!(at.len(), 5 + 31);
    assert!(at[4].intent.starts_with("Jovian") && at[5].intent.starts_with("Karst 0:"));
}

/// Jovian's extra data: version 1, denominator 250, elasticity 6, minimum base fee 0.
const JOVIAN_EXTRA_DATA: [u8; 17] = [1, 0, 0, 0, 250, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0];

/// The activation block's summary: header gas limit = config + bundle gas.
fn summarise(rollup: &RollupConfig, timestamp: u64, header_gas: u64) -> SystemConfig {
    let l1 = Header { number: 7, timestamp: timestamp - 10, ..Default::default() };
    let config = SystemConfig { gas_limit: 30_000_000, ..Default::default() };
    let (format, info) = L1BlockInfo::for_block(rollup, &config, 0, &l1, B256::ZERO, timestamp);
    let deposit = info.deposit(format, true);
    let header = Header {
        number: 500,
        timestamp,
        gas_limit: header_gas,
        extra_data: JOVIAN_EXTRA_DATA.into(),
        ..Default::default()
    };
    let block =
        op_block(header, vec![OpTxEnvelope::Deposit(alloy_primitives::Sealed::new(deposit))]);
    l2_block_info(&block, B256::repeat_byte(9), rollup).unwrap().1
}

#[test]
fn keep_karst_upgrade_gas_decides_whether_the_next_block_keeps_the_room() {
    let bundle_gas = vector("karst_bundle_assertions.json")["assertions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["what"] == "total upgrade gas (sum of gasLimit)")
        .unwrap()["value"]
        .as_u64()
        .unwrap();
    let mut rollup = rollup();
    let raised = 30_000_000 + bundle_gas;
    // unset or false: the fixed clients strip the bundle's gas from the activation block's limit
    for keep in [None, Some(false)] {
        rollup.keep_karst_upgrade_gas = keep;
        assert_eq!(summarise(&rollup, 1000, raised).gas_limit, 30_000_000);
        // other blocks are read as they are
        assert_eq!(summarise(&rollup, 1002, raised).gas_limit, raised);
    }
    // a header below the bundle's gas cannot be Karst's activation block
    let l1 = Header { number: 7, timestamp: 990, ..Default::default() };
    let (format, info) =
        L1BlockInfo::for_block(&rollup, &SystemConfig::default(), 0, &l1, B256::ZERO, 1000);
    let header = Header {
        number: 500,
        timestamp: 1000,
        gas_limit: 1_000,
        extra_data: JOVIAN_EXTRA_DATA.into(),
        ..Default::default()
    };
    let deposit = OpTxEnvelope::Deposit(alloy_primitives::Sealed::new(info.deposit(format, true)));
    let err = l2_block_info(&op_block(header, vec![deposit]), B256::ZERO, &rollup).unwrap_err();
    assert!(err.contains("below the Karst bundle's gas"), "{err}");
    // OP Mainnet and OP Sepolia keep it (their registry configs say so)
    rollup.keep_karst_upgrade_gas = Some(true);
    assert_eq!(summarise(&rollup, 1000, raised).gas_limit, raised);
    let sepolia: RollupConfig = serde_json::from_str(
        &std::fs::read_to_string(format!(
            "{}/../../testdata/op-sepolia/rollup.json",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap(),
    )
    .unwrap();
    assert_eq!(sepolia.keep_karst_upgrade_gas, Some(true));
}
