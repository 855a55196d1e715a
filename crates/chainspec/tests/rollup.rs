//! Our rollup config reads the registry's real `rollup.json` files as kona-genesis 0.4.5 reads
//! them, field for field, and says clearly what it refuses.

#![allow(clippy::unwrap_used, missing_docs)]

use lockstep_chainspec::{check_rollup, RollupConfig};

fn testdata(rel: &str) -> String {
    std::fs::read_to_string(format!("{}/../../testdata/{rel}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

#[test]
fn base_mainnet_reads_as_kona_reads_it() {
    let text = testdata("base-mainnet/rollup.json");
    let ours: RollupConfig = serde_json::from_str(&text).unwrap();
    let kona: kona_genesis::RollupConfig = serde_json::from_str(&text).unwrap();
    // written back, both say the same
    let ours_json = serde_json::to_value(&ours).unwrap();
    let as_kona: kona_genesis::RollupConfig = serde_json::from_value(ours_json).unwrap();
    assert_eq!(as_kona, kona);
    assert_eq!(ours.l2_chain_id.id(), 8453);
    for t in [0, kona.genesis.l2_time, 1_704_992_401, 1_720_627_201, 1_736_445_601, u64::MAX / 2] {
        assert_eq!(ours.is_canyon_active(t), kona.is_canyon_active(t), "{t}");
        assert_eq!(ours.is_ecotone_active(t), kona.is_ecotone_active(t), "{t}");
        assert_eq!(ours.is_fjord_active(t), kona.is_fjord_active(t), "{t}");
        assert_eq!(ours.is_holocene_active(t), kona.is_holocene_active(t), "{t}");
        assert_eq!(ours.is_isthmus_active(t), kona.is_isthmus_active(t), "{t}");
        assert_eq!(ours.channel_timeout(t), kona.channel_timeout(t), "{t}");
        assert_eq!(ours.max_sequencer_drift(t), kona.max_sequencer_drift(t), "{t}");
        assert_eq!(ours.max_rlp_bytes_per_channel(t), kona.max_rlp_bytes_per_channel(t), "{t}");
    }
    assert!(check_rollup(&ours).is_ok());
}

#[test]
fn op_sepolia_today_is_read_and_refused_only_for_the_forks_lockstep_does_not_implement() {
    let text = testdata("op-sepolia/rollup.json");
    let ours: RollupConfig = serde_json::from_str(&text).unwrap();
    assert_eq!(ours.hardforks.jovian_time, Some(1_763_568_001));
    assert_eq!(ours.hardforks.karst_time, Some(1_781_712_001));
    assert!(ours.keep_karst_upgrade_gas.is_some());
    // Jovian and Karst are followed
    assert_eq!(check_rollup(&ours), Ok(()));
    let through_karst = ours;
    for name in ["lagoon_time", "interop_time"] {
        let mut later = through_karst.clone();
        let forks = &mut later.hardforks;
        *(if name == "lagoon_time" { &mut forks.lagoon_time } else { &mut forks.interop_time }) =
            Some(1_900_000_000);
        let err = check_rollup(&later).unwrap_err();
        assert!(err.contains(name), "{err}");
    }
    // kona 0.4.5 does not know Karst's keys at all
    assert!(serde_json::from_str::<kona_genesis::RollupConfig>(&text).is_err());
}

#[test]
fn an_unknown_key_is_an_error_that_names_it() {
    let text = testdata("base-mainnet/rollup.json");
    let mut value: serde_json::Value = serde_json::from_str(&text).unwrap();
    value["frobnicate_time"] = 5.into();
    let err = serde_json::from_value::<RollupConfig>(value).unwrap_err().to_string();
    assert!(err.contains("frobnicate_time"), "{err}");
}

fn registry(rel: &str) -> std::path::PathBuf {
    format!("{}/../../testdata/specs/superchain-registry/{rel}", env!("CARGO_MANIFEST_DIR")).into()
}

#[test]
fn op_sepolia_as_the_registry_writes_it_is_the_rollup_json_op_node_writes() {
    let sepolia = testdata("op-sepolia/rollup.json");
    let json: RollupConfig = serde_json::from_str(&sepolia).unwrap();
    let genesis =
        format!("{}/../../testdata/op-sepolia/genesis.json.gz", env!("CARGO_MANIFEST_DIR"));
    let spec = lockstep_chainspec::ChainSpec::load(&registry("sepolia/op.toml"), genesis.as_ref())
        .unwrap();
    assert_eq!(spec.rollup, json);
    assert_eq!(lockstep_chainspec::load_rollup(&registry("sepolia/op.toml")).unwrap(), json);
}

#[test]
fn op_mainnet_as_the_registry_writes_it_loads_with_jovian_and_karst() {
    let rollup = lockstep_chainspec::load_rollup(&registry("mainnet/op.toml")).unwrap();
    assert_eq!(rollup.l2_chain_id.id(), 10);
    assert_eq!(rollup.l1_chain_id, 1);
    assert_eq!(
        rollup.genesis.l2.hash,
        "0xdbf6a80fef073de06add9b0d14026d6e5a86c85f6d102c36d3d8e9cf89c2afd3"
            .parse::<alloy_primitives::B256>()
            .unwrap()
    );
    assert_eq!(rollup.genesis.system_config.unwrap().gas_limit, 30_000_000);
    assert_eq!(rollup.hardforks.jovian_time, Some(1_764_691_201));
    assert_eq!(rollup.hardforks.karst_time, Some(1_783_526_401));
    assert_eq!(rollup.keep_karst_upgrade_gas, Some(true));
    assert_eq!(rollup.hardforks.regolith_time, Some(0));
    assert_eq!(
        rollup.deposit_contract_address,
        "0xbEb5Fc579115071764c7423A4f12eDde41f106Ed".parse::<alloy_primitives::Address>().unwrap()
    );
    assert!(rollup.is_karst_activation_block(1_783_526_401 + 1));
}

#[test]
fn a_registry_config_lockstep_cannot_follow_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(registry("mainnet/op.toml")).unwrap();
    let superchain = std::fs::read_to_string(registry("mainnet/superchain.toml")).unwrap();
    let path = dir.path().join("op.toml");
    // without its superchain.toml
    std::fs::write(&path, &text).unwrap();
    let err = lockstep_chainspec::load_rollup(&path).unwrap_err().to_string();
    assert!(err.contains("superchain.toml"), "{err}");
    std::fs::write(dir.path().join("superchain.toml"), superchain).unwrap();
    assert!(lockstep_chainspec::load_rollup(&path).is_ok());
    for (edit, says) in [
        ("  lagoon_time = 1900000000\n", "lagoon_time"),
        ("  mars_time = 1900000000\n", "mars_time"),
    ] {
        let with = text.replace(
            "  keep_karst_upgrade_gas = true\n",
            &format!("  keep_karst_upgrade_gas = true\n{edit}"),
        );
        std::fs::write(&path, with).unwrap();
        let err = lockstep_chainspec::load_rollup(&path).unwrap_err().to_string();
        assert!(err.contains(says), "{err}");
    }
    std::fs::write(&path, text.replace("OptimismPortalProxy", "Portal")).unwrap();
    let err = lockstep_chainspec::load_rollup(&path).unwrap_err().to_string();
    assert!(err.contains("OptimismPortalProxy"), "{err}");
    std::fs::write(&path, text.replace("block_time = 2", "block_time = \"two\"")).unwrap();
    let err = lockstep_chainspec::load_rollup(&path).unwrap_err().to_string();
    assert!(err.contains("block_time"), "{err}");
}

#[test]
fn a_fork_the_chain_file_leaves_out_is_inherited_from_the_superchain_by_the_registry_rules() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(registry("sepolia/op.toml")).unwrap();
    let superchain = std::fs::read_to_string(registry("sepolia/superchain.toml")).unwrap();
    std::fs::write(dir.path().join("superchain.toml"), &superchain).unwrap();
    // a pre-2.0 chain file: no Karst line, and Canyon left to the superchain
    let older = text
        .replace("  karst_time = 1781712001 # Wed 17 Jun 2026 16:00:01 UTC\n", "")
        .replace("  canyon_time = 1699981200 # Tue 14 Nov 2023 17:00:00 UTC\n", "");
    assert_ne!(older, text);
    let path = dir.path().join("op.toml");
    std::fs::write(&path, &older).unwrap();
    let want = lockstep_chainspec::load_rollup(&registry("sepolia/op.toml")).unwrap();
    assert_eq!(lockstep_chainspec::load_rollup(&path).unwrap(), want);
    // without superchain_time nothing is inherited
    std::fs::write(&path, older.replace("superchain_time = 0\n", "")).unwrap();
    let alone = lockstep_chainspec::load_rollup(&path).unwrap();
    assert_eq!((alone.hardforks.karst_time, alone.hardforks.canyon_time), (None, None));
    // a superchain time at or before the chain's genesis is written as 0
    let early = superchain.replace("canyon_time =  1699981200", "canyon_time =  1691802540");
    std::fs::write(dir.path().join("superchain.toml"), early).unwrap();
    std::fs::write(&path, &older).unwrap();
    assert_eq!(lockstep_chainspec::load_rollup(&path).unwrap().hardforks.canyon_time, Some(0));
}
