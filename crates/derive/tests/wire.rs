//! Our frame, channel and batch readers on real OP Mainnet batcher data, against the numbers the
//! data is known to hold and against kona-protocol 0.4.5 as an oracle, and on mutated data:
//! they never panic, and where kona decodes a mutated span batch, ours gives the same blocks.

#![allow(clippy::unwrap_used)]

use alloy_consensus::{Transaction, TxEnvelope};
use alloy_eips::eip2718::Decodable2718;
use alloy_primitives::hex;
use lockstep_derive::{
    batch::Batch,
    channel::{batch_items, decompress, Compression, MAX_RLP_BYTES_PER_CHANNEL},
    frame::Frame,
    span_batch::{SpanBatch, SpanBlock},
};
use rand::{rngs::StdRng, Rng, SeedableRng};
use std::io::Read;

const GENESIS_TIME: u64 = 1_686_068_903;
const CHAIN_ID: u64 = 10;

fn testdata(rel: &str) -> Vec<u8> {
    std::fs::read(format!("{}/../../testdata/{rel}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn span_channel() -> Vec<u8> {
    let mut text = String::new();
    flate2::read::GzDecoder::new(testdata("op-mainnet/span-batch-channel.hex.gz").as_slice())
        .read_to_string(&mut text)
        .unwrap();
    hex::decode(text.trim()).unwrap()
}

/// The blocks of every span batch of a channel, read by our readers.
fn our_blocks(channel: &[u8]) -> (Vec<SpanBlock>, bool) {
    let data = decompress(channel, false, MAX_RLP_BYTES_PER_CHANNEL).unwrap();
    assert_eq!(data.compression, Compression::Zlib);
    let (items, _) = batch_items(&data.bytes);
    let mut blocks = Vec::new();
    for item in items {
        match Batch::decode(item).unwrap() {
            Batch::Span(span) => blocks.extend(span.blocks(GENESIS_TIME, 2, CHAIN_ID).unwrap()),
            Batch::Single(_) => panic!("the data holds span batches only"),
        }
    }
    (blocks, data.terminated)
}

fn kona_blocks(item: &[u8]) -> Option<Vec<SpanBlock>> {
    let (&kind, mut body) = item.split_first()?;
    if kind != 1 {
        return None;
    }
    let mut raw = kona_protocol::RawSpanBatch::decode(&mut body).ok()?;
    let span = raw.derive(2, GENESIS_TIME, CHAIN_ID).ok()?;
    Some(
        span.batches
            .into_iter()
            .map(|b| SpanBlock {
                timestamp: b.timestamp,
                epoch_num: b.epoch_num,
                transactions: b.transactions,
            })
            .collect(),
    )
}

fn totals(blocks: &[SpanBlock]) -> (usize, usize) {
    (blocks.len(), blocks.iter().map(|b| b.transactions.len()).sum())
}

#[test]
fn the_real_batcher_transaction_holds_27_blocks_and_209_transactions() {
    let raw = testdata("op-mainnet/batcher-tx.bin");
    let tx = TxEnvelope::decode_2718_exact(&raw).unwrap();
    let frames = Frame::parse_all(tx.input()).unwrap();
    let kona = kona_protocol::Frame::parse_frames(tx.input()).unwrap();
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0].channel_id, kona[0].id);
    assert_eq!(frames[0].data, kona[0].data);
    assert_eq!(hex::encode(frames[0].channel_id), "ac329933f5efdcc35ccd284232a376d3");
    assert!(frames[0].is_last && frames[0].number == 0);
    let (blocks, terminated) = our_blocks(&frames[0].data);
    assert!(!terminated, "OP Mainnet's zlib stream is not terminated, and is read all the same");
    assert_eq!(totals(&blocks), (27, 209));
    // consecutive L2 blocks, with their L1 origins in order
    for pair in blocks.windows(2) {
        assert_eq!(pair[1].timestamp, pair[0].timestamp + 2);
        assert!(pair[1].epoch_num - pair[0].epoch_num <= 1);
    }
    let data = decompress(&frames[0].data, false, MAX_RLP_BYTES_PER_CHANNEL).unwrap();
    let (items, _) = batch_items(&data.bytes);
    assert_eq!(kona_blocks(items[0]).unwrap(), blocks, "kona decodes the same blocks");
}

#[test]
fn the_real_channel_holds_143_blocks_and_1766_transactions() {
    let channel = span_channel();
    let (blocks, _) = our_blocks(&channel);
    assert_eq!(totals(&blocks), (143, 1766));
    let data = decompress(&channel, false, MAX_RLP_BYTES_PER_CHANNEL).unwrap();
    let (items, error) = batch_items(&data.bytes);
    assert!(error.is_none());
    let kona: Vec<SpanBlock> = items.iter().flat_map(|i| kona_blocks(i).unwrap()).collect();
    assert_eq!(kona, blocks);
    // every transaction decodes as the EIP-2718 transaction it was signed as
    for block in &blocks {
        for tx in &block.transactions {
            TxEnvelope::decode_2718_exact(tx).unwrap();
        }
    }
}

#[test]
fn mutated_span_batches_never_panic_and_agree_with_kona_where_it_decodes() {
    let channel = span_channel();
    let data = decompress(&channel, false, MAX_RLP_BYTES_PER_CHANNEL).unwrap();
    let (items, _) = batch_items(&data.bytes);
    let original = items[0].to_vec();
    let mut rng = StdRng::seed_from_u64(99);
    let (mut both, mut ours_only, mut kona_only, mut neither) = (0, 0, 0, 0);
    let mut kona_panics = 0;
    for round in 0..400 {
        let mut item = original.clone();
        match round % 4 {
            0 => {
                let at = rng.random_range(1..item.len());
                item[at] ^= 1 << rng.random_range(0..8);
            }
            1 => item.truncate(rng.random_range(1..item.len())),
            2 => {
                // the prefix and counts, where a change reshapes everything after it
                let at = rng.random_range(1..60.min(item.len()));
                item[at] = rng.random();
            }
            _ => {
                let at = rng.random_range(1..item.len());
                item.insert(at, rng.random());
            }
        }
        let ours = Batch::decode(&item).ok().and_then(|b| match b {
            Batch::Span(span) => span.blocks(GENESIS_TIME, 2, CHAIN_ID).ok(),
            Batch::Single(_) => None,
        });
        // kona 0.4.5 panics on some malformed span batches (a short tx_sigs, for one); ours
        // must refuse those too
        let kona = std::panic::catch_unwind(|| kona_blocks(&item));
        let Ok(kona) = kona else {
            assert!(ours.is_none(), "round {round}: kona panicked on what we decoded");
            kona_panics += 1;
            continue;
        };
        match (ours, kona) {
            (Some(a), Some(b)) => {
                assert_eq!(a, b, "round {round}");
                both += 1;
            }
            (Some(_), None) => ours_only += 1,
            (None, Some(_)) => kona_only += 1,
            (None, None) => neither += 1,
        }
    }
    println!(
        "both {both}, ours only {ours_only}, kona only {kona_only}, neither {neither}, \
         kona panicked {kona_panics}"
    );
    assert!(both > 0 && neither > 150, "{both} {ours_only} {kona_only} {neither}");
    assert!(SpanBatch::decode(&original[1..]).is_ok());
}

#[test]
fn our_span_batch_encoder_writes_the_real_batch_back_byte_for_byte() {
    let channel = span_channel();
    let data = decompress(&channel, false, MAX_RLP_BYTES_PER_CHANNEL).unwrap();
    let (items, _) = batch_items(&data.bytes);
    for item in items {
        let Batch::Span(span) = Batch::decode(item).unwrap() else { panic!("span batches only") };
        assert_eq!(span.encode(), item[1..].to_vec());
        // and built again from its blocks, as the batcher builds it
        let blocks = span.blocks(GENESIS_TIME, 2, CHAIN_ID).unwrap();
        let singles: Vec<lockstep_derive::batch::SingleBatch> = blocks
            .iter()
            .enumerate()
            .map(|(i, b)| lockstep_derive::batch::SingleBatch {
                parent_hash: if i == 0 {
                    let mut h = alloy_primitives::B256::ZERO;
                    h[..20].copy_from_slice(&span.parent_check);
                    h
                } else {
                    alloy_primitives::B256::ZERO
                },
                epoch_num: b.epoch_num,
                epoch_hash: {
                    let mut h = alloy_primitives::B256::ZERO;
                    h[..20].copy_from_slice(&span.l1_origin_check);
                    h
                },
                timestamp: b.timestamp,
                transactions: b.transactions.clone(),
            })
            .collect();
        let first_seq = if span.origin_changes[0] { 0 } else { 1 };
        let rebuilt = SpanBatch::from_batches(&singles, first_seq, GENESIS_TIME).unwrap();
        assert_eq!(rebuilt.encode(), item[1..].to_vec());
    }
}
