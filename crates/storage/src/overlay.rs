//! Table access as traits, and an in-memory overlay of writes over a read snapshot.
//!
//! [`TableRead`] and [`TableWrite`] are what [`crate::ChainProvider`] needs of a transaction.
//! [`DbTx`] implements both. [`Overlay`] implements both over any reader: writes stay in memory,
//! reads see them on top of the snapshot, and [`Overlay::into_writes`] gives the ordered writes to
//! replay into the one write transaction with [`OverlayWrites::apply`]. With it, each chain
//! executes on its own thread against a read snapshot, and everything still lands in one commit.
//! Two overlays' writes never collide as long as they touch different chains: every
//! chain-scoped key starts with the chain id, and the shared bytecode table is content-addressed.

use crate::{
    codec::{decode_key, decode_value, Key, Value},
    env::DbTx,
    tables::Table,
    DatabaseError, DbResult,
};
use libmdbx::{TransactionKind, RW};
use std::{
    cell::RefCell,
    collections::{BTreeMap, BTreeSet},
};

/// Reading typed tables.
pub trait TableRead {
    /// The value at `key`.
    fn get<T: Table>(&self, key: &T::Key) -> DbResult<Option<T::Value>>;

    /// Calls `f` for each entry whose encoded key starts with `prefix`, in key order, until it
    /// returns `false`.
    fn for_each_prefix<T: Table>(
        &self,
        prefix: &[u8],
        f: impl FnMut(T::Key, T::Value) -> DbResult<bool>,
    ) -> DbResult<()>;

    /// Every entry whose encoded key starts with `prefix`, in key order.
    fn walk_prefix<T: Table>(&self, prefix: &[u8]) -> DbResult<Vec<(T::Key, T::Value)>> {
        let mut out = Vec::new();
        self.for_each_prefix::<T>(prefix, |k, v| {
            out.push((k, v));
            Ok(true)
        })?;
        Ok(out)
    }

    /// The first entry at or after `from` whose encoded key starts with `prefix`. This default
    /// walks the prefix; a transaction seeks.
    fn seek_prefix<T: Table>(
        &self,
        prefix: &[u8],
        from: &T::Key,
    ) -> DbResult<Option<(T::Key, T::Value)>> {
        let from = encode_key(from);
        let mut found = None;
        self.for_each_prefix::<T>(prefix, |k, v| {
            if encode_key(&k) >= from {
                found = Some((k, v));
            }
            Ok(found.is_none())
        })?;
        Ok(found)
    }

    /// The first value under `key` of a dup-sort table whose encoding starts with
    /// `value_prefix`. This default walks the key's values; a transaction seeks.
    fn get_dup<T: Table>(&self, key: &T::Key, value_prefix: &[u8]) -> DbResult<Option<T::Value>> {
        let mut found = None;
        self.for_each_prefix::<T>(&encode_key(key), |_, v| {
            if encode_value(&v).starts_with(value_prefix) {
                found = Some(v);
            }
            Ok(found.is_none())
        })?;
        Ok(found)
    }
}

/// Writing typed tables.
pub trait TableWrite: TableRead {
    /// Writes `value` at `key` (for a dup-sort table, adds it).
    fn put<T: Table>(&self, key: &T::Key, value: &T::Value) -> DbResult<()>;
    /// Deletes the entry at `key`; returns whether one existed.
    fn delete<T: Table>(&self, key: &T::Key) -> DbResult<bool>;
    /// Deletes every entry under `prefix`; returns how many keys.
    fn delete_prefix<T: Table>(&self, prefix: &[u8]) -> DbResult<usize>;
}

impl<K: TransactionKind> TableRead for DbTx<'_, K> {
    fn get<T: Table>(&self, key: &T::Key) -> DbResult<Option<T::Value>> {
        DbTx::get::<T>(self, key)
    }

    fn for_each_prefix<T: Table>(
        &self,
        prefix: &[u8],
        f: impl FnMut(T::Key, T::Value) -> DbResult<bool>,
    ) -> DbResult<()> {
        DbTx::for_each_prefix::<T>(self, prefix, f)
    }

    fn seek_prefix<T: Table>(
        &self,
        prefix: &[u8],
        from: &T::Key,
    ) -> DbResult<Option<(T::Key, T::Value)>> {
        DbTx::seek_prefix::<T>(self, prefix, from)
    }

    fn get_dup<T: Table>(&self, key: &T::Key, value_prefix: &[u8]) -> DbResult<Option<T::Value>> {
        DbTx::get_dup::<T>(self, key, value_prefix)
    }
}

impl TableWrite for DbTx<'_, RW> {
    fn put<T: Table>(&self, key: &T::Key, value: &T::Value) -> DbResult<()> {
        DbTx::put::<T>(self, key, value)
    }

    fn delete<T: Table>(&self, key: &T::Key) -> DbResult<bool> {
        DbTx::delete::<T>(self, key)
    }

    fn delete_prefix<T: Table>(&self, prefix: &[u8]) -> DbResult<usize> {
        DbTx::delete_prefix::<T>(self, prefix)
    }
}

fn encode_key<K: Key>(key: &K) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    key.encode_key(&mut out);
    out
}

fn encode_value<V: Value>(value: &V) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    value.compress(&mut out);
    out
}

/// One buffered write.
#[derive(Debug, Clone)]
enum Op {
    Put { table: &'static str, key: Vec<u8>, value: Vec<u8> },
    Delete { table: &'static str, key: Vec<u8> },
    DeletePrefix { table: &'static str, dupsort: bool, prefix: Vec<u8> },
}

#[derive(Debug, Default)]
struct Pending {
    /// The latest value of each written key of a plain table (`None`: deleted).
    values: BTreeMap<(&'static str, Vec<u8>), Option<Vec<u8>>>,
    /// Prefixes deleted from the snapshot, per table.
    cleared: Vec<(&'static str, Vec<u8>)>,
    /// Dup-sort tables written (the overlay does not read those back).
    dup_written: BTreeSet<&'static str>,
    /// Every write, in order.
    log: Vec<Op>,
}

impl Pending {
    fn is_cleared(&self, table: &'static str, key: &[u8]) -> bool {
        self.cleared.iter().any(|(t, p)| *t == table && key.starts_with(p))
    }
}

/// Writes buffered in memory over a read snapshot `base`.
#[derive(Debug)]
pub struct Overlay<'a, B> {
    base: &'a B,
    pending: RefCell<Pending>,
}

/// The writes an [`Overlay`] buffered, in order, ready to replay into a write transaction.
#[derive(Debug, Default)]
pub struct OverlayWrites {
    ops: Vec<Op>,
}

impl OverlayWrites {
    /// How many writes.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Replays the writes into `tx`, in the order they were made.
    pub fn apply(&self, tx: &DbTx<'_, RW>) -> DbResult<()> {
        for op in &self.ops {
            match op {
                Op::Put { table, key, value } => tx.put_raw(table, key, value)?,
                Op::Delete { table, key } => {
                    tx.delete_raw_named(table, key)?;
                }
                Op::DeletePrefix { table, dupsort, prefix } => {
                    tx.delete_prefix_raw(table, *dupsort, prefix)?;
                }
            }
        }
        Ok(())
    }
}

impl<'a, B: TableRead> Overlay<'a, B> {
    /// An empty overlay over `base`.
    pub fn new(base: &'a B) -> Self {
        Self { base, pending: RefCell::new(Pending::default()) }
    }

    /// The buffered writes.
    pub fn into_writes(self) -> OverlayWrites {
        OverlayWrites { ops: self.pending.into_inner().log }
    }

    fn refuse_dup<T: Table>(&self) -> DbResult<()> {
        if T::DUPSORT && self.pending.borrow().dup_written.contains(T::NAME) {
            return Err(DatabaseError::Inconsistent(format!(
                "the overlay does not read back dup-sort table {} after writing it",
                T::NAME
            )));
        }
        Ok(())
    }
}

impl<B: TableRead> TableRead for Overlay<'_, B> {
    fn get<T: Table>(&self, key: &T::Key) -> DbResult<Option<T::Value>> {
        self.refuse_dup::<T>()?;
        let encoded = encode_key(key);
        {
            let pending = self.pending.borrow();
            if let Some(value) = pending.values.get(&(T::NAME, encoded.clone())) {
                return value.as_deref().map(|v| decode_value(T::NAME, v)).transpose();
            }
            if pending.is_cleared(T::NAME, &encoded) {
                return Ok(None);
            }
        }
        self.base.get::<T>(key)
    }

    fn for_each_prefix<T: Table>(
        &self,
        prefix: &[u8],
        mut f: impl FnMut(T::Key, T::Value) -> DbResult<bool>,
    ) -> DbResult<()> {
        self.refuse_dup::<T>()?;
        if T::DUPSORT {
            // never written here (refused above), and a merge by key would keep one duplicate
            return self.base.for_each_prefix::<T>(prefix, f);
        }
        let pending = self.pending.borrow();
        let mut merged: BTreeMap<Vec<u8>, Option<T::Value>> = BTreeMap::new();
        self.base.for_each_prefix::<T>(prefix, |k, v| {
            let encoded = encode_key(&k);
            if !pending.is_cleared(T::NAME, &encoded) {
                merged.insert(encoded, Some(v));
            }
            Ok(true)
        })?;
        for ((table, key), value) in pending.values.range((T::NAME, prefix.to_vec())..) {
            if *table != T::NAME || !key.starts_with(prefix) {
                break;
            }
            let value = value.as_deref().map(|v| decode_value(T::NAME, v)).transpose()?;
            merged.insert(key.clone(), value);
        }
        drop(pending);
        for (key, value) in merged {
            if let Some(value) = value {
                if !f(decode_key(T::NAME, &key)?, value)? {
                    break;
                }
            }
        }
        Ok(())
    }
}

impl<B: TableRead> TableWrite for Overlay<'_, B> {
    fn put<T: Table>(&self, key: &T::Key, value: &T::Value) -> DbResult<()> {
        let (key, value) = (encode_key(key), encode_value(value));
        let mut pending = self.pending.borrow_mut();
        if T::DUPSORT {
            pending.dup_written.insert(T::NAME);
        } else {
            pending.values.insert((T::NAME, key.clone()), Some(value.clone()));
        }
        pending.log.push(Op::Put { table: T::NAME, key, value });
        Ok(())
    }

    fn delete<T: Table>(&self, key: &T::Key) -> DbResult<bool> {
        let existed = if T::DUPSORT {
            self.pending.borrow_mut().dup_written.insert(T::NAME);
            true
        } else {
            self.get::<T>(key)?.is_some()
        };
        let key = encode_key(key);
        let mut pending = self.pending.borrow_mut();
        if !T::DUPSORT {
            pending.values.insert((T::NAME, key.clone()), None);
        }
        pending.log.push(Op::Delete { table: T::NAME, key });
        Ok(existed)
    }

    fn delete_prefix<T: Table>(&self, prefix: &[u8]) -> DbResult<usize> {
        let mut count = 0;
        if T::DUPSORT {
            self.pending.borrow_mut().dup_written.insert(T::NAME);
        } else {
            self.for_each_prefix::<T>(prefix, |_, _| {
                count += 1;
                Ok(true)
            })?;
        }
        let mut pending = self.pending.borrow_mut();
        let doomed: Vec<_> = pending
            .values
            .range((T::NAME, prefix.to_vec())..)
            .take_while(|((t, k), _)| *t == T::NAME && k.starts_with(prefix))
            .map(|(k, _)| k.clone())
            .collect();
        for key in doomed {
            pending.values.remove(&key);
        }
        pending.cleared.push((T::NAME, prefix.to_vec()));
        pending.log.push(Op::DeletePrefix {
            table: T::NAME,
            dupsort: T::DUPSORT,
            prefix: prefix.to_vec(),
        });
        Ok(count)
    }
}
