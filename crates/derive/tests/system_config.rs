//! System config updates from `ConfigUpdate` logs, against kona-genesis 0.4.5 as an oracle on
//! random well-formed updates of every type (before and from Ecotone) and on mutated ones.
//! Where kona departs from op-node (it refuses EIP-1559 params with bytes set above their low
//! eight, which op-node ignores), the op-node reading is asserted.

#![allow(clippy::unwrap_used)]

use alloy_consensus::{Eip658Value, Receipt};
use alloy_primitives::{Address, Log, LogData, B256, U256};
use lockstep_derive::system_config::{SystemConfig, CONFIG_UPDATE_TOPIC};
use rand::{rngs::StdRng, Rng, SeedableRng};

const CONTRACT: Address = Address::repeat_byte(0x5c);

fn update_log(rng: &mut StdRng, kind: u8) -> Log {
    let words: Vec<[u8; 32]> = match kind {
        0 => vec![Address::from(rng.random::<[u8; 20]>()).into_word().0],
        1 => {
            let mut scalar = [0u8; 32];
            match rng.random_range(0..3) {
                0 => scalar[28..].copy_from_slice(&rng.random::<[u8; 4]>()),
                1 => {
                    scalar[0] = 1;
                    scalar[24..].copy_from_slice(&rng.random::<[u8; 8]>());
                }
                _ => scalar = rng.random(),
            }
            vec![U256::from(rng.random::<u16>()).to_be_bytes(), scalar]
        }
        2 => vec![U256::from(rng.random::<u64>()).to_be_bytes()],
        4 => {
            let mut w = [0u8; 32];
            w[24..].copy_from_slice(&rng.random::<[u8; 8]>());
            vec![w]
        }
        _ => {
            let mut w = [0u8; 32];
            w[20..].copy_from_slice(&rng.random::<[u8; 12]>());
            vec![w]
        }
    };
    let mut data = U256::from(32).to_be_bytes::<32>().to_vec();
    data.extend_from_slice(&U256::from(words.len() * 32).to_be_bytes::<32>());
    for w in &words {
        data.extend_from_slice(w);
    }
    let topics = vec![CONFIG_UPDATE_TOPIC, B256::ZERO, B256::from(U256::from(kind))];
    Log { address: CONTRACT, data: LogData::new_unchecked(topics, data.into()) }
}

fn same(ours: &SystemConfig, kona: &kona_genesis::SystemConfig) -> bool {
    let (denominator, elasticity) = ours.eip1559();
    let (fee_scalar, fee_constant) = ours.operator_fee();
    ours.batcher == kona.batcher_address
        && U256::from_be_bytes(ours.overhead.0) == kona.overhead
        && U256::from_be_bytes(ours.scalar.0) == kona.scalar
        && ours.gas_limit == kona.gas_limit
        && denominator == kona.eip1559_denominator.unwrap_or_default()
        && elasticity == kona.eip1559_elasticity.unwrap_or_default()
        && fee_scalar == kona.operator_fee_scalar.unwrap_or_default()
        && fee_constant == kona.operator_fee_constant.unwrap_or_default()
}

#[test]
fn updates_agree_with_kona_before_and_from_ecotone() {
    let mut rng = StdRng::seed_from_u64(5);
    let (mut agreed, mut both_refused, mut departures) = (0, 0, Vec::new());
    let mut op_node_way = 0;
    for ecotone in [false, true] {
        let mut ours = SystemConfig { gas_limit: 30_000_000, ..Default::default() };
        let mut kona = kona_genesis::SystemConfig { gas_limit: 30_000_000, ..Default::default() };
        for round in 0..400 {
            let kind = [0u8, 1, 2, 4, 5][rng.random_range(0..5)];
            let mut log = update_log(&mut rng, kind);
            if round % 3 == 2 {
                let mut data = log.data.data.to_vec();
                match rng.random_range(0..3) {
                    0 => {
                        let at = rng.random_range(0..data.len());
                        data[at] ^= 1 << rng.random_range(0..8);
                    }
                    1 => data.truncate(rng.random_range(0..data.len())),
                    _ => data.extend_from_slice(&[0u8; 32]),
                }
                log.data = LogData::new_unchecked(log.data.topics().to_vec(), data.into());
            }
            let receipt = Receipt {
                status: Eip658Value::Eip658(true),
                cumulative_gas_used: 0,
                logs: vec![log],
            };
            let (before_ours, before_kona) = (ours, kona);
            let a = ours.apply_receipts(std::slice::from_ref(&receipt), CONTRACT, ecotone);
            // the same receipt in the alloy version kona 0.4.5 speaks
            let theirs = kona_alloy_consensus::Receipt {
                status: kona_alloy_consensus::Eip658Value::Eip658(true),
                cumulative_gas_used: 0,
                logs: receipt.logs.clone(),
            };
            let b = kona.update_with_receipts(std::slice::from_ref(&theirs), CONTRACT, ecotone);
            match (a.is_ok(), b.is_ok()) {
                (true, true) if same(&ours, &kona) => agreed += 1,
                (false, false) => {
                    both_refused += 1;
                    // nothing half-applied on either side
                    ours = before_ours;
                    kona = before_kona;
                }
                _ => {
                    let word = &receipt.logs[0].data.data;
                    let high_params =
                        kind == 4 && word.len() == 96 && word[64..88].iter().any(|b| *b != 0);
                    if high_params && a.is_ok() && b.is_err() {
                        // op-node reads the low eight bytes only
                        op_node_way += 1;
                    } else {
                        departures.push((ecotone, kind, round, a.is_ok(), b.is_ok()));
                    }
                    ours = before_ours;
                    kona = before_kona;
                }
            }
        }
    }
    println!("agreed {agreed}, both refused {both_refused}, op-node way {op_node_way}");
    assert!(agreed > 500 && both_refused > 50, "{agreed} {both_refused}");
    assert!(departures.is_empty(), "{departures:?}");
}

#[test]
fn fields_read_back_and_bad_updates_are_refused() {
    let mut rng = StdRng::seed_from_u64(6);
    let mut config = SystemConfig::default();
    let log = update_log(&mut rng, 4);
    config.apply_log(&log, true).unwrap();
    let (d, e) = config.eip1559();
    assert_eq!(&log.data.data[64 + 24..64 + 28], &d.to_be_bytes());
    assert_eq!(&log.data.data[64 + 28..], &e.to_be_bytes());
    // a zero denominator with a non-zero elasticity is refused, as op-node refuses it
    let mut zero_denominator = update_log(&mut rng, 4);
    let mut data = zero_denominator.data.data.to_vec();
    data[64 + 24..64 + 28].fill(0);
    data[95] = 5;
    zero_denominator.data =
        LogData::new_unchecked(zero_denominator.data.topics().to_vec(), data.into());
    assert!(config.apply_log(&zero_denominator, true).is_err());
    // an Ecotone scalar of an unknown version leaves the config as it was
    let mut scalar_log = update_log(&mut rng, 1);
    let mut data = scalar_log.data.data.to_vec();
    data[96] = 7;
    scalar_log.data = LogData::new_unchecked(scalar_log.data.topics().to_vec(), data.into());
    let before = config;
    config.apply_log(&scalar_log, true).unwrap();
    assert_eq!(config, before);
    // an unknown update type, a wrong version or a foreign event are errors
    let mut unknown = update_log(&mut rng, 2);
    let mut topics = unknown.data.topics().to_vec();
    topics[2] = B256::from(U256::from(9));
    unknown.data = LogData::new_unchecked(topics, unknown.data.data.clone());
    assert!(config.apply_log(&unknown, true).is_err());
    let mut versioned = update_log(&mut rng, 2);
    let mut topics = versioned.data.topics().to_vec();
    topics[1] = B256::with_last_byte(1);
    versioned.data = LogData::new_unchecked(topics, versioned.data.data.clone());
    assert!(config.apply_log(&versioned, true).is_err());
    // a failed transaction's logs do not count
    let receipt = Receipt {
        status: Eip658Value::Eip658(false),
        cumulative_gas_used: 0,
        logs: vec![update_log(&mut rng, 0)],
    };
    assert!(!config.apply_receipts(&[receipt], CONTRACT, true).unwrap());
    assert_eq!(config, before);
}
