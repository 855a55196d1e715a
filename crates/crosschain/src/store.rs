//! The check against the database: events read from the stored receipts, transfer records,
//! verdicts, the flagged list and the sequencer's commitments, all written in the caller's
//! transaction (the node's one write transaction per L1 block).

use crate::{
    bridge_events,
    check::{check_commitment, check_pairs, transfer_key, BatchEvent, Commitment, TransferKey},
    verdict::{
        Atomicity, BatchVerdict, ChainOutput, Classification, CommitmentCheck, Difference,
        EventLocation, L1Deposit, TransferRecord, EVIDENCE_VERSION,
    },
    CrossChainError,
};
use alloy_primitives::{Address, B256, U256};
use lockstep_primitives::ChainId;
use lockstep_storage::{
    tables::{
        BatchByL1Block, BatchCommitments, BatchVerdicts, DepositOrigins, FlaggedBatches, Transfers,
    },
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
    /// The shared sequencer: the only committer whose commitments count.
    pub sequencer: Address,
    /// How many L1 blocks after the one that closed a batch its commitment may come in
    /// (DESIGN.md 5.6); past them the batch is flagged `MissingCommitment`.
    pub commitment_window: u64,
    /// Whether a mint must come in its burn's batch or at its burn's L2 timestamp (5.6).
    pub atomicity: Atomicity,
}

/// At most this many different commitments are kept per batch (the first and the conflicts).
pub const MAX_COMMITMENTS_PER_BATCH: usize = 16;

/// What became of a commitment read from L1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// Not counted, for the reason given (it is not the sequencer's, or it repeats one).
    Ignored(String),
    /// Counted; the verdict of its batch if that batch was already checked (and so rewritten).
    Counted(Option<BatchVerdict>),
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
                if let Some(t) = transactions.get(event.tx_index as usize) {
                    event.tx_hash = t.tx_hash();
                    event.deposit_source = t.as_deposit().map(|d| d.source_hash);
                }
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
        // the burns forced in through L1 name their L1 transaction
        let mut events = events.to_vec();
        for event in &mut events {
            let Some(source) = event.deposit_source else { continue };
            event.location.l1_deposit = tx.get::<DepositOrigins>(&source)?.map(|o| L1Deposit {
                l1_block: o.l1_block,
                l1_block_hash: o.l1_block_hash,
                l1_tx_hash: o.l1_tx_hash,
                log_index: o.log_index,
                source_hash: source,
            });
        }
        // every event at its block's L2 timestamp (timestamp mode compares them; the evidence
        // names them)
        let mut timestamps: BTreeMap<(ChainId, u64), Option<u64>> = BTreeMap::new();
        for event in &mut events {
            let (chain, block) = (event.location.chain_id, event.location.block);
            let timestamp = match timestamps.get(&(chain, block)) {
                Some(known) => *known,
                None => {
                    let found = ChainProvider::new(tx, chain).header(block)?.map(|h| h.timestamp);
                    timestamps.insert((chain, block), found);
                    found
                }
            };
            event.location.timestamp = timestamp;
        }
        let events = &events[..];
        let mut records = BTreeMap::new();
        for event in events {
            let key = transfer_key(&event.transfer);
            if let std::collections::btree_map::Entry::Vacant(slot) = records.entry(key) {
                if let Some(raw) = tx.get::<Transfers>(&nonce_key(&key))? {
                    slot.insert(from_json::<TransferRecord>(Transfers::NAME, &raw)?);
                }
            }
        }
        let checked = check_pairs(batch.index, &self.chains, events, &mut records, self.atomicity);
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
        self.apply_commitments(&mut verdict, &commitments(tx, batch.index)?, None);
        save_verdict(tx, &verdict)?;
        Ok(verdict)
    }

    /// Records a commitment read from L1 (DESIGN.md 5.6). One whose committer is not the
    /// set's sequencer, or that repeats a claim already recorded for its batch, is ignored. The
    /// first counts; a later, different one is `ConflictingCommitment`. If the batch was
    /// already checked, its verdict is rewritten and returned.
    pub fn record_commitment<T: TableWrite>(
        &self,
        tx: &T,
        commitment: &Commitment,
    ) -> Result<Recorded, CrossChainError> {
        if commitment.committer != self.sequencer {
            return Ok(Recorded::Ignored(format!(
                "posted by {}, not the set's sequencer {}",
                commitment.committer, self.sequencer
            )));
        }
        let mut stored = commitments(tx, commitment.batch)?;
        if let Some(same) = stored.iter().find(|c| c.same_claim(commitment)) {
            return Ok(Recorded::Ignored(format!(
                "repeats the commitment of L1 block {} (transaction {})",
                same.l1_block, same.tx_hash
            )));
        }
        if stored.len() >= MAX_COMMITMENTS_PER_BATCH {
            // the conflict is already on record; a sequencer spamming more cannot grow the row
            return Ok(Recorded::Ignored(format!(
                "batch {} already has {MAX_COMMITMENTS_PER_BATCH} different commitments",
                commitment.batch
            )));
        }
        stored.push(commitment.clone());
        tx.put::<BatchCommitments>(&commitment.batch, &to_json(&stored)?)?;
        let Some(mut verdict) = verdict(tx, commitment.batch)? else {
            return Ok(Recorded::Counted(None));
        };
        let missing = match verdict.commitment {
            CommitmentCheck::Missing { due } => Some(due),
            _ => None,
        };
        self.apply_commitments(&mut verdict, &stored, missing);
        save_verdict(tx, &verdict)?;
        Ok(Recorded::Counted(Some(verdict)))
    }

    /// Flags the batch whose commitment window ends with L1 block `l1_number` if the sequencer
    /// has posted no commitment for it (`MissingCommitment`); returns its rewritten verdict.
    pub fn commitment_due<T: TableWrite>(
        &self,
        tx: &T,
        l1_number: u64,
    ) -> Result<Option<BatchVerdict>, CrossChainError> {
        let Some(closed) = l1_number.checked_sub(self.commitment_window) else { return Ok(None) };
        let Some(index) = tx.get::<BatchByL1Block>(&closed)? else { return Ok(None) };
        let Some(mut verdict) = verdict(tx, index)? else { return Ok(None) };
        if verdict.commitment != CommitmentCheck::NotSeen || !commitments(tx, index)?.is_empty() {
            return Ok(None);
        }
        self.apply_commitments(&mut verdict, &[], Some(l1_number));
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
        let after = |l1: u64| l1_ancestor.is_none_or(|a| l1 > a);
        let mut revisit = std::collections::BTreeSet::new();
        let mut changed = Vec::new();
        tx.for_each_prefix::<BatchCommitments>(&[], |batch, raw| {
            let stored: Vec<Commitment> = match from_json(BatchCommitments::NAME, &raw) {
                Ok(c) => c,
                Err(_) => return Ok(true),
            };
            if stored.iter().any(|c| after(c.l1_block)) {
                changed.push((batch, stored));
            }
            Ok(true)
        })?;
        for (batch, mut stored) in changed {
            stored.retain(|c| !after(c.l1_block));
            if stored.is_empty() {
                tx.delete::<BatchCommitments>(&batch)?;
            } else {
                tx.put::<BatchCommitments>(&batch, &to_json(&stored)?)?;
            }
            revisit.insert(batch);
        }
        // a `MissingCommitment` found in an L1 block that goes is undone with it: those of the
        // batches closed in the last window of blocks that stay
        if let Some(ancestor) = l1_ancestor {
            for closed in ancestor.saturating_sub(self.commitment_window)..=ancestor {
                if let Some(batch) = tx.get::<BatchByL1Block>(&closed)? {
                    revisit.insert(batch);
                }
            }
        }
        for batch in revisit.into_iter().filter(|b| *b < first_doomed) {
            let Some(mut verdict) = verdict(tx, batch)? else { continue };
            let missing = match verdict.commitment {
                CommitmentCheck::Missing { due } if !after(due) => Some(due),
                _ => None,
            };
            self.apply_commitments(&mut verdict, &commitments(tx, batch)?, missing);
            save_verdict(tx, &verdict)?;
        }
        Ok(())
    }

    /// Rewrites `verdict`'s commitment status and differences from the commitments recorded
    /// for its batch (the first counts; any other is a conflict) and whether the window ran
    /// out, at L1 block `missing`, before the first came.
    fn apply_commitments(
        &self,
        verdict: &mut BatchVerdict,
        stored: &[Commitment],
        missing: Option<u64>,
    ) {
        verdict.differences.retain(|d| !is_commitment(d.classification));
        if let Some(due) = missing {
            verdict.differences.push(set_wide(
                Classification::MissingCommitment,
                format!(
                    "no commitment for batch {} from the sequencer {} in L1 blocks {} to {due} \
                     (the commitment window is {} blocks)",
                    verdict.batch, self.sequencer, verdict.l1_block, self.commitment_window
                ),
            ));
        }
        let mut status = CommitmentCheck::NotSeen;
        if let Some(first) = stored.first() {
            let found = check_commitment(first, &verdict.chains, &verdict.pairs);
            let conflicts: Vec<Difference> = stored[1..]
                .iter()
                .filter(|c| !c.same_claim(first))
                .map(|c| {
                    set_wide(
                        Classification::ConflictingCommitment,
                        format!(
                            "batch {} committed twice, differently: in L1 block {} (transaction \
                             {}) and in L1 block {} (transaction {})",
                            verdict.batch, first.l1_block, first.tx_hash, c.l1_block, c.tx_hash
                        ),
                    )
                })
                .collect();
            status = if found.is_empty() && conflicts.is_empty() {
                CommitmentCheck::Matches { l1_block: first.l1_block }
            } else {
                CommitmentCheck::Invalid { l1_block: first.l1_block }
            };
            verdict.differences.extend(found);
            verdict.differences.extend(conflicts);
        }
        if let Some(due) = missing {
            status = CommitmentCheck::Missing { due };
        }
        verdict.commitment = status;
        verdict.settle();
    }
}

/// A difference about the batch as a whole, not one pair or chain (source and destination 0).
const fn set_wide(classification: Classification, detail: String) -> Difference {
    Difference {
        classification,
        source: 0,
        destination: 0,
        burn: None,
        mint: None,
        committed: None,
        computed: None,
        detail,
    }
}

const fn is_commitment(classification: Classification) -> bool {
    matches!(
        classification,
        Classification::InvalidOutputRoot
            | Classification::InvalidCommitment
            | Classification::MissingCommitment
            | Classification::ConflictingCommitment
    )
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
                timestamp: None,
                l1_deposit: None,
            },
            deposit_source: event.deposit_source,
        })
        .collect()
}

/// The verdict of batch `index`, if it was checked.
pub fn verdict<T: TableRead>(tx: &T, index: u64) -> Result<Option<BatchVerdict>, CrossChainError> {
    tx.get::<BatchVerdicts>(&index)?.map(|raw| from_json(BatchVerdicts::NAME, &raw)).transpose()
}

/// The sequencer's commitments for batch `index` read from L1, in order: the first counts,
/// any other is a conflict.
pub fn commitments<T: TableRead>(tx: &T, index: u64) -> Result<Vec<Commitment>, CrossChainError> {
    Ok(tx
        .get::<BatchCommitments>(&index)?
        .map(|raw| from_json(BatchCommitments::NAME, &raw))
        .transpose()?
        .unwrap_or_default())
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
