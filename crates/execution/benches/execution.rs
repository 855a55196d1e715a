//! Execution throughput: the same generated blocks executed over MDBX state with incremental
//! state roots and a durable commit per block, and over revm's in-memory `CacheDB`, in one run.
//! Prints Mgas/s for both (median of several passes) and their ratio, and the same blocks over
//! MDBX again on a chain with Jovian and Karst at genesis (what those forks' rules cost).
//!
//! `cargo bench -p lockstep-execution --bench execution [-- BLOCKS TXS_PER_BLOCK]`

#![allow(missing_docs, clippy::unwrap_used)]

use alloy_consensus::Header;
use lockstep_execution::{
    genesis_changes,
    test_utils::{test_chain_spec, BlockGenerator},
    ChainExecutor, OpPayloadAttributes,
};
use lockstep_storage::test_utils::temp_database;
use revm::{
    database::{CacheDB, EmptyDB},
    state::{AccountInfo, Bytecode},
};
use std::{sync::Arc, time::Instant};

const CHAIN: u64 = 901;
const ACCOUNTS: usize = 256;
const PASSES: usize = 5;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn genesis_cache(executor: &ChainExecutor) -> CacheDB<EmptyDB> {
    let changes = genesis_changes(executor.spec());
    let mut db = CacheDB::new(EmptyDB::default());
    for (hash, code) in &changes.contracts {
        db.cache.contracts.insert(*hash, Bytecode::new_raw(code.clone().into()));
    }
    for (address, account) in &changes.accounts {
        let account = account.unwrap();
        let mut info: AccountInfo = account.into();
        if account.has_code() {
            info.code = db.cache.contracts.get(&account.code_hash).cloned();
        }
        db.insert_account_info(*address, info);
        for (slot, value) in changes.storage.get(address).into_iter().flatten() {
            db.insert_account_storage(*address, (*slot).into(), *value).unwrap();
        }
    }
    db
}

/// Runs every block over MDBX; returns (seconds, gas, headers before execution).
fn run_mdbx(executor: &ChainExecutor, attrs: &[OpPayloadAttributes]) -> (f64, u64, Vec<Header>) {
    let db = temp_database();
    let tx = db.env.tx_mut().unwrap();
    executor.init_genesis(&tx).unwrap();
    tx.commit().unwrap();
    let (mut gas, mut headers) = (0, Vec::with_capacity(attrs.len()));
    let start = Instant::now();
    for attr in attrs {
        let tx = db.env.tx_mut().unwrap();
        let executed = executor.execute(&tx, attr).unwrap();
        tx.commit().unwrap();
        gas += executed.block.header.gas_used;
        headers.push(executed.block.header);
    }
    (start.elapsed().as_secs_f64(), gas, headers)
}

/// Runs the same blocks over an in-memory database; returns (seconds, gas).
fn run_memory(
    executor: &ChainExecutor,
    attrs: &[OpPayloadAttributes],
    headers: &[Header],
) -> (f64, u64) {
    let mut db = genesis_cache(executor);
    let mut gas = 0;
    let start = Instant::now();
    for (attr, header) in attrs.iter().zip(headers) {
        let mut pre = header.clone();
        pre.gas_used = 0;
        let outcome = executor.execute_transactions(pre, attr, &db).unwrap();
        gas += outcome.gas_used;
        for (address, account) in outcome.bundle.state {
            match account.info {
                Some(info) => {
                    db.insert_account_info(address, info);
                    for (slot, value) in account.storage {
                        db.insert_account_storage(address, slot, value.present_value).unwrap();
                    }
                }
                None => {
                    db.cache.accounts.remove(&address);
                }
            }
        }
    }
    (start.elapsed().as_secs_f64(), gas)
}

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| !a.starts_with("--"));
    let blocks: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(40);
    let txs: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(300);
    let executor = ChainExecutor::new(Arc::new(test_chain_spec(CHAIN, ACCOUNTS)));
    let mut generator = BlockGenerator::new(CHAIN, ACCOUNTS, 42);
    generator.max_txs = txs;
    let attrs: Vec<_> = (0..blocks).map(|_| generator.next_attributes()).collect();
    println!("execution: {blocks} blocks, up to {txs} transactions each, {PASSES} passes, median");
    let (mut mdbx, mut memory) = (Vec::new(), Vec::new());
    let mut total_gas = 0;
    for _ in 0..PASSES {
        let (secs, gas, headers) = run_mdbx(&executor, &attrs);
        mdbx.push(gas as f64 / secs / 1e6);
        let (secs, mem_gas) = run_memory(&executor, &attrs, &headers);
        assert_eq!(gas, mem_gas, "both paths execute the same work");
        memory.push(gas as f64 / secs / 1e6);
        total_gas = gas;
    }
    // the same blocks under Jovian and Karst: genesis extra data of version 1, a minimum base
    // fee in every block's attributes, and Karst's precompile map and gas cap check
    let mut karst_spec = test_chain_spec(CHAIN, ACCOUNTS);
    karst_spec.rollup.hardforks.jovian_time = Some(0);
    karst_spec.rollup.hardforks.karst_time = Some(0);
    let mut extra = karst_spec.genesis.extra_data.to_vec();
    extra[0] = 1;
    extra.extend(0u64.to_be_bytes());
    karst_spec.genesis.extra_data = extra.into();
    let karst_executor = ChainExecutor::new(Arc::new(karst_spec));
    let karst_attrs: Vec<_> =
        attrs.iter().map(|a| OpPayloadAttributes { min_base_fee: Some(0), ..a.clone() }).collect();
    let mut karst = Vec::new();
    for _ in 0..PASSES {
        let (secs, gas, _) = run_mdbx(&karst_executor, &karst_attrs);
        karst.push(gas as f64 / secs / 1e6);
    }
    let karst = median(karst);
    let (mdbx, memory) = (median(mdbx), median(memory));
    println!(
        "gas per pass: {:.1} Mgas ({:.2} Mgas/block)",
        total_gas as f64 / 1e6,
        total_gas as f64 / 1e6 / blocks as f64
    );
    println!("{:<40} {:>10.1} Mgas/s", "MDBX state + state root + commit", mdbx);
    println!("{:<40} {:>10.1} Mgas/s", "in-memory revm CacheDB", memory);
    println!("{:<40} {:>10.2}", "ratio MDBX / in-memory (target >= 0.5)", mdbx / memory);
    println!("{:<40} {:>10.1} Mgas/s", "MDBX, Jovian and Karst at genesis", karst);
    println!("{:<40} {:>10.2}", "ratio Karst / Isthmus over MDBX", karst / mdbx);
}
