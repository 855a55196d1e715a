//! Historical state reads 8,000 blocks back: through the history index (one seek in the index,
//! one among the changed block's changes) against the walk of every later block's changeset
//! that the index replaced, over the same database in one run.
//!
//! The chain: 8,200 blocks over 20,000 accounts; each block changes 2 hot accounts (as the
//! fee vaults and the L1 block contract change every block), 30 random others, and 60 slots
//! of 5 contracts. Read after block `head - 8000`: a hot account (its next change is the next
//! block: the walk's best case), a cold account (never changed since: the walk's worst case,
//! every changeset), random accounts, and slots. Prints microseconds per read (median).
//!
//! `cargo bench -p lockstep-storage --bench history [-- BLOCKS_BACK]`

#![allow(missing_docs, clippy::unwrap_used)]

use alloy_primitives::{Address, B256, U256};
use lockstep_storage::{test_utils::temp_database, Account, ChainProvider, StateChanges};
use rand::{rngs::StdRng, Rng, SeedableRng};
use std::time::Instant;

const CHAIN: u64 = 901;
const BLOCKS: u64 = 8_200;
const ACCOUNTS: usize = 20_000;

fn account(rng: &mut StdRng) -> Account {
    Account {
        nonce: rng.random_range(0..100),
        balance: U256::from(rng.random::<u64>()),
        code_hash: alloy_trie::KECCAK_EMPTY,
    }
}

fn median_us(mut f: impl FnMut() -> u64, reads: usize) -> (f64, u64) {
    let mut times = Vec::with_capacity(reads);
    let mut check = 0u64;
    for _ in 0..reads {
        let start = Instant::now();
        check = check.wrapping_add(f());
        times.push(start.elapsed().as_secs_f64() * 1e6);
    }
    times.sort_by(f64::total_cmp);
    (times[times.len() / 2], check)
}

fn main() {
    let back: u64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(8_000);
    let db = temp_database();
    let mut rng = StdRng::seed_from_u64(1);
    let addresses: Vec<Address> =
        (0..ACCOUNTS).map(|i| Address::left_padding_from(&(i as u64 + 1).to_be_bytes())).collect();
    let contracts: Vec<Address> = (0..5).map(|i| Address::repeat_byte(0xc0 + i)).collect();
    let (hot, cold) = (addresses[0], addresses[ACCOUNTS - 1]);
    let start = Instant::now();
    let mut tx = db.env.tx_mut().unwrap();
    let mut genesis = StateChanges::default();
    for address in addresses.iter().chain(&contracts) {
        genesis.accounts.insert(*address, Some(account(&mut rng)));
    }
    ChainProvider::new(&tx, CHAIN).write_state(0, &genesis).unwrap();
    for number in 1..=BLOCKS {
        let mut changes = StateChanges::default();
        for address in [hot, addresses[1]] {
            changes.accounts.insert(address, Some(account(&mut rng)));
        }
        for _ in 0..30 {
            // the cold account is never among them
            let address = addresses[rng.random_range(2..ACCOUNTS - 1)];
            changes.accounts.insert(address, Some(account(&mut rng)));
        }
        for _ in 0..60 {
            let contract = contracts[rng.random_range(0..contracts.len())];
            let slot = B256::from(U256::from(rng.random_range(0..500u64)));
            changes.storage.entry(contract).or_default().insert(slot, U256::from(number));
        }
        ChainProvider::new(&tx, CHAIN).write_state(number, &changes).unwrap();
        let block = lockstep_storage::StoredBlock {
            hash: B256::from(U256::from(number)),
            header: alloy_consensus::Header { number, ..Default::default() },
            transactions: vec![],
            receipts: vec![],
        };
        ChainProvider::new(&tx, CHAIN).write_block(&block).unwrap();
        if number % 500 == 0 {
            tx.commit().unwrap();
            tx = db.env.tx_mut().unwrap();
        }
    }
    tx.commit().unwrap();
    let build = start.elapsed().as_secs_f64();
    let at = BLOCKS - back;
    println!(
        "historical reads after block {at}, {back} blocks behind the head {BLOCKS} ({ACCOUNTS} \
         accounts, built in {build:.1} s); microseconds per read, median"
    );
    println!("{:<22} {:>12} {:>12} {:>9}", "read", "index us", "walk us", "ratio");
    let tx = db.env.tx().unwrap();
    let provider = ChainProvider::new(&tx, CHAIN);
    let balance = |a: Option<Account>| a.map_or(0, |a| a.balance.to::<u64>());
    let slot = B256::from(U256::from(7));
    let mut pick = StdRng::seed_from_u64(2);
    let randoms: Vec<Address> =
        (0..200).map(|_| addresses[pick.random_range(0..ACCOUNTS)]).collect();
    let cases: Vec<(&str, Vec<Address>, usize)> = vec![
        ("hot account", vec![hot], 200),
        ("cold account", vec![cold], 20),
        ("random accounts", randoms, 200),
    ];
    for (name, list, reads) in cases {
        let mut i = 0;
        let (index, x) = median_us(
            || {
                i += 1;
                balance(provider.account_at(list[i % list.len()], at).unwrap())
            },
            reads,
        );
        let mut i = 0;
        let (walk, y) = median_us(
            || {
                i += 1;
                balance(provider.account_at_by_changesets(list[i % list.len()], at).unwrap())
            },
            reads.min(20),
        );
        let same = if reads.min(20) == reads { x == y } else { true };
        assert!(same, "{name}: the index and the walk disagree");
        println!("{name:<22} {index:>12.1} {walk:>12.1} {:>8.0}x", walk / index);
    }
    let (index, x) =
        median_us(|| provider.storage_at(contracts[0], slot, at).unwrap().to::<u64>(), 200);
    let (walk, y) = median_us(
        || provider.storage_at_by_changesets(contracts[0], slot, at).unwrap().to::<u64>(),
        20,
    );
    assert_eq!(x / 200, y / 20, "slot: the index and the walk disagree");
    println!("{:<22} {index:>12.1} {walk:>12.1} {:>8.0}x", "contract slot", walk / index);
}
