//! The shared sequencer of a lockstep superchain set.
//!
//! [`SharedSequencer`] builds the next block of every chain at the same timestamp, with the same
//! execution crate as the verifier. After each successful `Burn` to another chain of the set, it
//! puts the matching relay transaction, signed by its system address, into the destination
//! chain's block at that same timestamp; a reverted burn gets no mint. [`Fault`]s make it
//! misbehave on purpose so that tests can prove the verifier catches it.
//!
//! It keeps its own database: the sequencer and the verifier share code, never memory.
//!
//! Good starting points: [`SharedSequencer::open`], [`SharedSequencer::submit`] and
//! [`SharedSequencer::build`].

#![cfg_attr(not(test), warn(unused_crate_dependencies))]

pub mod batcher;
mod error;
mod fault;
mod pool;
pub mod rpc;
mod sequencer;

pub use error::{IntakeError, SequencerError};
pub use fault::{Fault, FaultKind};
pub use sequencer::{
    l1_info_deposit, parent_system_config, payload_attributes, upgrade_deposits, BuiltBlock,
    L1Origin, SequencedChain, SharedSequencer,
};
