//! The rules for the sequencer's commitments (DESIGN.md 5.6), against a real MDBX database:
//! only the set's sequencer counts, a second, different commitment is a conflict, a batch with
//! none by the end of the commitment window is flagged, and an L1 reorg undoes each of these.

#![allow(clippy::unwrap_used)]

use alloy_primitives::{Address, B256, U256};
use lockstep_crosschain::{
    BatchVerdict, ChainOutput, Classification, Commitment, CommitmentCheck, CommittedOutput,
    CommittedPair, CrossChainCheck, Recorded,
};
use lockstep_primitives::merkle_root;
use lockstep_storage::{
    tables::BatchByL1Block, test_utils::temp_database, BatchRecord, ChainRange, TableWrite,
};

const X: u64 = 901;
const Y: u64 = 902;
const WINDOW: u64 = 4;

fn sequencer() -> Address {
    Address::repeat_byte(0x5e)
}

fn check() -> CrossChainCheck {
    CrossChainCheck {
        chains: vec![X, Y],
        bridge: Address::repeat_byte(0xb1),
        sequencer: sequencer(),
        commitment_window: WINDOW,
        atomicity: lockstep_crosschain::Atomicity::Batch,
    }
}

fn batch(index: u64, l1: u64) -> BatchRecord {
    BatchRecord {
        index,
        l1_number: l1,
        l1_hash: B256::repeat_byte(l1 as u8),
        from_timestamp: index * 12,
        to_timestamp: index * 12 + 12,
        ranges: [X, Y]
            .iter()
            .map(|&chain_id| ChainRange { chain_id, first: index * 6 + 1, last: index * 6 + 6 })
            .collect(),
    }
}

fn outputs(record: &BatchRecord) -> Vec<ChainOutput> {
    record
        .ranges
        .iter()
        .map(|r| ChainOutput {
            chain_id: r.chain_id,
            first: r.first,
            last: r.last,
            block_hash: B256::repeat_byte(r.last as u8),
            state_root: B256::repeat_byte(1),
            message_passer_storage_root: B256::repeat_byte(2),
            output_root: B256::repeat_byte((r.chain_id + r.last) as u8),
        })
        .collect()
}

/// The true commitment of `record` (no transfers: every pair's roots are the empty root).
fn commitment(record: &BatchRecord, l1_block: u64, committer: Address) -> Commitment {
    let empty = merkle_root(&[]);
    Commitment {
        batch: record.index,
        l1_block,
        tx_hash: B256::repeat_byte(l1_block as u8 ^ 0x80),
        committer,
        outputs: outputs(record)
            .iter()
            .map(|o| CommittedOutput {
                chain_id: U256::from(o.chain_id),
                l2_block: o.last,
                output_root: o.output_root,
            })
            .collect(),
        pairs: [(X, Y), (Y, X)]
            .iter()
            .map(|&(s, d)| CommittedPair {
                source: U256::from(s),
                destination: U256::from(d),
                burn_root: empty,
                mint_root: empty,
            })
            .collect(),
    }
}

fn classes(verdict: &BatchVerdict) -> Vec<Classification> {
    verdict.differences.iter().map(|d| d.classification).collect()
}

/// Closes `record` as the batch stage would (the L1 block to batch index) and checks it.
fn close<T: TableWrite>(tx: &T, record: &BatchRecord) -> BatchVerdict {
    tx.put::<BatchByL1Block>(&record.l1_number, &record.index).unwrap();
    check().check_batch(tx, record, outputs(record), &[]).unwrap()
}

fn stored<T: lockstep_storage::TableRead>(tx: &T, index: u64) -> BatchVerdict {
    lockstep_crosschain::verdict(tx, index).unwrap().unwrap()
}

#[test]
fn only_the_sequencers_commitment_counts() {
    let db = temp_database();
    let tx = db.env.tx_mut().unwrap();
    let record = batch(0, 10);
    assert!(close(&tx, &record).matches);
    let mut forged = commitment(&record, 10, Address::repeat_byte(0xee));
    forged.outputs[0].output_root = B256::repeat_byte(0xff);
    match check().record_commitment(&tx, &forged).unwrap() {
        Recorded::Ignored(reason) => {
            assert!(reason.contains("not the set's sequencer"), "{reason}")
        }
        other => panic!("a stranger's commitment counted: {other:?}"),
    }
    let verdict = stored(&tx, 0);
    assert_eq!(verdict.commitment, CommitmentCheck::NotSeen);
    assert!(verdict.matches);
    let Recorded::Counted(Some(verdict)) =
        check().record_commitment(&tx, &commitment(&record, 10, sequencer())).unwrap()
    else {
        panic!("the sequencer's commitment did not count")
    };
    assert_eq!(verdict.commitment, CommitmentCheck::Matches { l1_block: 10 });
    assert!(verdict.matches);
}

#[test]
fn a_second_different_commitment_is_a_conflict_and_a_repeat_is_not() {
    let db = temp_database();
    let tx = db.env.tx_mut().unwrap();
    let record = batch(3, 20);
    // the commitment may come before the batch closes
    let first = commitment(&record, 19, sequencer());
    assert_eq!(check().record_commitment(&tx, &first).unwrap(), Recorded::Counted(None));
    let verdict = close(&tx, &record);
    assert_eq!(verdict.commitment, CommitmentCheck::Matches { l1_block: 19 });
    let mut again = first;
    again.l1_block = 21;
    assert!(matches!(check().record_commitment(&tx, &again).unwrap(), Recorded::Ignored(_)));
    let mut other = commitment(&record, 22, sequencer());
    other.pairs[0].burn_root = B256::repeat_byte(7);
    let Recorded::Counted(Some(verdict)) = check().record_commitment(&tx, &other).unwrap() else {
        panic!("the conflict was not counted")
    };
    assert_eq!(classes(&verdict), [Classification::ConflictingCommitment]);
    assert!(!verdict.matches);
    assert_eq!(verdict.commitment, CommitmentCheck::Invalid { l1_block: 19 });
    let detail = &verdict.differences[0].detail;
    assert!(detail.contains("L1 block 19") && detail.contains("L1 block 22"), "{detail}");
    // the L1 block of the conflict goes in a reorg: the batch matches again
    check().unwind(&tx, &[], Some(21)).unwrap();
    let verdict = stored(&tx, 3);
    assert!(verdict.matches, "{:?}", verdict.differences);
    assert_eq!(verdict.commitment, CommitmentCheck::Matches { l1_block: 19 });
}

#[test]
fn a_batch_without_a_commitment_in_its_window_is_flagged() {
    let db = temp_database();
    let tx = db.env.tx_mut().unwrap();
    let record = batch(5, 30);
    close(&tx, &record);
    for l1 in 30..30 + WINDOW {
        assert_eq!(check().commitment_due(&tx, l1).unwrap(), None, "L1 block {l1}");
    }
    let verdict = check().commitment_due(&tx, 30 + WINDOW).unwrap().expect("flagged");
    assert_eq!(classes(&verdict), [Classification::MissingCommitment]);
    assert_eq!(verdict.commitment, CommitmentCheck::Missing { due: 34 });
    assert!(!verdict.matches);
    assert!(verdict.differences[0].detail.contains("L1 blocks 30 to 34"));
    // once is enough
    assert_eq!(check().commitment_due(&tx, 30 + WINDOW).unwrap(), None);
    // a late, false commitment is still checked, and the flag stays
    let mut late = commitment(&record, 36, sequencer());
    late.outputs[1].output_root = B256::ZERO;
    let Recorded::Counted(Some(verdict)) = check().record_commitment(&tx, &late).unwrap() else {
        panic!("the late commitment was not counted")
    };
    assert_eq!(
        classes(&verdict),
        [Classification::MissingCommitment, Classification::InvalidOutputRoot]
    );
    assert_eq!(verdict.commitment, CommitmentCheck::Missing { due: 34 });
    // a reorg back below the window's end undoes both
    check().unwind(&tx, &[], Some(33)).unwrap();
    let verdict = stored(&tx, 5);
    assert_eq!(verdict.commitment, CommitmentCheck::NotSeen);
    assert!(verdict.matches, "{:?}", verdict.differences);
    assert!(lockstep_crosschain::commitments(&tx, 5).unwrap().is_empty());
}

#[test]
fn a_commitment_in_time_is_never_missing() {
    let db = temp_database();
    let tx = db.env.tx_mut().unwrap();
    let record = batch(1, 40);
    close(&tx, &record);
    check().record_commitment(&tx, &commitment(&record, 40 + WINDOW, sequencer())).unwrap();
    for l1 in 40..50 {
        assert_eq!(check().commitment_due(&tx, l1).unwrap(), None);
    }
    assert_eq!(stored(&tx, 1).commitment, CommitmentCheck::Matches { l1_block: 44 });
}
