//! The MDBX environment and its typed transactions.

use crate::raw::RawBytes;
use crate::{
    codec::{decode_key, decode_value, Key, Value},
    cursor::DbCursor,
    error::mdbx_op,
    tables::{Metadata, Table, TABLES},
    DatabaseError, DbResult,
};
use libmdbx::{
    Database, DatabaseOptions, Mode, NoWriteMap, PageSize, ReadWriteOptions, SyncMode, TableFlags,
    Transaction, TransactionKind, WriteFlags, RO, RW,
};
use std::path::Path;

/// A raw entry as a cursor returns it.
type RawEntry<'tx> = Option<(RawBytes<'tx>, RawBytes<'tx>)>;

/// The schema version this build reads and writes.
pub const SCHEMA_VERSION: u32 = 5;

const SCHEMA_KEY: &str = "schema_version";

/// How to open the environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseMode {
    /// Create the database if needed and allow writes.
    ReadWrite,
    /// Open an existing database for reading only.
    ReadOnly,
}

/// Size and use of one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableStats {
    /// The table's name.
    pub name: &'static str,
    /// Number of entries.
    pub entries: usize,
    /// Bytes in its pages.
    pub size: u64,
}

/// The MDBX reader slots of an environment, at least: libmdbx's default (which it rounds up to
/// fill the lock file's pages, 112 with 4 KiB pages), which the `libmdbx` crate
/// (0.6.6) gives no way to raise (its `max_readers` option is never applied). Every open read
/// transaction holds one slot, so whatever serves clients must stay within a budget below it
/// (see `lockstep_rpc::CallPool`) and leave the sync loop and other processes theirs.
pub const MAX_READERS: u32 = 61;

/// Of [`MAX_READERS`], the slots the JSON-RPC pool and the status server may hold at once;
/// the rest are the sync loop's and those of other processes reading the same database
/// (`lockstep db status`, `lockstep evidence export`).
pub const SERVING_READERS: u32 = 40;

/// The one MDBX environment of a lockstep node, shared by every chain.
#[derive(Debug)]
pub struct DatabaseEnv {
    inner: Database<NoWriteMap>,
}

impl DatabaseEnv {
    /// Opens (or, in read-write mode, creates) the database in `path`.
    ///
    /// A database written by another schema version is refused before anything is written.
    pub fn open(path: &Path, mode: DatabaseMode) -> DbResult<Self> {
        let io = |source| DatabaseError::Io { path: path.to_path_buf(), source };
        match mode {
            DatabaseMode::ReadWrite => std::fs::create_dir_all(path).map_err(io)?,
            DatabaseMode::ReadOnly if !path.join("mdbx.dat").exists() => {
                return Err(DatabaseError::Missing(path.to_path_buf()))
            }
            DatabaseMode::ReadOnly => {}
        }
        crate::mdbx_log::install();
        let options = DatabaseOptions {
            max_tables: Some(TABLES.len() as u64 + 4),
            page_size: Some(PageSize::Set(4096)),
            mode: match mode {
                DatabaseMode::ReadOnly => Mode::ReadOnly,
                DatabaseMode::ReadWrite => Mode::ReadWrite(ReadWriteOptions {
                    sync_mode: SyncMode::Durable,
                    min_size: None,
                    max_size: Some(4 << 40),
                    growth_step: Some(64 << 20),
                    shrink_threshold: None,
                }),
            },
            ..Default::default()
        };
        let env = Self { inner: Database::open_with_options(path, options)? };
        match env.stored_schema()? {
            Some(found) if found != SCHEMA_VERSION => {
                return Err(DatabaseError::SchemaMismatch { found, expected: SCHEMA_VERSION })
            }
            Some(_) if mode == DatabaseMode::ReadOnly => {}
            None if mode == DatabaseMode::ReadOnly => {
                return Err(DatabaseError::Missing(path.to_path_buf()))
            }
            _ => env.create_tables()?,
        }
        Ok(env)
    }

    fn stored_schema(&self) -> DbResult<Option<u32>> {
        let tx = self.inner.begin_ro_txn()?;
        let table = match tx.open_table(Some(Metadata::NAME)) {
            Ok(table) => table,
            Err(libmdbx::Error::NotFound) => return Ok(None),
            Err(err) => return Err(err.into()),
        };
        let raw: Option<Vec<u8>> = tx.get(&table, SCHEMA_KEY.as_bytes())?;
        let Some(raw) = raw else { return Ok(None) };
        let bytes: [u8; 4] = raw.as_slice().try_into().map_err(|_| DatabaseError::Decode {
            table: Metadata::NAME,
            reason: format!("schema version of {} bytes", raw.len()),
        })?;
        Ok(Some(u32::from_be_bytes(bytes)))
    }

    fn create_tables(&self) -> DbResult<()> {
        let tx = self.inner.begin_rw_txn()?;
        for (name, dupsort) in TABLES {
            let flags = if *dupsort { TableFlags::DUP_SORT } else { TableFlags::default() };
            tx.create_table(Some(name), flags)?;
        }
        let table = tx.open_table(Some(Metadata::NAME))?;
        tx.put(&table, SCHEMA_KEY, SCHEMA_VERSION.to_be_bytes(), WriteFlags::UPSERT)?;
        tx.commit()?;
        Ok(())
    }

    /// The reader slots of the environment's lock file (set by whoever created it).
    pub fn max_readers(&self) -> DbResult<usize> {
        Ok(self.inner.info()?.max_readers())
    }

    /// Begins a read-only transaction: a consistent snapshot of every chain.
    pub fn tx(&self) -> DbResult<DbTx<'_, RO>> {
        let inner = self.inner.begin_ro_txn().map_err(|e| DatabaseError::Begin("read", e))?;
        Ok(DbTx { inner })
    }

    /// Begins the read-write transaction; all of its writes land together or not at all.
    pub fn tx_mut(&self) -> DbResult<DbTx<'_, RW>> {
        let inner = self.inner.begin_rw_txn().map_err(|e| DatabaseError::Begin("write", e))?;
        Ok(DbTx { inner })
    }

    /// Entries and size of every table.
    pub fn table_stats(&self) -> DbResult<Vec<TableStats>> {
        let tx = self.inner.begin_ro_txn()?;
        let mut out = Vec::with_capacity(TABLES.len());
        for (name, _) in TABLES {
            let table = tx.open_table(Some(name))?;
            let stat = tx.table_stat(&table)?;
            let pages = stat.leaf_pages() + stat.branch_pages() + stat.overflow_pages();
            out.push(TableStats {
                name,
                entries: stat.entries(),
                size: pages as u64 * stat.page_size() as u64,
            });
        }
        Ok(out)
    }
}

/// A typed transaction over the shared tables.
#[derive(Debug)]
pub struct DbTx<'env, K: TransactionKind> {
    inner: Transaction<'env, K, NoWriteMap>,
}

fn encode<K: Key>(key: &K) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    key.encode_key(&mut out);
    out
}

impl<K: TransactionKind> DbTx<'_, K> {
    /// The handle of the table named `name`.
    fn table(&self, name: &'static str) -> DbResult<libmdbx::Table<'_>> {
        self.inner.open_table(Some(name)).map_err(mdbx_op("open table", name))
    }

    /// Reads the value at `key`.
    pub fn get<T: Table>(&self, key: &T::Key) -> DbResult<Option<T::Value>> {
        self.get_raw::<T>(&encode(key))
    }

    fn get_raw<T: Table>(&self, key: &[u8]) -> DbResult<Option<T::Value>> {
        let table = self.table(T::NAME)?;
        let raw: Option<RawBytes<'_>> =
            self.inner.get(&table, key).map_err(mdbx_op("get", T::NAME))?;
        raw.map(|raw| decode_value(T::NAME, &raw)).transpose()
    }

    /// Every entry whose encoded key starts with the encoding of `prefix`, in key order.
    ///
    /// `prefix` is a leading part of the key, such as the chain id, encoded the same way.
    pub fn walk_prefix<T: Table>(&self, prefix: &[u8]) -> DbResult<Vec<(T::Key, T::Value)>> {
        let mut out = Vec::new();
        self.for_each_prefix::<T>(prefix, |k, v| {
            out.push((k, v));
            Ok(true)
        })?;
        Ok(out)
    }

    /// Calls `f` for each entry under `prefix` (every duplicate too) until it returns `false`.
    pub fn for_each_prefix<T: Table>(
        &self,
        prefix: &[u8],
        mut f: impl FnMut(T::Key, T::Value) -> DbResult<bool>,
    ) -> DbResult<()> {
        let table = self.table(T::NAME)?;
        let mut cursor = self.inner.cursor(&table).map_err(mdbx_op("open cursor", T::NAME))?;
        let mut item: RawEntry<'_> = cursor.set_range(prefix).map_err(mdbx_op("seek", T::NAME))?;
        while let Some((k, v)) = item {
            if !k.starts_with(prefix) {
                break;
            }
            if !f(decode_key(T::NAME, &k)?, decode_value(T::NAME, &v)?)? {
                break;
            }
            item = cursor.next().map_err(mdbx_op("next", T::NAME))?;
        }
        Ok(())
    }

    /// The first entry at or after `from` whose encoded key starts with `prefix`: one seek.
    pub fn seek_prefix<T: Table>(
        &self,
        prefix: &[u8],
        from: &T::Key,
    ) -> DbResult<Option<(T::Key, T::Value)>> {
        let table = self.table(T::NAME)?;
        let mut cursor = self.inner.cursor(&table).map_err(mdbx_op("open cursor", T::NAME))?;
        let item: RawEntry<'_> =
            cursor.set_range(&encode(from)).map_err(mdbx_op("seek", T::NAME))?;
        match item {
            Some((k, v)) if k.starts_with(prefix) => {
                Ok(Some((decode_key(T::NAME, &k)?, decode_value(T::NAME, &v)?)))
            }
            _ => Ok(None),
        }
    }

    /// The first value under `key` of a dup-sort table whose encoding starts with
    /// `value_prefix`: one seek among the key's values.
    pub fn get_dup<T: Table>(
        &self,
        key: &T::Key,
        value_prefix: &[u8],
    ) -> DbResult<Option<T::Value>> {
        let table = self.table(T::NAME)?;
        let mut cursor = self.inner.cursor(&table).map_err(mdbx_op("open cursor", T::NAME))?;
        let value: Option<RawBytes<'_>> = cursor
            .get_both_range(&encode(key), value_prefix)
            .map_err(mdbx_op("seek duplicate", T::NAME))?;
        match value {
            Some(v) if v.starts_with(value_prefix) => Ok(Some(decode_value(T::NAME, &v)?)),
            _ => Ok(None),
        }
    }

    /// A typed cursor over table `T`.
    pub fn cursor<T: Table>(&self) -> DbResult<DbCursor<'_, T, K>> {
        let table = self.table(T::NAME)?;
        Ok(DbCursor::new(self.inner.cursor(&table).map_err(mdbx_op("open cursor", T::NAME))?))
    }

    /// Number of entries in table `T`.
    pub fn entries<T: Table>(&self) -> DbResult<usize> {
        let table = self.table(T::NAME)?;
        Ok(self.inner.table_stat(&table).map_err(mdbx_op("stat", T::NAME))?.entries())
    }
}

impl DbTx<'_, RW> {
    /// Writes `value` at `key`: replaces it, or for a dup-sort table adds it.
    pub fn put<T: Table>(&self, key: &T::Key, value: &T::Value) -> DbResult<()> {
        let mut buf = Vec::with_capacity(128);
        value.compress(&mut buf);
        let table = self.table(T::NAME)?;
        self.inner
            .put(&table, encode(key), &buf, WriteFlags::UPSERT)
            .map_err(mdbx_op("put", T::NAME))?;
        Ok(())
    }

    /// Deletes the entry at `key` (every duplicate of it); returns whether one existed.
    pub fn delete<T: Table>(&self, key: &T::Key) -> DbResult<bool> {
        self.delete_raw::<T>(&encode(key))
    }

    fn delete_raw<T: Table>(&self, key: &[u8]) -> DbResult<bool> {
        let table = self.table(T::NAME)?;
        self.inner.del(&table, key, None).map_err(mdbx_op("delete", T::NAME))
    }

    /// Deletes every entry whose encoded key starts with `prefix`; returns how many keys.
    pub fn delete_prefix<T: Table>(&self, prefix: &[u8]) -> DbResult<usize> {
        self.delete_prefix_raw(T::NAME, T::DUPSORT, prefix)
    }

    /// Writes raw bytes at `key` in the table named `table` (replays an overlay).
    pub(crate) fn put_raw(&self, name: &'static str, key: &[u8], value: &[u8]) -> DbResult<()> {
        let table = self.table(name)?;
        self.inner.put(&table, key, value, WriteFlags::UPSERT).map_err(mdbx_op("put", name))?;
        Ok(())
    }

    /// Deletes `key` (every duplicate) from the table named `table`.
    pub(crate) fn delete_raw_named(&self, name: &'static str, key: &[u8]) -> DbResult<bool> {
        let table = self.table(name)?;
        self.inner.del(&table, key, None).map_err(mdbx_op("delete", name))
    }

    /// Deletes every key under `prefix` from the table named `table`.
    pub(crate) fn delete_prefix_raw(
        &self,
        name: &'static str,
        dupsort: bool,
        prefix: &[u8],
    ) -> DbResult<usize> {
        let table = self.table(name)?;
        let mut keys: Vec<Vec<u8>> = Vec::new();
        {
            let mut cursor = self.inner.cursor(&table).map_err(mdbx_op("open cursor", name))?;
            let mut item: Option<(RawBytes<'_>, ())> =
                cursor.set_range(prefix).map_err(mdbx_op("seek", name))?;
            while let Some((k, ())) = item {
                if !k.starts_with(prefix) {
                    break;
                }
                keys.push(k.to_vec());
                item = if dupsort { cursor.next_nodup() } else { cursor.next() }
                    .map_err(mdbx_op("next", name))?;
            }
        }
        for key in &keys {
            self.inner.del(&table, key, None).map_err(mdbx_op("delete", name))?;
        }
        Ok(keys.len())
    }

    /// Commits every write of this transaction atomically and durably.
    pub fn commit(self) -> DbResult<()> {
        self.inner.commit().map_err(DatabaseError::Commit)?;
        Ok(())
    }
}
