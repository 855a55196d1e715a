//! A hostile sequencer cannot stop or fool the verifier (DESIGN.md 5.7), the way
//! `lockstep devnet --fault KIND@BATCH` reports it: a refused transaction, a batch that breaks
//! the batch rules and a sequencer gone offline past the sequencer window. The verifier never
//! stops, flags what the sequencer claimed and L1 did not derive, and the sequencer follows the
//! chain L1 forced, so that every chain's verifier head is the sequencer's again.

#![allow(clippy::unwrap_used)]

use lockstep_storage::{ChainProvider, DatabaseEnv, DatabaseMode};
use serde_json::Value;
use std::collections::BTreeMap;

mod common;

use common::{lockstep, stderr};

/// Runs the devnet with `args` in a fresh directory; returns the summary, the log and the
/// directory.
fn devnet(args: &[&str]) -> (Value, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let datadir = dir.path().join("devnet");
    let mut all = vec!["devnet", "--datadir", datadir.to_str().unwrap()];
    all.extend_from_slice(args);
    let started = std::time::Instant::now();
    let out = lockstep(&all);
    eprintln!("devnet {args:?}: {:.1} s", started.elapsed().as_secs_f64());
    let log = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "a flagged run exits 3: {log}");
    (serde_json::from_slice(&out.stdout).unwrap(), log, dir)
}

/// The flagged batches with their classifications.
fn flagged(summary: &Value) -> BTreeMap<u64, Vec<String>> {
    summary["flagged"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let kinds = f["classifications"].as_object().unwrap().keys().cloned().collect();
            (f["batch"].as_u64().unwrap(), kinds)
        })
        .collect()
}

fn heads_match(summary: &Value) {
    let verifier = summary["verifier"].as_array().unwrap();
    assert_eq!(verifier.len(), 2);
    assert!(
        verifier.iter().all(|v| v["matchesSequencer"] == true),
        "after the fault the sequencer follows L1: {verifier:?}"
    );
}

/// The shape both refused-batch faults give: nothing before batch 5, batch 5 flagged with
/// `InvalidOutputRoot` (the commitment names blocks L1 did not derive), the sequencer's mints
/// for burns L1 took away `UnbackedMint`, and (given `clean`) that batch clean again.
///
/// After `bad-batch` the first chain loses a sequencer window of blocks whose burns the other
/// chain already paid: its new burns reuse those nonces, the bridge refuses to pay a nonce
/// twice, and the batches that hold them stay flagged until the nonces pass the lost ones.
fn refused_batch_shape(summary: &Value, log: &str, last: u64, clean: bool) {
    let flagged = flagged(summary);
    assert_eq!(flagged.keys().next(), Some(&5), "batch 5 is the first flagged: {flagged:?}");
    assert!(flagged[&5].contains(&"InvalidOutputRoot".to_string()), "{flagged:?}");
    assert!(flagged.values().any(|k| k.contains(&"UnbackedMint".to_string())), "{flagged:?}");
    if clean {
        assert!(!flagged.contains_key(&last), "the sequencer is back on L1's chain: {flagged:?}");
    }
    assert!(summary["batchesChecked"].as_u64().unwrap() > last);
    heads_match(summary);
    assert!(log.contains("the sequencer follows the chain L1 derived"), "{log}");
}

#[test]
fn a_refused_transaction_is_flagged_and_the_verifier_goes_on() {
    let (summary, log, _dir) = devnet(&["--batches", "8", "--fault", "invalid-tx@5"]);
    assert!(log.contains("invalid payload replaced by its deposits alone"), "{log}");
    refused_batch_shape(&summary, &log, 7, true);
}

#[test]
fn a_batch_that_breaks_the_rules_is_flagged_through_the_sequencer_window() {
    let (summary, log, _dir) = devnet(&[
        "--batches",
        "8",
        "--txs-per-block",
        "1",
        "--fault",
        "bad-batch@5",
        "--seq-window-size",
        "20",
    ]);
    assert!(log.contains("span batch dropped"), "{log}");
    refused_batch_shape(&summary, &log, 7, false);
}

#[test]
fn an_offline_sequencer_is_flagged_until_it_comes_back_on_the_derived_chain() {
    let (summary, log, dir) = devnet(&[
        "--batches",
        "16",
        "--txs-per-block",
        "2",
        "--fault",
        "offline@5",
        "--seq-window-size",
        "20",
    ]);
    let flagged = flagged(&summary);
    let batches: Vec<u64> = flagged.keys().copied().collect();
    let last = *batches.last().unwrap();
    assert_eq!(batches, (5..=last).collect::<Vec<_>>(), "the silence's batches, from 5 on");
    assert!(last < 15, "later batches match again: {flagged:?}");
    for (batch, kinds) in &flagged {
        // burns forced in through L1 during the silence have no mint; no commitment came
        assert!(kinds.contains(&"MissingMint".to_string()), "batch {batch}: {kinds:?}");
        assert!(
            kinds.iter().all(|k| k == "MissingMint" || k == "MissingCommitment"),
            "batch {batch}: {kinds:?}"
        );
    }
    heads_match(&summary);
    assert!(log.contains("the sequencer follows the chain L1 derived"), "{log}");
    // during the silence the chains advanced on deposit-only blocks
    let node = DatabaseEnv::open(&dir.path().join("devnet/node"), DatabaseMode::ReadOnly).unwrap();
    let tx = node.tx().unwrap();
    let batch =
        lockstep_storage::TableRead::get::<lockstep_storage::tables::SuperchainBatches>(&tx, &5)
            .unwrap()
            .unwrap();
    for range in &batch.ranges {
        assert!(range.first <= range.last, "batch 5 holds blocks of chain {}", range.chain_id);
        let provider = ChainProvider::new(&tx, range.chain_id);
        for number in range.first..=range.last {
            let txs = provider.transactions(number).unwrap();
            assert!(txs.iter().all(|t| t.is_deposit()), "block {number} holds only deposits");
        }
    }
}
