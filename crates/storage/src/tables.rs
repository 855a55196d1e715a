//! The table definitions. Every chain-scoped key begins with the chain id, so all chains share
//! one set of tables and each chain's entries are contiguous.

use crate::{
    codec::{Key, NibblePath, Value},
    models::{
        Account, AccountBefore, BatchRecord, ChainHead, ChainId, DepositOrigin, DerivationCursor,
        L1BlockRecord, StorageBefore, TrieNode, TxLocation,
    },
};
use alloy_consensus::Header;
use alloy_primitives::{Address, B256, U256};
use op_alloy_consensus::{OpReceiptEnvelope, OpTxEnvelope};

/// A typed MDBX table.
pub trait Table {
    /// The table's name in the environment.
    const NAME: &'static str;
    /// Whether a key holds several sorted values.
    const DUPSORT: bool;
    /// The key type.
    type Key: Key;
    /// The value type.
    type Value: Value;
}

macro_rules! tables {
    ($( $(#[$doc:meta])* $name:ident: $key:ty => $value:ty $(, dup = $dup:literal)?; )*) => {
        $(
            $(#[$doc])*
            #[derive(Debug, Clone, Copy, Default)]
            pub struct $name;

            impl Table for $name {
                const NAME: &'static str = stringify!($name);
                const DUPSORT: bool = false $(|| $dup)?;
                type Key = $key;
                type Value = $value;
            }
        )*

        /// The name and dup-sort flag of every table, in declaration order.
        pub const TABLES: &[(&str, bool)] = &[$(($name::NAME, $name::DUPSORT)),*];
    };
}

tables! {
    /// Database-wide settings, such as the schema version.
    Metadata: String => Vec<u8>;
    /// The hash of the genesis each chain was initialised with.
    ChainGenesis: u64 => B256;
    /// The executed head of each chain.
    ChainHeads: u64 => ChainHead;
    /// Headers by `(chain, number)`.
    Headers: (ChainId, u64) => Header;
    /// Canonical block hash by `(chain, number)`.
    CanonicalHashes: (ChainId, u64) => B256;
    /// Block number by `(chain, hash)`.
    HeaderNumbers: (ChainId, B256) => u64;
    /// Number of transactions in each block, by `(chain, number)`.
    BlockBodies: (ChainId, u64) => u64;
    /// Where a transaction is, by `(chain, transaction hash)`: block number and index.
    TransactionHashes: (ChainId, B256) => TxLocation;
    /// Transactions by `(chain, block, index)`.
    Transactions: (ChainId, u64, u32) => OpTxEnvelope;
    /// Receipts by `(chain, block, index)`.
    Receipts: (ChainId, u64, u32) => OpReceiptEnvelope;
    /// Accounts by `(chain, address)`.
    PlainAccounts: (ChainId, Address) => Account;
    /// Storage slots by `(chain, address, slot)`; absent means zero.
    PlainStorage: (ChainId, Address, B256) => U256;
    /// Contract bytecode by code hash, stored once for every chain.
    Bytecodes: B256 => Vec<u8>;
    /// Accounts as they were before block `(chain, number)` changed them.
    AccountChangeSets: (ChainId, u64) => AccountBefore, dup = true;
    /// Storage slots as they were before block `(chain, number)` changed them.
    StorageChangeSets: (ChainId, u64) => StorageBefore, dup = true;
    /// The history index of accounts: a key for each block `(chain, address, number)` that
    /// changed the account, so that its value at any block is one seek away (the first later
    /// change's entry in [`AccountChangeSets`] holds it), as reth's `AccountsHistory`.
    AccountHistory: (ChainId, Address, u64) => ();
    /// The history index of storage slots, `(chain, address, slot, number)`, as
    /// [`AccountHistory`].
    StorageHistory: (ChainId, Address, B256, u64) => ();
    /// The oldest block of each chain whose changesets and receipts are kept: what pruning
    /// (`--history.blocks`) has removed is below it. Absent: nothing was pruned.
    HistoryStart: ChainId => u64;
    /// Account trie nodes by `(chain, path)`; the leaves are the hashed account state.
    AccountsTrie: (ChainId, NibblePath) => TrieNode;
    /// Storage trie nodes by `(chain, hashed address, path)`; the leaves are the hashed storage.
    StoragesTrie: (ChainId, B256, NibblePath) => TrieNode;
    /// The L1 blocks the node has processed, by number; the last one is the L1 cursor.
    L1Blocks: u64 => L1BlockRecord;
    /// Each chain's derivation cursor: its head and the L1 block it was derived up to.
    DerivationCursors: ChainId => DerivationCursor;
    /// The superchain batches, by index.
    SuperchainBatches: u64 => BatchRecord;
    /// A superchain batch's index by the number of the L1 block that closed it.
    BatchByL1Block: u64 => u64;
    /// The storage root of the L2ToL1MessagePasser after block `(chain, number)`: with the
    /// header's state root and hash it makes the block's output root.
    MessagePasserRoots: (ChainId, u64) => B256;
    /// Each checked batch's verdict (DESIGN.md 5.4-5.6), by index, as versioned JSON written by
    /// `lockstep-crosschain`.
    BatchVerdicts: u64 => Vec<u8>;
    /// The flagged batches, by index: the number of the L1 block that closed each.
    FlaggedBatches: u64 => u64;
    /// Every transfer seen, by `(source, destination, nonce)`: where it was burned and minted
    /// and its status, as JSON written by `lockstep-crosschain`.
    Transfers: (ChainId, ChainId, B256) => Vec<u8>;
    /// The sequencer's per-batch commitments read from L1, by batch index, as JSON written by
    /// `lockstep-crosschain`.
    BatchCommitments: u64 => Vec<u8>;
    /// The L1 log behind each user deposit, by the deposit's source hash, so that evidence can
    /// name the L1 transaction of a burn forced in through L1.
    DepositOrigins: B256 => DepositOrigin;
}
