//! Per-chain OP derivation on kona-derive.
//!
//! Each chain of the superchain set gets its own kona-derive pipeline ([`ChainDeriver`]): L1
//! traversal, calldata and blob retrieval from the chain's batch inbox filtered by its batcher,
//! frames, channels (zlib and brotli), singular and span batches with the spec's validity rules,
//! and payload attributes with the L1 info deposit and the epoch's user deposits.
//!
//! The pipelines do no I/O. The node's driver fills the shared [`L1Window`] with the L1 blocks
//! it has fetched and checked, and each chain's [`L2Window`] with the blocks it executes, so that
//! a pipeline sees the blocks of the L1 block being processed before they are committed.
//!
//! Good starting points: [`ChainDeriver::next`] and [`L1Window`].

#![cfg_attr(not(test), warn(unused_crate_dependencies))]

pub mod batch;
pub mod blob;
pub mod channel;
pub mod channel_assembler;
pub mod decode;
pub mod deposits;
mod error;
pub mod frame;
mod l1;
pub mod l1_block_info;
mod l2;
mod pipeline;
pub mod span_batch;
pub mod system_config;

pub use error::DeriveError;
pub use l1::{block_info, L1Window};
pub use l2::{op_block, L2Window, FULL_BLOCKS, SUMMARIES};
pub use pipeline::{ChainDeriver, Derived, MAX_IDLE_STEPS};

pub use kona_protocol::{BlockInfo, L2BlockInfo, OpAttributesWithParent};
