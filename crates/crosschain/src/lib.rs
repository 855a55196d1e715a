//! lockstep's cross-chain check (DESIGN.md section 5).
//!
//! So far: the bridge's ABI ([`bridge`]) and the extraction of burns and mints from a block's
//! receipts ([`bridge_events`]), in (block, transaction, log) order, from successful transactions
//! only. The per-batch trees, verdicts and evidence build on these.
//!
//! Good starting point: [`bridge_events`].

#![cfg_attr(not(test), warn(unused_crate_dependencies))]

pub mod bridge;
mod extract;

pub use extract::{bridge_events, BridgeEvent, EventKind, Located};
