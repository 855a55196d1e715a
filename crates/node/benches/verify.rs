//! End-to-end verify throughput: a devnet history with full blocks is recorded on the embedded
//! L1, then the node derives and executes both chains from that L1 alone (our derivation, execution
//! over MDBX, state roots, one commit per L1 block). Beside it, in the same run, the same blocks
//! are executed without derivation (attributes taken from the sequencer's blocks), for the
//! execution-only figure. Medians of several passes, each into a fresh database.
//!
//! `cargo bench -p lockstep-node --bench verify [-- BATCHES TXS_PER_BLOCK PASSES]`

#![allow(missing_docs, clippy::unwrap_used)]

use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::B64;
use alloy_rpc_types_engine::PayloadAttributes;
use lockstep_devnet::{Devnet, DevnetOptions};
use lockstep_execution::ChainExecutor;
use lockstep_node::{Node, StepOutcome};
use lockstep_storage::{ChainProvider, DatabaseEnv, DatabaseMode};
use op_alloy_rpc_types_engine::OpPayloadAttributes;
use std::{sync::Arc, time::Instant};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| !a.starts_with("--"));
    let batches: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(10);
    let txs: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(600);
    let passes: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(3);
    let dir = tempfile::tempdir().unwrap();
    let options =
        DevnetOptions { blocks_per_batch: 6, txs_per_block: txs, seed: 3, ..Default::default() };
    let started = Instant::now();
    let mut devnet = Devnet::start(&dir.path().join("sequencer"), options).unwrap();
    for _ in 0..batches {
        devnet.step().unwrap();
    }
    let config = devnet.config().clone();
    let specs: Vec<_> = config.chains.iter().map(|c| config.chain_spec(c.chain_id)).collect();
    let handle = devnet.sequencer();
    // the sequencer's blocks: (chain, header, encoded transactions)
    let mut recorded = Vec::new();
    {
        let sequencer = handle.lock().unwrap();
        let tx = sequencer.database().tx().unwrap();
        for spec in &specs {
            let provider = ChainProvider::new(&tx, spec.chain_id());
            let head = provider.head().unwrap().unwrap().number;
            for n in 1..=head {
                let header = provider.header(n).unwrap().unwrap();
                let body: Vec<_> = provider
                    .transactions(n)
                    .unwrap()
                    .iter()
                    .map(|t| t.encoded_2718().into())
                    .collect();
                recorded.push((spec.chain_id(), header, body));
            }
        }
    }
    let blocks = recorded.len() as f64;
    let gas: u64 = recorded.iter().map(|(_, h, _)| h.gas_used).sum();
    println!(
        "history: {batches} batches, {} L2 blocks on 2 chains, {:.1} Mgas/block, recorded in {:.1}s",
        recorded.len(),
        gas as f64 / blocks / 1e6,
        started.elapsed().as_secs_f64()
    );

    let mut verify = Vec::new();
    let mut execute = Vec::new();
    for pass in 0..passes {
        // the node, from L1 alone
        let node_dir = tempfile::tempdir().unwrap();
        let mut node = Node::open(
            node_dir.path(),
            specs.clone(),
            lockstep_node::CheckSettings {
                bridge: lockstep_devnet::BRIDGE,
                sequencer: devnet.config().sequencer(),
                commitments: Some(devnet.config().commitments()),
                commitment_window: devnet.config().commitment_window,
            },
        )
        .unwrap();
        let t = Instant::now();
        let outcomes = node.sync(&devnet.l1).unwrap();
        let secs = t.elapsed().as_secs_f64();
        let derived: u64 = outcomes
            .iter()
            .map(|o| match o {
                StepOutcome::Processed { chains, .. } => chains.iter().map(|c| c.blocks).sum(),
                StepOutcome::Reorged { .. } => 0,
            })
            .sum();
        assert_eq!(derived as usize, recorded.len(), "pass {pass}: every block derived");
        verify.push(secs);

        // execution only: the same blocks from their attributes, one commit per six blocks
        let exec_dir = tempfile::tempdir().unwrap();
        let env = DatabaseEnv::open(exec_dir.path(), DatabaseMode::ReadWrite).unwrap();
        let executors: Vec<_> =
            specs.iter().map(|s| ChainExecutor::new(Arc::new(s.clone()))).collect();
        let tx = env.tx_mut().unwrap();
        for e in &executors {
            e.init_genesis(&tx).unwrap();
        }
        tx.commit().unwrap();
        let t = Instant::now();
        let per_chain = recorded.len() / executors.len();
        for batch in
            recorded[..per_chain].chunks(6).enumerate().map(|(i, c)| i * 6..i * 6 + c.len())
        {
            let tx = env.tx_mut().unwrap();
            for (position, executor) in executors.iter().enumerate() {
                for (_, header, body) in &recorded[position * per_chain..][batch.clone()] {
                    let attrs = OpPayloadAttributes {
                        payload_attributes: PayloadAttributes {
                            timestamp: header.timestamp,
                            prev_randao: header.mix_hash,
                            suggested_fee_recipient: header.beneficiary,
                            withdrawals: Some(vec![]),
                            parent_beacon_block_root: header.parent_beacon_block_root,
                            slot_number: None,
                            target_gas_limit: None,
                        },
                        transactions: Some(body.clone()),
                        no_tx_pool: Some(true),
                        gas_limit: Some(header.gas_limit),
                        eip_1559_params: Some(B64::from_slice(&header.extra_data[1..9])),
                        min_base_fee: None,
                    };
                    let executed = executor.execute(&tx, &attrs).unwrap();
                    assert_eq!(executed.block.hash, header.hash_slow());
                }
            }
            tx.commit().unwrap();
        }
        execute.push(t.elapsed().as_secs_f64());
    }
    let (v, e) = (median(verify), median(execute));
    println!(
        "verify (derive + execute + commit, both chains): {:.0} Mgas/s, {:.0} blocks/s ({v:.2}s median of {passes})",
        gas as f64 / v / 1e6,
        blocks / v
    );
    println!(
        "execution only (same blocks, same commits):     {:.0} Mgas/s, {:.0} blocks/s ({e:.2}s median of {passes})",
        gas as f64 / e / 1e6,
        blocks / e
    );
    println!("verify / execution-only: {:.2}", e / v);
}
