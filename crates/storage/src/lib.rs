//! lockstep's storage: one MDBX environment shared by every chain of the superchain.
//!
//! Tables are typed ([`Table`]) and declared once in [`tables`]. Every chain-scoped key starts
//! with the chain id, so the chains share tables instead of copying them, and contract code is
//! stored once for all chains. State is kept plain (by address) for execution and as a
//! Merkle-Patricia trie of path-keyed nodes (by hashed key) for roots; the trie is updated
//! incrementally, so a block's root costs what the block changed. Changesets record each block's
//! previous values, so any chain can be unwound.
//!
//! Good starting points: [`DatabaseEnv::open`], [`ChainProvider`] and
//! [`ChainProvider::write_state`].

#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod codec;
mod cursor;
mod env;
mod error;
mod mdbx_log;
mod models;
mod overlay;
mod provider;
mod raw;
mod recorder;
mod sparse;
pub mod tables;
pub mod trie;

pub use codec::{CodecResult, Key, KeyPart, NibblePath, Value};
pub use cursor::{DbCursor, DupWalker, Entry, Walker};
pub use env::{
    DatabaseEnv, DatabaseMode, DbTx, TableStats, MAX_READERS, SCHEMA_VERSION, SERVING_READERS,
};
pub use error::{DatabaseError, DbResult};
pub use libmdbx::{TransactionKind, RO, RW};
pub use mdbx_log::MDBX_DEBUG_ENV;
pub use models::{
    Account, AccountBefore, BatchRecord, ChainCursor, ChainHead, ChainId, ChainRange,
    DepositOrigin, DerivationCursor, L1BlockRecord, StorageBefore, TrieNode, TxLocation,
};
pub use overlay::{Overlay, OverlayWrites, TableRead, TableWrite};
pub use provider::{ChainProvider, StateChanges, StateProviderDb, StoredBlock};
pub use recorder::{ReadRecorder, RecordedReads};
pub use sparse::{SparseState, SparseTrie, WitnessNodes};
pub use tables::Table;

/// Helpers for tests: a database in a temporary directory.
#[cfg(any(test, feature = "test-utils"))]
pub mod test_utils {
    use super::*;

    /// A database in a fresh temporary directory, removed when dropped.
    #[derive(Debug)]
    pub struct TempDatabase {
        /// The environment.
        pub env: DatabaseEnv,
        /// The directory, kept alive as long as the database.
        pub dir: tempfile::TempDir,
    }

    /// Opens a new database in a temporary directory.
    pub fn temp_database() -> TempDatabase {
        let dir = tempfile::tempdir().expect("temporary directory");
        let env = DatabaseEnv::open(dir.path(), DatabaseMode::ReadWrite).expect("open database");
        TempDatabase { env, dir }
    }
}
