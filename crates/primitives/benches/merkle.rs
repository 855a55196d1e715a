//! Merkle tree building in leaves per second, beside raw keccak256 throughput measured in the
//! same run (DESIGN.md 9: within 2x of the keccak limit). Medians of several passes.
//!
//! `cargo bench -p lockstep-primitives --bench merkle`

#![allow(missing_docs, clippy::unwrap_used)]

use alloy_primitives::{keccak256, B256};
use lockstep_primitives::{merkle_root, MerkleTree};
use std::{hint::black_box, time::Instant};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    const N: usize = 1 << 20;
    let leaves: Vec<B256> = (0..N as u64).map(|i| keccak256(i.to_be_bytes())).collect();
    let (mut keccak, mut streaming, mut kept) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..7 {
        let start = Instant::now();
        let mut acc = B256::ZERO;
        let mut buf = [0u8; 64];
        for leaf in &leaves {
            buf[..32].copy_from_slice(acc.as_slice());
            buf[32..].copy_from_slice(leaf.as_slice());
            acc = keccak256(buf);
        }
        black_box(acc);
        keccak.push(N as f64 / start.elapsed().as_secs_f64());

        let start = Instant::now();
        black_box(merkle_root(&leaves));
        streaming.push(N as f64 / start.elapsed().as_secs_f64());

        let start = Instant::now();
        black_box(MerkleTree::new(leaves.clone()).root());
        kept.push(N as f64 / start.elapsed().as_secs_f64());
    }
    let keccak = median(keccak);
    println!("merkle: {N} leaves, 1 core, median of 7");
    println!("{:<34} {:>8.2} M/s", "keccak256 of 64 bytes", keccak / 1e6);
    let streaming = median(streaming);
    println!(
        "{:<34} {:>8.2} M leaves/s  ({:.2}x keccak)",
        "merkle_root (streaming)",
        streaming / 1e6,
        keccak / streaming
    );
    let kept = median(kept);
    println!(
        "{:<34} {:>8.2} M leaves/s  ({:.2}x keccak)",
        "MerkleTree::new (with proofs)",
        kept / 1e6,
        keccak / kept
    );
}
