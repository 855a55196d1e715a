//! Stateless execution throughput: blocks re-executed from their execution witnesses (sparse
//! trie reads, the state root over the sparse trie) beside the same blocks executed over MDBX
//! (plain-state reads, the incremental stored trie), in one run. Prints Mgas/s for both (median
//! of several passes) and their ratio:
//! - the five real OP Sepolia blocks of `testdata/op-sepolia`; over MDBX each runs on a database
//!   holding what the block reads (its trie holds only those accounts, so its root is not the
//!   real one: the timing is what is compared);
//! - generated blocks (the execution bench's mix), over MDBX with a durable commit per block, and
//!   then each from the witness the node would serve for it.
//!
//! `cargo bench -p lockstep-execution --bench stateless [-- BLOCKS TXS_PER_BLOCK]`

#![allow(missing_docs, clippy::unwrap_used)]

use alloy_primitives::{Address, B256, U256};
use lockstep_chainspec::{ChainSpec, Genesis};
use lockstep_execution::{
    execute_stateless, execution_witness,
    test_utils::{test_chain_spec, BlockGenerator},
    ChainExecutor, StatelessBlock, WitnessDatabase,
};
use lockstep_storage::{
    test_utils::temp_database, Account, ChainProvider, StateChanges, StoredBlock, WitnessNodes,
};
use revm::{bytecode::Bytecode, database_interface::DatabaseRef, state::AccountInfo};
use std::{cell::RefCell, io::Read, sync::Arc, time::Instant};

const PASSES: usize = 5;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Records what a run reads, to fill a database with exactly that.
#[derive(Debug)]
struct Recording<'a, 'w> {
    inner: &'a WitnessDatabase<'w>,
    changes: RefCell<StateChanges>,
}

impl DatabaseRef for Recording<'_, '_> {
    type Error = lockstep_storage::DatabaseError;
    fn basic_ref(&self, address: Address) -> Result<Option<AccountInfo>, Self::Error> {
        let info = self.inner.basic_ref(address)?;
        if let Some(info) = &info {
            self.changes.borrow_mut().accounts.insert(address, Some(Account::from(info)));
        }
        Ok(info)
    }
    fn code_by_hash_ref(&self, hash: B256) -> Result<Bytecode, Self::Error> {
        let code = self.inner.code_by_hash_ref(hash)?;
        self.changes.borrow_mut().contracts.push((hash, code.original_bytes().to_vec()));
        Ok(code)
    }
    fn storage_ref(&self, address: Address, slot: U256) -> Result<U256, Self::Error> {
        let value = self.inner.storage_ref(address, slot)?;
        let mut changes = self.changes.borrow_mut();
        changes.storage.entry(address).or_default().insert(B256::from(slot), value);
        Ok(value)
    }
    fn block_hash_ref(&self, number: u64) -> Result<B256, Self::Error> {
        self.inner.block_hash_ref(number)
    }
}

fn real_block(number: u64) -> StatelessBlock {
    let path =
        format!("{}/../../testdata/op-sepolia/block-{number}.json.gz", env!("CARGO_MANIFEST_DIR"));
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap()).read_to_end(&mut raw).unwrap();
    StatelessBlock::from_slice(&raw).unwrap()
}

/// Seconds to execute `input` statelessly, and its gas.
fn time_stateless(input: &StatelessBlock) -> (f64, u64) {
    let start = Instant::now();
    let block = execute_stateless(input).unwrap();
    (start.elapsed().as_secs_f64(), block.header.gas_used)
}

/// Seconds to execute the real block `input` over MDBX holding what it reads.
fn time_real_over_mdbx(input: &StatelessBlock) -> f64 {
    // what the block reads, from one stateless run
    let nodes = WitnessNodes::new(input.witness.state.iter().map(|n| n.to_vec()));
    let parent = &input.parent_header;
    let parent_hash = parent.hash_slow();
    let db = WitnessDatabase::new(&nodes, &input.witness, parent, parent_hash).unwrap();
    let recording = Recording { inner: &db, changes: RefCell::new(StateChanges::default()) };
    let rollup = &input.rollup_config;
    let header =
        lockstep_execution::next_header(rollup, parent, parent_hash, &input.payload_attributes)
            .unwrap();
    lockstep_execution::execute_transactions(rollup, header, &input.payload_attributes, &recording)
        .unwrap();
    let pre = recording.changes.into_inner();
    let chain = rollup.l2_chain_id.id();
    let spec = ChainSpec { rollup: rollup.clone(), genesis: Genesis::default() };
    let executor = ChainExecutor::new(Arc::new(spec));
    let database = temp_database();
    let tx = database.env.tx_mut().unwrap();
    let provider = ChainProvider::new(&tx, chain);
    provider.write_state(parent.number, &pre).unwrap();
    let block = StoredBlock {
        hash: parent_hash,
        header: parent.clone(),
        transactions: vec![],
        receipts: vec![],
    };
    provider.write_block(&block).unwrap();
    tx.commit().unwrap();
    let start = Instant::now();
    let tx = database.env.tx_mut().unwrap();
    executor.execute(&tx, &input.payload_attributes).unwrap();
    tx.commit().unwrap();
    start.elapsed().as_secs_f64()
}

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| !a.starts_with("--"));
    let blocks: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(60);
    let txs: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100);

    println!("stateless execution vs MDBX, {PASSES} passes, median");
    println!(
        "{:<28} {:>8} {:>14} {:>14} {:>8}",
        "block", "Mgas", "stateless Mgas/s", "MDBX Mgas/s", "ratio"
    );
    let (mut all_gas, mut all_stateless, mut all_mdbx) = (0u64, 0f64, 0f64);
    for number in [26207960u64, 26207961, 26207962, 26207963, 26208858] {
        let input = real_block(number);
        let (mut stateless, mut mdbx, mut gas) = (Vec::new(), Vec::new(), 0);
        for _ in 0..PASSES {
            let (secs, used) = time_stateless(&input);
            gas = used;
            stateless.push(secs);
            mdbx.push(time_real_over_mdbx(&input));
        }
        let (s, m) = (median(stateless), median(mdbx));
        all_gas += gas;
        all_stateless += s;
        all_mdbx += m;
        let mgas = gas as f64 / 1e6;
        println!(
            "{:<28} {:>8.2} {:>14.1} {:>14.1} {:>8.2}",
            format!("op-sepolia {number}"),
            mgas,
            mgas / s,
            mgas / m,
            m / s
        );
    }
    let mgas = all_gas as f64 / 1e6;
    println!(
        "{:<28} {:>8.2} {:>14.1} {:>14.1} {:>8.2}",
        "op-sepolia, all five",
        mgas,
        mgas / all_stateless,
        mgas / all_mdbx,
        all_mdbx / all_stateless
    );

    // generated blocks: over MDBX as the node runs them, then each from its witness
    let spec = Arc::new(test_chain_spec(901, 256));
    let executor = ChainExecutor::new(spec.clone());
    let mut generator = BlockGenerator::new(901, 256, 42);
    generator.max_txs = txs;
    let attrs: Vec<_> = (0..blocks).map(|_| generator.next_attributes()).collect();
    let (mut stateless, mut mdbx, mut gas) = (Vec::new(), Vec::new(), 0);
    for _ in 0..PASSES {
        let database = temp_database();
        let tx = database.env.tx_mut().unwrap();
        executor.init_genesis(&tx).unwrap();
        tx.commit().unwrap();
        gas = 0;
        let start = Instant::now();
        for attr in &attrs {
            let tx = database.env.tx_mut().unwrap();
            gas += executor.execute(&tx, attr).unwrap().block.header.gas_used;
            tx.commit().unwrap();
        }
        mdbx.push(start.elapsed().as_secs_f64());
        let tx = database.env.tx().unwrap();
        let inputs: Vec<StatelessBlock> = (1..=blocks as u64)
            .map(|n| {
                let w = execution_witness(&spec.rollup, &tx, 901, n).unwrap();
                StatelessBlock {
                    chain_id: None,
                    rollup_config: spec.rollup.clone(),
                    parent_hash: None,
                    parent_header: w.parent,
                    payload_attributes: w.attributes,
                    witness: w.witness,
                    expected: None,
                }
            })
            .collect();
        let start = Instant::now();
        for input in &inputs {
            execute_stateless(input).unwrap();
        }
        stateless.push(start.elapsed().as_secs_f64());
    }
    let (s, m) = (median(stateless), median(mdbx));
    let mgas = gas as f64 / 1e6;
    println!(
        "{:<28} {:>8.2} {:>14.1} {:>14.1} {:>8.2}",
        format!("generated, {blocks} blocks"),
        mgas,
        mgas / s,
        mgas / m,
        m / s
    );
    println!("(ratio: MDBX seconds / stateless seconds; above 1 means stateless is faster)");
}
