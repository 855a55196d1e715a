//! The check against the database: events read from the stored receipts, transfer records,
//! verdicts, the flagged list and the sequencer's commitments, all written in the caller's
//! transaction (the node's one write transaction per L1 block).

use crate::{
    bridge_events,
    check::{check_commitment, check_pairs, transfer_key, BatchEvent, Commitment, TransferKey},
    verdict::{
        BatchVerdict, ChainOutput, Classification, CommitmentCheck, EventLocation, TransferRecord,
        EVIDENCE_VERSION,
    },
    CrossChainError,
};
use alloy_primitives::{Address, B256, U256};
use lockstep_primitives::ChainId;
use lockstep_storage::{
    tables::{BatchCommitments, BatchVerdicts, FlaggedBatches, Transfers},
    BatchRecord, ChainProvider, DbTx, Table, TableRead, TableWrite, TransactionKind,
};
use serde::{de::DeserializeOwned, Serialize};
use std::collections::BTreeMap;

fn to_json<T: Serialize>(value: &T) -> Result<Vec<u8>, CrossChainError> {
    serde_json::to_vec(value).map_err(|e| CrossChainError::Encode(e.to_string()))
}

fn from_json<T: DeserializeOwned>(table: &'static str, raw: &[u8]) -> Result<T, CrossChainError> {
    serde_json::from_slice(raw)
        .map_err(|e| CrossChainError::Corrupt { table, reason: e.to_string() })
}

fn nonce_key(key: &TransferKey) -> (ChainId, ChainId, B256) {
    (key.0, key.1, B256::from(key.2))
}

/// The cross-chain check of one superchain set.
#[derive(Debug, Clone)]
pub struct CrossChainCheck {
    /// The set's chains, in order.
    pub chains: Vec<ChainId>,
    /// The bridge predeploy, the same on every chain.
    pub bridge: Address,
}

impl CrossChainCheck {
    /// The bridge events of every chain's blocks in `batch`, in (chain, block, transaction,
    /// log) order, read from the receipts in `tx`.
    pub fn events<T: TableRead>(
        &self,
        tx: &T,
        batch: &BatchRecord,
    ) -> Result<Vec<BatchEvent>, CrossChainError> {
        let mut out = Vec::new();
        for range in &batch.ranges {
            for number in range.first..=range.last {
                out.extend(self.block_events(tx, range.chain_id, number, batch.index)?);
            }
        }
        Ok(out)
    }

    /// The bridge events of block `number` of `chain`, read from its stored receipts, as
    /// events of batch `batch`.
    pub fn block_events<T: TableRead>(
        &self,
        tx: &T,
        chain: ChainId,
        number: u64,
        batch: u64,
    ) -> Result<Vec<BatchEvent>, CrossChainError> {
        let provider = ChainProvider::new(tx, chain);
        let receipts = provider.receipts(number)?;
        let found = bridge_events(chain, number, &receipts, &[], self.bridge);
        if found.is_empty() {
            return Ok(Vec::new());
        }
        let transactions = provider.transactions(number)?;
        let with_hashes: Vec<_> = found
            .into_iter()
            .map(|mut event| {
                event.tx_hash = transactions
                    .get(event.tx_index as usize)
                    .map(|t| t.tx_hash())
                    .unwrap_or_default();
                event
            })
            .collect();
        Ok(located_events(chain, batch, with_hashes))
    }

    /// Checks `batch` (DESIGN.md 5.4) over its bridge `events` (in chain, block, transaction,
    /// log order: what [`Self::events`] reads, or what the driver extracted while executing):
    /// its pairs' trees, the transfer records, its commitment if already seen, and writes the
    /// verdict (and the flagged entry) in `tx`. `outputs` are every chain's output at the
    /// batch's end, in the set's order.
    pub fn check_batch<T: TableWrite>(
        &self,
        tx: &T,
        batch: &BatchRecord,
        outputs: Vec<ChainOutput>,
        events: &[BatchEvent],
    ) -> Result<BatchVerdict, CrossChainError> {
        let mut records = BTreeMap::new();
        for event in events {
            let key = transfer_key(&event.transfer);
            if let std::collections::btree_map::Entry::Vacant(slot) = records.entry(key) {
                if let Some(raw) = tx.get::<Transfers>(&nonce_key(&key))? {
                    slot.insert(from_json::<TransferRecord>(Transfers::NAME, &raw)?);
                }
            }
        }
        let checked = check_pairs(batch.index, &self.chains, events, &mut records);
        for (key, record) in &records {
            tx.put::<Transfers>(&nonce_key(key), &to_json(record)?)?;
        }
        let mut verdict = BatchVerdict {
            version: EVIDENCE_VERSION,
            batch: batch.index,
            l1_block: batch.l1_number,
            l1_hash: batch.l1_hash,
            from_timestamp: batch.from_timestamp,
            to_timestamp: batch.to_timestamp,
            matches: false,
            chains: outputs,
            pairs: checked.pairs,
            commitment: CommitmentCheck::NotSeen,
            differences: checked.differences,
            foreign: checked.foreign,
        };
        if let Some(commitment) = commitment(tx, batch.index)? {
            apply_commitment(&mut verdict, &commitment);
        }
        verdict.settle();
        save_verdict(tx, &verdict)?;
        Ok(verdict)
    }

    /// Records a commitment read from L1. If its batch was already checked, the commitment is
    /// checked now and the batch's verdict rewritten, which is returned. A second commitment
    /// for a batch is ignored (the contract refuses one; a reorg may bring it again).
    pub fn record_commitment<T: TableWrite>(
        &self,
        tx: &T,
        commitment: &Commitment,
    ) -> Result<Option<BatchVerdict>, CrossChainError> {
        if tx.get::<BatchCommitments>(&commitment.batch)?.is_some() {
            return Ok(None);
        }
        tx.put::<BatchCommitments>(&commitment.batch, &to_json(commitment)?)?;
        let Some(mut verdict) = verdict(tx, commitment.batch)? else { return Ok(None) };
        apply_commitment(&mut verdict, commitment);
        verdict.settle();
        save_verdict(tx, &verdict)?;
        Ok(Some(verdict))
    }

    /// Undoes every batch from `first_batch` on and every commitment read from an L1 block
    /// above `l1_ancestor`, in `tx`. Must run before the chains' blocks are unwound: the
    /// transfers are found again in the doomed batches' receipts.
    pub fn unwind<T: TableWrite>(
        &self,
        tx: &T,
        doomed: &[BatchRecord],
        l1_ancestor: Option<u64>,
    ) -> Result<(), CrossChainError> {
        let Some(first_batch) = doomed.iter().map(|b| b.index).min() else {
            return self.unwind_commitments(tx, l1_ancestor, u64::MAX);
        };
        let mut keys = std::collections::BTreeSet::new();
        for batch in doomed {
            for event in self.events(tx, batch)? {
                keys.insert(transfer_key(&event.transfer));
            }
        }
        for key in keys {
            let Some(raw) = tx.get::<Transfers>(&nonce_key(&key))? else { continue };
            let mut record: TransferRecord = from_json(Transfers::NAME, &raw)?;
            if record.burn.is_some_and(|b| b.location.batch >= first_batch) {
                record.burn = None;
            }
            record.mints.retain(|m| m.location.batch < first_batch);
            if record.burn.is_none() && record.mints.is_empty() {
                tx.delete::<Transfers>(&nonce_key(&key))?;
            } else {
                record.recompute_status();
                tx.put::<Transfers>(&nonce_key(&key), &to_json(&record)?)?;
            }
        }
        for batch in doomed {
            tx.delete::<BatchVerdicts>(&batch.index)?;
            tx.delete::<FlaggedBatches>(&batch.index)?;
        }
        self.unwind_commitments(tx, l1_ancestor, first_batch)
    }

    fn unwind_commitments<T: TableWrite>(
        &self,
        tx: &T,
        l1_ancestor: Option<u64>,
        first_doomed: u64,
    ) -> Result<(), CrossChainError> {
        let mut gone = Vec::new();
        tx.for_each_prefix::<BatchCommitments>(&[], |batch, raw| {
            let commitment: Commitment = match from_json(BatchCommitments::NAME, &raw) {
                Ok(c) => c,
                Err(_) => return Ok(true),
            };
            if l1_ancestor.is_none_or(|a| commitment.l1_block > a) {
                gone.push(batch);
            }
            Ok(true)
        })?;
        for batch in gone {
            tx.delete::<BatchCommitments>(&batch)?;
            if batch >= first_doomed {
                continue;
            }
            if let Some(mut verdict) = verdict(tx, batch)? {
                verdict.commitment = CommitmentCheck::NotSeen;
                verdict.differences.retain(|d| !is_commitment(d.classification));
                verdict.settle();
                save_verdict(tx, &verdict)?;
            }
        }
        Ok(())
    }
}

const fn is_commitment(classification: Classification) -> bool {
    matches!(classification, Classification::InvalidOutputRoot | Classification::InvalidCommitment)
}

fn apply_commitment(verdict: &mut BatchVerdict, commitment: &Commitment) {
    verdict.differences.retain(|d| !is_commitment(d.classification));
    let found = check_commitment(commitment, &verdict.chains, &verdict.pairs);
    verdict.commitment = if found.is_empty() {
        CommitmentCheck::Matches { l1_block: commitment.l1_block }
    } else {
        CommitmentCheck::Invalid { l1_block: commitment.l1_block }
    };
    verdict.differences.extend(found);
}

fn save_verdict<T: TableWrite>(tx: &T, verdict: &BatchVerdict) -> Result<(), CrossChainError> {
    tx.put::<BatchVerdicts>(&verdict.batch, &to_json(verdict)?)?;
    if verdict.matches {
        tx.delete::<FlaggedBatches>(&verdict.batch)?;
    } else {
        tx.put::<FlaggedBatches>(&verdict.batch, &verdict.l1_block)?;
    }
    Ok(())
}

/// `events` of block `number`-s of `chain` (from [`bridge_events`], with their transaction
/// hashes) as events of batch `batch`.
pub fn located_events(
    chain: ChainId,
    batch: u64,
    events: Vec<crate::Located<crate::BridgeEvent>>,
) -> Vec<BatchEvent> {
    events
        .into_iter()
        .map(|event| BatchEvent {
            kind: event.item.kind,
            transfer: event.item.transfer,
            location: EventLocation {
                chain_id: chain,
                block: event.block,
                tx_index: event.tx_index,
                log_index: event.log_index,
                tx_hash: event.tx_hash,
                batch,
            },
        })
        .collect()
}

/// The verdict of batch `index`, if it was checked.
pub fn verdict<T: TableRead>(tx: &T, index: u64) -> Result<Option<BatchVerdict>, CrossChainError> {
    tx.get::<BatchVerdicts>(&index)?.map(|raw| from_json(BatchVerdicts::NAME, &raw)).transpose()
}

/// The commitment for batch `index`, if one was read from L1.
pub fn commitment<T: TableRead>(tx: &T, index: u64) -> Result<Option<Commitment>, CrossChainError> {
    tx.get::<BatchCommitments>(&index)?
        .map(|raw| from_json(BatchCommitments::NAME, &raw))
        .transpose()
}

/// The transfer `(source, destination, nonce)`, if seen.
pub fn transfer<T: TableRead>(
    tx: &T,
    source: ChainId,
    destination: ChainId,
    nonce: U256,
) -> Result<Option<TransferRecord>, CrossChainError> {
    tx.get::<Transfers>(&nonce_key(&(source, destination, nonce)))?
        .map(|raw| from_json(Transfers::NAME, &raw))
        .transpose()
}

/// Up to `limit` flagged batches from index `from` on, in order: `(batch, L1 block)`.
pub fn flagged<K: TransactionKind>(
    tx: &DbTx<'_, K>,
    from: u64,
    limit: usize,
) -> Result<Vec<(u64, u64)>, CrossChainError> {
    let mut out = Vec::new();
    let mut cursor = tx.cursor::<FlaggedBatches>()?;
    let mut entry = cursor.seek(&from)?;
    while let Some(found) = entry {
        if out.len() >= limit {
            break;
        }
        out.push(found);
        entry = cursor.next()?;
    }
    Ok(out)
}

/// How many batches are flagged.
pub fn flagged_count<K: TransactionKind>(tx: &DbTx<'_, K>) -> Result<u64, CrossChainError> {
    Ok(tx.entries::<FlaggedBatches>()? as u64)
}

/// How many batches have a verdict.
pub fn verdicts_checked<K: TransactionKind>(tx: &DbTx<'_, K>) -> Result<u64, CrossChainError> {
    Ok(tx.entries::<BatchVerdicts>()? as u64)
}
