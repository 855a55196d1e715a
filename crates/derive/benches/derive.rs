//! Derivation throughput on real OP Mainnet data: the span-batch channel of testdata (one zlib
//! channel, one span batch) is decompressed, its batch decoded, and the span expanded into its
//! L2 blocks with every transaction signed again; lockstep's own readers beside kona-protocol
//! 0.4.5's, in one run. Prints MB/s of compressed channel and L2 blocks/s, medians over the
//! passes, and the ratio.
//!
//! `cargo bench -p lockstep-derive --bench derive [-- PASSES]`

#![allow(missing_docs, clippy::unwrap_used)]

use alloy_primitives::{hex, Bytes};
use lockstep_derive::{
    batch::Batch,
    channel::{batch_items, decompress, MAX_RLP_BYTES_PER_CHANNEL},
};
use std::{io::Read, time::Instant};

const GENESIS_TIME: u64 = 1_686_068_903;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// kona-protocol's readers: (blocks, transactions).
fn kona(channel: &[u8]) -> (usize, usize) {
    let mut decompressed = Vec::new();
    flate2::read::ZlibDecoder::new(channel).read_to_end(&mut decompressed).unwrap();
    let mut rest = decompressed.as_slice();
    let (mut blocks, mut txs) = (0, 0);
    while let Ok(item) = <Bytes as alloy_rlp::Decodable>::decode(&mut rest) {
        let (kind, mut body) = item.split_first().unwrap();
        assert_eq!(*kind, 1, "a span batch");
        let mut raw = kona_protocol::RawSpanBatch::decode(&mut body).unwrap();
        let span = raw.derive(2, GENESIS_TIME, 10).unwrap();
        blocks += span.batches.len();
        txs += span.batches.iter().map(|b| b.transactions.len()).sum::<usize>();
        std::hint::black_box(kona_protocol::Batch::Span(span));
    }
    (blocks, txs)
}

/// lockstep's readers: (blocks, transactions).
fn ours(channel: &[u8]) -> (usize, usize) {
    let data = decompress(channel, false, MAX_RLP_BYTES_PER_CHANNEL).unwrap();
    let (items, _) = batch_items(&data.bytes);
    let (mut blocks, mut txs) = (0, 0);
    for item in items {
        let Batch::Span(span) = Batch::decode(item).unwrap() else { panic!("a span batch") };
        let expanded = span.blocks(GENESIS_TIME, 2, 10).unwrap();
        blocks += expanded.len();
        txs += expanded.iter().map(|b| b.transactions.len()).sum::<usize>();
        std::hint::black_box(expanded);
    }
    (blocks, txs)
}

fn main() {
    let passes: usize = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with("--"))
        .and_then(|a| a.parse().ok())
        .unwrap_or(20);
    let path =
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/op-mainnet/span-batch-channel.hex.gz");
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    let channel = hex::decode(text.trim()).unwrap();
    let (mut kona_times, mut our_times) = (Vec::new(), Vec::new());
    let mut counts = (0, 0);
    for _ in 0..passes {
        let t = Instant::now();
        let k = kona(&channel);
        kona_times.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let o = ours(&channel);
        our_times.push(t.elapsed().as_secs_f64());
        assert_eq!(k, o, "both readers find the same blocks and transactions");
        counts = o;
    }
    let (blocks, txs) = counts;
    println!(
        "span-batch channel: {:.2} MB compressed, {blocks} L2 blocks, {txs} transactions, {passes} passes, median",
        channel.len() as f64 / 1e6,
    );
    for (name, secs) in [
        ("kona-protocol 0.4.5", median(kona_times.clone())),
        ("lockstep", median(our_times.clone())),
    ] {
        println!(
            "{name:<20} {:>8.1} MB/s compressed {:>10.0} blocks/s {:>10.0} tx/s ({:.1} ms)",
            channel.len() as f64 / secs / 1e6,
            blocks as f64 / secs,
            txs as f64 / secs,
            secs * 1e3
        );
    }
    println!("ratio lockstep / kona (throughput): {:.2}", median(kona_times) / median(our_times));
}
