//! Every chain's derivation cursor (the L1 block it has derived through, and its head) and the
//! L1 block's record (hash, parent, time, `T(n)`, every chain's head), which is the node's L1
//! cursor. Unwinding deletes the records above the ancestor and points the cursors at it.

use super::{L1Input, Parts, Stage, StepOutput, UnwindInput};
use crate::{driver::ChainState, NodeError};
use lockstep_storage::{
    tables::{DerivationCursors, L1Blocks},
    ChainCursor, DbTx, DerivationCursor, L1BlockRecord, RW,
};

/// The cursors.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct CursorStage;

impl Stage for CursorStage {
    fn name(&self) -> &'static str {
        "cursor"
    }

    fn execute(
        &mut self,
        parts: &mut Parts<'_>,
        tx: &DbTx<'_, RW>,
        input: &L1Input,
        out: &mut StepOutput,
    ) -> Result<(), NodeError> {
        let heads: Vec<ChainCursor> = parts.chains.iter().map(ChainState::cursor).collect();
        for head in &heads {
            let cursor =
                DerivationCursor { l1_number: input.number, l1_hash: input.hash, head: *head };
            tx.put::<DerivationCursors>(&head.chain_id, &cursor)?;
        }
        let record = L1BlockRecord {
            hash: input.hash,
            parent_hash: input.parent_hash,
            timestamp: input.timestamp,
            safe_timestamp: out.safe_timestamp,
            heads,
        };
        tx.put::<L1Blocks>(&input.number, &record)?;
        Ok(())
    }

    fn unwind(
        &mut self,
        parts: &mut Parts<'_>,
        tx: &DbTx<'_, RW>,
        input: &UnwindInput,
    ) -> Result<Vec<(u64, u64)>, NodeError> {
        delete_from::<L1Blocks>(tx, input.above)?;
        for chain in parts.chains.iter() {
            match &input.ancestor {
                Some((number, record)) => {
                    let head =
                        record.heads.iter().find(|h| h.chain_id == chain.chain_id()).copied();
                    if let Some(head) = head {
                        let cursor =
                            DerivationCursor { l1_number: *number, l1_hash: record.hash, head };
                        tx.put::<DerivationCursors>(&chain.chain_id(), &cursor)?;
                    }
                }
                None => {
                    tx.delete::<DerivationCursors>(&chain.chain_id())?;
                }
            }
        }
        Ok(Vec::new())
    }
}

/// Deletes the entries of a `u64`-keyed table from `from` on.
pub(crate) fn delete_from<T: lockstep_storage::Table<Key = u64>>(
    tx: &DbTx<'_, RW>,
    from: u64,
) -> Result<(), NodeError> {
    let mut keys = Vec::new();
    let mut cursor = tx.cursor::<T>()?;
    let mut entry = cursor.seek(&from)?;
    while let Some((key, _)) = entry {
        keys.push(key);
        entry = cursor.next()?;
    }
    drop(cursor);
    for key in keys {
        tx.delete::<T>(&key)?;
    }
    Ok(())
}
