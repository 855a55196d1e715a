//! The target for the files an operator (or the registry) hands the node at start:
//! `rollup.json`, `genesis.json`, the superchain set's TOML and a chain's superchain-registry
//! TOML. A bad file is refused with an
//! error naming it, never a panic.

use crate::fixture::configs;
use lockstep_chainspec::{check_rollup, parse_registry, ChainSpec, RollupConfig, SuperchainSet};
use std::path::Path;

/// The first byte picks the file: 0 `rollup.json` (beside the devnet's genesis), 1
/// `genesis.json` (beside its rollup.json), 2 the set's TOML (naming the devnet's chain
/// files), 3 a registry chain TOML (with the smallest superchain.toml); the rest is the file. A rollup config that loads answers every fork question.
pub fn config(data: &[u8]) {
    let Some((&which, file)) = data.split_first() else { return };
    let fixture = configs();
    let (rollup, genesis) = (Path::new("rollup.json"), Path::new("genesis.json"));
    match which % 4 {
        0 => {
            if let Ok(spec) = ChainSpec::parse(file, rollup, &fixture.genesis_json, genesis) {
                ask(&spec.rollup);
            }
            if let Ok(parsed) = serde_json::from_slice::<RollupConfig>(file) {
                if check_rollup(&parsed).is_ok() {
                    ask(&parsed);
                }
            }
        }
        1 => {
            let _ = ChainSpec::parse(&fixture.rollup_json, rollup, file, genesis);
        }
        2 => {
            if let Ok(text) = std::str::from_utf8(file) {
                let _ = SuperchainSet::parse(text, &fixture.dir.join("superchain.toml"));
            }
        }
        _ => {
            // a chain's TOML as the superchain registry writes it
            if let Ok(text) = std::str::from_utf8(file) {
                let (chain, superchain) = (Path::new("op.toml"), Path::new("superchain.toml"));
                if let Ok(rollup) = parse_registry(text, chain, REGISTRY_SUPERCHAIN, superchain) {
                    ask(&rollup);
                }
            }
        }
    }
}

/// The smallest superchain.toml a registry chain config is read with.
const REGISTRY_SUPERCHAIN: &str = "[l1]\nchain_id = 1\n";

/// Every question the node asks a rollup config, at the times around each fork.
fn ask(rollup: &RollupConfig) {
    let forks = &rollup.hardforks;
    let times = [
        forks.regolith_time,
        forks.canyon_time,
        forks.delta_time,
        forks.ecotone_time,
        forks.fjord_time,
        forks.granite_time,
        forks.holocene_time,
        forks.isthmus_time,
    ];
    for time in times.into_iter().flatten().chain([0, rollup.genesis.l2_time, u64::MAX]) {
        for t in [time.saturating_sub(1), time, time.saturating_add(1)] {
            let _ = rollup.max_sequencer_drift(t);
            let _ = rollup.max_rlp_bytes_per_channel(t);
            let _ = rollup.channel_timeout(t);
            let _ = lockstep_derive::l1_block_info::L1InfoFormat::at(rollup, t);
        }
    }
}
