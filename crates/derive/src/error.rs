use alloy_primitives::B256;

/// What went wrong deriving a chain.
///
/// [`DeriveError::Reset`] asks the driver to reset the chain's pipeline from its safe head;
/// the lookups (`L1NotYetAvailable`, `L1Missing`, `L2Missing`) are a step to retry after the
/// driver fetched more; the rest stop the chain.
#[derive(Debug, Clone, thiserror::Error)]
pub enum DeriveError {
    /// The pipeline asked for an L1 block past the one being processed; it is done for now.
    #[error("L1 block {0} is not available yet")]
    L1NotYetAvailable(u64),
    /// The pipeline asked for an L1 block the window no longer (or never) held.
    #[error("L1 block {0} is not in the node's L1 window")]
    L1Missing(String),
    /// The pipeline asked for an L2 block the node does not hold in memory.
    #[error("chain {chain}: L2 block {number} is not in the derivation window")]
    L2Missing {
        /// The chain.
        chain: u64,
        /// The block number.
        number: u64,
    },
    /// A batcher transaction's blob was not fetched with its block.
    #[error("L1 block {block}: blob {hash} of a batcher transaction was not fetched")]
    BlobMissing {
        /// The L1 block.
        block: u64,
        /// The blob's versioned hash.
        hash: B256,
    },
    /// A stored L2 block could not be read back as an OP block.
    #[error("chain {chain}: L2 block {number} is malformed: {reason}")]
    BadL2Block {
        /// The chain.
        chain: u64,
        /// The block number.
        number: u64,
        /// What is wrong with it.
        reason: String,
    },
    /// A network upgrade transaction bundle that cannot be used.
    #[error("{fork}'s upgrade transaction bundle: {reason}")]
    Bundle {
        /// The fork.
        fork: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A blob is not 131,072 bytes.
    #[error("a blob is 131072 bytes, not {0}")]
    BlobSize(usize),
    /// Unknown blob encoding version.
    #[error("blob encoding version {0} is unknown")]
    BlobVersion(u8),
    /// A blob's length field is over the maximum.
    #[error("blob data length {0} is over the maximum")]
    BlobLength(usize),
    /// A blob field element's high bits are set.
    #[error("blob field element {0} has its high bits set")]
    BlobFieldElement(usize),
    /// A blob has non-zero bytes after its data.
    #[error("non-zero bytes after the blob's data")]
    BlobTrailing,
    /// Too much data for one blob.
    #[error("{0} bytes do not fit in one blob")]
    BlobTooLarge(usize),
    /// Input given to decode is malformed.
    #[error("{0}")]
    BadInput(String),
    /// The database failed.
    #[error("database: {0}")]
    Database(String),
    /// The pipeline must be reset (an L1 reorg, or the pipeline's view and the chain's head
    /// disagree).
    #[error("chain {chain}: derivation must reset: {reason}")]
    Reset {
        /// The chain.
        chain: u64,
        /// the reason.
        reason: String,
    },
    /// The pipeline failed in a way retrying cannot fix.
    #[error("chain {chain}: derivation failed: {reason}")]
    Critical {
        /// The chain.
        chain: u64,
        /// the reason.
        reason: String,
    },
    /// The pipeline kept failing temporarily without progress.
    #[error("chain {chain}: derivation made no progress after {steps} steps: {last}")]
    Stalled {
        /// The chain.
        chain: u64,
        /// Steps tried.
        steps: u64,
        /// The last temporary error.
        last: String,
    },
    /// Derived attributes do not build on the chain's head.
    #[error("chain {chain}: derived attributes build on {parent} but the head is {head}")]
    ParentMismatch {
        /// The chain.
        chain: u64,
        /// The attributes' parent.
        parent: B256,
        /// The chain's head.
        head: B256,
    },
}

impl From<lockstep_storage::DatabaseError> for DeriveError {
    fn from(err: lockstep_storage::DatabaseError) -> Self {
        Self::Database(err.to_string())
    }
}
