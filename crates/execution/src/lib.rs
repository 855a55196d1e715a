//! OP block execution over lockstep's shared MDBX state.
//!
//! A [`ChainExecutor`] takes payload attributes (the L1 info deposit, user deposits and
//! sequenced transactions), executes them with alloy-op-evm over the chain's state, and writes
//! the block: plain state, changesets, the incrementally updated trie, receipts and a header built
//! as op-reth builds it. [`output_root`] gives the OP fault-proof output root.
//!
//! [`execute_stateless`] runs one block from an execution witness instead, with no database.
//!
//! Good starting points: [`ChainExecutor::init_genesis`], [`ChainExecutor::execute`] and
//! [`execute_stateless`].

#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod call;
mod env;
mod error;
mod estimate;
mod executor;
mod forks;
mod karst;
mod recover;
mod stateless;
#[cfg(any(test, feature = "test-utils"))]
pub mod test_utils;
mod witness;

pub use call::{call, call_until, CallOutcome, CallRequest};
pub use env::{base_fee_params, evm_env, extra_data, next_base_fee, spec_id};
pub use error::ExecutionError;
pub use estimate::{estimate_gas, GasEstimate};
pub use executor::{
    bundle_changes, execute_transactions, genesis_changes, genesis_header, next_header,
    output_root, seal_block, ChainExecutor, ExecutedBlock, ExecutionOutcome, GenesisInfo,
    RejectedTransaction,
};
pub use karst::{BN254_PAIRING, BN254_PAIRING_MAX_INPUT, TX_GAS_LIMIT_CAP};
pub use op_alloy_rpc_types_engine::OpPayloadAttributes;
pub use stateless::{
    execute_stateless, header_mismatches, ExecutionWitness, ExpectedBlock, FieldMismatch,
    StatelessBlock, WitnessDatabase, MAX_FILE_BYTES,
};
pub use witness::{execution_witness, payload_attributes, BlockWitness};
