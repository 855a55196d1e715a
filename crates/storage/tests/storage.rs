//! The database refuses what it cannot trust: corrupt values and other schema versions.

#![allow(clippy::unwrap_used)]

use alloy_primitives::{Address, U256};
use lockstep_storage::{
    tables::{Metadata, PlainAccounts},
    test_utils::temp_database,
    Account, ChainProvider, DatabaseEnv, DatabaseError, DatabaseMode, Table, SCHEMA_VERSION,
};

/// `PlainAccounts` seen as raw bytes, to write a value no codec would produce.
struct RawPlainAccounts;

impl Table for RawPlainAccounts {
    const NAME: &'static str = PlainAccounts::NAME;
    const DUPSORT: bool = false;
    type Key = (u64, Address);
    type Value = Vec<u8>;
}

#[test]
fn corrupt_value_is_an_error_not_a_panic() {
    let db = temp_database();
    let good = Address::repeat_byte(1);
    let bad = Address::repeat_byte(2);
    let tx = db.env.tx_mut().unwrap();
    let account = Account { nonce: 1, balance: U256::from(5), code_hash: alloy_trie::KECCAK_EMPTY };
    tx.put::<PlainAccounts>(&(7, good), &account).unwrap();
    tx.put::<RawPlainAccounts>(&(7, bad), &vec![0x85, 1, 2]).unwrap();
    tx.commit().unwrap();

    let tx = db.env.tx().unwrap();
    let provider = ChainProvider::new(&tx, 7);
    assert_eq!(provider.account(good).unwrap(), Some(account));
    let err = provider.account(bad).unwrap_err();
    assert!(matches!(err, DatabaseError::Decode { table: "PlainAccounts", .. }), "{err}");
    assert!(err.to_string().contains("corrupt PlainAccounts entry"), "{err}");
    // a walk over the corrupt entry fails the same way
    assert!(provider.all_accounts().is_err());
}

#[test]
fn other_schema_version_is_refused_and_left_unchanged() {
    let db = temp_database();
    let tx = db.env.tx_mut().unwrap();
    tx.put::<Metadata>(&"schema_version".to_string(), &99u32.to_be_bytes().to_vec()).unwrap();
    tx.put::<PlainAccounts>(&(1, Address::ZERO), &Account::default()).unwrap();
    tx.commit().unwrap();
    let path = db.dir.path().to_path_buf();
    drop(db.env);
    let before = std::fs::read(path.join("mdbx.dat")).unwrap();

    for mode in [DatabaseMode::ReadWrite, DatabaseMode::ReadOnly] {
        let err = DatabaseEnv::open(&path, mode).unwrap_err();
        assert!(
            matches!(err, DatabaseError::SchemaMismatch { found: 99, expected: SCHEMA_VERSION }),
            "{err}"
        );
        assert!(err.to_string().contains("left unchanged"));
    }
    assert_eq!(std::fs::read(path.join("mdbx.dat")).unwrap(), before, "database file changed");
}

#[test]
fn read_only_open_of_a_missing_database_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = DatabaseEnv::open(&dir.path().join("nothing"), DatabaseMode::ReadOnly).unwrap_err();
    assert!(matches!(err, DatabaseError::Missing(_)), "{err}");
}

#[test]
fn unwind_past_head_is_refused() {
    let db = temp_database();
    let tx = db.env.tx_mut().unwrap();
    let err = ChainProvider::new(&tx, 3).unwind_to(0).unwrap_err();
    assert!(err.to_string().contains("never initialised"), "{err}");
}

#[test]
fn typed_cursors_seek_walk_ranges_and_duplicates() {
    use lockstep_storage::{
        tables::{CanonicalHashes, StorageChangeSets},
        StorageBefore,
    };
    use std::ops::Bound;
    let db = temp_database();
    let tx = db.env.tx_mut().unwrap();
    for chain in [1u64, 2] {
        for number in [0u64, 1, 255, 256, 70_000] {
            let hash = alloy_primitives::B256::with_last_byte((chain * 10 + number % 7) as u8);
            tx.put::<CanonicalHashes>(&(chain, number), &hash).unwrap();
        }
    }
    for slot in [3u8, 1, 2] {
        let before = StorageBefore {
            address: Address::repeat_byte(9),
            slot: alloy_primitives::B256::with_last_byte(slot),
            value: U256::from(slot),
        };
        tx.put::<StorageChangeSets>(&(1, 5), &before).unwrap();
    }
    tx.commit().unwrap();

    let tx = db.env.tx().unwrap();
    let mut cursor = tx.cursor::<CanonicalHashes>().unwrap();
    // big-endian keys: numbers sort numerically inside a chain, chains stay apart
    assert_eq!(cursor.seek(&(1, 2)).unwrap().unwrap().0, (1, 255));
    assert_eq!(cursor.next().unwrap().unwrap().0, (1, 256));
    assert_eq!(cursor.seek_exact(&(1, 2)).unwrap(), None);
    assert_eq!(cursor.last().unwrap().unwrap().0, (2, 70_000));
    let keys: Vec<_> = cursor
        .walk_range((Bound::Excluded(&(1, 0)), Bound::Included(&(2, 0))))
        .unwrap()
        .map(|e| e.unwrap().0)
        .collect();
    assert_eq!(keys, vec![(1, 1), (1, 255), (1, 256), (1, 70_000), (2, 0)]);
    assert_eq!(cursor.walk(Some(&(2, 1))).unwrap().count(), 4);

    let mut dups = tx.cursor::<StorageChangeSets>().unwrap();
    let slots: Vec<u8> = dups.walk_dup(&(1, 5)).unwrap().map(|e| e.unwrap().1.slot.0[31]).collect();
    assert_eq!(slots, vec![1, 2, 3], "duplicates come back sorted");
    assert_eq!(dups.walk_dup(&(1, 6)).unwrap().count(), 0);
}

/// Before Isthmus the header's withdrawals root is the empty root (from Canyon), not the message
/// passer's storage root: only a recorded root or an Isthmus header (with a requests hash) gives
/// it.
#[test]
fn the_message_passer_root_comes_from_the_header_only_from_isthmus() {
    use alloy_primitives::B256;
    let db = temp_database();
    let tx = db.env.tx_mut().unwrap();
    let provider = ChainProvider::new(&tx, 7);
    let block = |number: u64, isthmus: bool| lockstep_storage::StoredBlock {
        hash: B256::with_last_byte(number as u8),
        header: alloy_consensus::Header {
            number,
            withdrawals_root: Some(if isthmus {
                B256::repeat_byte(9)
            } else {
                alloy_trie::EMPTY_ROOT_HASH
            }),
            requests_hash: isthmus.then_some(B256::repeat_byte(1)),
            base_fee_per_gas: Some(1),
            blob_gas_used: Some(0),
            excess_blob_gas: Some(0),
            parent_beacon_block_root: Some(B256::ZERO),
            ..Default::default()
        },
        transactions: vec![],
        receipts: vec![],
    };
    provider.write_block(&block(1, false)).unwrap();
    provider.write_block(&block(2, false)).unwrap();
    provider.write_block(&block(3, true)).unwrap();
    provider.put_message_passer_root(2, B256::repeat_byte(5)).unwrap();
    assert_eq!(provider.message_passer_root(1).unwrap(), None);
    assert_eq!(provider.message_passer_root(2).unwrap(), Some(B256::repeat_byte(5)));
    assert_eq!(provider.message_passer_root(3).unwrap(), Some(B256::repeat_byte(9)));
}

#[test]
fn the_serving_budget_of_readers_leaves_the_writer_and_the_sync_loop_room() {
    let db = temp_database();
    // libmdbx rounds its default up to fill the lock file's pages (112 with 4 KiB pages)
    assert!(db.env.max_readers().unwrap() >= lockstep_storage::MAX_READERS as usize);
    // every slot serving may take, held at once
    let readers: Vec<_> =
        (0..lockstep_storage::SERVING_READERS).map(|_| db.env.tx().unwrap()).collect();
    let tx = db.env.tx_mut().unwrap();
    let account = Account { nonce: 1, balance: U256::from(5), code_hash: alloy_trie::KECCAK_EMPTY };
    tx.put::<PlainAccounts>(&(7, Address::repeat_byte(1)), &account).unwrap();
    tx.commit().unwrap();
    // the sync loop's reads, and a few of other processes', still find slots
    let more: Vec<_> = (0..8).map(|_| db.env.tx().unwrap()).collect();
    let provider = ChainProvider::new(&more[0], 7);
    assert_eq!(provider.account(Address::repeat_byte(1)).unwrap(), Some(account));
    // the old snapshots still read the state before the write
    let old = ChainProvider::new(&readers[0], 7);
    assert_eq!(old.account(Address::repeat_byte(1)).unwrap(), None);
}
