//! The sparse trie against the stored trie: the same state changes give the same root, and an
//! update that needs a node the witness lacks names exactly the stored node it needs.

#![allow(clippy::unwrap_used)]

use alloy_primitives::{keccak256, Address, B256, U256};
use alloy_trie::TrieAccount;
use lockstep_storage::{
    tables::{AccountsTrie, StoragesTrie},
    test_utils::temp_database,
    trie::{root_from_leaves, witness_rlp},
    Account, ChainProvider, DatabaseError, NibblePath, SparseState, StateChanges, WitnessNodes,
};
use rand::{rngs::StdRng, Rng, SeedableRng};

const CHAIN: u64 = 901;

fn account(rng: &mut StdRng) -> Account {
    Account {
        nonce: rng.random_range(0..5),
        balance: U256::from(rng.random_range(0u64..1000)),
        code_hash: alloy_trie::KECCAK_EMPTY,
    }
}

fn nibbles(hex: &str) -> Vec<u8> {
    hex.chars().map(|c| c.to_digit(16).unwrap() as u8).collect()
}

#[test]
fn sparse_state_matches_the_stored_trie_on_random_rounds() {
    let db = temp_database();
    let mut rng = StdRng::seed_from_u64(3);
    let addresses: Vec<Address> =
        (0..120).map(|_| Address::from(rng.random::<[u8; 20]>())).collect();
    let slots: Vec<B256> = (0..40u64).map(|i| B256::from(U256::from(i))).collect();
    let mut genesis = StateChanges::default();
    for (i, address) in addresses.iter().enumerate() {
        if i % 2 == 0 {
            genesis.accounts.insert(*address, Some(account(&mut rng)));
        }
        if i % 6 == 0 {
            let s = genesis.storage.entry(*address).or_default();
            for slot in &slots[..rng.random_range(1..slots.len())] {
                s.insert(*slot, U256::from(rng.random_range(1u64..50)));
            }
        }
    }
    let tx = db.env.tx_mut().unwrap();
    ChainProvider::new(&tx, CHAIN).write_state(0, &genesis).unwrap();
    tx.commit().unwrap();

    let mut revealed_on_demand = 0;
    for block in 1..=60u64 {
        let mut changes = StateChanges::default();
        for _ in 0..rng.random_range(1..12) {
            let address = addresses[rng.random_range(0..addresses.len())];
            let new = if rng.random_bool(0.25) { None } else { Some(account(&mut rng)) };
            changes.accounts.insert(address, new);
            if rng.random_bool(0.5) {
                let s = changes.storage.entry(address).or_default();
                for _ in 0..rng.random_range(1..10) {
                    let value = if rng.random_bool(0.4) { 0 } else { rng.random_range(1u64..50) };
                    s.insert(slots[rng.random_range(0..slots.len())], U256::from(value));
                }
            }
            if rng.random_bool(0.05) {
                changes.wiped.insert(address);
            }
        }
        let tx = db.env.tx_mut().unwrap();
        let provider = ChainProvider::new(&tx, CHAIN);
        let pre_root = provider.state_root().unwrap();
        // the witness a block would carry: the proofs of every key it touches
        let mut witness = WitnessNodes::default();
        for address in changes.accounts.keys().chain(changes.storage.keys()) {
            for rlp in witness_rlp(&provider.account_proof(*address).unwrap()) {
                witness.insert(rlp);
            }
        }
        for (address, s) in &changes.storage {
            for slot in s.keys() {
                for rlp in witness_rlp(&provider.storage_proof(*address, *slot).unwrap()) {
                    witness.insert(rlp);
                }
            }
        }
        let mut sparse = SparseState::new(&witness, pre_root);
        for address in changes.accounts.keys() {
            assert_eq!(sparse.account(*address).unwrap(), provider.account(*address).unwrap());
        }
        // a collapse may need a sibling no proof holds: the error names it, the stored trie
        // has exactly that node at that path, and with it added the update goes through
        let (sparse_root, mut sparse) = loop {
            let mut sparse = SparseState::new(&witness, pre_root);
            match sparse.apply(&changes) {
                Ok(root) => break (root, sparse),
                Err(DatabaseError::MissingTrieNode { trie, hash, path }) => {
                    let path = NibblePath(nibbles(&path));
                    let node = if trie == "account trie" {
                        tx.get::<AccountsTrie>(&(CHAIN, path)).unwrap()
                    } else {
                        let address: Address =
                            trie.strip_prefix("storage trie of ").unwrap().parse().unwrap();
                        let owner = keccak256(address);
                        tx.get::<StoragesTrie>(&(CHAIN, owner, path)).unwrap()
                    };
                    let node = node.expect("the named node is in the stored trie");
                    assert_eq!(node.root_hash(), hash, "the named hash is the stored node's");
                    let mut rlp = Vec::new();
                    node.encode_rlp(&mut rlp);
                    witness.insert(rlp);
                    revealed_on_demand += 1;
                }
                Err(other) => panic!("block {block}: {other}"),
            }
        };
        let stored_root = provider.write_state(block, &changes).unwrap();
        // and a third opinion, from scratch over the plain state
        let leaves = provider.all_accounts().unwrap().into_iter().map(|(address, a)| {
            let storage = provider.all_storage(address).unwrap();
            let storage_root = root_from_leaves(
                storage.into_iter().map(|(k, v)| (keccak256(k), alloy_rlp::encode(v))),
            );
            let leaf = TrieAccount {
                nonce: a.nonce,
                balance: a.balance,
                storage_root,
                code_hash: a.code_hash,
            };
            (keccak256(address), alloy_rlp::encode(leaf))
        });
        assert_eq!(root_from_leaves(leaves), stored_root, "block {block}: from scratch");
        if sparse_root != stored_root {
            for address in changes.accounts.keys().chain(changes.storage.keys()) {
                eprintln!(
                    "{address}: sparse {:?} {:?} stored {:?} {:?}",
                    sparse.account(*address),
                    sparse.storage_root(*address),
                    provider.account(*address),
                    provider.storage_root(*address)
                );
            }
        }
        assert_eq!(sparse_root, stored_root, "block {block}: {changes:?}");
        tx.commit().unwrap();
    }
    assert!(revealed_on_demand > 0, "no round needed a node beyond the proofs");
}
