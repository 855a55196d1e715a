/// What can go wrong in the cross-chain check.
#[derive(Debug, thiserror::Error)]
pub enum CrossChainError {
    /// The database failed.
    #[error(transparent)]
    Database(#[from] lockstep_storage::DatabaseError),
    /// A stored record does not decode: the database is damaged or of another version.
    #[error("table {table}: stored record does not decode: {reason}")]
    Corrupt {
        /// The table.
        table: &'static str,
        /// Why.
        reason: String,
    },
    /// A record could not be encoded.
    #[error("cannot encode a record: {0}")]
    Encode(String),
}
