//! The whole devnet in process: L2 blocks, batches posted to the embedded L1 and read back with
//! kona-protocol's readers, deposits from L1, and commitments.

#![allow(clippy::unwrap_used)]

use alloy_consensus::Transaction;
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Bytes, B256};
use alloy_sol_types::SolEvent;
use kona_protocol::{Batch, BatchReader, BlockInfo, Channel, Frame, L2BlockInfo};
use lockstep_devnet::{contracts::IBatchCommitments, Devnet, DevnetOptions};
use lockstep_l1::{test_utils::spawn_anvil, JsonRpcL1, L1Node};
use lockstep_primitives::{merkle_root, Transfer};
use lockstep_storage::ChainProvider;
use op_alloy_consensus::OpReceiptEnvelope;

fn options() -> DevnetOptions {
    DevnetOptions { blocks_per_batch: 6, txs_per_block: 6, seed: 5, ..Default::default() }
}

#[test]
fn devnet_on_the_embedded_l1_posts_batches_that_decode_to_the_sequenced_blocks() {
    let dir = tempfile::tempdir().unwrap();
    check(Devnet::start(dir.path(), options()).unwrap(), 8);
}

#[test]
fn devnet_on_anvil_posts_batches_that_decode_to_the_sequenced_blocks() {
    let config = lockstep_devnet::DevnetConfig::default();
    let genesis = (config.genesis_time - lockstep_devnet::l1::L1_BLOCK_TIME).to_string();
    // anvil's default accounts come from the same test mnemonic as the devnet's keys
    let anvil = spawn_anvil(&[
        "--chain-id",
        "900",
        "--accounts",
        "16",
        "--timestamp",
        &genesis,
        "--no-mining",
        "--hardfork",
        "cancun",
    ]);
    let l1 = JsonRpcL1::connect(&anvil.url).unwrap();
    assert_eq!(l1.chain_id(), 900);
    let dir = tempfile::tempdir().unwrap();
    check(Devnet::start_on(l1, dir.path(), options()).unwrap(), 4);
}

fn check<L: L1Node>(mut devnet: Devnet<L>, batches: usize) {
    for _ in 0..batches {
        assert!(devnet.step().unwrap().is_some(), "one batch per L1 block");
    }
    let config = devnet.config().clone();
    let handle = devnet.sequencer();
    let sequencer = handle.lock().unwrap();
    let db = sequencer.database().tx().unwrap();

    let mut user_deposits = 0;
    for posted in &devnet.posted {
        let l1 = devnet.l1.block(posted.l1_block).unwrap().unwrap();
        assert!(
            l1.receipts.iter().all(|r| r.status()),
            "every L1 transaction of the batch succeeds"
        );
        // the commitment: the pair roots are the trees of the batch's burns and mints
        let committed = l1
            .receipts
            .iter()
            .flat_map(|r| r.logs())
            .filter(|l| l.address == config.commitments())
            .map(|l| IBatchCommitments::Committed::decode_log(l).unwrap().data)
            .next()
            .unwrap();
        assert_eq!(committed.batch, alloy_primitives::U256::from(posted.index));
        for pair in &committed.pairs {
            let leaves = |list: &[Transfer]| -> Vec<B256> {
                list.iter()
                    .filter(|t| {
                        alloy_primitives::U256::from(t.source) == pair.source
                            && alloy_primitives::U256::from(t.destination) == pair.destination
                    })
                    .map(Transfer::leaf)
                    .collect()
            };
            assert_eq!(pair.burnRoot, merkle_root(&leaves(&posted.burns)));
            assert_eq!(pair.burnRoot, pair.mintRoot, "a clean run commits equal roots");
        }

        for (position, chain) in config.chains.iter().enumerate() {
            let spec = config.chain_spec(chain.chain_id);
            // the batcher's frames, from its address to the chain's inbox
            let mut frames = Vec::new();
            for tx in &l1.transactions {
                if tx.to() == Some(config.batch_inbox(chain.chain_id)) {
                    let sender =
                        alloy_consensus::transaction::SignerRecoverable::recover_signer(tx)
                            .unwrap();
                    assert_eq!(sender, config.batcher_key(chain.chain_id).address());
                    frames.extend(Frame::parse_frames(tx.input()).unwrap());
                }
            }
            let mut channel = Channel::new(frames[0].id, BlockInfo::default());
            for frame in frames {
                channel.add_frame(frame, BlockInfo::default()).unwrap();
            }
            let mut reader = BatchReader::new(channel.frame_data().unwrap(), 100_000_000);
            let Some(Batch::Span(span)) = reader.next_batch(&spec.rollup) else {
                panic!("no span batch")
            };
            let first = posted.l2_heads[position].1 + 1 - 6;
            let provider = ChainProvider::new(&db, chain.chain_id);
            let origins: Vec<BlockInfo> = (0..devnet.l1.head().unwrap().header.number)
                .map(|n| {
                    let b = devnet.l1.block(n).unwrap().unwrap();
                    BlockInfo { hash: b.hash, number: n, ..Default::default() }
                })
                .collect();
            let singles = span.get_singular_batches(&origins, L2BlockInfo::default()).unwrap();
            assert_eq!(singles.len(), 6);
            for (offset, single) in singles.iter().enumerate() {
                let number = first + offset as u64;
                let header = provider.header(number).unwrap().unwrap();
                assert_eq!(single.timestamp, header.timestamp);
                let txs = provider.transactions(number).unwrap();
                let user: Vec<Bytes> = txs
                    .iter()
                    .filter(|t| !t.is_deposit())
                    .map(|t| t.encoded_2718().into())
                    .collect();
                assert_eq!(single.transactions, user, "chain {} block {number}", chain.chain_id);
                user_deposits += txs.iter().filter(|t| t.is_deposit()).count() - 1;
            }
            // receipts of deposits from L1 are deposit receipts
            for number in first..first + 6 {
                assert!(matches!(
                    provider.receipts(number).unwrap()[0],
                    OpReceiptEnvelope::Deposit(_)
                ));
            }
        }
        // a clean run: every pair's burns and mints are the same list
        let mut burns: Vec<B256> = posted.burns.iter().map(Transfer::leaf).collect();
        let mut mints: Vec<B256> = posted.mints.iter().map(Transfer::leaf).collect();
        burns.sort();
        mints.sort();
        assert_eq!(burns, mints);
    }
    assert!(user_deposits > 0, "deposits made on L1 arrive on L2");
    let burned: usize = devnet.posted.iter().map(|p| p.burns.len()).sum();
    assert!(burned > 20, "{burned}");
}
