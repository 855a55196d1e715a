//! Typed cursors: seek, walk, ranges and duplicate values, decoding as they go.

use crate::raw::RawBytes;
use crate::{
    codec::{decode_key, decode_value, Key},
    error::mdbx_op,
    tables::Table,
    DbResult,
};
use libmdbx::{Cursor, TransactionKind};
use std::{marker::PhantomData, ops::Bound};

type Raw<'tx> = Option<(RawBytes<'tx>, RawBytes<'tx>)>;

/// A decoded entry of table `T`.
pub type Entry<T> = (<T as Table>::Key, <T as Table>::Value);

/// A cursor over table `T`.
#[derive(Debug)]
pub struct DbCursor<'tx, T: Table, K: TransactionKind> {
    inner: Cursor<'tx, K>,
    _table: PhantomData<T>,
}

fn encode<K: Key>(key: &K) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    key.encode_key(&mut out);
    out
}

impl<'tx, T: Table, K: TransactionKind> DbCursor<'tx, T, K> {
    pub(crate) const fn new(inner: Cursor<'tx, K>) -> Self {
        Self { inner, _table: PhantomData }
    }

    fn decode(raw: Raw<'_>) -> DbResult<Option<Entry<T>>> {
        raw.map(|(k, v)| Ok((decode_key(T::NAME, &k)?, decode_value(T::NAME, &v)?))).transpose()
    }

    /// The first entry.
    pub fn first(&mut self) -> DbResult<Option<Entry<T>>> {
        let raw: Raw<'_> = self.inner.first().map_err(mdbx_op("first", T::NAME))?;
        Self::decode(raw)
    }

    /// The last entry.
    pub fn last(&mut self) -> DbResult<Option<Entry<T>>> {
        let raw: Raw<'_> = self.inner.last().map_err(mdbx_op("last", T::NAME))?;
        Self::decode(raw)
    }

    /// The first entry whose key is at least `key`.
    pub fn seek(&mut self, key: &T::Key) -> DbResult<Option<Entry<T>>> {
        let raw: Raw<'_> = self.inner.set_range(&encode(key)).map_err(mdbx_op("seek", T::NAME))?;
        Self::decode(raw)
    }

    /// The entry at exactly `key` (its first value, for a dup-sort table).
    pub fn seek_exact(&mut self, key: &T::Key) -> DbResult<Option<Entry<T>>> {
        let raw: Raw<'_> =
            self.inner.set_key(&encode(key)).map_err(mdbx_op("seek exact", T::NAME))?;
        Self::decode(raw)
    }

    /// The next entry (the next value of the same key first, for a dup-sort table).
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> DbResult<Option<Entry<T>>> {
        let raw: Raw<'_> = self.inner.next().map_err(mdbx_op("next", T::NAME))?;
        Self::decode(raw)
    }

    /// The previous entry.
    pub fn prev(&mut self) -> DbResult<Option<Entry<T>>> {
        let raw: Raw<'_> = self.inner.prev().map_err(mdbx_op("prev", T::NAME))?;
        Self::decode(raw)
    }

    /// The next value of the current key, for a dup-sort table.
    pub fn next_dup(&mut self) -> DbResult<Option<Entry<T>>> {
        let raw: Raw<'_> = self.inner.next_dup().map_err(mdbx_op("next duplicate", T::NAME))?;
        Self::decode(raw)
    }

    /// The first entry of the next key, skipping the current key's other values.
    pub fn next_no_dup(&mut self) -> DbResult<Option<Entry<T>>> {
        let raw: Raw<'_> = self.inner.next_nodup().map_err(mdbx_op("next key", T::NAME))?;
        Self::decode(raw)
    }

    /// Walks forward from the first key at least `start` (or from the first entry).
    pub fn walk(&mut self, start: Option<&T::Key>) -> DbResult<Walker<'_, 'tx, T, K>> {
        self.walk_range((start.map_or(Bound::Unbounded, Bound::Included), Bound::Unbounded))
    }

    /// Walks the entries whose keys fall in `range`, in order.
    pub fn walk_range(
        &mut self,
        range: (Bound<&T::Key>, Bound<&T::Key>),
    ) -> DbResult<Walker<'_, 'tx, T, K>> {
        let (first, skip_equal) = match range.0 {
            Bound::Included(key) => (self.seek(key)?, None),
            Bound::Excluded(key) => (self.seek(key)?, Some(encode(key))),
            Bound::Unbounded => (self.first()?, None),
        };
        let end = match range.1 {
            Bound::Included(key) => Bound::Included(encode(key)),
            Bound::Excluded(key) => Bound::Excluded(encode(key)),
            Bound::Unbounded => Bound::Unbounded,
        };
        let mut walker = Walker { cursor: self, next: first.map(Ok), end };
        if let Some(skip) = skip_equal {
            while matches!(&walker.next, Some(Ok((k, _))) if encode(k) == skip) {
                walker.next = walker.cursor.next().transpose();
            }
        }
        Ok(walker)
    }

    /// Walks every value stored under `key` in a dup-sort table.
    pub fn walk_dup(&mut self, key: &T::Key) -> DbResult<DupWalker<'_, 'tx, T, K>> {
        let first = self.seek_exact(key)?;
        Ok(DupWalker { cursor: self, next: first.map(Ok) })
    }
}

/// An iterator over a range of entries.
#[derive(Debug)]
pub struct Walker<'c, 'tx, T: Table, K: TransactionKind> {
    cursor: &'c mut DbCursor<'tx, T, K>,
    next: Option<DbResult<Entry<T>>>,
    end: Bound<Vec<u8>>,
}

impl<T: Table, K: TransactionKind> Iterator for Walker<'_, '_, T, K> {
    type Item = DbResult<Entry<T>>;

    fn next(&mut self) -> Option<Self::Item> {
        let item = self.next.take()?;
        if let Ok((key, _)) = &item {
            let past_end = match &self.end {
                Bound::Included(end) => encode(key) > *end,
                Bound::Excluded(end) => encode(key) >= *end,
                Bound::Unbounded => false,
            };
            if past_end {
                return None;
            }
            self.next = self.cursor.next().transpose();
        }
        Some(item)
    }
}

/// An iterator over the values of one key of a dup-sort table.
#[derive(Debug)]
pub struct DupWalker<'c, 'tx, T: Table, K: TransactionKind> {
    cursor: &'c mut DbCursor<'tx, T, K>,
    next: Option<DbResult<Entry<T>>>,
}

impl<T: Table, K: TransactionKind> Iterator for DupWalker<'_, '_, T, K> {
    type Item = DbResult<Entry<T>>;

    fn next(&mut self) -> Option<Self::Item> {
        let item = self.next.take()?;
        if item.is_ok() {
            self.next = self.cursor.next_dup().transpose();
        }
        Some(item)
    }
}
