//! The verdict of one batch from its bridge events (DESIGN.md 5.4), and the commitment check
//! (5.6). Pure functions: the store loads and saves.

use crate::{
    verdict::{
        Atomicity, ChainOutput, Classification, Difference, EventLocation, ForeignEvent, PairRoots,
        ProvenEvent, RecordedEvent, TransferRecord, TransferStatus,
    },
    EventKind,
};
use alloy_primitives::{Address, B256, U256};
use lockstep_primitives::{ChainId, MerkleTree, Transfer};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A transfer's identity: `(source, destination, nonce)`.
pub type TransferKey = (ChainId, ChainId, U256);

/// The key of `transfer`.
pub const fn transfer_key(transfer: &Transfer) -> TransferKey {
    (transfer.source, transfer.destination, transfer.nonce)
}

/// A bridge event of the batch being checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchEvent {
    /// Burn or mint.
    pub kind: EventKind,
    /// The transfer it names.
    pub transfer: Transfer,
    /// Where it was emitted.
    pub location: EventLocation,
    /// The source hash of its transaction when that is a deposit.
    pub deposit_source: Option<B256>,
}

/// What checking a batch's events gives.
#[derive(Debug, Default)]
pub struct PairsChecked {
    /// Every ordered pair's roots, in the set's order.
    pub pairs: Vec<PairRoots>,
    /// The differences of the pairs whose roots disagree.
    pub differences: Vec<Difference>,
    /// Events whose other chain is not in the set.
    pub foreign: Vec<ForeignEvent>,
}

fn recorded(event: &BatchEvent) -> RecordedEvent {
    RecordedEvent { transfer: event.transfer, location: event.location }
}

fn proven(event: &BatchEvent, tree: &MerkleTree, position: usize) -> ProvenEvent {
    ProvenEvent {
        transfer: event.transfer,
        leaf: event.transfer.leaf(),
        location: event.location,
        proof: tree.proof(position),
    }
}

fn proven_earlier(event: &RecordedEvent) -> ProvenEvent {
    ProvenEvent {
        transfer: event.transfer,
        leaf: event.transfer.leaf(),
        location: event.location,
        proof: None,
    }
}

fn new_record(key: TransferKey) -> TransferRecord {
    TransferRecord {
        source: key.0,
        destination: key.1,
        nonce: key.2,
        burn: None,
        mints: Vec::new(),
        status: TransferStatus::Missing,
    }
}

/// Checks batch `batch`: builds every ordered pair's burn and mint trees over `events` (each
/// chain's events in (block, transaction, log) order), updates the transfer `records` (which
/// must hold the stored record of every key the events name), and classifies the differences
/// of every pair whose roots disagree. In [`Atomicity::Timestamp`] mode a mint that pays a burn
/// of the batch at another L2 timestamp is a difference too (`TimestampMismatch`), even where
/// the roots agree; the events must then carry their timestamps.
pub fn check_pairs(
    batch: u64,
    set: &[ChainId],
    events: &[BatchEvent],
    records: &mut BTreeMap<TransferKey, TransferRecord>,
    atomicity: Atomicity,
) -> PairsChecked {
    let mut out = PairsChecked::default();
    for event in events {
        let other = match event.kind {
            EventKind::Burn => event.transfer.destination,
            EventKind::Mint => event.transfer.source,
        };
        if !set.contains(&other) || other == event.location.chain_id {
            let kind = match event.kind {
                EventKind::Burn => "burn",
                EventKind::Mint => "mint",
            };
            out.foreign.push(ForeignEvent {
                kind: kind.into(),
                transfer: event.transfer,
                location: event.location,
            });
            let record = records
                .entry(transfer_key(&event.transfer))
                .or_insert_with(|| new_record(transfer_key(&event.transfer)));
            match event.kind {
                EventKind::Burn if record.burn.is_none() => record.burn = Some(recorded(event)),
                EventKind::Burn => {}
                EventKind::Mint => record.mints.push(recorded(event)),
            }
            record.recompute_status();
            if event.kind == EventKind::Burn {
                record.status = TransferStatus::UnknownDestination;
            }
        }
    }
    for &source in set {
        for &destination in set {
            if source != destination {
                check_pair(batch, (source, destination), events, records, atomicity, &mut out);
            }
        }
    }
    out
}

fn check_pair(
    batch: u64,
    (source, destination): (ChainId, ChainId),
    events: &[BatchEvent],
    records: &mut BTreeMap<TransferKey, TransferRecord>,
    atomicity: Atomicity,
    out: &mut PairsChecked,
) {
    let in_pair =
        |e: &&BatchEvent| e.transfer.source == source && e.transfer.destination == destination;
    let burns: Vec<&BatchEvent> = events
        .iter()
        .filter(|e| e.kind == EventKind::Burn && e.location.chain_id == source)
        .filter(in_pair)
        .collect();
    let mints: Vec<&BatchEvent> = events
        .iter()
        .filter(|e| e.kind == EventKind::Mint && e.location.chain_id == destination)
        .filter(in_pair)
        .collect();
    let burn_tree = MerkleTree::new(burns.iter().map(|e| e.transfer.leaf()).collect());
    let mint_tree = MerkleTree::new(mints.iter().map(|e| e.transfer.leaf()).collect());
    let roots = PairRoots {
        source,
        destination,
        burn_root: burn_tree.root(),
        burns: burns.len() as u64,
        mint_root: mint_tree.root(),
        mints: mints.len() as u64,
    };
    let flag = !roots.matches();
    out.pairs.push(roots);
    let difference = |classification, burn, mint, detail: String| Difference {
        classification,
        source,
        destination,
        burn,
        mint,
        committed: None,
        computed: None,
        detail,
    };

    let mut burn_position = BTreeMap::new();
    for (i, burn) in burns.iter().enumerate() {
        let key = transfer_key(&burn.transfer);
        let record = records.entry(key).or_insert_with(|| new_record(key));
        // a second burn of one nonce would be a broken bridge: the first one stands
        if record.burn.is_none() {
            record.burn = Some(recorded(burn));
        }
        record.recompute_status();
        burn_position.entry(key).or_insert(i);
    }
    let mut minted = BTreeMap::new();
    // (burn position, mint position) of every mint that pays a burn of this batch unchanged
    let mut matched = Vec::new();
    // timestamp mode: the matched mints at another timestamp than their burns
    let mut mistimed = Vec::new();
    for (j, mint) in mints.iter().enumerate() {
        let key = transfer_key(&mint.transfer);
        let record = records.entry(key).or_insert_with(|| new_record(key));
        let here = burn_position.get(&key).copied();
        let burn_evidence = |burn: &RecordedEvent| match here {
            Some(i) => proven(burns[i], &burn_tree, i),
            None => proven_earlier(burn),
        };
        let found = if !record.mints.is_empty() {
            let first = record.mints[0];
            Some(difference(
                Classification::DuplicateMint,
                record.burn.as_ref().map(burn_evidence),
                Some(proven(mint, &mint_tree, j)),
                format!(
                    "nonce {} of chain {source} to {destination} was already minted in block {} \
                     (batch {})",
                    mint.transfer.nonce, first.location.block, first.location.batch
                ),
            ))
        } else {
            match &record.burn {
                Some(burn) if burn.transfer != mint.transfer => Some(difference(
                    Classification::AlteredMint,
                    Some(burn_evidence(burn)),
                    Some(proven(mint, &mint_tree, j)),
                    altered_detail(&burn.transfer, &mint.transfer),
                )),
                Some(burn) if burn.location.batch < batch => Some(difference(
                    Classification::LateMint,
                    Some(burn_evidence(burn)),
                    Some(proven(mint, &mint_tree, j)),
                    format!(
                        "pays nonce {} burned in batch {}, block {} of chain {source}",
                        mint.transfer.nonce, burn.location.batch, burn.location.block
                    ),
                )),
                Some(_) => {
                    if let Some(i) = here {
                        matched.push((i, j));
                        let (at, paid) = (burns[i].location.timestamp, mint.location.timestamp);
                        if atomicity == Atomicity::Timestamp && at != paid {
                            mistimed.push(difference(
                                Classification::TimestampMismatch,
                                Some(proven(burns[i], &burn_tree, i)),
                                Some(proven(mint, &mint_tree, j)),
                                format!(
                                    "nonce {} burned at L2 timestamp {} (block {} of chain \
                                     {source}) is minted at {} (block {} of chain {destination})",
                                    mint.transfer.nonce,
                                    at.map_or_else(|| "unknown".into(), |t| t.to_string()),
                                    burns[i].location.block,
                                    paid.map_or_else(|| "unknown".into(), |t| t.to_string()),
                                    mint.location.block
                                ),
                            ));
                        }
                    }
                    None
                }
                None => Some(difference(
                    Classification::UnbackedMint,
                    None,
                    Some(proven(mint, &mint_tree, j)),
                    format!(
                        "no burn of nonce {} on chain {source} towards {destination} in this or \
                         an earlier batch",
                        mint.transfer.nonce
                    ),
                )),
            }
        };
        record.mints.push(recorded(mint));
        record.recompute_status();
        minted.entry(key).or_insert(j);
        if let (true, Some(found)) = (flag, found) {
            out.differences.push(found);
        }
    }
    if !flag {
        // equal roots: the same transfers in the same order; only their times may differ
        out.differences.extend(mistimed);
        return;
    }
    out.differences.extend(mistimed);
    for (i, burn) in burns.iter().enumerate() {
        if !minted.contains_key(&transfer_key(&burn.transfer)) {
            out.differences.push(difference(
                Classification::MissingMint,
                Some(proven(burn, &burn_tree, i)),
                None,
                format!(
                    "burn of nonce {} has no mint on chain {destination} in this batch",
                    burn.transfer.nonce
                ),
            ));
        }
    }
    // matched transfers, in mint order: each must hold the same rank among the burns
    let mut by_burn: Vec<usize> = matched.iter().map(|(i, _)| *i).collect();
    by_burn.sort_unstable();
    for (rank, (i, j)) in matched.iter().enumerate() {
        if by_burn[rank] != *i {
            let expected = by_burn.iter().position(|b| b == i).unwrap_or(rank);
            out.differences.push(difference(
                Classification::OrderMismatch,
                Some(proven(burns[*i], &burn_tree, *i)),
                Some(proven(mints[*j], &mint_tree, *j)),
                format!(
                    "nonce {} is minted as number {} of the batch's matched mints but burned as \
                     number {}",
                    mints[*j].transfer.nonce,
                    rank + 1,
                    expected + 1
                ),
            ));
        }
    }
}

fn altered_detail(burn: &Transfer, mint: &Transfer) -> String {
    let mut fields = Vec::new();
    if burn.token != mint.token {
        fields.push(format!("token {} → {}", burn.token, mint.token));
    }
    if burn.from != mint.from {
        fields.push(format!("from {} → {}", burn.from, mint.from));
    }
    if burn.to != mint.to {
        fields.push(format!("to {} → {}", burn.to, mint.to));
    }
    if burn.amount != mint.amount {
        fields.push(format!("amount {} → {}", burn.amount, mint.amount));
    }
    format!("nonce {} minted with {}", mint.nonce, fields.join(", "))
}

/// The sequencer's commitment for one batch, as read from L1 (DESIGN.md 5.6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Commitment {
    /// The batch it commits to.
    pub batch: u64,
    /// The L1 block holding it.
    pub l1_block: u64,
    /// The transaction that posted it.
    pub tx_hash: B256,
    /// Who posted it (the contract's `msg.sender`).
    pub committer: Address,
    /// `(chain, L2 block, output root)` per chain.
    pub outputs: Vec<CommittedOutput>,
    /// The burn and mint roots per ordered pair.
    pub pairs: Vec<CommittedPair>,
}

impl Commitment {
    /// Whether `other` claims the same outputs and roots (wherever and by whom it was posted).
    pub fn same_claim(&self, other: &Self) -> bool {
        self.batch == other.batch && self.outputs == other.outputs && self.pairs == other.pairs
    }
}

/// One chain's output in a [`Commitment`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommittedOutput {
    /// The chain (as committed: it may be no chain id at all).
    pub chain_id: U256,
    /// The L2 block.
    pub l2_block: u64,
    /// The output root.
    pub output_root: B256,
}

/// One pair's roots in a [`Commitment`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommittedPair {
    /// The source chain.
    pub source: U256,
    /// The destination chain.
    pub destination: U256,
    /// The burn root.
    pub burn_root: B256,
    /// The mint root.
    pub mint_root: B256,
}

/// The differences between `commitment` and what was computed for its batch.
pub fn check_commitment(
    commitment: &Commitment,
    chains: &[ChainOutput],
    pairs: &[PairRoots],
) -> Vec<Difference> {
    let mut out = Vec::new();
    let bad = |classification, source, destination, committed, computed, detail| Difference {
        classification,
        source,
        destination,
        burn: None,
        mint: None,
        committed,
        computed,
        detail,
    };
    for chain in chains {
        let id = U256::from(chain.chain_id);
        match commitment.outputs.iter().find(|o| o.chain_id == id) {
            None => out.push(bad(
                Classification::InvalidOutputRoot,
                chain.chain_id,
                chain.chain_id,
                None,
                Some(chain.output_root),
                format!("the commitment has no output root for chain {}", chain.chain_id),
            )),
            Some(o) if o.l2_block != chain.last || o.output_root != chain.output_root => {
                out.push(bad(
                    Classification::InvalidOutputRoot,
                    chain.chain_id,
                    chain.chain_id,
                    Some(o.output_root),
                    Some(chain.output_root),
                    format!(
                        "committed output root of chain {} at block {}; the batch ends at block \
                         {} with output root {}",
                        chain.chain_id, o.l2_block, chain.last, chain.output_root
                    ),
                ))
            }
            Some(_) => {}
        }
    }
    for extra in commitment
        .outputs
        .iter()
        .filter(|o| !chains.iter().any(|c| U256::from(c.chain_id) == o.chain_id))
    {
        out.push(bad(
            Classification::InvalidOutputRoot,
            0,
            0,
            Some(extra.output_root),
            None,
            format!("the commitment names chain {}, which is not in the set", extra.chain_id),
        ));
    }
    for pair in pairs {
        let (s, d) = (U256::from(pair.source), U256::from(pair.destination));
        let Some(c) = commitment.pairs.iter().find(|c| c.source == s && c.destination == d) else {
            out.push(bad(
                Classification::InvalidCommitment,
                pair.source,
                pair.destination,
                None,
                Some(pair.burn_root),
                format!("the commitment has no roots for {} → {}", pair.source, pair.destination),
            ));
            continue;
        };
        for (what, committed, computed) in
            [("burn", c.burn_root, pair.burn_root), ("mint", c.mint_root, pair.mint_root)]
        {
            if committed != computed {
                out.push(bad(
                    Classification::InvalidCommitment,
                    pair.source,
                    pair.destination,
                    Some(committed),
                    Some(computed),
                    format!(
                        "committed {what} root of {} → {} is {committed}; computed {computed}",
                        pair.source, pair.destination
                    ),
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::Address;

    const X: ChainId = 10;
    const Y: ChainId = 8453;

    fn transfer(source: ChainId, destination: ChainId, nonce: u64) -> Transfer {
        Transfer {
            source,
            destination,
            nonce: U256::from(nonce),
            token: Address::ZERO,
            from: Address::repeat_byte(1),
            to: Address::repeat_byte(2),
            amount: U256::from(100 + nonce),
        }
    }

    fn event(kind: EventKind, transfer: Transfer, batch: u64, log: u32) -> BatchEvent {
        let chain_id = match kind {
            EventKind::Burn => transfer.source,
            EventKind::Mint => transfer.destination,
        };
        BatchEvent {
            kind,
            transfer,
            location: EventLocation {
                chain_id,
                block: batch * 10 + 1,
                tx_index: log,
                log_index: log,
                tx_hash: B256::with_last_byte(log as u8),
                batch,
                timestamp: Some(1000 + batch * 12),
                l1_deposit: None,
            },
            deposit_source: None,
        }
    }

    fn burn(n: u64, batch: u64) -> BatchEvent {
        event(EventKind::Burn, transfer(X, Y, n), batch, n as u32)
    }

    fn mint(t: Transfer, batch: u64, log: u32) -> BatchEvent {
        event(EventKind::Mint, t, batch, log)
    }

    fn classes(checked: &PairsChecked) -> Vec<Classification> {
        checked.differences.iter().map(|d| d.classification).collect()
    }

    fn run(
        batch: u64,
        events: &[BatchEvent],
        records: &mut BTreeMap<TransferKey, TransferRecord>,
    ) -> PairsChecked {
        check_pairs(batch, &[X, Y], events, records, Atomicity::Batch)
    }

    #[test]
    fn timestamp_mode_flags_a_mint_one_block_late_inside_the_batch_and_batch_mode_does_not() {
        let mut shifted = mint(transfer(X, Y, 1), 0, 1);
        shifted.location.block += 1;
        shifted.location.timestamp = shifted.location.timestamp.map(|t| t + 2);
        let events = [burn(0, 0), burn(1, 0), mint(transfer(X, Y, 0), 0, 0), shifted];
        let batch = check_pairs(0, &[X, Y], &events, &mut BTreeMap::new(), Atomicity::Batch);
        assert!(batch.differences.is_empty(), "{:?}", batch.differences);
        let strict = check_pairs(0, &[X, Y], &events, &mut BTreeMap::new(), Atomicity::Timestamp);
        assert_eq!(classes(&strict), [Classification::TimestampMismatch]);
        assert!(strict.pairs.iter().all(PairRoots::matches), "the roots still agree");
        let found = &strict.differences[0];
        assert_eq!(found.mint.as_ref().unwrap().transfer.nonce, U256::from(1));
        assert!(found.detail.contains("1000") && found.detail.contains("1002"), "{}", found.detail);
        // the burn and mint of nonce 0, at one timestamp, are not a difference
        let on_time = [burn(0, 0), mint(transfer(X, Y, 0), 0, 0)];
        let strict = check_pairs(0, &[X, Y], &on_time, &mut BTreeMap::new(), Atomicity::Timestamp);
        assert!(strict.differences.is_empty());
    }

    #[test]
    fn a_clean_batch_matches_and_settles_every_transfer() {
        let mut records = BTreeMap::new();
        let events =
            [burn(0, 0), burn(1, 0), mint(transfer(X, Y, 0), 0, 0), mint(transfer(X, Y, 1), 0, 1)];
        let checked = run(0, &events, &mut records);
        assert!(checked.differences.is_empty());
        assert_eq!(checked.pairs.len(), 2);
        assert!(checked.pairs.iter().all(PairRoots::matches));
        assert!(records.values().all(|r| r.status == TransferStatus::Settled));
    }

    #[test]
    fn each_difference_is_classified() {
        // missing, then late
        let mut records = BTreeMap::new();
        let first = run(0, &[burn(0, 0), burn(1, 0), mint(transfer(X, Y, 1), 0, 0)], &mut records);
        assert_eq!(classes(&first), [Classification::MissingMint]);
        assert_eq!(first.differences[0].burn.as_ref().unwrap().transfer.nonce, U256::ZERO);
        let proof = first.differences[0].burn.as_ref().unwrap().proof.clone().unwrap();
        assert!(proof.verify(transfer(X, Y, 0).leaf(), first.pairs[0].burn_root));
        let late = run(1, &[mint(transfer(X, Y, 0), 1, 0)], &mut records);
        assert_eq!(classes(&late), [Classification::LateMint]);
        assert_eq!(records[&(X, Y, U256::ZERO)].status, TransferStatus::Late);

        // unbacked
        let mut records = BTreeMap::new();
        let forged = run(0, &[mint(transfer(X, Y, 99), 0, 0)], &mut records);
        assert_eq!(classes(&forged), [Classification::UnbackedMint]);

        // altered
        let mut records = BTreeMap::new();
        let mut changed = transfer(X, Y, 0);
        changed.amount += U256::from(1);
        let altered = run(0, &[burn(0, 0), mint(changed, 0, 0)], &mut records);
        assert_eq!(classes(&altered), [Classification::AlteredMint]);
        assert!(altered.differences[0].detail.contains("amount 100 → 101"));

        // duplicate
        let mut records = BTreeMap::new();
        run(0, &[burn(0, 0), mint(transfer(X, Y, 0), 0, 0)], &mut records);
        let dup = run(1, &[mint(transfer(X, Y, 0), 1, 0)], &mut records);
        assert_eq!(classes(&dup), [Classification::DuplicateMint]);

        // reordered
        let mut records = BTreeMap::new();
        let events = [
            burn(0, 0),
            burn(1, 0),
            burn(2, 0),
            mint(transfer(X, Y, 1), 0, 0),
            mint(transfer(X, Y, 0), 0, 1),
            mint(transfer(X, Y, 2), 0, 2),
        ];
        let swapped = run(0, &events, &mut records);
        assert_eq!(classes(&swapped), [Classification::OrderMismatch; 2]);
    }

    #[test]
    fn a_missing_mint_does_not_look_like_reordering() {
        let mut records = BTreeMap::new();
        let events = [
            burn(0, 0),
            burn(1, 0),
            burn(2, 0),
            mint(transfer(X, Y, 0), 0, 0),
            mint(transfer(X, Y, 2), 0, 1),
        ];
        assert_eq!(classes(&run(0, &events, &mut records)), [Classification::MissingMint]);
    }

    #[test]
    fn a_destination_outside_the_set_is_reported_not_flagged() {
        let mut records = BTreeMap::new();
        let checked = run(0, &[event(EventKind::Burn, transfer(X, 999, 0), 0, 0)], &mut records);
        assert!(checked.differences.is_empty());
        assert_eq!(checked.foreign.len(), 1);
        assert_eq!(records[&(X, 999, U256::ZERO)].status, TransferStatus::UnknownDestination);
    }

    #[test]
    fn commitments_are_compared_field_by_field() {
        let chain = ChainOutput {
            chain_id: X,
            first: 1,
            last: 6,
            block_hash: B256::repeat_byte(1),
            state_root: B256::repeat_byte(2),
            message_passer_storage_root: B256::repeat_byte(3),
            output_root: B256::repeat_byte(4),
        };
        let pair = PairRoots {
            source: X,
            destination: Y,
            burn_root: B256::repeat_byte(5),
            burns: 1,
            mint_root: B256::repeat_byte(5),
            mints: 1,
        };
        let mut commitment = Commitment {
            batch: 0,
            l1_block: 3,
            tx_hash: B256::ZERO,
            committer: Address::ZERO,
            outputs: vec![CommittedOutput {
                chain_id: U256::from(X),
                l2_block: 6,
                output_root: chain.output_root,
            }],
            pairs: vec![CommittedPair {
                source: U256::from(X),
                destination: U256::from(Y),
                burn_root: pair.burn_root,
                mint_root: pair.mint_root,
            }],
        };
        assert!(check_commitment(&commitment, &[chain], &[pair]).is_empty());
        commitment.outputs[0].output_root.0[0] ^= 1;
        commitment.pairs[0].mint_root.0[0] ^= 1;
        let found: Vec<_> = check_commitment(&commitment, &[chain], &[pair])
            .into_iter()
            .map(|d| d.classification)
            .collect();
        assert_eq!(found, [Classification::InvalidOutputRoot, Classification::InvalidCommitment]);
    }
}
