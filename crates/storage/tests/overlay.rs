//! Writes buffered in an overlay over a read snapshot and replayed into a write transaction land
//! exactly as the same writes made directly.

#![allow(clippy::unwrap_used)]

use alloy_primitives::{keccak256, Address, B256, U256};
use lockstep_storage::{
    tables::{
        AccountChangeSets, AccountsTrie, PlainAccounts, PlainStorage, StorageChangeSets,
        StoragesTrie,
    },
    test_utils::temp_database,
    Account, ChainProvider, DatabaseEnv, Overlay, StateChanges, TableRead,
};
use rand::{rngs::StdRng, Rng, SeedableRng};

fn random_changes(rng: &mut StdRng, block: u64) -> StateChanges {
    let mut changes = StateChanges::default();
    for _ in 0..rng.random_range(1..30) {
        let address = Address::with_last_byte(rng.random_range(0..40));
        let account = rng.random_bool(0.85).then(|| Account {
            nonce: block,
            balance: U256::from(rng.random_range(0..1_000_000u64)),
            code_hash: if rng.random_bool(0.2) {
                keccak256([block as u8])
            } else {
                alloy_trie::KECCAK_EMPTY
            },
        });
        if account.is_some_and(|a| a.code_hash != alloy_trie::KECCAK_EMPTY) {
            changes.contracts.push((keccak256([block as u8]), vec![block as u8; 3]));
        }
        changes.accounts.insert(address, account);
        if account.is_some() {
            if rng.random_bool(0.1) {
                changes.wiped.insert(address);
            }
            let slots = changes.storage.entry(address).or_default();
            for _ in 0..rng.random_range(0..6) {
                let slot = B256::with_last_byte(rng.random_range(0..10));
                let value =
                    if rng.random_bool(0.3) { U256::ZERO } else { U256::from(rng.random::<u32>()) };
                slots.insert(slot, value);
            }
        }
    }
    changes
}

/// Everything of `chain` the state writes touch.
fn dump(env: &DatabaseEnv, chain: u64) -> Vec<String> {
    let tx = env.tx().unwrap();
    let prefix = chain.to_be_bytes();
    let mut out = vec![format!("{:?}", ChainProvider::new(&tx, chain).state_root().unwrap())];
    out.extend(tx.walk_prefix::<PlainAccounts>(&prefix).unwrap().iter().map(|e| format!("{e:?}")));
    out.extend(tx.walk_prefix::<PlainStorage>(&prefix).unwrap().iter().map(|e| format!("{e:?}")));
    out.extend(
        tx.walk_prefix::<AccountChangeSets>(&prefix).unwrap().iter().map(|e| format!("{e:?}")),
    );
    out.extend(
        tx.walk_prefix::<StorageChangeSets>(&prefix).unwrap().iter().map(|e| format!("{e:?}")),
    );
    out.extend(tx.walk_prefix::<AccountsTrie>(&prefix).unwrap().iter().map(|e| format!("{e:?}")));
    out.extend(tx.walk_prefix::<StoragesTrie>(&prefix).unwrap().iter().map(|e| format!("{e:?}")));
    out
}

#[test]
fn overlay_writes_replayed_equal_direct_writes() {
    let direct = temp_database();
    let buffered = temp_database();
    let mut rng = StdRng::seed_from_u64(9);
    let mut block = 0;
    for round in 0..20 {
        // several blocks per round, as several L2 blocks per L1 block: the overlay must read
        // back its own earlier writes (plain state and trie nodes)
        let batch: Vec<StateChanges> =
            (0..rng.random_range(1..4)).map(|_| random_changes(&mut rng, block + 1)).collect();
        let tx = direct.env.tx_mut().unwrap();
        let mut direct_roots = Vec::new();
        for (i, changes) in batch.iter().enumerate() {
            direct_roots.push(
                ChainProvider::new(&tx, 7).write_state(block + 1 + i as u64, changes).unwrap(),
            );
        }
        tx.commit().unwrap();

        let snapshot = buffered.env.tx().unwrap();
        let overlay = Overlay::new(&snapshot);
        let mut buffered_roots = Vec::new();
        for (i, changes) in batch.iter().enumerate() {
            buffered_roots.push(
                ChainProvider::new(&overlay, 7).write_state(block + 1 + i as u64, changes).unwrap(),
            );
        }
        // reads through the overlay see the writes, not the snapshot
        assert_eq!(
            ChainProvider::new(&overlay, 7).state_root().unwrap(),
            *buffered_roots.last().unwrap()
        );
        let writes = overlay.into_writes();
        drop(snapshot);
        let tx = buffered.env.tx_mut().unwrap();
        writes.apply(&tx).unwrap();
        tx.commit().unwrap();
        assert_eq!(buffered_roots, direct_roots, "round {round}");
        block += batch.len() as u64;
        assert_eq!(dump(&buffered.env, 7), dump(&direct.env, 7), "round {round}");
    }
}

#[test]
fn the_overlay_reads_through_deletes_and_prefix_deletes() {
    let db = temp_database();
    let tx = db.env.tx_mut().unwrap();
    for slot in 0..5u8 {
        tx.put::<PlainStorage>(
            &(1, Address::ZERO, B256::with_last_byte(slot)),
            &U256::from(slot + 1),
        )
        .unwrap();
    }
    tx.commit().unwrap();
    let snapshot = db.env.tx().unwrap();
    let overlay = Overlay::new(&snapshot);
    use lockstep_storage::TableWrite;
    let key = |s: u8| (1u64, Address::ZERO, B256::with_last_byte(s));
    assert!(overlay.delete::<PlainStorage>(&key(1)).unwrap());
    overlay.put::<PlainStorage>(&key(9), &U256::from(99)).unwrap();
    let prefix: Vec<u8> = [1u64.to_be_bytes().as_slice(), Address::ZERO.as_slice()].concat();
    let seen: Vec<u8> = overlay
        .walk_prefix::<PlainStorage>(&prefix)
        .unwrap()
        .iter()
        .map(|((_, _, s), _)| s[31])
        .collect();
    assert_eq!(seen, vec![0, 2, 3, 4, 9]);
    assert_eq!(overlay.delete_prefix::<PlainStorage>(&prefix).unwrap(), 5);
    assert_eq!(overlay.get::<PlainStorage>(&key(2)).unwrap(), None);
    overlay.put::<PlainStorage>(&key(3), &U256::from(33)).unwrap();
    assert_eq!(overlay.walk_prefix::<PlainStorage>(&prefix).unwrap().len(), 1);
    // the snapshot itself is untouched
    assert_eq!(snapshot.walk_prefix::<PlainStorage>(&prefix).unwrap().len(), 5);
}

/// Rewinding in an overlay (for a past block's witness) restores what a real unwind restores,
/// reading every duplicate of the changesets through the overlay, and writes nothing.
#[test]
fn rewinding_in_an_overlay_equals_a_real_unwind() {
    let mut rng = StdRng::seed_from_u64(21);
    let rewound = temp_database();
    let unwound = temp_database();
    for db in [&rewound, &unwound] {
        let tx = db.env.tx_mut().unwrap();
        let provider = ChainProvider::new(&tx, 9);
        provider
            .write_block(&lockstep_storage::StoredBlock {
                hash: B256::with_last_byte(0),
                header: Default::default(),
                transactions: vec![],
                receipts: vec![],
            })
            .unwrap();
        tx.commit().unwrap();
    }
    let mut roots = vec![];
    for block in 1..=12u64 {
        let changes = random_changes(&mut rng, block);
        for db in [&rewound, &unwound] {
            let tx = db.env.tx_mut().unwrap();
            let provider = ChainProvider::new(&tx, 9);
            let root = provider.write_state(block, &changes).unwrap();
            let header = alloy_consensus::Header { number: block, ..Default::default() };
            provider
                .write_block(&lockstep_storage::StoredBlock {
                    hash: B256::with_last_byte(block as u8),
                    header,
                    transactions: vec![],
                    receipts: vec![],
                })
                .unwrap();
            tx.commit().unwrap();
            if std::ptr::eq(db, &rewound) {
                roots.push(root);
            }
        }
    }
    let before = dump(&rewound.env, 9);
    for target in [3u64, 7, 11] {
        let tx = rewound.env.tx().unwrap();
        let overlay = Overlay::new(&tx);
        let root = ChainProvider::new(&overlay, 9).rewind_state_to(target).unwrap();
        assert_eq!(root, roots[target as usize - 1], "rewound to {target}");
        // every account as it was: the same as a real unwind gives
        let utx = unwound.env.tx_mut().unwrap();
        assert_eq!(ChainProvider::new(&utx, 9).unwind_to(target).unwrap(), root);
        let expected = utx.walk_prefix::<PlainAccounts>(&9u64.to_be_bytes()).unwrap();
        assert_eq!(overlay.walk_prefix::<PlainAccounts>(&9u64.to_be_bytes()).unwrap(), expected);
        let expected = utx.walk_prefix::<StoragesTrie>(&9u64.to_be_bytes()).unwrap();
        assert_eq!(overlay.walk_prefix::<StoragesTrie>(&9u64.to_be_bytes()).unwrap(), expected);
        drop(utx);
    }
    assert_eq!(dump(&rewound.env, 9), before, "a rewind in an overlay writes nothing");
}
