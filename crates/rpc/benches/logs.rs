//! `eth_getLogs` over 10,000 blocks none of whose logs match: skipping by the header's bloom
//! (what the server does) against decoding every receipt and testing every log (what it did
//! before), over the same database in one run.
//!
//! Two kinds of block: empty (the L1 info deposit alone, no logs, a zero bloom) and busy (that
//! deposit and 8 user receipts of 2 logs each, from addresses the filter does not name).
//! Prints milliseconds per call (median of 7).
//!
//! `cargo bench -p lockstep-rpc --bench logs`

#![allow(missing_docs, clippy::unwrap_used)]

use alloy_consensus::{Eip658Value, Receipt, ReceiptWithBloom, TxReceipt};
use alloy_primitives::{Address, Bloom, Log, LogData, B256};
use lockstep_storage::{ChainProvider, DatabaseEnv, DatabaseMode, StoredBlock};
use op_alloy_consensus::{OpDepositReceipt, OpReceiptEnvelope};
use serde_json::json;
use std::{sync::Arc, time::Instant};

const CHAIN: u64 = 901;
const BLOCKS: u64 = 10_000;

fn receipts(busy: bool, number: u64) -> Vec<OpReceiptEnvelope> {
    let deposit = OpDepositReceipt {
        inner: Receipt {
            status: Eip658Value::Eip658(true),
            cumulative_gas_used: 50_000,
            logs: vec![],
        },
        deposit_nonce: Some(number),
        deposit_receipt_version: Some(1),
    };
    let mut out =
        vec![OpReceiptEnvelope::Deposit(ReceiptWithBloom::new(deposit.clone(), deposit.bloom()))];
    if busy {
        for i in 0..8u8 {
            let log = |k: u8| Log {
                address: Address::repeat_byte(0x10 + i),
                data: LogData::new_unchecked(
                    vec![B256::repeat_byte(k), B256::with_last_byte(i)],
                    vec![k; 64].into(),
                ),
            };
            let user = Receipt {
                status: Eip658Value::Eip658(true),
                cumulative_gas_used: 50_000 + 60_000 * u64::from(i + 1),
                logs: vec![log(1), log(2)],
            };
            out.push(OpReceiptEnvelope::Eip1559(ReceiptWithBloom::new(user.clone(), user.bloom())));
        }
    }
    out
}

fn build(busy: bool) -> (tempfile::TempDir, Arc<DatabaseEnv>) {
    let dir = tempfile::tempdir().unwrap();
    let env = DatabaseEnv::open(dir.path(), DatabaseMode::ReadWrite).unwrap();
    let tx = env.tx_mut().unwrap();
    let provider = ChainProvider::new(&tx, CHAIN);
    for number in 0..=BLOCKS {
        let receipts = receipts(busy, number);
        let mut bloom = Bloom::ZERO;
        for r in &receipts {
            bloom.accrue_bloom(&r.bloom());
        }
        let header = alloy_consensus::Header { number, logs_bloom: bloom, ..Default::default() };
        let block =
            StoredBlock { hash: header.hash_slow(), header, transactions: vec![], receipts };
        provider.write_block(&block).unwrap();
    }
    tx.commit().unwrap();
    (dir, Arc::new(env))
}

fn median_ms(mut f: impl FnMut()) -> f64 {
    let mut times: Vec<f64> = (0..7)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[3]
}

fn main() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let wanted = Address::repeat_byte(0xee);
    println!("eth_getLogs for address {wanted} over blocks 1..={BLOCKS}, no log matching");
    println!("{:<8} {:>12} {:>12} {:>9}", "blocks", "bloom ms", "decode ms", "ratio");
    for busy in [false, true] {
        let (_dir, env) = build(busy);
        let rollup = lockstep_devnet::DevnetConfig::default().rollup_config(CHAIN);
        let module = lockstep_rpc::eth_module(
            env.clone(),
            Arc::new(lockstep_rpc::LiveStatus::default()),
            CHAIN,
            Arc::new(rollup),
            lockstep_rpc::EthLimits::default(),
            &lockstep_rpc::CallPool::default(),
        )
        .unwrap();
        let request = json!({"jsonrpc": "2.0", "id": 1, "method": "eth_getLogs", "params": [
            {"fromBlock": "0x1", "toBlock": format!("0x{BLOCKS:x}"), "address": wanted}
        ]})
        .to_string();
        let bloom = median_ms(|| {
            let (answer, _) = runtime.block_on(module.raw_json_request(&request, 1)).unwrap();
            assert_eq!(answer.get(), r#"{"jsonrpc":"2.0","id":1,"result":[]}"#);
        });
        let decode = median_ms(|| {
            let tx = env.tx().unwrap();
            let provider = ChainProvider::new(&tx, CHAIN);
            let mut found = 0usize;
            for number in 1..=BLOCKS {
                let receipts = provider.receipts(number).unwrap();
                found += receipts
                    .iter()
                    .flat_map(|r| r.logs())
                    .filter(|log| log.address == wanted)
                    .count();
            }
            assert_eq!(found, 0);
        });
        let kind = if busy { "busy" } else { "empty" };
        println!("{kind:<8} {bloom:>12.2} {decode:>12.2} {:>8.1}x", decode / bloom);
    }
}
