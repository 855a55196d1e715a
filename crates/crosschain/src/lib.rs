//! lockstep's cross-chain check (DESIGN.md section 5).
//!
//! - [`bridge_events`]: the burns and mints of a block's receipts, in (transaction, log) order,
//!   from successful transactions only.
//! - [`check_pairs`]: per batch and ordered pair of chains, the burn and mint trees, and the
//!   classification of every difference ([`Classification`]).
//! - [`check_commitment`]: the sequencer's L1 commitment against what was computed.
//! - [`CrossChainCheck`]: all of it against the database, in the node's write transaction:
//!   verdicts with evidence ([`BatchVerdict`]), transfer records, the flagged list.
//!
//! Good starting point: [`CrossChainCheck::check_batch`].

#![cfg_attr(not(test), warn(unused_crate_dependencies))]

pub mod bridge;
mod check;
mod error;
mod extract;
mod store;
mod verdict;

pub use bridge::{decode_commitment, COMMITMENT_TOPIC};
pub use check::{
    check_commitment, check_pairs, transfer_key, BatchEvent, Commitment, CommittedOutput,
    CommittedPair, PairsChecked, TransferKey,
};
pub use error::CrossChainError;
pub use extract::{bridge_events, BridgeEvent, EventKind, Located};
pub use store::{
    commitments, flagged, flagged_count, located_events, transfer, verdict, verdicts_checked,
    CrossChainCheck, Recorded, MAX_COMMITMENTS_PER_BATCH,
};
pub use verdict::{
    Atomicity, BatchVerdict, ChainOutput, Classification, CommitmentCheck, Difference,
    EventLocation, ForeignEvent, L1Deposit, PairRoots, ProvenEvent, RecordedEvent, TransferRecord,
    TransferStatus, EVIDENCE_VERSION,
};
