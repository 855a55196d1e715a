/// Why a submitted transaction was refused. Each maps to a JSON-RPC error message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IntakeError {
    /// The chain id is not one of the set.
    #[error("unknown chain {0}")]
    UnknownChain(u64),
    /// The bytes are not an EIP-2718 transaction.
    #[error("transaction does not decode: {0}")]
    Malformed(String),
    /// Deposits come from L1 only.
    #[error("deposit transactions cannot be submitted")]
    Deposit,
    /// Signed for another chain (or without replay protection).
    #[error("wrong chain id: the transaction is for {found:?}, this endpoint is chain {expected}")]
    WrongChain {
        /// This endpoint's chain.
        expected: u64,
        /// The transaction's chain id, if any.
        found: Option<u64>,
    },
    /// The signature does not recover.
    #[error("invalid signature")]
    BadSignature,
    /// The nonce was used already.
    #[error("nonce too low: next nonce is {expected}, transaction has {found}")]
    NonceTooLow {
        /// The next usable nonce.
        expected: u64,
        /// The transaction's nonce.
        found: u64,
    },
    /// The nonce leaves a gap.
    #[error("nonce too high: next nonce is {expected}, transaction has {found}")]
    NonceTooHigh {
        /// The next usable nonce.
        expected: u64,
        /// The transaction's nonce.
        found: u64,
    },
    /// The fee cap is below the next block's base fee.
    #[error("transaction underpriced: max fee per gas {max_fee} is below the base fee {base_fee}")]
    Underpriced {
        /// The transaction's fee cap.
        max_fee: u128,
        /// The next block's base fee.
        base_fee: u64,
    },
    /// The gas limit is below the intrinsic 21000, above the block gas limit, or (from Karst)
    /// above the transaction gas cap of 2^24.
    #[error("gas limit {0} is out of range")]
    GasLimit(u64),
    /// The sender cannot pay for gas and value.
    #[error("insufficient funds for gas * price + value")]
    InsufficientFunds,
    /// The sender is the sequencer's system address, which only relays.
    #[error("the sequencer's system address cannot submit transactions")]
    SystemSender,
    /// The sequencer's state could not be read.
    #[error("internal error: {0}")]
    Internal(String),
}

/// Why the sequencer could not build.
#[derive(Debug, thiserror::Error)]
pub enum SequencerError {
    /// The database failed.
    #[error(transparent)]
    Database(#[from] lockstep_storage::DatabaseError),
    /// Execution failed.
    #[error(transparent)]
    Execution(#[from] lockstep_execution::ExecutionError),
    /// The chains' heads are not at the same timestamp.
    #[error("chain heads are out of lockstep: {0}")]
    OutOfLockstep(String),
    /// The L1 info transaction could not be built.
    #[error("L1 info transaction: {0}")]
    L1Info(String),
    /// Signing a relay failed.
    #[error("signing: {0}")]
    Signing(String),
    /// A configuration problem.
    #[error("{0}")]
    Config(String),
    /// The chain is not in the set, or has no genesis.
    #[error("chain {0} is not in the set or has no genesis")]
    UnknownChain(u64),
}
