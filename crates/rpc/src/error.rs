use std::net::SocketAddr;

/// Why a server could not start.
#[derive(Debug, thiserror::Error)]
pub enum RpcError {
    /// The address could not be bound (in use, not local, no permission).
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// Two modules define one method (a programming error).
    #[error("JSON-RPC method registration: {0}")]
    Register(#[from] jsonrpsee::core::RegisterMethodError),
    /// The server thread could not be started.
    #[error("cannot start the server thread: {0}")]
    Thread(std::io::Error),
}
