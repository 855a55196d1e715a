//! The node's per-L1-block work, in stages after reth's: each stage is one type in its own
//! file. For every L1 block the stages execute in order, inside that block's one write
//! transaction; after an L1 reorg they unwind in reverse order, above the common ancestor, in
//! one write transaction too.
//!
//! - [`ExecuteStage`]: every chain derives what the L1 block makes safe and executes it.
//! - [`BatchStage`]: the superchain batch boundary (DESIGN.md 5.3).
//! - [`CheckStage`]: the cross-chain check of a closed batch, and the sequencer's commitments
//!   in the L1 block (DESIGN.md 5.4 to 5.6).
//! - [`CursorStage`]: every chain's derivation cursor and the L1 block's record.
//! - [`PruneStage`]: the history older than the kept window (`--history.blocks`).

mod batch;
mod check;
mod cursor;
mod execute;
mod prune;

pub(crate) use batch::BatchStage;
pub(crate) use check::CheckStage;
pub(crate) use cursor::CursorStage;
pub(crate) use execute::ExecuteStage;
pub(crate) use prune::PruneStage;
pub use prune::{MIN_L1_RECORDS, PRUNE_STEP};

use crate::{driver::ChainState, ChainStep, NodeError};
use alloy_primitives::B256;
use lockstep_crosschain::{BatchVerdict, Commitment, CrossChainCheck};
use lockstep_derive::L1Window;
use lockstep_storage::{BatchRecord, DatabaseEnv, DbTx, DepositOrigin, L1BlockRecord, RW};

/// What the stages work on: the node's parts.
#[derive(Debug)]
pub(crate) struct Parts<'a> {
    /// The database, for the chains' read snapshots.
    pub(crate) env: &'a DatabaseEnv,
    /// Every chain.
    pub(crate) chains: &'a mut [ChainState],
    /// The L1 blocks the pipelines read.
    pub(crate) l1: &'a L1Window,
    /// The cross-chain check.
    pub(crate) check: &'a mut CrossChainCheck,
    /// Whether the set names a commitment contract (so that commitments are due).
    pub(crate) commitments_checked: bool,
    /// How many blocks of history each chain keeps (`None`: all of it).
    pub(crate) history_blocks: Option<u64>,
}

/// The L1 block being processed.
#[derive(Debug, Clone)]
pub(crate) struct L1Input {
    /// Its number.
    pub(crate) number: u64,
    /// Its hash.
    pub(crate) hash: B256,
    /// Its parent's hash.
    pub(crate) parent_hash: B256,
    /// Its time.
    pub(crate) timestamp: u64,
    /// The sequencer's commitments it carries.
    pub(crate) commitments: Vec<Commitment>,
    /// Its user deposits (to any chain of the set): each one's source hash and L1 log.
    pub(crate) deposits: Vec<(B256, DepositOrigin)>,
}

/// What the stages made of an L1 block.
#[derive(Debug, Default)]
pub(crate) struct StepOutput {
    /// Each chain's new blocks.
    pub(crate) chains: Vec<ChainStep>,
    /// The smallest head timestamp over the chains, `T(n)`.
    pub(crate) safe_timestamp: u64,
    /// The superchain batch the block closed.
    pub(crate) batch: Option<BatchRecord>,
    /// The verdicts it wrote.
    pub(crate) verdicts: Vec<BatchVerdict>,
}

/// What an unwind undoes: everything recorded above `ancestor` (none: everything).
#[derive(Debug)]
pub(crate) struct UnwindInput {
    /// The newest committed L1 block the L1 still has, with its record.
    pub(crate) ancestor: Option<(u64, L1BlockRecord)>,
    /// The first L1 block to undo.
    pub(crate) above: u64,
    /// The superchain batches closed from `above` on, newest first.
    pub(crate) batches: Vec<BatchRecord>,
}

/// One stage of the per-L1-block work.
pub(crate) trait Stage {
    /// Its name, for logs.
    fn name(&self) -> &'static str;

    /// Does the stage's work for L1 block `input`, writing into `tx`.
    fn execute(
        &mut self,
        parts: &mut Parts<'_>,
        tx: &DbTx<'_, RW>,
        input: &L1Input,
        out: &mut StepOutput,
    ) -> Result<(), NodeError>;

    /// Undoes what the stage wrote for the L1 blocks from `input.above` on. Returns, for the
    /// stage that unwinds chains, the blocks each lost.
    fn unwind(
        &mut self,
        parts: &mut Parts<'_>,
        tx: &DbTx<'_, RW>,
        input: &UnwindInput,
    ) -> Result<Vec<(u64, u64)>, NodeError>;
}

/// The stages in execution order.
pub(crate) fn stages() -> [Box<dyn Stage>; 5] {
    [
        Box::new(ExecuteStage),
        Box::new(BatchStage),
        Box::new(CheckStage),
        Box::new(CursorStage),
        Box::new(PruneStage),
    ]
}
