//! The load generator's errors.

/// Why a load run could not start or finish.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The options make no run.
    #[error("bad options: {0}")]
    Options(String),
    /// The async runtime did not start.
    #[error("starting the runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// A connection failed (refused, reset, or a malformed HTTP answer).
    #[error("{0}")]
    Http(String),
    /// A worker task failed.
    #[error("a load worker failed: {0}")]
    Worker(String),
}
