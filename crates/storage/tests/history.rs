//! Historical state through the history indices, checked against a model kept in memory (the
//! state after every block, written down as the blocks are made) and against the slow walk of
//! every later changeset; and pruning, which keeps every read inside the kept window exact and
//! refuses the rest.

#![allow(clippy::unwrap_used)]

use alloy_consensus::Header;
use alloy_primitives::{Address, B256, U256};
use lockstep_storage::{
    test_utils::temp_database, Account, ChainProvider, DatabaseEnv, StateChanges, StoredBlock,
};
use rand::{rngs::StdRng, Rng, SeedableRng};
use std::collections::BTreeMap;

const CHAIN: u64 = 10;
const BLOCKS: u64 = 300;

type Accounts = BTreeMap<Address, Option<Account>>;
type Slots = BTreeMap<(Address, B256), U256>;

/// Writes `BLOCKS` blocks of random changes to 12 accounts and 8 slots of each; returns the
/// state after each block, as the model saw it.
fn build(env: &DatabaseEnv) -> Vec<(Accounts, Slots)> {
    let mut rng = StdRng::seed_from_u64(7);
    let addresses: Vec<Address> = (1..=12).map(Address::with_last_byte).collect();
    let slots: Vec<B256> = (1..=8).map(B256::with_last_byte).collect();
    let mut accounts: Accounts = addresses.iter().map(|a| (*a, None)).collect();
    let mut storage = Slots::new();
    let mut after = Vec::new();
    for number in 0..=BLOCKS {
        let mut changes = StateChanges::default();
        for address in &addresses {
            if rng.random_bool(0.3) {
                let account = rng.random_bool(0.9).then(|| Account {
                    nonce: rng.random_range(0..100),
                    balance: U256::from(rng.random_range(0..1_000_000u64)),
                    code_hash: alloy_trie::KECCAK_EMPTY,
                });
                changes.accounts.insert(*address, account);
            }
            // storage only on accounts that exist after the block
            let exists =
                changes.accounts.get(address).copied().unwrap_or_else(|| accounts[address]);
            if exists.is_some() {
                for slot in &slots {
                    if rng.random_bool(0.15) {
                        let value = U256::from(rng.random_range(0..3u64));
                        changes.storage.entry(*address).or_default().insert(*slot, value);
                    }
                }
            }
        }
        let tx = env.tx_mut().unwrap();
        let provider = ChainProvider::new(&tx, CHAIN);
        provider.write_state(number, &changes).unwrap();
        let header = Header { number, ..Header::default() };
        let block = StoredBlock {
            hash: B256::from(U256::from(number + 1)),
            header,
            transactions: vec![],
            receipts: vec![],
        };
        provider.write_block(&block).unwrap();
        tx.commit().unwrap();
        for (address, account) in &changes.accounts {
            accounts.insert(*address, *account);
            if account.is_none() {
                storage.retain(|(a, _), _| a != address);
            }
        }
        for (address, values) in &changes.storage {
            if accounts[address].is_none() {
                continue;
            }
            for (slot, value) in values {
                if value.is_zero() {
                    storage.remove(&(*address, *slot));
                } else {
                    storage.insert((*address, *slot), *value);
                }
            }
        }
        after.push((accounts.clone(), storage.clone()));
    }
    after
}

fn check_reads(env: &DatabaseEnv, model: &[(Accounts, Slots)], from: u64) {
    let tx = env.tx().unwrap();
    let provider = ChainProvider::new(&tx, CHAIN);
    let mut reads = 0;
    for number in from..=BLOCKS {
        let (accounts, storage) = &model[number as usize];
        for (address, account) in accounts {
            let indexed = provider.account_at(*address, number).unwrap();
            assert_eq!(indexed, *account, "account {address} after block {number}");
            if from == 0 {
                let walked = provider.account_at_by_changesets(*address, number).unwrap();
                assert_eq!(walked, *account, "walk: account {address} after block {number}");
            }
            for slot in (1..=8).map(B256::with_last_byte) {
                let expected = storage.get(&(*address, slot)).copied().unwrap_or_default();
                let indexed = provider.storage_at(*address, slot, number).unwrap();
                assert_eq!(indexed, expected, "slot {slot} of {address} after block {number}");
                reads += 1;
            }
        }
    }
    assert!(reads >= 8 * 12 * (BLOCKS - from) as usize, "{reads}");
}

#[test]
fn state_at_every_block_through_the_index_equals_the_model_and_the_changeset_walk() {
    let db = temp_database();
    let model = build(&db.env);
    check_reads(&db.env, &model, 0);
}

#[test]
fn pruning_keeps_the_window_exact_and_refuses_what_it_removed() {
    let db = temp_database();
    let model = build(&db.env);
    let tx = db.env.tx_mut().unwrap();
    let provider = ChainProvider::new(&tx, CHAIN);
    // in steps, as the node prunes a little after each L1 block
    assert_eq!(provider.prune_history(200, 64).unwrap(), 64);
    assert_eq!(provider.prune_history(200, 64).unwrap(), 128);
    assert_eq!(provider.prune_history(200, 1_000).unwrap(), 200);
    assert_eq!(provider.prune_history(150, 1_000).unwrap(), 200, "pruning never goes back");
    tx.commit().unwrap();
    // state after block 199 needs the changesets from block 200 on: all kept
    check_reads(&db.env, &model, 199);
    let tx = db.env.tx_mut().unwrap();
    let provider = ChainProvider::new(&tx, CHAIN);
    assert_eq!(provider.history_start().unwrap(), 200);
    let err = provider.unwind_to(150).unwrap_err();
    assert!(err.to_string().contains("pruned"), "{err}");
    // an unwind inside the window still restores the exact state
    provider.unwind_to(250).unwrap();
    tx.commit().unwrap();
    let tx = db.env.tx().unwrap();
    let provider = ChainProvider::new(&tx, CHAIN);
    let (accounts, storage) = &model[250];
    for (address, account) in accounts {
        assert_eq!(provider.account(*address).unwrap(), *account);
        assert_eq!(provider.account_at(*address, 220).unwrap(), model[220].0[address]);
    }
    for ((address, slot), value) in storage {
        assert_eq!(provider.storage(*address, *slot).unwrap(), *value);
    }
    // the index has no entries left for pruned or unwound blocks
    let entries = |tx: &lockstep_storage::DbTx<'_, lockstep_storage::RO>| {
        tx.walk_prefix::<lockstep_storage::tables::AccountHistory>(&CHAIN.to_be_bytes()).unwrap()
    };
    assert!(entries(&tx).iter().all(|((_, _, n), ())| (200..=250).contains(n)));
}
