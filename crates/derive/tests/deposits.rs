//! User deposits from `TransactionDeposited` logs, against kona-protocol 0.4.5 as an oracle on
//! random well-formed logs and on mutated ones. Where kona departs from op-node (it reads only
//! the low 8 bytes of the offset and length words, and refuses addresses with non-zero upper
//! topic bytes), the op-node reading is asserted; a mint above 2^128, which no real portal can
//! emit, kona truncates and we refuse (op-node would keep the big integer).

#![allow(clippy::unwrap_used)]

use alloy_consensus::{Eip658Value, Receipt, ReceiptEnvelope, ReceiptWithBloom};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, Bytes, Log, LogData, B256, U256};
use lockstep_derive::deposits::{decode_deposit_log, user_deposits, DEPOSIT_EVENT_TOPIC};
use op_alloy_consensus::OpTxEnvelope;
use rand::{rngs::StdRng, Rng, SeedableRng};

/// The log the deposit contract emits, ABI-encoded by hand from the deposit spec.
fn deposit_log(rng: &mut StdRng, portal: Address) -> Log {
    let mut opaque = Vec::new();
    opaque.extend_from_slice(&U256::from(rng.random::<u64>()).to_be_bytes::<32>()); // mint
    opaque.extend_from_slice(&U256::from(rng.random::<u64>()).to_be_bytes::<32>()); // value
    opaque.extend_from_slice(&rng.random_range(21_000u64..10_000_000).to_be_bytes()); // gas
    opaque.push(u8::from(rng.random_bool(0.2))); // isCreation
    let len = rng.random_range(0..100);
    opaque.extend((0..len).map(|_| rng.random::<u8>()));
    let mut data = U256::from(32).to_be_bytes::<32>().to_vec();
    data.extend_from_slice(&U256::from(opaque.len()).to_be_bytes::<32>());
    data.extend_from_slice(&opaque);
    data.resize(64 + opaque.len().div_ceil(32) * 32, 0);
    let topics = vec![
        DEPOSIT_EVENT_TOPIC,
        Address::from(rng.random::<[u8; 20]>()).into_word(),
        Address::from(rng.random::<[u8; 20]>()).into_word(),
        B256::ZERO,
    ];
    Log { address: portal, data: LogData::new_unchecked(topics, data.into()) }
}

fn ours(hash: B256, index: u64, log: &Log) -> Option<Vec<u8>> {
    let deposit = decode_deposit_log(hash, index, log).ok()?;
    Some(OpTxEnvelope::Deposit(alloy_consensus::Sealed::new(deposit)).encoded_2718())
}

fn kona(hash: B256, index: u64, log: &Log) -> Option<Vec<u8>> {
    kona_protocol::decode_deposit(hash, index as usize, log).ok().map(|b: Bytes| b.to_vec())
}

#[test]
fn deposits_agree_with_kona_on_random_and_mutated_logs() {
    let mut rng = StdRng::seed_from_u64(7);
    let portal = Address::repeat_byte(0x11);
    let hash = B256::repeat_byte(0x22);
    let (mut agreed, mut refused, mut op_node_way) = (0, 0, 0);
    for round in 0..600u64 {
        let mut log = deposit_log(&mut rng, portal);
        if round % 2 == 1 {
            let mut data = log.data.data.to_vec();
            let mut topics = log.data.topics().to_vec();
            match rng.random_range(0..5) {
                0 => {
                    let at = rng.random_range(0..data.len());
                    data[at] ^= 1 << rng.random_range(0..8);
                }
                1 => data.truncate(rng.random_range(0..data.len())),
                2 => data.extend_from_slice(&[0u8; 32]),
                3 => {
                    let at = rng.random_range(0..4);
                    topics[at].0[rng.random_range(0..32)] ^= 1;
                }
                _ => topics.pop().map(drop).unwrap_or(()),
            }
            log.data = LogData::new_unchecked(topics, data.into());
        }
        let (a, b) = (ours(hash, round, &log), kona(hash, round, &log));
        if a == b {
            if a.is_some() {
                agreed += 1
            } else {
                refused += 1
            }
            continue;
        }
        // the known departures, read the op-node way
        let data = log.data.data.as_ref();
        let topics = log.data.topics();
        let high_word_bytes = data.len() >= 64
            && (data[..24].iter().any(|b| *b != 0) || data[32..56].iter().any(|b| *b != 0));
        let huge_mint = data.len() >= 80 && data[64..80].iter().any(|b| *b != 0);
        let upper_topic_bytes =
            topics.len() == 4 && topics[1..3].iter().any(|t| t[..12].iter().any(|b| *b != 0));
        if high_word_bytes {
            assert!(a.is_none(), "round {round}: op-node refuses a word that is not a uint64");
        } else if huge_mint {
            assert!(a.is_none(), "round {round}: a mint over 128 bits is refused");
        } else if upper_topic_bytes {
            assert!(a.is_some() && b.is_none(), "round {round}: op-node takes the low 20 bytes");
        } else {
            panic!("round {round}: ours {a:?} kona {b:?}");
        }
        op_node_way += 1;
    }
    assert!(agreed > 300 && refused > 50, "{agreed} {refused} {op_node_way}");
}

#[test]
fn only_the_portals_logs_in_successful_receipts_count_with_the_blocks_log_index() {
    let mut rng = StdRng::seed_from_u64(8);
    let portal = Address::repeat_byte(0x11);
    let hash = B256::repeat_byte(0x33);
    let receipt = |status: bool, logs: Vec<Log>| {
        let inner = Receipt { status: Eip658Value::Eip658(status), cumulative_gas_used: 1, logs };
        ReceiptEnvelope::Eip1559(ReceiptWithBloom::new(inner.clone(), inner.bloom_slow()))
    };
    let first = deposit_log(&mut rng, portal);
    let elsewhere = deposit_log(&mut rng, Address::repeat_byte(0x99));
    let failed = deposit_log(&mut rng, portal);
    let third = deposit_log(&mut rng, portal);
    let receipts = vec![
        receipt(true, vec![first.clone(), elsewhere]),
        receipt(false, vec![failed]),
        receipt(true, vec![third.clone()]),
    ];
    let deposits = user_deposits(hash, &receipts, portal).unwrap();
    assert_eq!(deposits.len(), 2);
    // log indices count every log of the block: 0, then 3
    assert_eq!(deposits[0], decode_deposit_log(hash, 0, &first).unwrap());
    assert_eq!(deposits[1], decode_deposit_log(hash, 3, &third).unwrap());
    assert_eq!(
        OpTxEnvelope::Deposit(alloy_consensus::Sealed::new(deposits[1].clone())).encoded_2718(),
        kona(hash, 3, &third).unwrap()
    );
}
