//! The cross-chain check (DESIGN.md 5.4 to 5.6), in the same transaction as the blocks it
//! checks: a closed batch's burns and mints, from the bridge events each chain's thread
//! extracted as it executed (after a restart, from the stored receipts), against every
//! chain's output; then the sequencer's commitments in the L1 block. Unwinding undoes the check
//! of the batches that go, while their blocks are still there.

use super::{L1Input, Parts, Stage, StepOutput, UnwindInput};
use crate::NodeError;
use lockstep_crosschain::{ChainOutput, Recorded};
use lockstep_storage::{tables::DepositOrigins, BatchRecord, ChainProvider, DbTx, RW};

/// The cross-chain check.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct CheckStage;

impl Stage for CheckStage {
    fn name(&self) -> &'static str {
        "check"
    }

    fn execute(
        &mut self,
        parts: &mut Parts<'_>,
        tx: &DbTx<'_, RW>,
        input: &L1Input,
        out: &mut StepOutput,
    ) -> Result<(), NodeError> {
        for (source, origin) in &input.deposits {
            tx.put::<DepositOrigins>(source, origin)?;
        }
        if let Some(record) = &out.batch {
            let outputs = outputs(tx, record)?;
            let mut events = Vec::new();
            for (range, chain) in record.ranges.iter().zip(parts.chains.iter_mut()) {
                for number in range.first..=range.last {
                    match chain.events.remove(&number) {
                        Some(found) => events.extend(lockstep_crosschain::located_events(
                            range.chain_id,
                            record.index,
                            found,
                        )),
                        // executed before a restart: from the stored receipts
                        None => events.extend(parts.check.block_events(
                            tx,
                            range.chain_id,
                            number,
                            record.index,
                        )?),
                    }
                }
                chain.events.retain(|n, _| *n > range.last);
            }
            out.verdicts.push(parts.check.check_batch(tx, record, outputs, &events)?);
        }
        let mut updated = Vec::new();
        for commitment in &input.commitments {
            match parts.check.record_commitment(tx, commitment)? {
                Recorded::Ignored(reason) => tracing::warn!(
                    target: "lockstep::crosschain",
                    batch = commitment.batch,
                    l1_block = commitment.l1_block,
                    tx = %commitment.tx_hash,
                    %reason,
                    "commitment ignored"
                ),
                Recorded::Counted(verdict) => updated.extend(verdict),
            }
        }
        if parts.commitments_checked {
            updated.extend(parts.check.commitment_due(tx, input.number)?);
        }
        for verdict in updated {
            out.verdicts.retain(|v| v.batch != verdict.batch);
            out.verdicts.push(verdict);
        }
        Ok(())
    }

    fn unwind(
        &mut self,
        parts: &mut Parts<'_>,
        tx: &DbTx<'_, RW>,
        input: &UnwindInput,
    ) -> Result<Vec<(u64, u64)>, NodeError> {
        parts.check.unwind(tx, &input.batches, input.ancestor.as_ref().map(|(n, _)| *n))?;
        Ok(Vec::new())
    }
}

/// Every chain's output at the end of `batch` (DESIGN.md 5.5).
fn outputs<T: lockstep_storage::TableRead>(
    tx: &T,
    batch: &BatchRecord,
) -> Result<Vec<ChainOutput>, NodeError> {
    batch
        .ranges
        .iter()
        .map(|range| {
            let provider = ChainProvider::new(tx, range.chain_id);
            let missing = |what: &str| {
                NodeError::Inconsistent(format!(
                    "chain {} block {}: no {what}",
                    range.chain_id, range.last
                ))
            };
            let header = provider.header(range.last)?.ok_or_else(|| missing("header"))?;
            let block_hash =
                provider.block_hash(range.last)?.ok_or_else(|| missing("block hash"))?;
            let passer = provider
                .message_passer_root(range.last)?
                .ok_or_else(|| missing("message passer storage root"))?;
            Ok(ChainOutput {
                chain_id: range.chain_id,
                first: range.first,
                last: range.last,
                block_hash,
                state_root: header.state_root,
                message_passer_storage_root: passer,
                output_root: lockstep_execution::output_root(header.state_root, passer, block_hash),
            })
        })
        .collect()
}
