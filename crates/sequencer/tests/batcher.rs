//! The batcher's output read back with kona-protocol's frame, channel and batch readers: the
//! standard OP derivation format recovers every block's transactions, timestamps and origins.

#![allow(clippy::unwrap_used)]

use alloy_consensus::{Header, SignableTransaction, TxEip1559};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{keccak256, Address, Bytes, TxKind, B256, U256};
use alloy_signer::SignerSync;
use kona_protocol::{Batch, BatchReader, BlockInfo, Channel, Frame, L2BlockInfo};
use lockstep_devnet::{dev_key, DevnetConfig, BRIDGE};
use lockstep_sequencer::{
    batcher::{self, BatchedBlock, Compression},
    BuiltBlock, L1Origin, SharedSequencer,
};
use std::collections::BTreeMap;

/// The L1 origin of L2 round `round`: three L2 blocks per L1 block.
fn l1_header(round: u64) -> Header {
    let epoch = round / 3;
    Header {
        number: 1000 + epoch,
        timestamp: 1_767_225_000 + epoch * 6,
        mix_hash: keccak256(epoch.to_be_bytes()),
        base_fee_per_gas: Some(7),
        parent_beacon_block_root: Some(B256::with_last_byte(1)),
        ..Default::default()
    }
}

fn build_history(rounds: u64) -> (DevnetConfig, Vec<(Vec<BuiltBlock>, Header)>) {
    let config = DevnetConfig::default();
    let chains = config.sequenced_chains();
    let dir = tempfile::tempdir().unwrap();
    let mut sequencer =
        SharedSequencer::open(dir.path(), &chains, BRIDGE, dev_key(8), 4, &[]).unwrap();
    let mut nonces = BTreeMap::new();
    let mut out = Vec::new();
    for round in 0..rounds {
        for i in 0..6u64 {
            let chain = if i % 2 == 0 { 901 } else { 902 };
            let who = dev_key((i % 4) as u32);
            let nonce: &mut u64 = nonces.entry((chain, who.address())).or_default();
            let tx = TxEip1559 {
                chain_id: chain,
                nonce: *nonce,
                gas_limit: 100_000,
                max_fee_per_gas: 10_000_000_000,
                max_priority_fee_per_gas: 1,
                to: TxKind::Call(Address::with_last_byte(i as u8 + 1)),
                value: U256::from(round * 10 + i + 1),
                access_list: Default::default(),
                input: Bytes::from(vec![round as u8; (i * 40) as usize]),
            };
            *nonce += 1;
            let sig = who.sign_hash_sync(&tx.signature_hash()).unwrap();
            sequencer.submit(chain, &tx.into_signed(sig).encoded_2718()).unwrap();
        }
        let header = l1_header(round);
        let origin = L1Origin { header: header.clone(), sequence_number: round % 3 };
        out.push((sequencer.build(&origin, &BTreeMap::new()).unwrap(), header));
    }
    (config, out)
}

#[test]
fn posted_channels_decode_to_the_built_blocks() {
    let (config, history) = build_history(12);
    for (position, chain) in config.chains.iter().enumerate() {
        let spec = config.chain_spec(chain.chain_id);
        let blocks: Vec<BatchedBlock<'_>> = history
            .iter()
            .map(|(built, l1)| BatchedBlock {
                block: &built[position].block,
                epoch_num: l1.number,
                epoch_hash: l1.hash_slow(),
            })
            .collect();
        let span = batcher::span_batch(&spec.rollup, &blocks).unwrap();
        let rlp = batcher::channel_rlp(&[lockstep_derive::batch::Batch::Span(span)]).unwrap();
        for compression in [Compression::Zlib, Compression::Brotli] {
            let data = batcher::compress(&rlp, compression).unwrap();
            let id = batcher::channel_id(chain.chain_id, compression as u64);
            // small frames, so that the channel spans several
            let frames = batcher::frames(id, &data, 600).unwrap();
            assert!(frames.len() > 1);
            let calldata = batcher::calldata(&frames);

            // read back as derivation does
            assert_eq!(calldata[0], 0, "derivation version 0");
            let parsed = Frame::parse_frames(&calldata).unwrap();
            let ours: Vec<_> = frames
                .iter()
                .map(|f| (f.channel_id, f.number, f.data.clone(), f.is_last))
                .collect();
            let theirs: Vec<_> =
                parsed.iter().map(|f| (f.id, f.number, f.data.clone(), f.is_last)).collect();
            assert_eq!(theirs, ours);
            let mut channel = Channel::new(id, BlockInfo::default());
            for frame in parsed {
                channel.add_frame(frame, BlockInfo::default()).unwrap();
            }
            assert!(channel.is_ready());
            let mut reader = BatchReader::new(
                channel.frame_data().unwrap(),
                spec.rollup.max_rlp_bytes_per_channel(0) as usize,
            );
            let Some(Batch::Span(decoded)) = reader.next_batch(&kona_rollup(&spec.rollup)) else {
                panic!("{compression:?}: no span batch read back");
            };
            assert!(
                reader.next_batch(&kona_rollup(&spec.rollup)).is_none(),
                "one batch per channel"
            );
            assert!(decoded.check_parent_hash(blocks[0].block.header.parent_hash));
            let mut origins: Vec<BlockInfo> = history
                .iter()
                .map(|(_, l1)| BlockInfo {
                    hash: l1.hash_slow(),
                    number: l1.number,
                    ..Default::default()
                })
                .collect();
            origins.dedup();
            let safe_head = L2BlockInfo::default();
            let singles = decoded.get_singular_batches(&origins, safe_head).unwrap();
            assert_eq!(singles.len(), blocks.len());
            for (single, original) in singles.iter().zip(&blocks) {
                assert_eq!(single.timestamp, original.block.header.timestamp);
                assert_eq!(
                    (single.epoch_num, single.epoch_hash),
                    (original.epoch_num, original.epoch_hash)
                );
                let user: Vec<Bytes> = original
                    .block
                    .transactions
                    .iter()
                    .filter(|t| !t.is_deposit())
                    .map(|t| t.encoded_2718().into())
                    .collect();
                assert!(!user.is_empty());
                assert_eq!(
                    single.transactions, user,
                    "{compression:?}: transactions of block {}",
                    original.block.header.number
                );
            }
        }
    }
}

#[test]
fn corrupted_channels_are_rejected_not_panicked_on() {
    let (config, history) = build_history(3);
    let spec = config.chain_spec(901);
    let blocks: Vec<BatchedBlock<'_>> = history
        .iter()
        .map(|(b, l1)| BatchedBlock {
            block: &b[0].block,
            epoch_num: l1.number,
            epoch_hash: l1.hash_slow(),
        })
        .collect();
    let rlp = batcher::channel_rlp(&[lockstep_derive::batch::Batch::Span(
        batcher::span_batch(&spec.rollup, &blocks).unwrap(),
    )])
    .unwrap();
    let mut data = batcher::compress(&rlp, Compression::Zlib).unwrap();
    let middle = data.len() / 2;
    data[middle] ^= 0xff;
    let mut reader = BatchReader::new(data, 10_000_000);
    assert!(
        reader.next_batch(&kona_rollup(&spec.rollup)).is_none(),
        "a corrupt channel yields no batch"
    );
    assert!(Frame::parse_frames(&[0xde, 0xad]).is_err());
    assert!(
        batcher::frames(Default::default(), &rlp, 10).is_err(),
        "a frame too small for its header"
    );
}

/// The rollup config as kona's: the same `rollup.json`.
fn kona_rollup(ours: &lockstep_chainspec::RollupConfig) -> kona_genesis::RollupConfig {
    serde_json::from_value(serde_json::to_value(ours).unwrap()).unwrap()
}
