use alloy_primitives::B256;

/// Why a block could not be executed or a genesis could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ExecutionError {
    /// The database failed or holds inconsistent data.
    #[error(transparent)]
    Database(#[from] lockstep_storage::DatabaseError),
    /// The chain has no genesis in the database yet.
    #[error("chain {0} is not initialised; run `lockstep init` first")]
    NotInitialised(u64),
    /// The datadir already holds another genesis for this chain.
    #[error(
        "chain {chain}: the database holds genesis {stored}, but the given files make genesis \
         {computed}; refusing to overwrite (use another --datadir)"
    )]
    GenesisMismatch {
        /// The chain id.
        chain: u64,
        /// The genesis hash in the database.
        stored: B256,
        /// The genesis hash of the given files.
        computed: B256,
    },
    /// The payload attributes cannot make a valid block on the current head.
    #[error("invalid payload attributes: {0}")]
    InvalidAttributes(String),
    /// A derived payload that an engine refuses (a transaction the EVM rejects, a sender that
    /// does not recover): nothing was written. After Holocene derivation replaces it by its
    /// deposits alone; before, it drops it.
    #[error("invalid payload: {0}")]
    InvalidPayload(String),
    /// A stateless block file is malformed or inconsistent; the message names the key.
    #[error("stateless input: {0}")]
    StatelessInput(String),
    /// A block's execution witness cannot be built.
    #[error("no execution witness: {0}")]
    WitnessUnavailable(String),
    /// A call could not be executed (the message is invalid on that state).
    #[error("call failed: {0}")]
    Call(String),
    /// The EVM rejected the block.
    #[error("block execution failed: {0}")]
    Block(#[from] alloy_evm::block::BlockExecutionError),
}
