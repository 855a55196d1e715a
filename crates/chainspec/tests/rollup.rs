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
