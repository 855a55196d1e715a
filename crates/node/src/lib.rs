//! The lockstep driver.
//!
//! One process follows every chain of the superchain set from L1 alone. For each new L1 block,
//! [`Node::step`] has every chain's derivation pipeline derive what that block makes safe,
//! executes it over the shared MDBX state, computes the superchain batch boundary (DESIGN.md
//! 5.3), and commits everything (every chain's blocks, state, receipts and changesets, the batch
//! record, the L1 cursor) in one write transaction. A crash at any moment therefore restarts
//! from the last committed L1 block with every chain at the same cursor. An L1 reorg, found by
//! parent hash, unwinds every chain and batch record to the common ancestor.
//!
//! The per-L1-block work is a list of stages (`stages`), each one type in one file with
//! `execute` and `unwind`, as in reth.
//!
//! Good starting points: [`Node::open`], [`Node::step`], `stages` and [`Progress`].

#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod driver;
mod error;
mod progress;
mod stages;

pub use driver::{
    cursor_report, ChainCursorReport, ChainStep, CheckSettings, CursorReport, Node, StepOutcome,
    DEFAULT_HISTORY_BLOCKS, MIN_HISTORY_BLOCKS,
};
pub use error::NodeError;
pub use progress::Progress;
pub use stages::{MIN_L1_RECORDS, PRUNE_STEP};
