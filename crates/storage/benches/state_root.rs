//! State-root cost per block as the state grows: a block that changes a fixed number of accounts
//! is written over states of 10k, 100k and 1M accounts. Prints milliseconds per block (median).
//!
//! `cargo bench -p lockstep-storage --bench state_root [-- CHANGED_PER_BLOCK]`

#![allow(missing_docs, clippy::unwrap_used)]

use alloy_primitives::{Address, B256, U256};
use lockstep_storage::{test_utils::temp_database, Account, ChainProvider, StateChanges};
use rand::{rngs::StdRng, Rng, SeedableRng};
use std::time::Instant;

const CHAIN: u64 = 901;
const BLOCKS: usize = 15;

fn account(rng: &mut StdRng) -> Account {
    Account {
        nonce: rng.random_range(0..100),
        balance: U256::from(rng.random::<u64>()),
        code_hash: alloy_trie::KECCAK_EMPTY,
    }
}

fn main() {
    let changed: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(1000);
    println!(
        "state root: {changed} accounts changed per block (plus 4 storage slots each for 1 in 10)"
    );
    println!("{:>10} {:>14} {:>14} {:>12}", "accounts", "ms/block p50", "ms/block min", "build s");
    for size in [10_000usize, 100_000, 1_000_000] {
        let db = temp_database();
        let mut rng = StdRng::seed_from_u64(size as u64);
        let addresses: Vec<Address> =
            (0..size).map(|_| Address::from(rng.random::<[u8; 20]>())).collect();
        let start = Instant::now();
        for chunk in addresses.chunks(100_000) {
            let tx = db.env.tx_mut().unwrap();
            let mut changes = StateChanges::default();
            for address in chunk {
                changes.accounts.insert(*address, Some(account(&mut rng)));
            }
            ChainProvider::new(&tx, CHAIN).write_state(0, &changes).unwrap();
            tx.commit().unwrap();
        }
        let build = start.elapsed().as_secs_f64();
        let mut times = Vec::with_capacity(BLOCKS);
        for block in 1..=BLOCKS as u64 {
            let mut changes = StateChanges::default();
            for i in 0..changed {
                let address = addresses[rng.random_range(0..size)];
                changes.accounts.insert(address, Some(account(&mut rng)));
                if i % 10 == 0 {
                    let slots = changes.storage.entry(address).or_default();
                    for _ in 0..4 {
                        slots.insert(
                            B256::from(rng.random::<[u8; 32]>()),
                            U256::from(rng.random::<u32>() | 1),
                        );
                    }
                }
            }
            let tx = db.env.tx_mut().unwrap();
            let start = Instant::now();
            ChainProvider::new(&tx, CHAIN).write_state(block, &changes).unwrap();
            tx.commit().unwrap();
            times.push(start.elapsed().as_secs_f64() * 1e3);
        }
        times.sort_by(f64::total_cmp);
        println!(
            "{:>10} {:>14.2} {:>14.2} {:>12.1}",
            size,
            times[times.len() / 2],
            times[0],
            build
        );
    }
}
