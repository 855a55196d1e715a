use alloy_primitives::B256;

/// What stopped the node.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// The database failed.
    #[error("database: {0}")]
    Database(#[from] lockstep_storage::DatabaseError),
    /// A block failed to execute.
    #[error("execution: {0}")]
    Execution(#[from] lockstep_execution::ExecutionError),
    /// Derivation failed in a way the node cannot recover from by itself.
    #[error("derivation: {0}")]
    Derive(#[from] lockstep_derive::DeriveError),
    /// The cross-chain check failed to read or write its records.
    #[error("cross-chain check: {0}")]
    CrossChain(#[from] lockstep_crosschain::CrossChainError),
    /// The L1 failed (after retries, where retrying made sense).
    #[error("L1: {0}")]
    L1(#[from] lockstep_l1::L1Error),
    /// The L1 is not the one the rollup configs were made for.
    #[error(
        "chain {chain}: rollup.json says L1 block {number} is {expected}, but the L1 has {found}; \
         is --l1.rpc the right L1 for this superchain set?"
    )]
    WrongL1 {
        /// The chain whose config disagrees.
        chain: u64,
        /// The L1 genesis block number.
        number: u64,
        /// The hash in rollup.json.
        expected: B256,
        /// The L1's hash.
        found: B256,
    },
    /// The configuration cannot be run.
    #[error("configuration: {0}")]
    Config(String),
    /// The database holds something the node cannot continue from.
    #[error("database state: {0}")]
    Inconsistent(String),
}
