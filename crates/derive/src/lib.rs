//! Per-chain OP derivation, written from the OP specs.
//!
//! Each chain of the superchain set gets its own pipeline ([`ChainDeriver`]): L1 traversal,
//! the batcher's calldata and blobs to the chain's inbox, frames, channels (the channel bank
//! before Holocene, the strict channel assembler from it; zlib and, from Fjord, brotli),
//! singular and span batches with every validity rule (the batch queue before Holocene, the
//! batch stage from it, empty batches past the sequencer window), and payload attributes with
//! the L1 info deposit, the epoch's user deposits, system config updates and the upgrade
//! transactions of Ecotone, Fjord and Isthmus.
//!
//! The pipelines do no I/O. The node's driver fills the shared [`L1Window`] with the L1 blocks
//! it has fetched and checked, and hands each chain's [`L2Source`] (its [`L2Window`] over the
//! database) to every step, so that a pipeline sees the blocks of the L1 block being processed
//! before they are committed.
//!
//! Good starting points: [`ChainDeriver::next`], `batch_source` and `batch_queue`.

#![cfg_attr(not(test), warn(unused_crate_dependencies))]

pub mod attributes;
pub mod batch;
pub mod batch_queue;
pub mod batch_source;
pub mod batch_stage;
pub mod batch_validity;
pub mod blob;
pub mod block_ref;
pub mod channel;
pub mod channel_assembler;
pub mod channel_bank;
pub mod data_source;
pub mod decode;
pub mod deposits;
mod error;
pub mod frame;
mod l1;
pub mod l1_block_info;
mod l2;
mod pipeline;
pub mod span_batch;
pub mod span_builder;
pub mod system_config;
pub mod traversal;
pub mod upgrades;

pub use block_ref::{block_info, BlockInfo, L2BlockInfo, L2Source};
pub use error::DeriveError;
pub use l1::L1Window;
pub use l2::{op_block, L2Chain, L2Window, FULL_BLOCKS, SUMMARIES};
pub use pipeline::{ChainDeriver, Derived, DerivedAttributes, Resumed, MAX_IDLE_STEPS};
