//! The whole devnet in process: L2 blocks, batches posted to the embedded L1 and read back with
//! kona-protocol's readers, deposits from L1, and commitments.

#![allow(clippy::unwrap_used)]

use alloy_consensus::Transaction;
use alloy_eips::eip2718::Decodable2718;
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Bytes, B256};
use alloy_sol_types::SolEvent;
use kona_protocol::{Batch, BatchReader, BlockInfo, Channel, Frame, L2BlockInfo};
use lockstep_devnet::{contracts::IBatchCommitments, deposits_in, Devnet, DevnetOptions};
use lockstep_l1::{test_utils::spawn_anvil, JsonRpcL1, L1Node, L1Source};
use lockstep_primitives::{merkle_root, Transfer};
use lockstep_sequencer::{l1_info_deposit, payload_attributes, L1Origin};
use lockstep_storage::ChainProvider;
use op_alloy_consensus::OpReceiptEnvelope;

/// The commitment posted in `l1`.
fn committed(
    l1: &lockstep_l1::L1Block,
    config: &lockstep_devnet::DevnetConfig,
) -> IBatchCommitments::Committed {
    l1.receipts
        .iter()
        .flat_map(|r| r.logs())
        .filter(|l| l.address == config.commitments())
        .map(|l| IBatchCommitments::Committed::decode_log(l).unwrap().data)
        .next()
        .expect("a commitment in the batch's L1 block")
}

fn options() -> DevnetOptions {
    DevnetOptions { blocks_per_batch: 6, txs_per_block: 6, seed: 5, ..Default::default() }
}

#[test]
fn devnet_on_the_embedded_l1_rederives_from_l1_to_the_same_block_hashes() {
    let dir = tempfile::tempdir().unwrap();
    check(Devnet::start(dir.path(), options()).unwrap(), 8);
}

#[test]
fn devnet_on_anvil_rederives_from_l1_to_the_same_block_hashes() {
    // anvil's default accounts come from the same test mnemonic as the devnet's keys
    let args = lockstep_devnet::DevnetConfig::default().anvil_args();
    let anvil = spawn_anvil(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let l1 = JsonRpcL1::connect(&anvil.url).unwrap();
    assert_eq!(l1.chain_id(), 900);
    let dir = tempfile::tempdir().unwrap();
    check(Devnet::start_on(l1, dir.path(), options()).unwrap(), 4);
}

/// Derives every chain again from the L1 alone (frames to the inbox from the batcher, the
/// span batch, the L1 info deposit and the epoch's deposits), executes the attributes in a
/// database of its own, and compares attributes and block hashes with what the sequencer built.
fn rederive<L: L1Node>(devnet: &Devnet<L>) {
    let config = devnet.config();
    let head = devnet.l1.head().unwrap().header.number;
    let l1: Vec<lockstep_l1::L1Block> =
        (0..=head).map(|n| devnet.l1.block(n).unwrap().unwrap()).collect();
    let origins: Vec<BlockInfo> = l1
        .iter()
        .map(|b| BlockInfo { hash: b.hash, number: b.header.number, ..Default::default() })
        .collect();
    let handle = devnet.sequencer();
    let sequencer = handle.lock().unwrap();
    let sequencer_db = sequencer.database().tx().unwrap();
    for chain in &config.chains {
        let spec = std::sync::Arc::new(config.chain_spec(chain.chain_id));
        let system = lockstep_derive::block_ref::genesis_system_config(&spec.rollup);
        let executor = lockstep_execution::ChainExecutor::new(spec.clone());
        let verifier = lockstep_storage::test_utils::temp_database();
        let tx = verifier.env.tx_mut().unwrap();
        executor.init_genesis(&tx).unwrap();
        tx.commit().unwrap();
        let built = ChainProvider::new(&sequencer_db, chain.chain_id);
        // the genesis is block 0 of its L1 origin's epoch
        let mut epoch = (config.l1_origin.0, 0u64);
        let mut derived = 0;
        for block in &l1 {
            let frames: Vec<Frame> = block
                .transactions
                .iter()
                .filter(|tx| Transaction::to(*tx) == Some(config.batch_inbox(chain.chain_id)))
                .filter(|tx| {
                    alloy_consensus::transaction::SignerRecoverable::recover_signer(*tx).ok()
                        == Some(config.batcher_key(chain.chain_id).address())
                })
                .flat_map(|tx| Frame::parse_frames(Transaction::input(tx)).unwrap())
                .collect();
            let Some(first) = frames.first() else { continue };
            let mut channel = Channel::new(first.id, BlockInfo::default());
            for frame in frames {
                channel.add_frame(frame, BlockInfo::default()).unwrap();
            }
            let mut reader = BatchReader::new(channel.frame_data().unwrap(), 100_000_000);
            let Some(Batch::Span(span)) = reader.next_batch(&kona_rollup(&spec.rollup)) else {
                panic!("no span batch")
            };
            let singles = span
                .get_singular_batches(
                    &origins[..=block.header.number as usize],
                    L2BlockInfo::default(),
                )
                .unwrap();
            for single in singles {
                let origin_block = &l1[single.epoch_num as usize];
                let sequence_number = if epoch.0 == single.epoch_num { epoch.1 + 1 } else { 0 };
                epoch = (single.epoch_num, sequence_number);
                let origin = L1Origin { header: origin_block.header.clone(), sequence_number };
                let mut txs =
                    vec![l1_info_deposit(&spec, &system, &origin, single.timestamp).unwrap()];
                if sequence_number == 0 {
                    txs.extend(deposits_in(origin_block, config.deposit_portal(chain.chain_id)));
                }
                for raw in &single.transactions {
                    txs.push(
                        op_alloy_consensus::OpTxEnvelope::decode_2718(&mut raw.as_ref()).unwrap(),
                    );
                }
                let tx = verifier.env.tx_mut().unwrap();
                let attrs = payload_attributes(&spec, &system, &origin, single.timestamp, &txs);
                let executed = executor.execute(&tx, &attrs).unwrap();
                tx.commit().unwrap();
                let number = executed.block.header.number;
                assert_eq!(
                    Some(executed.block.hash),
                    built.block_hash(number).unwrap(),
                    "chain {} block {number}: derived from L1 and executed, the hash is the sequencer's",
                    chain.chain_id
                );
                derived += 1;
            }
        }
        assert_eq!(derived, built.head().unwrap().unwrap().number, "every block was derived");
    }
}

fn check<L: L1Node>(mut devnet: Devnet<L>, batches: usize) {
    for _ in 0..batches {
        assert!(devnet.step().unwrap().is_some(), "one batch per L1 block");
    }
    rederive(&devnet);
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
        let committed = committed(&l1, &config);
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
            let Some(Batch::Span(span)) = reader.next_batch(&kona_rollup(&spec.rollup)) else {
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

/// The commitment faults: exactly one false root, in the chosen batch.
#[test]
fn commitment_faults_falsify_exactly_their_batch() {
    use lockstep_sequencer::{Fault, FaultKind};
    for kind in [FaultKind::BadOutputRoot, FaultKind::BadCommitment] {
        let dir = tempfile::tempdir().unwrap();
        let options = DevnetOptions { faults: vec![Fault { kind, batch: 1 }], ..options() };
        let mut devnet = Devnet::start(dir.path(), options).unwrap();
        for _ in 0..3 {
            devnet.step().unwrap();
        }
        let config = devnet.config().clone();
        let handle = devnet.sequencer();
        for posted in &devnet.posted {
            let l1 = devnet.l1.block(posted.l1_block).unwrap().unwrap();
            let committed = committed(&l1, &config);
            // the true output roots: recompute from the sequencer's headers at the batch's end
            let sequencer = handle.lock().unwrap();
            let db = sequencer.database().tx().unwrap();
            let mut false_roots = 0;
            for output in &committed.outputs {
                let chain = output.chainId.to::<u64>();
                let header =
                    ChainProvider::new(&db, chain).header(output.l2Block).unwrap().unwrap();
                let truth = lockstep_execution::output_root(
                    header.state_root,
                    header.withdrawals_root.unwrap(),
                    header.hash_slow(),
                );
                false_roots += usize::from(truth != output.outputRoot);
            }
            let false_pairs = committed.pairs.iter().filter(|p| p.burnRoot != p.mintRoot).count();
            let expected = usize::from(posted.index == 1);
            match kind {
                FaultKind::BadOutputRoot => {
                    assert_eq!((false_roots, false_pairs), (expected, 0), "batch {}", posted.index)
                }
                _ => {
                    assert_eq!((false_roots, false_pairs), (0, expected), "batch {}", posted.index)
                }
            }
        }
    }
}

/// The rollup config as kona's: the same `rollup.json`.
fn kona_rollup(ours: &lockstep_chainspec::RollupConfig) -> kona_genesis::RollupConfig {
    serde_json::from_value(serde_json::to_value(ours).unwrap()).unwrap()
}
