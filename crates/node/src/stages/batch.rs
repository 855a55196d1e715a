//! The superchain batch boundary (DESIGN.md 5.3): `T(n)` is the smallest head timestamp over
//! the chains; when it grows, the L1 block closes the next batch, covering every chain's blocks
//! in `(T(n-1), T(n)]`. Unwinding deletes the batch records closed above the ancestor.

use super::{L1Input, Parts, Stage, StepOutput, UnwindInput};
use crate::NodeError;
use lockstep_storage::{
    tables::{BatchByL1Block, L1Blocks, SuperchainBatches},
    BatchRecord, ChainRange, DbTx, RW,
};

/// The batch boundary.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct BatchStage;

impl Stage for BatchStage {
    fn name(&self) -> &'static str {
        "batch"
    }

    fn execute(
        &mut self,
        parts: &mut Parts<'_>,
        tx: &DbTx<'_, RW>,
        input: &L1Input,
        out: &mut StepOutput,
    ) -> Result<(), NodeError> {
        let chains = &*parts.chains;
        let previous = tx.cursor::<L1Blocks>()?.last()?;
        let safe_timestamp =
            chains.iter().map(|c| c.head.block_info.timestamp).min().unwrap_or_default();
        out.safe_timestamp = safe_timestamp;
        let previous_safe = match &previous {
            Some((_, record)) => record.safe_timestamp,
            None => chains.iter().map(|c| c.spec.genesis.timestamp).min().unwrap_or_default(),
        };
        if safe_timestamp <= previous_safe {
            return Ok(());
        }
        let index = tx.cursor::<SuperchainBatches>()?.last()?.map_or(0, |(i, _)| i + 1);
        let ranges = chains
            .iter()
            .map(|c| {
                let (genesis_ts, genesis_n) = (c.spec.genesis.timestamp, c.spec.genesis_number());
                let bt = c.rollup.block_time;
                let first = genesis_n + previous_safe.saturating_sub(genesis_ts) / bt + 1;
                let last = genesis_n + safe_timestamp.saturating_sub(genesis_ts) / bt;
                ChainRange { chain_id: c.chain_id(), first, last }
            })
            .collect();
        let record = BatchRecord {
            index,
            l1_number: input.number,
            l1_hash: input.hash,
            from_timestamp: previous_safe,
            to_timestamp: safe_timestamp,
            ranges,
        };
        tx.put::<SuperchainBatches>(&index, &record)?;
        tx.put::<BatchByL1Block>(&input.number, &index)?;
        out.batch = Some(record);
        Ok(())
    }

    fn unwind(
        &mut self,
        _parts: &mut Parts<'_>,
        tx: &DbTx<'_, RW>,
        input: &UnwindInput,
    ) -> Result<Vec<(u64, u64)>, NodeError> {
        super::cursor::delete_from::<BatchByL1Block>(tx, input.above)?;
        for record in &input.batches {
            tx.delete::<SuperchainBatches>(&record.index)?;
        }
        Ok(Vec::new())
    }
}
