//! Jovian's derivation rules against the shipped clients' own test vectors
//! (`testdata/specs/vectors/`): the L1 info deposit's calldata, its format at and after the
//! activation block, the DA footprint gas scalar's config update, and the five upgrade
//! deposits with their source hashes and fields.

#![allow(clippy::unwrap_used, missing_docs)]

use alloy_consensus::Header;
use alloy_primitives::{address, hex, keccak256, Address, Log, LogData, B256, U256};
use lockstep_chainspec::RollupConfig;
use lockstep_derive::{
    l1_block_info::{upgrade_source_hash, L1BlockInfo, L1InfoFormat},
    system_config::{SystemConfig, CONFIG_UPDATE_TOPIC},
    upgrades::{upgrades_at, JOVIAN},
};
use serde_json::Value;

fn testdata(rel: &str) -> String {
    let path = format!("{}/../../testdata/specs/{rel}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(path).unwrap()
}

fn vector(name: &str) -> Value {
    serde_json::from_str(&testdata(&format!("vectors/{name}"))).unwrap()
}

/// Isthmus at genesis, Jovian at 1000, two-second blocks.
fn rollup() -> RollupConfig {
    let mut rollup = RollupConfig { block_time: 2, ..Default::default() };
    rollup.hardforks.regolith_time = Some(0);
    rollup.hardforks.isthmus_time = Some(0);
    rollup.hardforks.jovian_time = Some(1000);
    rollup
}

#[test]
fn the_jovian_l1_info_calldata_decodes_and_encodes_as_op_reth_reads_it() {
    let v = vector("jovian_l1_info_calldata_op-reth.json");
    let calldata = hex::decode(v["calldata"].as_str().unwrap()).unwrap();
    let (format, info) = L1BlockInfo::decode(&calldata).unwrap();
    assert_eq!(format, L1InfoFormat::Jovian);
    let e = &v["expected"];
    let n = |k: &str| e[k].as_u64().unwrap();
    assert_eq!(info.base_fee, U256::from(n("l1BaseFee")));
    assert_eq!(u64::from(info.base_fee_scalar), n("l1BaseFeeScalar"));
    assert_eq!(info.blob_base_fee, U256::from(n("l1BlobBaseFee")));
    assert_eq!(u64::from(info.blob_base_fee_scalar), n("l1BlobBaseFeeScalar"));
    assert_eq!(u64::from(info.operator_fee_scalar), n("operatorFeeScalar"));
    assert_eq!(info.operator_fee_constant, n("operatorFeeConstant"));
    assert_eq!(u64::from(info.da_footprint_gas_scalar), n("daFootprintGasScalar"));
    // written back, byte for byte
    assert_eq!(info.encode(format).as_ref(), calldata.as_slice());
    // one byte short or long is refused
    assert!(L1BlockInfo::decode(&calldata[..177]).is_err());
    assert!(L1BlockInfo::decode(&[calldata.as_slice(), &[0]].concat()).is_err());
}

#[test]
fn the_l1_info_deposit_keeps_isthmus_in_the_activation_block_and_is_jovian_after() {
    let v = vector("jovian_l1_info_structure_op-node.json");
    let facts = &v["facts"];
    let selector = keccak256(facts["L1InfoFuncJovianSignature"].as_str().unwrap().as_bytes());
    assert_eq!(hex::encode_prefixed(&selector[..4]), facts["selector"].as_str().unwrap());
    let rollup = rollup();
    let header =
        Header { number: 7, timestamp: 990, base_fee_per_gas: Some(9), ..Default::default() };
    let config = SystemConfig { gas_limit: 30_000_000, ..Default::default() };
    let at = |t: u64| L1BlockInfo::for_block(&rollup, &config, 0, &header, B256::ZERO, t);
    // the activation block (1000): Isthmus's 176 bytes, with the selector of
    // setL1BlockValuesIsthmus()
    let (format, info) = at(1000);
    assert_eq!(format, L1InfoFormat::Isthmus);
    let data = info.encode(format);
    assert_eq!(data.len() as u64, facts["L1InfoIsthmusLen"].as_u64().unwrap());
    assert_eq!(data[..4], keccak256("setL1BlockValuesIsthmus()")[..4]);
    // the next block: Jovian's 178, and a scalar of 0 in the system config written as 400
    let (format, info) = at(1002);
    assert_eq!(format, L1InfoFormat::Jovian);
    let data = info.encode(format);
    assert_eq!(data.len() as u64, facts["L1InfoJovianLen"].as_u64().unwrap());
    assert_eq!(data[..4], selector[..4]);
    let default = facts["DAFootprintGasScalarDefault"].as_u64().unwrap();
    assert_eq!(u64::from(u16::from_be_bytes([data[176], data[177]])), default);
    // a scalar the system config sets is written as it is
    let set = SystemConfig { da_footprint_gas_scalar: 7, ..config };
    let (_, info) = L1BlockInfo::for_block(&rollup, &set, 0, &header, B256::ZERO, 1002);
    assert_eq!(info.da_footprint_gas_scalar, 7);
    // Jovian at genesis: the chain's first blocks are Jovian's already
    let mut genesis = rollup.clone();
    genesis.hardforks.jovian_time = Some(0);
    let (format, _) = L1BlockInfo::for_block(&genesis, &config, 0, &header, B256::ZERO, 2);
    assert_eq!(format, L1InfoFormat::Jovian);
    // the deposit itself: 1,000,000 gas, not a system transaction
    let deposit = info.deposit(L1InfoFormat::Jovian, true);
    assert_eq!(deposit.gas_limit, 1_000_000);
    assert!(!deposit.is_system_transaction);
}

fn config_update(kind: u8, data: &str) -> Log {
    Log {
        address: Address::ZERO,
        data: LogData::new_unchecked(
            vec![CONFIG_UPDATE_TOPIC, B256::ZERO, B256::with_last_byte(kind)],
            hex::decode(data).unwrap().into(),
        ),
    }
}

#[test]
fn the_da_footprint_gas_scalar_and_min_base_fee_updates_apply_as_kona_reads_them() {
    let v = vector("jovian_da_footprint_scalar_config_update_kona.json");
    let data = v["data"].as_str().unwrap();
    let mut config = SystemConfig::default();
    config.apply_log(&config_update(7, data), true).unwrap();
    assert_eq!(
        u64::from(config.da_footprint_gas_scalar),
        v["expectedDaFootprintGasScalar"].as_u64().unwrap()
    );
    // the same word as the minimum base fee (type 6)
    config.apply_log(&config_update(6, data), true).unwrap();
    assert_eq!(config.min_base_fee, 0xbeef);
    // a scalar that does not fit 16 bits, and a short payload, are refused and change nothing
    let before = config;
    let wide = format!("{}{}", &data[..data.len() - 6], "01beef");
    assert!(config.apply_log(&config_update(7, &wide), true).is_err());
    assert!(config.apply_log(&config_update(7, &data[..data.len() - 2]), true).is_err());
    assert_eq!(config, before);
}

#[test]
fn the_five_upgrade_deposits_have_the_clients_source_hashes_and_fields() {
    let hashes = vector("jovian_upgrade_source_hashes.json");
    let fields = vector("jovian_upgrade_txs_fields.json");
    let txs = fields["txs"].as_array().unwrap();
    assert_eq!(JOVIAN.len(), txs.len());
    for ((upgrade, want), hash) in JOVIAN.iter().zip(txs).zip(hashes["vectors"].as_array().unwrap())
    {
        assert_eq!(upgrade.intent, want["intent"].as_str().unwrap());
        assert_eq!(upgrade.intent, hash["intent"].as_str().unwrap());
        let deposit = upgrade.deposit();
        assert_eq!(
            deposit.source_hash,
            hash["expectedSourceHash"].as_str().unwrap().parse::<B256>().unwrap()
        );
        assert_eq!(deposit.source_hash, upgrade_source_hash(&upgrade.intent));
        assert_eq!(deposit.from, want["from"].as_str().unwrap().parse::<Address>().unwrap());
        assert_eq!(
            deposit.to.to().copied(),
            want["to"].as_str().map(|a| a.parse::<Address>().unwrap())
        );
        assert_eq!(deposit.gas_limit, want["gasLimit"].as_u64().unwrap());
        assert_eq!(
            (deposit.mint, deposit.value, deposit.is_system_transaction),
            (0, U256::ZERO, false)
        );
        let data = want["data"].as_str().unwrap();
        let data = if data.starts_with("0x") {
            data.to_string()
        } else {
            // the spec's bytecode file (`testdata/specs/specs/static/bytecode/`)
            testdata(data)
        };
        assert_eq!(
            deposit.input.as_ref(),
            hex::decode(data.trim()).unwrap().as_slice(),
            "{}",
            upgrade.intent
        );
        // a creation deploys at the sender's first address
        if let Some(at) = want["deployedAddress"].as_str() {
            assert_eq!(deposit.from.create(0), at.parse::<Address>().unwrap());
        }
    }
    // the proxy updates point at those addresses
    assert!(JOVIAN[1]
        .data
        .ends_with(&hex::encode(address!("0x3Ba4007f5C922FBb33C454B41ea7a1f11E83df2C"))));
    assert!(JOVIAN[3]
        .data
        .ends_with(&hex::encode(address!("0x4f1db3c6AbD250ba86E0928471A8F7DB3AFd88F1"))));
    // only the activation block carries them
    let rollup = rollup();
    assert_eq!(upgrades_at(&rollup, 998).len(), 0);
    let at = upgrades_at(&rollup, 1000);
    assert_eq!(at.iter().map(|u| u.intent.clone()).collect::<Vec<_>>(), JOVIAN.map(|u| u.intent));
    assert_eq!(upgrades_at(&rollup, 1002).len(), 0);
    assert!(rollup.forbids_user_transactions(1000) && !rollup.forbids_user_transactions(1002));
}
