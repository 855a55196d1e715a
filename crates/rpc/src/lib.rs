//! lockstep's JSON-RPC server (jsonrpsee): the `superchain_` namespace, read from the node's
//! database while the node writes it.
//!
//! | method | params | result |
//! |---|---|---|
//! | `superchain_syncStatus` | none | L1 head and cursor, every chain's head, batches checked and flagged |
//! | `superchain_getBatch` | `index` | the batch's summary, or `null` |
//! | `superchain_getBatchByL1Block` | `l1Number` | the summary of the batch that L1 block closed, or `null` |
//! | `superchain_listFlagged` | `from?`, `limit?` (≤ 1000, default 100) | `{ flagged: [...], next }` |
//! | `superchain_getTransfer` | `source`, `destination`, `nonce` | the transfer's record, or `null` |
//! | `superchain_getEvidence` | `index` | the flagged batch's evidence, or `null` if it matches |
//!
//! Numbers are accepted as JSON numbers, `0x` hex or decimal strings. Bad parameters get error
//! `-32602` with a message naming the parameter; a database failure gets `-32000`.
//!
//! `eth_` per chain ([`serve_chain`]), with `debug_executionWitness` and the `debug_getRaw*`
//! methods, and the operator's HTTP server ([`serve_status`]:
//! Prometheus `/metrics`, the status page at `/`) live here too.
//!
//! Every handler runs on a [`CallPool`]: a bounded set of blocking threads with a per-call
//! timeout, so that no number of clients can take the database's reader slots or the async
//! workers from the node's sync loop.
//!
//! Good starting point: [`serve`].

#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod debug;
mod error;
mod eth;
mod fees;
mod filters;
mod l1_fee;
mod overrides;
mod pool;
mod proof;
mod status;
mod subscribe;
mod superchain;

pub use error::RpcError;
pub use eth::{
    eth_module, eth_module_with_pool, serve_chain, server_config, EthLimits, PendingNonces,
    DEFAULT_EVM_TIMEOUT, DEFAULT_GAS_CAP, MAX_FILTER_ALTERNATIVES, PRUNED_CODE,
};
pub use fees::{MAX_FEE_HISTORY_BLOCKS, MAX_REWARD_PERCENTILES, MIN_SUGGESTED_PRIORITY_FEE};
pub use filters::{FILTER_TIMEOUT, MAX_FILTERS, MAX_FILTER_BLOCKS};
pub use overrides::{MAX_OVERRIDDEN_ACCOUNTS, MAX_OVERRIDDEN_SLOTS};
pub use pool::{
    deprioritize_current_thread, lower_thread_priority, CallPool, Handler, DEFAULT_CALL_TIMEOUT,
    DEFAULT_WORKERS, MAX_WORKERS, SERVING_NICENESS, TIMEOUT_CODE,
};
pub use proof::MAX_PROOF_KEYS;
pub use status::{serve_status, NodeMetrics, READY_L1_LAG};
pub use subscribe::{MAX_PUSHED_HEADS, MAX_SUBSCRIPTIONS_PER_CONNECTION, SUBSCRIPTION_POLL};
pub use superchain::{
    batch_summary, serve, superchain_module, LiveStatus, LIST_LIMIT, LIST_SCAN,
    SUPERCHAIN_MAX_BATCH,
};
