use std::path::PathBuf;

/// Every way the storage layer can fail.
#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    /// MDBX itself reported an error, outside any one table (opening, beginning a transaction).
    #[error("mdbx: {0}")]
    Mdbx(#[from] libmdbx::Error),
    /// MDBX reported an error in an operation on one table.
    #[error("mdbx: {op} in {table}: {source}")]
    MdbxOp {
        /// The operation: `get`, `put`, `delete`, `seek`, `next`, `open table`, ...
        op: &'static str,
        /// The table.
        table: &'static str,
        /// MDBX's error.
        source: libmdbx::Error,
    },
    /// MDBX could not begin a transaction (`read` or `write`).
    #[error("mdbx: begin {0} transaction: {1}")]
    Begin(&'static str, libmdbx::Error),
    /// MDBX refused to commit a transaction.
    #[error("mdbx: commit: {0}")]
    Commit(libmdbx::Error),
    /// The database directory could not be created or read.
    #[error("database directory {path}: {source}")]
    Io {
        /// The directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The database was written by another schema version of lockstep.
    #[error(
        "database schema version {found} is not supported (this build reads version {expected}); \
         the database was left unchanged"
    )]
    SchemaMismatch {
        /// The version found on disk.
        found: u32,
        /// The version this build writes.
        expected: u32,
    },
    /// There is no lockstep database at the path (read-only open).
    #[error("no lockstep database at {0}")]
    Missing(PathBuf),
    /// A stored key or value could not be decoded.
    #[error("corrupt {table} entry: {reason}")]
    Decode {
        /// The table that holds the entry.
        table: &'static str,
        /// What was wrong with it.
        reason: String,
    },
    /// The trie or chain data is inconsistent with itself.
    #[error("inconsistent database: {0}")]
    Inconsistent(String),
    /// A sparse trie needs a node that its witness does not hold.
    #[error("{trie}: trie node {hash} at path 0x{path} is not in the witness")]
    MissingTrieNode {
        /// Which trie: the account trie, or the storage trie of an address.
        trie: String,
        /// The node's hash, as its parent references it.
        hash: alloy_primitives::B256,
        /// Its path from the trie's root, in hex nibbles.
        path: String,
    },
    /// A witness node does not decode, or does not fit where its parent puts it.
    #[error("{trie}: trie node {hash} at path 0x{path} is invalid: {reason}")]
    InvalidTrieNode {
        /// Which trie.
        trie: String,
        /// The node's hash.
        hash: alloy_primitives::B256,
        /// Its path from the trie's root, in hex nibbles.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A chain has no data where data was required.
    #[error("chain {chain}: {what}")]
    ChainState {
        /// The chain id.
        chain: u64,
        /// What is missing or wrong.
        what: String,
    },
}

impl revm::database_interface::DBErrorMarker for DatabaseError {}

/// Result alias of this crate.
pub type DbResult<T> = Result<T, DatabaseError>;

/// Names the operation and table of an MDBX error.
pub(crate) const fn mdbx_op(
    op: &'static str,
    table: &'static str,
) -> impl FnOnce(libmdbx::Error) -> DatabaseError {
    move |source| DatabaseError::MdbxOp { op, table, source }
}
