//! Shared-sequencer throughput with full blocks (blocks/s and Mgas/s per chain), and the
//! batcher's compression ratio and throughput for zlib and brotli on the same blocks.
//!
//! `cargo bench -p lockstep-sequencer --bench sequencer [-- ROUNDS TXS_PER_CHAIN]`

#![allow(missing_docs, clippy::unwrap_used)]

use alloy_consensus::{Header, SignableTransaction, TxEip1559};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{keccak256, Address, TxKind, B256, U256};
use alloy_signer::SignerSync;
use alloy_sol_types::SolCall;
use lockstep_crosschain::bridge::ISuperchainBridge;
use lockstep_derive::batch::Batch;
use lockstep_devnet::{dev_key, DevnetConfig, BRIDGE};
use lockstep_sequencer::{
    batcher::{self, BatchedBlock, Compression},
    L1Origin, SharedSequencer,
};
use std::{collections::BTreeMap, time::Instant};

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| !a.starts_with("--"));
    let rounds: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(20);
    let per_chain: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(400);
    let config = DevnetConfig::default();
    let chains = config.sequenced_chains();
    let dir = tempfile::tempdir().unwrap();
    let mut sequencer =
        SharedSequencer::open(dir.path(), &chains, BRIDGE, dev_key(8), 4, &[]).unwrap();
    let signers: Vec<_> = (0..8).map(dev_key).collect();
    let mut nonces: BTreeMap<(u64, Address), u64> = BTreeMap::new();
    let (mut build_secs, mut gas, mut blocks) = (0.0, BTreeMap::<u64, u64>::new(), Vec::new());
    for round in 0..rounds {
        for i in 0..per_chain {
            for (chain, other) in [(901u64, 902u64), (902, 901)] {
                let who = &signers[i % signers.len()];
                let nonce = nonces.entry((chain, who.address())).or_default();
                let (to, value, input) = if i % 4 == 0 {
                    let amount = U256::from(1_000 + i);
                    let call = ISuperchainBridge::burnCall {
                        destination: U256::from(other),
                        token: Address::ZERO,
                        to: who.address(),
                        amount,
                    };
                    (BRIDGE, amount, call.abi_encode())
                } else {
                    (Address::with_last_byte((i % 200) as u8 + 1), U256::from(i + 1), vec![])
                };
                let tx = TxEip1559 {
                    chain_id: chain,
                    nonce: *nonce,
                    gas_limit: 100_000,
                    max_fee_per_gas: 10_000_000_000,
                    max_priority_fee_per_gas: 1,
                    to: TxKind::Call(to),
                    value,
                    access_list: Default::default(),
                    input: input.into(),
                };
                *nonce += 1;
                let sig = who.sign_hash_sync(&tx.signature_hash()).unwrap();
                sequencer.submit(chain, &tx.into_signed(sig).encoded_2718()).unwrap();
            }
        }
        let epoch = round / 3;
        let header = Header {
            number: 1000 + epoch,
            timestamp: 1_767_225_000 + epoch * 6,
            mix_hash: keccak256(epoch.to_be_bytes()),
            base_fee_per_gas: Some(7),
            parent_beacon_block_root: Some(B256::ZERO),
            ..Default::default()
        };
        let origin = L1Origin { header: header.clone(), sequence_number: round % 3 };
        let start = Instant::now();
        let built = sequencer.build(&origin, &BTreeMap::new()).unwrap();
        build_secs += start.elapsed().as_secs_f64();
        for b in &built {
            *gas.entry(b.chain_id).or_default() += b.block.header.gas_used;
        }
        blocks.push((built, header));
    }
    println!("sequencer: {rounds} rounds, {per_chain} user transactions per chain per block (1 in 4 a burn)");
    println!("{:<28} {:>10.1}", "rounds (all chains) / s", rounds as f64 / build_secs);
    for (chain, g) in &gas {
        println!(
            "{:<28} {:>10.1} Mgas/s ({:.1} Mgas/block)",
            format!("chain {chain}"),
            *g as f64 / build_secs / 1e6,
            *g as f64 / rounds as f64 / 1e6
        );
    }

    let spec = config.chain_spec(901);
    let batched: Vec<BatchedBlock<'_>> = blocks
        .iter()
        .map(|(b, l1)| BatchedBlock {
            block: &b[0].block,
            epoch_num: l1.number,
            epoch_hash: l1.hash_slow(),
        })
        .collect();
    let rlp =
        batcher::channel_rlp(&[Batch::Span(batcher::span_batch(&spec.rollup, &batched).unwrap())])
            .unwrap();
    println!(
        "batcher: channel of {} blocks, {:.2} MB of batch RLP",
        batched.len(),
        rlp.len() as f64 / 1e6
    );
    for compression in [Compression::Zlib, Compression::Brotli] {
        let mut times = Vec::new();
        let mut size = 0;
        for _ in 0..5 {
            let start = Instant::now();
            size = batcher::compress(&rlp, compression).unwrap().len();
            times.push(start.elapsed().as_secs_f64());
        }
        times.sort_by(f64::total_cmp);
        println!(
            "{:<28} ratio {:>5.2}x  {:>7.1} MB/s (median of 5)",
            format!("{compression:?}"),
            rlp.len() as f64 / size as f64,
            rlp.len() as f64 / times[2] / 1e6
        );
    }
}
