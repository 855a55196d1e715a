//! Derivation throughput on real OP Mainnet data: the span-batch channel of testdata (one zlib
//! channel, one span batch) is decompressed, its batch decoded, and the span expanded into its
//! L2 blocks with every transaction (kona-protocol's decoder, as the pipeline uses it). Prints
//! MB/s of compressed channel and L2 blocks/s, medians over the passes.
//!
//! `cargo bench -p lockstep-derive --bench derive [-- PASSES]`

#![allow(missing_docs, clippy::unwrap_used)]

use alloy_primitives::{hex, Bytes};
use kona_protocol::{Batch, RawSpanBatch};
use std::{io::Read, time::Instant};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
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

    let mut times = Vec::new();
    let (mut blocks, mut txs) = (0, 0);
    for _ in 0..passes {
        let t = Instant::now();
        let mut decompressed = Vec::new();
        flate2::read::ZlibDecoder::new(channel.as_slice()).read_to_end(&mut decompressed).unwrap();
        let mut rest = decompressed.as_slice();
        (blocks, txs) = (0, 0);
        while let Ok(item) = <Bytes as alloy_rlp::Decodable>::decode(&mut rest) {
            let (kind, mut body) = item.split_first().unwrap();
            assert_eq!(*kind, 1, "a span batch");
            let mut raw = RawSpanBatch::decode(&mut body).unwrap();
            let span = raw.derive(2, 1_686_068_903, 10).unwrap();
            blocks += span.batches.len();
            txs += span.batches.iter().map(|b| b.transactions.len()).sum::<usize>();
            std::hint::black_box(Batch::Span(span));
        }
        times.push(t.elapsed().as_secs_f64());
    }
    let secs = median(times);
    let mut decompressed = Vec::new();
    flate2::read::ZlibDecoder::new(channel.as_slice()).read_to_end(&mut decompressed).unwrap();
    println!(
        "span-batch channel: {:.2} MB compressed, {:.2} MB decompressed, {blocks} L2 blocks, {txs} transactions",
        channel.len() as f64 / 1e6,
        decompressed.len() as f64 / 1e6,
    );
    println!(
        "derivation (decompress, decode, expand): {:.1} MB/s compressed, {:.0} blocks/s, {:.0} tx/s ({:.1} ms median of {passes})",
        channel.len() as f64 / secs / 1e6,
        blocks as f64 / secs,
        txs as f64 / secs,
        secs * 1e3
    );
}
