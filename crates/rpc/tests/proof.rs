//! `eth_getProof` as a challenger uses it: take a checked batch's output-root pieces from
//! `superchain_getBatch`, prove the message passer (and any account and slot) at the batch's
//! last block, and check every proof with alloy-trie's verifier against the state root, at the
//! head and at an older block whose trie the node rewinds in memory.

#![allow(clippy::unwrap_used, clippy::needless_pass_by_value)]

mod common;

use alloy_primitives::{keccak256, Address, Bytes, B256, U256};
use alloy_trie::{proof::verify_proof, Nibbles, TrieAccount};
use common::{call, eth_rpc, node_for};
use lockstep_chainspec::L2_TO_L1_MESSAGE_PASSER;
use lockstep_devnet::{Devnet, DevnetOptions, BRIDGE, TOKEN};
use lockstep_storage::ChainProvider;
use serde_json::{json, Value};
use std::sync::Arc;

const CHAIN: u64 = 901;

fn b256(value: &Value) -> B256 {
    serde_json::from_value(value.clone()).unwrap()
}

fn number(value: &Value) -> U256 {
    U256::from_str_radix(value.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
}

fn nodes(value: &Value) -> Vec<Bytes> {
    serde_json::from_value(value.clone()).unwrap()
}

/// Checks an `eth_getProof` answer against `state_root` with alloy-trie alone; returns the
/// proven account (`None` if the proof shows it absent).
fn verify(answer: &Value, address: Address, state_root: B256) -> Option<TrieAccount> {
    let account = TrieAccount {
        nonce: number(&answer["nonce"]).to::<u64>(),
        balance: number(&answer["balance"]),
        storage_root: b256(&answer["storageHash"]),
        code_hash: b256(&answer["codeHash"]),
    };
    let exists = account != TrieAccount::default();
    let expected = exists.then(|| alloy_rlp::encode(account));
    let key = Nibbles::unpack(keccak256(address));
    verify_proof(state_root, key, expected, &nodes(&answer["accountProof"]))
        .unwrap_or_else(|e| panic!("account proof of {address}: {e:?}\n{answer}"));
    for entry in answer["storageProof"].as_array().unwrap() {
        let slot = B256::from(number(&entry["key"]));
        let value = number(&entry["value"]);
        let expected = (!value.is_zero()).then(|| alloy_rlp::encode(value));
        verify_proof(
            account.storage_root,
            Nibbles::unpack(keccak256(slot)),
            expected,
            &nodes(&entry["proof"]),
        )
        .unwrap_or_else(|e| panic!("storage proof of {address} slot {slot}: {e:?}"));
    }
    exists.then_some(account)
}

#[test]
fn eth_get_proof_proves_a_batchs_output_root_pieces_with_alloy_tries_verifier() {
    let dir = tempfile::tempdir().unwrap();
    let options = DevnetOptions { txs_per_block: 4, ..DevnetOptions::default() };
    let mut devnet = Devnet::start(&dir.path().join("sequencer"), options).unwrap();
    let config = devnet.config().clone();
    let mut node = node_for(&config, &dir.path().join("node"));
    for _ in 0..4 {
        devnet.step().unwrap();
        node.sync(&devnet.l1).unwrap();
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let pool = lockstep_rpc::CallPool::default();
    let live = Arc::new(lockstep_rpc::LiveStatus::default());
    let eth = eth_rpc(&node, &config, CHAIN, lockstep_rpc::EthLimits::default());
    let superchain = lockstep_rpc::superchain_module(node.shared_database(), live, &pool).unwrap();
    let head = {
        let tx = node.database().tx().unwrap();
        ChainProvider::new(&tx, CHAIN).head().unwrap().unwrap().number
    };
    let dev = config.dev_accounts()[0];
    // SuperchainToken's balanceOf is mapping slot 0
    let dev_balance_slot = keccak256([dev.into_word().0, [0u8; 32]].concat());

    let mut at_head = false;
    let mut behind_head = false;
    for batch in 1..=3u64 {
        let summary =
            call(&runtime, &superchain, "superchain_getBatch", json!([batch]))["result"].clone();
        assert_eq!(summary["status"], "matches", "{summary}");
        let output = summary["chains"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["chainId"] == CHAIN)
            .unwrap()
            .clone();
        let last = output["last"].as_u64().unwrap();
        let state_root = b256(&output["stateRoot"]);
        let block = format!("0x{last:x}");
        at_head |= last == head;
        behind_head |= last < head;

        // the message passer: its proven storage root is the verdict's, and with the state root
        // and the block hash it makes the verdict's output root
        let passer =
            call(&runtime, &eth, "eth_getProof", json!([L2_TO_L1_MESSAGE_PASSER, ["0x0"], block]));
        let passer = &passer["result"];
        let proven = verify(passer, L2_TO_L1_MESSAGE_PASSER, state_root);
        let passer_root = proven.map_or(alloy_trie::EMPTY_ROOT_HASH, |a| a.storage_root);
        assert_eq!(passer_root, b256(&output["messagePasserStorageRoot"]), "batch {batch}");
        let output_root =
            keccak256([B256::ZERO, state_root, passer_root, b256(&output["blockHash"])].concat());
        assert_eq!(output_root, b256(&output["outputRoot"]), "batch {batch}");

        // the bridge (its slot 0 holds the sequencer) and a dev account's token balance, next
        // to what eth_getStorageAt reads from the plain state
        let bridge = call(&runtime, &eth, "eth_getProof", json!([BRIDGE, ["0x0", "0x1"], block]));
        let bridge = &bridge["result"];
        let account = verify(bridge, BRIDGE, state_root).expect("the bridge exists");
        assert_ne!(account.code_hash, alloy_trie::KECCAK_EMPTY);
        assert_eq!(bridge["storageProof"][0]["key"], "0x0", "a short key is echoed as a quantity");
        assert_eq!(
            B256::from(number(&bridge["storageProof"][0]["value"])),
            config.sequencer().into_word()
        );
        let token = call(&runtime, &eth, "eth_getProof", json!([TOKEN, [dev_balance_slot], block]));
        let token = &token["result"];
        verify(token, TOKEN, state_root).expect("the token exists");
        assert_eq!(token["storageProof"][0]["key"], json!(dev_balance_slot));
        let read =
            call(&runtime, &eth, "eth_getStorageAt", json!([TOKEN, dev_balance_slot, block]));
        assert_eq!(
            B256::from(number(&token["storageProof"][0]["value"])),
            b256(&read["result"]),
            "batch {batch}"
        );
        let balance = call(&runtime, &eth, "eth_getBalance", json!([dev, block]));
        let proven = call(&runtime, &eth, "eth_getProof", json!([dev, [], block]));
        verify(&proven["result"], dev, state_root).expect("the dev account exists");
        assert_eq!(proven["result"]["balance"], balance["result"]);
    }
    assert!(at_head && behind_head, "the proofs covered the head and an older block");

    // an account nobody touched: proven absent
    let nobody = Address::repeat_byte(0xab);
    let answer = call(&runtime, &eth, "eth_getProof", json!([nobody, ["0x5"], "latest"]));
    let tx = node.database().tx().unwrap();
    let root = ChainProvider::new(&tx, CHAIN).header(head).unwrap().unwrap().state_root;
    assert!(verify(&answer["result"], nobody, root).is_none());

    // bad requests are refused, each naming what is wrong
    let too_many: Vec<String> =
        (0..=lockstep_rpc::MAX_PROOF_KEYS).map(|i| format!("0x{i:x}")).collect();
    for (params, says) in [
        (json!([BRIDGE, too_many, "latest"]), "at most"),
        (json!([BRIDGE, ["0x"], "latest"]), "storageKeys[0]"),
        (json!([BRIDGE, [format!("0x{}", "1".repeat(65))], "latest"]), "storageKeys[0]"),
        (json!([BRIDGE, "0x0", "latest"]), "must be an array"),
    ] {
        let answer = call(&runtime, &eth, "eth_getProof", params);
        assert_eq!(answer["error"]["code"], -32602, "{answer}");
        assert!(answer["error"]["message"].as_str().unwrap().contains(says), "{answer}");
    }
    let future =
        call(&runtime, &eth, "eth_getProof", json!([BRIDGE, [], format!("0x{:x}", head + 1)]));
    assert_eq!(future["error"]["code"], -32001, "{future}");
}
