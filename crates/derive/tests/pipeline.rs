//! The pipeline's stages on what the specs and real chains fix: the real OP Mainnet batcher
//! transaction and channel read through the node's own traversal, frame, channel and batch
//! stages; the upgrade transactions of Ecotone, Fjord and Isthmus against the specs' source
//! hashes and kona-hardforks' bytes; and the op-node rules where kona 0.4.5 departs from them.

#![allow(clippy::unwrap_used, missing_docs)]

use alloy_consensus::{
    transaction::SignerRecoverable, Header, SignableTransaction, Transaction, TxEip1559, TxEnvelope,
};
use alloy_eips::eip2718::{Decodable2718, Encodable2718};
use alloy_primitives::{address, b256, hex, Address, Bytes, TxKind, B256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use kona_hardforks::Hardfork;
use lockstep_chainspec::{ChainGenesis, HardForks, RollupConfig};
use lockstep_derive::{
    batch::{DerivedBatch, SingleBatch},
    batch_source::{BatchSource, Pull},
    batch_validity::{check_single, Validity},
    block_info,
    frame::Frame,
    l1_block_info::L1InfoFormat,
    span_batch::SpanBlock,
    system_config::SystemConfig,
    upgrades::{upgrade_transactions, upgrades_at, ECOTONE, FJORD, ISTHMUS},
    BlockInfo, L1Window, L2BlockInfo,
};
use lockstep_l1::L1Block;
use std::{io::Read, sync::Arc};

const OP_GENESIS_TIME: u64 = 1_686_068_903;
const OP_INBOX: Address = address!("0xff00000000000000000000000000000000000010");

fn testdata(rel: &str) -> Vec<u8> {
    std::fs::read(format!("{}/../../testdata/{rel}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// OP Mainnet's derivation parameters, every fork through Granite active.
fn op_mainnet() -> Arc<RollupConfig> {
    Arc::new(RollupConfig {
        genesis: ChainGenesis { l2_time: OP_GENESIS_TIME, ..Default::default() },
        block_time: 2,
        max_sequencer_drift: 600,
        seq_window_size: 3600,
        channel_timeout: 300,
        granite_channel_timeout: 50,
        l2_chain_id: 10u64.into(),
        hardforks: HardForks {
            regolith_time: Some(0),
            canyon_time: Some(0),
            delta_time: Some(0),
            ecotone_time: Some(0),
            fjord_time: Some(0),
            granite_time: Some(0),
            ..Default::default()
        },
        batch_inbox_address: OP_INBOX,
        ..Default::default()
    })
}

/// An L1 window of two blocks: block 0, and block 1 holding `transactions`.
fn window(transactions: Vec<TxEnvelope>) -> (L1Window, BlockInfo) {
    let l1 = L1Window::default();
    let genesis = Header { number: 0, timestamp: 1_720_000_000, ..Default::default() };
    let hash = genesis.hash_slow();
    let header =
        Header { number: 1, parent_hash: hash, timestamp: 1_720_000_012, ..Default::default() };
    let first = L1Block { hash, header: genesis, transactions: vec![], receipts: vec![] };
    let origin = block_info(&first);
    l1.insert(first, vec![]);
    let receipts = transactions.iter().map(|_| receipt()).collect();
    l1.insert(L1Block { hash: header.hash_slow(), header, transactions, receipts }, vec![]);
    l1.set_limit(1);
    (l1, origin)
}

fn receipt() -> alloy_consensus::ReceiptEnvelope {
    alloy_consensus::ReceiptEnvelope::Eip1559(alloy_consensus::ReceiptWithBloom {
        receipt: alloy_consensus::Receipt {
            status: alloy_consensus::Eip658Value::Eip658(true),
            cumulative_gas_used: 21_000,
            logs: vec![],
        },
        logs_bloom: Default::default(),
    })
}

/// Everything the source yields for L1 block 1, read by `batcher`.
fn batches(
    rollup: Arc<RollupConfig>,
    l1: &L1Window,
    origin: BlockInfo,
    batcher: Address,
) -> Vec<DerivedBatch> {
    let config = SystemConfig { batcher, ..Default::default() };
    let mut source = BatchSource::new(rollup, origin, config);
    let mut out = Vec::new();
    let mut advanced = false;
    for _ in 0..10_000 {
        match source.next_batch(l1).unwrap() {
            Pull::Ready(batch) => out.push(batch),
            Pull::NotEnoughData => {}
            Pull::Eof if advanced => return out,
            Pull::Eof => {
                source.advance(l1).unwrap();
                advanced = true;
            }
        }
    }
    panic!("the source never ran dry")
}

fn span_blocks(batches: &[DerivedBatch]) -> Vec<SpanBlock> {
    batches
        .iter()
        .flat_map(|b| match b {
            DerivedBatch::Span(span) => span.blocks.clone(),
            DerivedBatch::Single(_) => panic!("span batches only"),
        })
        .collect()
}

/// kona-protocol's span batch decoder over the items of a zlib stream read as far as it goes.
fn kona_span_blocks(zlib: &[u8]) -> Vec<(u64, u64, usize)> {
    let mut bytes = Vec::new();
    let _ = flate2::read::ZlibDecoder::new(zlib).read_to_end(&mut bytes);
    let (items, _) = lockstep_derive::channel::batch_items(&bytes);
    let mut out = Vec::new();
    for item in items {
        let mut body = &item[1..];
        let mut raw = kona_protocol::RawSpanBatch::decode(&mut body).unwrap();
        let span = raw.derive(2, OP_GENESIS_TIME, 10).unwrap();
        out.extend(span.batches.iter().map(|b| (b.timestamp, b.epoch_num, b.transactions.len())));
    }
    out
}

fn summary(blocks: &[SpanBlock]) -> Vec<(u64, u64, usize)> {
    blocks.iter().map(|b| (b.timestamp, b.epoch_num, b.transactions.len())).collect()
}

#[test]
fn the_pipeline_reads_the_real_batcher_transaction_into_27_blocks_and_209_transactions() {
    let tx = TxEnvelope::decode_2718_exact(&testdata("op-mainnet/batcher-tx.bin")).unwrap();
    let batcher = tx.recover_signer().unwrap();
    let frame = Frame::parse_all(tx.input()).unwrap().remove(0);
    let (l1, origin) = window(vec![tx]);
    let got = batches(op_mainnet(), &l1, origin, batcher);
    let blocks = span_blocks(&got);
    assert_eq!(blocks.len(), 27);
    assert_eq!(blocks.iter().map(|b| b.transactions.len()).sum::<usize>(), 209);
    // the L1 origins and timestamps as kona's span batch decoder reads them
    assert_eq!(summary(&blocks), kona_span_blocks(&frame.data));
    // another sender's copy of the same data is not the batcher's
    assert!(batches(op_mainnet(), &l1, origin, Address::repeat_byte(1)).is_empty());
}

#[test]
fn the_pipeline_reads_the_real_channel_into_143_blocks_and_1766_transactions() {
    let mut text = String::new();
    flate2::read::GzDecoder::new(testdata("op-mainnet/span-batch-channel.hex.gz").as_slice())
        .read_to_string(&mut text)
        .unwrap();
    let channel = hex::decode(text.trim()).unwrap();
    // posted as OP Mainnet's batcher posts: frames of at most 120,000 bytes in one transaction
    let key = PrivateKeySigner::from_bytes(&B256::repeat_byte(3)).unwrap();
    let chunks: Vec<&[u8]> = channel.chunks(120_000).collect();
    let mut input = vec![0u8];
    for (i, chunk) in chunks.iter().enumerate() {
        let frame = Frame {
            channel_id: [5; 16],
            number: i as u16,
            data: chunk.to_vec(),
            is_last: i + 1 == chunks.len(),
        };
        input.extend(frame.encode());
    }
    let tx = TxEip1559 {
        chain_id: 1,
        to: TxKind::Call(OP_INBOX),
        input: input.into(),
        ..Default::default()
    };
    let sig = key.sign_hash_sync(&tx.signature_hash()).unwrap();
    let (l1, origin) = window(vec![TxEnvelope::Eip1559(tx.into_signed(sig))]);
    let blocks = span_blocks(&batches(op_mainnet(), &l1, origin, key.address()));
    assert_eq!(blocks.len(), 143);
    assert_eq!(blocks.iter().map(|b| b.transactions.len()).sum::<usize>(), 1766);
    assert_eq!(summary(&blocks), kona_span_blocks(&channel));
}

#[test]
fn a_zlib_stream_cut_short_gives_the_batches_before_the_cut_as_op_node_reads_it() {
    let rollup = op_mainnet();
    let mut stream = Vec::new();
    for i in 0..6u64 {
        let batch = SingleBatch {
            parent_hash: B256::repeat_byte(i as u8),
            epoch_num: i,
            epoch_hash: B256::repeat_byte(0x10 + i as u8),
            timestamp: OP_GENESIS_TIME + 2 * i,
            transactions: vec![Bytes::from(vec![0x02; 300 + 40 * i as usize])],
        };
        let mut encoded = vec![0u8];
        alloy_rlp::Encodable::encode(&batch, &mut encoded);
        alloy_rlp::Encodable::encode(&Bytes::from(encoded), &mut stream);
    }
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::none());
    std::io::Write::write_all(&mut z, &stream).unwrap();
    let compressed = z.finish().unwrap();
    let cut = &compressed[..compressed.len() * 2 / 3];
    let key = PrivateKeySigner::from_bytes(&B256::repeat_byte(4)).unwrap();
    let frame = Frame { channel_id: [6; 16], number: 0, data: cut.to_vec(), is_last: true };
    let mut input = vec![0u8];
    input.extend(frame.encode());
    let tx = TxEip1559 {
        chain_id: 1,
        to: TxKind::Call(OP_INBOX),
        input: input.into(),
        ..Default::default()
    };
    let sig = key.sign_hash_sync(&tx.signature_hash()).unwrap();
    let (l1, origin) = window(vec![TxEnvelope::Eip1559(tx.into_signed(sig))]);
    let got = batches(rollup.clone(), &l1, origin, key.address());
    // the cut falls in the fifth batch: four come out, as op-node's streaming reader gives them
    assert_eq!(got.len(), 4);
    for (i, batch) in got.iter().enumerate() {
        let DerivedBatch::Single(b) = batch else { panic!("singular batches") };
        assert_eq!(b.epoch_num, i as u64);
    }
    // kona-protocol 0.4.5 refuses the whole channel
    let mut channel = kona_protocol::Channel::new([6; 16], Default::default());
    let kona_frame = kona_protocol::Frame::parse_frames(tx_input(&l1)).unwrap().remove(0);
    channel.add_frame(kona_frame, Default::default()).unwrap();
    let data = channel.frame_data().unwrap();
    let mut reader = kona_protocol::BatchReader::new(data.to_vec(), 10_000_000);
    let kona_rollup: kona_genesis::RollupConfig =
        serde_json::from_value(serde_json::to_value(&*rollup).unwrap()).unwrap();
    assert!(reader.next_batch(&kona_rollup).is_none(), "kona reads no batch from a cut stream");
}

fn tx_input(l1: &L1Window) -> &'static [u8] {
    let block = l1.block(1).unwrap();
    Box::leak(block.transactions[0].input().to_vec().into_boxed_slice())
}

#[test]
fn from_holocene_a_singular_batch_with_a_wrong_parent_is_dropped() {
    let mut rollup = (*op_mainnet()).clone();
    rollup.hardforks.holocene_time = Some(0);
    let epoch = BlockInfo {
        hash: B256::repeat_byte(1),
        number: 5,
        parent_hash: B256::ZERO,
        timestamp: 100,
    };
    let parent = L2BlockInfo {
        block_info: BlockInfo {
            hash: B256::repeat_byte(2),
            number: 9,
            parent_hash: B256::ZERO,
            timestamp: 110,
        },
        l1_origin: epoch.id(),
        seq_num: 0,
    };
    let good = SingleBatch {
        parent_hash: parent.block_info.hash,
        epoch_num: 5,
        epoch_hash: epoch.hash,
        timestamp: 112,
        transactions: vec![],
    };
    let inclusion = BlockInfo { number: 6, timestamp: 112, ..Default::default() };
    assert_eq!(check_single(&rollup, &[epoch], &parent, &good, &inclusion), Validity::Accept);
    let bad = SingleBatch { parent_hash: B256::repeat_byte(3), ..good.clone() };
    assert!(matches!(
        check_single(&rollup, &[epoch], &parent, &bad, &inclusion),
        Validity::Drop(_)
    ));
    // the batch stage's other Holocene outcomes: past, and an out-of-order future batch
    let past = SingleBatch { timestamp: 110, ..good.clone() };
    assert_eq!(check_single(&rollup, &[epoch], &parent, &past, &inclusion), Validity::Past);
    let future = SingleBatch { timestamp: 114, ..good };
    assert!(matches!(
        check_single(&rollup, &[epoch], &parent, &future, &inclusion),
        Validity::Drop(_)
    ));
}

/// The source hashes the specs give for each upgrade transaction.
const SPEC_SOURCE_HASHES: [(&str, B256); 17] = [
    (
        "Ecotone: L1 Block Deployment",
        b256!("0x877a6077205782ea15a6dc8699fa5ebcec5e0f4389f09cb8eda09488231346f8"),
    ),
    (
        "Ecotone: Gas Price Oracle Deployment",
        b256!("0xa312b4510adf943510f05fcc8f15f86995a5066bd83ce11384688ae20e6ecf42"),
    ),
    (
        "Ecotone: L1 Block Proxy Update",
        b256!("0x18acb38c5ff1c238a7460ebc1b421fa49ec4874bdf1e0a530d234104e5e67dbc"),
    ),
    (
        "Ecotone: Gas Price Oracle Proxy Update",
        b256!("0xee4f9385eceef498af0be7ec5862229f426dec41c8d42397c7257a5117d9230a"),
    ),
    (
        "Ecotone: Gas Price Oracle Set Ecotone",
        b256!("0x0c1cb38e99dbc9cbfab3bb80863380b0905290b37eb3d6ab18dc01c1f3e75f93"),
    ),
    (
        "Ecotone: beacon block roots contract deployment",
        b256!("0x69b763c48478b9dc2f65ada09b3d92133ec592ea715ec65ad6e7f3dc519dc00c"),
    ),
    (
        "Fjord: Gas Price Oracle Deployment",
        b256!("0x86122c533fdcb89b16d8713174625e44578a89751d96c098ec19ab40a51a8ea3"),
    ),
    (
        "Fjord: Gas Price Oracle Proxy Update",
        b256!("0x1e6bb0c28bfab3dc9b36ffb0f721f00d6937f33577606325692db0965a7d58c6"),
    ),
    (
        "Fjord: Gas Price Oracle Set Fjord",
        b256!("0xbac7bb0d5961cad209a345408b0280a0d4686b1b20665e1b0f9cdafd73b19b6b"),
    ),
    (
        "Isthmus: L1 Block Deployment",
        b256!("0x3b2d0821ca2411ad5cd3595804d1213d15737188ae4cbd58aa19c821a6c211bf"),
    ),
    (
        "Isthmus: Gas Price Oracle Deployment",
        b256!("0xfc70b48424763fa3fab9844253b4f8d508f91eb1f7cb11a247c9baec0afb8035"),
    ),
    (
        "Isthmus: Operator Fee Vault Deployment",
        b256!("0x107a570d3db75e6110817eb024f09f3172657e920634111ce9875d08a16daa96"),
    ),
    (
        "Isthmus: L1 Block Proxy Update",
        b256!("0xebe8b5cb10ca47e0d8bda8f5355f2d66711a54ddeb0ef1d30e29418c9bf17a0e"),
    ),
    (
        "Isthmus: Gas Price Oracle Proxy Update",
        b256!("0xecf2d9161d26c54eda6b7bfdd9142719b1e1199a6e5641468d1bf705bc531ab0"),
    ),
    (
        "Isthmus: Operator Fee Vault Proxy Update",
        b256!("0xad74e1adb877ccbe176b8fa1cc559388a16e090ddbe8b512f5b37d07d887a927"),
    ),
    (
        "Isthmus: Gas Price Oracle Set Isthmus",
        b256!("0x3ddf4b1302548dd92939826e970f260ba36167f4c25f18390a5e8b194b295319"),
    ),
    (
        "Isthmus: EIP-2935 Contract Deployment",
        b256!("0xbfb734dae514c5974ddf803e54c1bc43d5cdb4a48ae27e1d9b875a5a150b553a"),
    ),
];

#[test]
fn upgrade_transactions_carry_the_specs_source_hashes_and_kona_hardforks_bytes() {
    let ours: Vec<_> = ECOTONE.iter().chain(&FJORD).chain(&ISTHMUS).collect();
    assert_eq!(ours.len(), SPEC_SOURCE_HASHES.len());
    for (upgrade, (intent, hash)) in ours.iter().zip(SPEC_SOURCE_HASHES) {
        assert_eq!(upgrade.intent, intent);
        assert_eq!(upgrade.deposit().source_hash, hash, "{intent}");
        assert!(!upgrade.deposit().input.is_empty(), "{intent}: its data decodes");
    }
    let encode = |list: &[lockstep_derive::upgrades::Upgrade]| -> Vec<Bytes> {
        list.iter().map(|u| lockstep_derive::attributes::deposit_bytes(u.deposit())).collect()
    };
    assert_eq!(encode(&ECOTONE), kona_hardforks::Ecotone.txs().collect::<Vec<_>>());
    assert_eq!(encode(&FJORD), kona_hardforks::Fjord.txs().collect::<Vec<_>>());
    assert_eq!(encode(&ISTHMUS), kona_hardforks::Isthmus.txs().collect::<Vec<_>>());
    for tx in encode(&ISTHMUS) {
        let decoded = op_alloy_consensus::OpTxEnvelope::decode_2718(&mut tx.as_ref()).unwrap();
        assert_eq!(decoded.encoded_2718(), tx.to_vec());
    }
}

#[test]
fn upgrade_transactions_come_only_in_each_forks_activation_block() {
    let mut rollup = (*op_mainnet()).clone();
    rollup.genesis.l2_time = 1000;
    rollup.hardforks.ecotone_time = Some(1010);
    rollup.hardforks.fjord_time = Some(1010);
    rollup.hardforks.granite_time = Some(1020);
    rollup.hardforks.holocene_time = Some(1020);
    rollup.hardforks.isthmus_time = Some(1031);
    let count = |t: u64| upgrades_at(&rollup, t).len();
    assert_eq!(count(1008), 0);
    assert_eq!(count(1010), 6 + 3, "Ecotone and Fjord together, in that order");
    assert_eq!(upgrades_at(&rollup, 1010)[6].intent, FJORD[0].intent);
    assert_eq!(count(1012), 0);
    assert_eq!(count(1030), 0);
    // Isthmus at 1031 is active from the first block at or after it
    assert_eq!(count(1032), 8);
    assert_eq!(count(1034), 0);
    assert_eq!(upgrade_transactions(&rollup, 1032).len(), 8);
    // an activation block keeps the previous L1 info format
    assert_eq!(L1InfoFormat::at(&rollup, 1010), L1InfoFormat::Bedrock);
    assert_eq!(L1InfoFormat::at(&rollup, 1012), L1InfoFormat::Ecotone);
    assert_eq!(L1InfoFormat::at(&rollup, 1032), L1InfoFormat::Ecotone);
    assert_eq!(L1InfoFormat::at(&rollup, 1034), L1InfoFormat::Isthmus);
}

#[test]
fn a_block_full_of_invalid_batches_is_read_through_not_taken_for_a_stall() {
    // more dropped batches in one L1 block than the pipeline's idle bound: every pull uses up
    // L1 data, so the deriver reads them all and reports the block done
    let count = 3 * lockstep_derive::MAX_IDLE_STEPS as usize;
    let key = PrivateKeySigner::from_bytes(&B256::repeat_byte(8)).unwrap();
    let mut stream = Vec::new();
    for i in 0..count {
        let batch = SingleBatch {
            parent_hash: B256::repeat_byte(0xee),
            epoch_num: 0,
            epoch_hash: B256::ZERO,
            timestamp: 1_720_000_002 + 2 * (i as u64 % 5),
            transactions: vec![],
        };
        let mut encoded = vec![0u8];
        alloy_rlp::Encodable::encode(&batch, &mut encoded);
        alloy_rlp::Encodable::encode(&Bytes::from(encoded), &mut stream);
    }
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut z, &stream).unwrap();
    let frame = Frame { channel_id: [9; 16], number: 0, data: z.finish().unwrap(), is_last: true };
    let mut input = vec![0u8];
    input.extend(frame.encode());
    let tx = TxEip1559 {
        chain_id: 1,
        to: TxKind::Call(OP_INBOX),
        input: input.into(),
        ..Default::default()
    };
    let sig = key.sign_hash_sync(&tx.signature_hash()).unwrap();
    let (l1, origin) = window(vec![TxEnvelope::Eip1559(tx.into_signed(sig))]);
    let genesis = Header { number: 0, timestamp: origin.timestamp, ..Default::default() };
    let mut rollup = (*op_mainnet()).clone();
    rollup.genesis.l1 = origin.id();
    rollup.genesis.l2 = alloy_eips::BlockNumHash { number: 0, hash: genesis.hash_slow() };
    rollup.genesis.l2_time = origin.timestamp;
    rollup.genesis.system_config = Some(lockstep_chainspec::GenesisSystemConfig {
        batcher_address: key.address(),
        gas_limit: 30_000_000,
        ..Default::default()
    });
    let rollup = Arc::new(rollup);
    let l2 = lockstep_derive::L2Window::new(10, rollup.clone());
    let head = l2.push(lockstep_derive::op_block(genesis, vec![])).unwrap();
    let mut deriver =
        lockstep_derive::ChainDeriver::new(10, rollup, l1, &l2, head, origin).unwrap();
    assert!(matches!(deriver.next(&l2, head).unwrap(), lockstep_derive::Derived::Exhausted));
    assert_eq!(deriver.origin().number, 1, "the batcher's block was read to its end");
}
