//! Real OP Sepolia blocks re-executed from their execution witnesses must come out with their
//! real block hashes (testdata/op-sepolia, checked apart from this project), and bad input must
//! be a clear error, never a panic.

#![allow(clippy::unwrap_used)]

use alloy_primitives::{keccak256, Bytes, B256};
use lockstep_execution::{execute_stateless, header_mismatches, ExecutionError, StatelessBlock};
use lockstep_storage::DatabaseError;
use std::io::Read;

const BLOCKS: [u64; 5] = [26207960, 26207961, 26207962, 26207963, 26208858];

fn raw_json(number: u64) -> Vec<u8> {
    let path =
        format!("{}/../../testdata/op-sepolia/block-{number}.json.gz", env!("CARGO_MANIFEST_DIR"));
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap()).read_to_end(&mut raw).unwrap();
    raw
}

fn block(number: u64) -> StatelessBlock {
    StatelessBlock::from_slice(&raw_json(number)).unwrap()
}

#[test]
fn real_op_sepolia_blocks_reexecute_to_their_real_hashes() {
    for number in BLOCKS {
        let input = block(number);
        let expected = input.expected.clone().unwrap();
        let computed = execute_stateless(&input).unwrap_or_else(|e| panic!("block {number}: {e}"));
        assert_eq!(computed.header.number, number);
        if let Some(real) = &expected.header {
            let mismatches = header_mismatches(&computed.header, real);
            assert!(mismatches.is_empty(), "block {number}: {mismatches:#?}");
        }
        assert_eq!(computed.hash, expected.block_hash, "block {number}");
    }
    // the fixtures chain: each block's parent is the previous one's real hash
    assert_eq!(
        block(26207961).parent_header.hash_slow(),
        block(26207960).expected.unwrap().block_hash
    );
}

#[test]
fn the_header_is_compared_field_by_field() {
    let input = block(26207960);
    let computed = execute_stateless(&input).unwrap();
    let mut real = input.expected.unwrap().header.unwrap();
    real.gas_used += 1;
    real.state_root = B256::repeat_byte(7);
    let fields: Vec<String> =
        header_mismatches(&computed.header, &real).into_iter().map(|m| m.field).collect();
    assert_eq!(fields, ["gasUsed", "stateRoot"]);
}

#[test]
fn a_witness_lacking_a_node_names_it() {
    let input = block(26207960);
    // the root itself
    let root = input.parent_header.state_root;
    let mut missing_root = input.clone();
    missing_root.witness.state.retain(|node| keccak256(node) != root);
    match execute_stateless(&missing_root) {
        Err(ExecutionError::Database(DatabaseError::MissingTrieNode { hash, path, trie })) => {
            assert_eq!((hash, path.as_str(), trie.as_str()), (root, "", "account trie"));
        }
        other => panic!("expected the missing root, got {other:?}"),
    }
    // a node deeper down: every node the block needs, once removed, is named
    let mut named = 0;
    for node in input.witness.state.iter().take(40) {
        let hash = keccak256(node);
        if hash == root {
            continue;
        }
        let mut lacking = input.clone();
        lacking.witness.state.retain(|n| keccak256(n) != hash);
        match execute_stateless(&lacking) {
            Ok(block) => assert_eq!(block.hash, input.expected.as_ref().unwrap().block_hash),
            Err(err) => {
                let message = err.to_string();
                assert!(message.contains(&hash.to_string()), "{message}");
                assert!(message.contains("is not in the witness"), "{message}");
                named += 1;
            }
        }
    }
    assert!(named > 10, "only {named} of 40 nodes were needed");
}

#[test]
fn bad_input_is_a_clear_error() {
    let raw = raw_json(26207960);
    // truncated
    let err = StatelessBlock::from_slice(&raw[..raw.len() / 2]).unwrap_err();
    assert!(err.to_string().contains("not valid JSON"), "{err}");
    // a truncated gzip file
    let gz = std::fs::read(format!(
        "{}/../../testdata/op-sepolia/block-26207960.json.gz",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let err = StatelessBlock::from_slice(&gz[..gz.len() / 2]).unwrap_err();
    assert!(err.to_string().contains("gzip"), "{err}");
    // a missing key
    let mut json: serde_json::Value = serde_json::from_slice(&raw).unwrap();
    json.as_object_mut().unwrap().remove("witness");
    let err = StatelessBlock::from_slice(&serde_json::to_vec(&json).unwrap()).unwrap_err();
    assert!(err.to_string().contains("witness"), "{err}");
    // a malformed value, named by its path
    let mut json: serde_json::Value = serde_json::from_slice(&raw).unwrap();
    json["parentHeader"]["stateRoot"] = "0x12".into();
    let err = StatelessBlock::from_slice(&serde_json::to_vec(&json).unwrap()).unwrap_err();
    assert!(err.to_string().contains("parentHeader.stateRoot"), "{err}");
    // a malformed witness node is an error, not a panic
    let mut input = block(26207960);
    input.witness.state.push(Bytes::from_static(&[0xf9, 0xff, 0xff, 0x01]));
    input.witness.headers.push(Bytes::from_static(&[0xc0]));
    let err = execute_stateless(&input).unwrap_err();
    assert!(err.to_string().contains("witness.headers[0]"), "{err}");
}

#[test]
fn a_wrong_parent_header_is_refused() {
    // an older block's header under the right parent hash
    let mut input = block(26207961);
    input.parent_header = block(26207960).parent_header;
    let err = execute_stateless(&input).unwrap_err();
    assert!(err.to_string().contains("not to parentHash"), "{err}");
    // without a parent hash to check against, the state root has no node in the witness
    input.parent_hash = None;
    let err = execute_stateless(&input).unwrap_err();
    let wrong_root = input.parent_header.state_root;
    assert!(
        matches!(&err, ExecutionError::Database(DatabaseError::MissingTrieNode { path, hash, .. })
            if path.is_empty() && *hash == wrong_root),
        "{err}"
    );
}

#[test]
fn a_payload_with_gas_limit_zero_is_refused() {
    let mut input = block(26207960);
    input.payload_attributes.gas_limit = Some(0);
    let err = execute_stateless(&input).unwrap_err();
    assert!(matches!(err, ExecutionError::InvalidAttributes(_)), "{err}");
    assert!(err.to_string().contains("gasLimit 0"), "{err}");
}
