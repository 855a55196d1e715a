//! Table access that remembers which state it read, to build an execution witness from.

use crate::{
    codec::Key,
    overlay::{TableRead, TableWrite},
    tables::{AccountsTrie, Bytecodes, CanonicalHashes, PlainAccounts, PlainStorage, StoragesTrie},
    DbResult, Table,
};
use alloy_primitives::{Address, B256};
use std::{
    cell::RefCell,
    collections::{BTreeMap, BTreeSet},
};

/// The state keys a run of execution read, by table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordedReads {
    /// Accounts read from the plain state.
    pub accounts: BTreeSet<Address>,
    /// Storage slots read from the plain state, by account.
    pub storage: BTreeMap<Address, BTreeSet<B256>>,
    /// Account-trie node paths read.
    pub account_trie: BTreeSet<Vec<u8>>,
    /// Storage-trie node paths read, by hashed address.
    pub storage_tries: BTreeMap<B256, BTreeSet<Vec<u8>>>,
    /// Bytecode read, by hash.
    pub codes: BTreeSet<B256>,
    /// Canonical block hashes read (what `BLOCKHASH` asks for), by number.
    pub block_hashes: BTreeSet<u64>,
}

/// A [`TableRead`] and [`TableWrite`] over `inner` that records the keys of the state, trie,
/// bytecode and block-hash tables it is asked for.
#[derive(Debug)]
pub struct ReadRecorder<'a, T> {
    inner: &'a T,
    reads: RefCell<RecordedReads>,
}

impl<'a, T> ReadRecorder<'a, T> {
    /// A recorder over `inner`.
    pub fn new(inner: &'a T) -> Self {
        Self { inner, reads: RefCell::new(RecordedReads::default()) }
    }

    /// What was read.
    pub fn into_reads(self) -> RecordedReads {
        self.reads.into_inner()
    }

    fn record<K: Key>(&self, table: &'static str, key: &K) {
        let mut encoded = Vec::with_capacity(64);
        key.encode_key(&mut encoded);
        let mut reads = self.reads.borrow_mut();
        // the keys were encoded by their own tables, so they decode
        if table == PlainAccounts::NAME {
            if let Ok((_, address)) = <PlainAccounts as Table>::Key::decode_key(&encoded) {
                reads.accounts.insert(address);
            }
        } else if table == PlainStorage::NAME {
            if let Ok((_, address, slot)) = <PlainStorage as Table>::Key::decode_key(&encoded) {
                reads.storage.entry(address).or_default().insert(slot);
            }
        } else if table == AccountsTrie::NAME {
            if let Ok((_, path)) = <AccountsTrie as Table>::Key::decode_key(&encoded) {
                reads.account_trie.insert(path.0);
            }
        } else if table == StoragesTrie::NAME {
            if let Ok((_, owner, path)) = <StoragesTrie as Table>::Key::decode_key(&encoded) {
                reads.storage_tries.entry(owner).or_default().insert(path.0);
            }
        } else if table == Bytecodes::NAME {
            if let Ok(hash) = <Bytecodes as Table>::Key::decode_key(&encoded) {
                reads.codes.insert(hash);
            }
        } else if table == CanonicalHashes::NAME {
            if let Ok((_, number)) = <CanonicalHashes as Table>::Key::decode_key(&encoded) {
                reads.block_hashes.insert(number);
            }
        }
    }
}

impl<T: TableRead> TableRead for ReadRecorder<'_, T> {
    fn get<S: Table>(&self, key: &S::Key) -> DbResult<Option<S::Value>> {
        self.record(S::NAME, key);
        self.inner.get::<S>(key)
    }

    fn for_each_prefix<S: Table>(
        &self,
        prefix: &[u8],
        f: impl FnMut(S::Key, S::Value) -> DbResult<bool>,
    ) -> DbResult<()> {
        self.inner.for_each_prefix::<S>(prefix, f)
    }
}

impl<T: TableWrite> TableWrite for ReadRecorder<'_, T> {
    fn put<S: Table>(&self, key: &S::Key, value: &S::Value) -> DbResult<()> {
        self.inner.put::<S>(key, value)
    }

    fn delete<S: Table>(&self, key: &S::Key) -> DbResult<bool> {
        self.inner.delete::<S>(key)
    }

    fn delete_prefix<S: Table>(&self, prefix: &[u8]) -> DbResult<usize> {
        self.inner.delete_prefix::<S>(prefix)
    }
}
