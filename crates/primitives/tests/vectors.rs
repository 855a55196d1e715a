//! The cross-chain check's test vectors (testdata/crosschain-vectors.json), made by an
//! implementation written apart from this project.

#![allow(clippy::unwrap_used)]

use alloy_primitives::{B256, U256};
use lockstep_primitives::{merkle_root, MerkleProof, MerkleTree, Transfer};
use serde::Deserialize;

#[derive(Deserialize)]
struct Vectors {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    transfers: Vec<RawTransfer>,
    leaves: Vec<B256>,
    root: B256,
    proofs: Vec<RawProof>,
}

#[derive(Deserialize)]
struct RawTransfer {
    source: String,
    destination: String,
    nonce: String,
    token: alloy_primitives::Address,
    from: alloy_primitives::Address,
    to: alloy_primitives::Address,
    amount: String,
}

#[derive(Deserialize)]
struct RawProof {
    index: String,
    count: String,
    siblings: Vec<B256>,
}

/// Puts every bare JSON integer in quotes: the vectors hold numbers up to 2^256 - 1.
fn quote_numbers(json: &str) -> String {
    let mut out = String::with_capacity(json.len() + 256);
    let (mut in_string, mut escaped, mut in_number) = (false, false, false);
    for c in json.chars() {
        if in_string {
            out.push(c);
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        if c.is_ascii_digit() && !in_number {
            in_number = true;
            out.push('"');
        } else if !c.is_ascii_digit() && in_number {
            in_number = false;
            out.push('"');
        }
        if c == '"' {
            in_string = true;
        }
        out.push(c);
    }
    out
}

fn load() -> Vec<Case> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/crosschain-vectors.json");
    let text = std::fs::read_to_string(path).unwrap();
    serde_json::from_str::<Vectors>(&quote_numbers(&text)).unwrap().cases
}

#[test]
fn leaves_roots_and_proofs_match_the_vectors() {
    let cases = load();
    assert!(cases.len() >= 7, "every case of the file is read");
    for (n, case) in cases.iter().enumerate() {
        let transfers: Vec<Transfer> = case
            .transfers
            .iter()
            .map(|t| Transfer {
                source: t.source.parse().unwrap(),
                destination: t.destination.parse().unwrap(),
                nonce: t.nonce.parse::<U256>().unwrap(),
                token: t.token,
                from: t.from,
                to: t.to,
                amount: t.amount.parse::<U256>().unwrap(),
            })
            .collect();
        let leaves: Vec<B256> = transfers.iter().map(Transfer::leaf).collect();
        assert_eq!(leaves, case.leaves, "case {n}: leaves");
        let tree = MerkleTree::new(leaves.clone());
        assert_eq!(tree.root(), case.root, "case {n}: root");
        assert_eq!(merkle_root(&leaves), case.root, "case {n}: streaming root");
        assert_eq!(case.proofs.len(), leaves.len());
        for (i, raw) in case.proofs.iter().enumerate() {
            let proof = MerkleProof {
                index: raw.index.parse().unwrap(),
                count: raw.count.parse().unwrap(),
                siblings: raw.siblings.clone(),
            };
            assert_eq!(tree.proof(i).unwrap(), proof, "case {n}: proof {i}");
            assert!(proof.verify(leaves[i], case.root), "case {n}: proof {i} is accepted");
        }
    }
}
