//! A sparse Merkle-Patricia trie over the nodes of an execution witness.
//!
//! A [`SparseTrie`] starts from a root hash and the witness's nodes ([`WitnessNodes`], keyed by
//! their keccak). Nodes are revealed on demand: a subtree the witness does not hold stays a hash
//! and costs nothing until a read or an update needs it, and then the error names the node's
//! hash and path. Updates run through the same [`crate::trie`] algorithm as the stored trie,
//! over the revealed nodes kept in memory.

use crate::{
    models::{Account, TrieNode},
    provider::StateChanges,
    trie::{key_nibbles, trie_root, update_trie, NodeStore, TrieChange},
    DatabaseError, DbResult,
};
use alloy_primitives::{keccak256, Address, B256, U256};
use alloy_rlp::Decodable;
use alloy_trie::{nodes::RlpNode, TrieAccount, EMPTY_ROOT_HASH};
use std::collections::{BTreeSet, HashMap};

/// The trie nodes of a witness, by the keccak of their RLP.
#[derive(Debug, Clone, Default)]
pub struct WitnessNodes {
    nodes: HashMap<B256, Vec<u8>>,
}

impl WitnessNodes {
    /// Indexes `nodes` (RLP-encoded trie nodes) by their hashes.
    pub fn new<I, N>(nodes: I) -> Self
    where
        I: IntoIterator<Item = N>,
        N: Into<Vec<u8>>,
    {
        let nodes = nodes
            .into_iter()
            .map(|node| {
                let node = node.into();
                (keccak256(&node), node)
            })
            .collect();
        Self { nodes }
    }

    /// The node whose RLP hashes to `hash`.
    pub fn get(&self, hash: &B256) -> Option<&[u8]> {
        self.nodes.get(hash).map(Vec::as_slice)
    }

    /// How many nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Adds one node.
    pub fn insert(&mut self, rlp: Vec<u8>) {
        self.nodes.insert(keccak256(&rlp), rlp);
    }

    /// A copy without the node `hash` (for tests of incomplete witnesses).
    pub fn without(&self, hash: &B256) -> Self {
        let mut nodes = self.nodes.clone();
        nodes.remove(hash);
        Self { nodes }
    }
}

fn hex_path(path: &[u8]) -> String {
    path.iter().map(|n| char::from_digit(u32::from(*n), 16).unwrap_or('?')).collect()
}

/// One trie (the account trie, or one account's storage trie) over a witness.
#[derive(Debug)]
pub struct SparseTrie<'w> {
    witness: &'w WitnessNodes,
    name: String,
    /// Decoded nodes by path.
    revealed: HashMap<Vec<u8>, TrieNode>,
    /// References to nodes not decoded yet, by path: the children of revealed nodes.
    unrevealed: HashMap<Vec<u8>, RlpNode>,
}

impl<'w> SparseTrie<'w> {
    /// The trie with root `root` over `witness`. `name` says which trie it is in errors.
    pub fn new(witness: &'w WitnessNodes, root: B256, name: impl Into<String>) -> Self {
        let mut unrevealed = HashMap::new();
        if root != EMPTY_ROOT_HASH {
            unrevealed.insert(Vec::new(), RlpNode::word_rlp(&root));
        }
        Self { witness, name: name.into(), revealed: HashMap::new(), unrevealed }
    }

    /// The value at hashed key `key`, or `None` if the trie proves it absent.
    pub fn get(&mut self, key: &B256) -> DbResult<Option<Vec<u8>>> {
        let full = key_nibbles(key);
        let mut path = Vec::with_capacity(64);
        loop {
            self.reveal(&path)?;
            let Some(node) = self.revealed.get(&path) else { return Ok(None) };
            match node {
                TrieNode::Leaf { key, value } => {
                    return Ok((full[path.len()..] == key[..]).then(|| value.clone()));
                }
                TrieNode::Extension { key, .. } => {
                    if !full[path.len()..].starts_with(key) {
                        return Ok(None);
                    }
                    path.extend_from_slice(key);
                }
                TrieNode::Branch { mask, .. } => {
                    let nibble = full[path.len()];
                    if !mask.is_bit_set(nibble) {
                        return Ok(None);
                    }
                    path.push(nibble);
                }
            }
        }
    }

    /// Applies `changes` (64-nibble keys; `None` deletes) and returns the new root.
    pub fn update(&mut self, changes: Vec<TrieChange>) -> DbResult<B256> {
        update_trie(self, changes)
    }

    /// The current root hash. An untouched root is not revealed: its hash is known.
    pub fn root(&mut self) -> DbResult<B256> {
        if let Some(hash) = self.unrevealed.get([].as_slice()).and_then(RlpNode::as_hash) {
            return Ok(hash);
        }
        trie_root(self)
    }

    /// Decodes the node at `path` if it is still a reference.
    fn reveal(&mut self, path: &[u8]) -> DbResult<()> {
        if self.revealed.contains_key(path) {
            return Ok(());
        }
        let Some(reference) = self.unrevealed.remove(path) else { return Ok(()) };
        let (hash, rlp) = match reference.as_hash() {
            Some(hash) => match self.witness.get(&hash) {
                Some(rlp) => (hash, rlp),
                None => {
                    self.unrevealed.insert(path.to_vec(), reference);
                    return Err(DatabaseError::MissingTrieNode {
                        trie: self.name.clone(),
                        hash,
                        path: hex_path(path),
                    });
                }
            },
            None => (keccak256(reference.as_slice()), reference.as_slice()),
        };
        let invalid = |reason: String| DatabaseError::InvalidTrieNode {
            trie: self.name.clone(),
            hash,
            path: hex_path(path),
            reason,
        };
        let node = TrieNode::decode_rlp(rlp)
            .map_err(|e| invalid(e.to_string()))?
            .ok_or_else(|| invalid("an empty node below a parent".into()))?;
        match &node {
            TrieNode::Leaf { key, .. } if path.len() + key.len() != 64 => {
                return Err(invalid(format!("a leaf ending at depth {}", path.len() + key.len())));
            }
            TrieNode::Extension { key, .. } if key.is_empty() || path.len() + key.len() >= 64 => {
                return Err(invalid(format!("an extension of {} nibbles", key.len())));
            }
            TrieNode::Branch { .. } if path.len() >= 64 => {
                return Err(invalid("a branch below the key length".into()));
            }
            TrieNode::Leaf { .. } => {}
            TrieNode::Extension { key, child } => {
                let mut below = path.to_vec();
                below.extend_from_slice(key);
                self.unrevealed.insert(below, child.clone());
            }
            TrieNode::Branch { mask, children } => {
                let mut children = children.iter();
                for nibble in 0..16u8 {
                    if mask.is_bit_set(nibble) {
                        let child = children
                            .next()
                            .ok_or_else(|| invalid("fewer children than its mask".into()))?;
                        let mut below = path.to_vec();
                        below.push(nibble);
                        self.unrevealed.insert(below, child.clone());
                    }
                }
            }
        }
        self.revealed.insert(path.to_vec(), node);
        Ok(())
    }
}

impl NodeStore for SparseTrie<'_> {
    fn node(&mut self, path: &[u8]) -> DbResult<Option<TrieNode>> {
        self.reveal(path)?;
        Ok(self.revealed.get(path).cloned())
    }

    fn put_node(&mut self, path: &[u8], node: &TrieNode) -> DbResult<()> {
        self.unrevealed.remove(path);
        self.revealed.insert(path.to_vec(), node.clone());
        Ok(())
    }

    fn delete_node(&mut self, path: &[u8]) -> DbResult<()> {
        self.unrevealed.remove(path);
        self.revealed.remove(path);
        Ok(())
    }
}

/// A whole state over a witness: the account trie and, as they are needed, storage tries.
///
/// It reads accounts and slots as [`crate::ChainProvider`] reads the plain state, and
/// [`Self::apply`] takes the same [`StateChanges`] as [`crate::ChainProvider::write_state`] and
/// gives the same root.
#[derive(Debug)]
pub struct SparseState<'w> {
    witness: &'w WitnessNodes,
    accounts: SparseTrie<'w>,
    storages: HashMap<Address, SparseTrie<'w>>,
}

impl<'w> SparseState<'w> {
    /// The state with root `state_root` over `witness`.
    pub fn new(witness: &'w WitnessNodes, state_root: B256) -> Self {
        Self {
            witness,
            accounts: SparseTrie::new(witness, state_root, "account trie"),
            storages: HashMap::new(),
        }
    }

    /// The account at `address` as the trie holds it (with its storage root).
    pub fn trie_account(&mut self, address: Address) -> DbResult<Option<TrieAccount>> {
        let Some(leaf) = self.accounts.get(&keccak256(address))? else { return Ok(None) };
        TrieAccount::decode(&mut leaf.as_slice()).map(Some).map_err(|e| DatabaseError::Decode {
            table: "account trie leaf",
            reason: format!("account {address}: {e}"),
        })
    }

    /// The account at `address`.
    pub fn account(&mut self, address: Address) -> DbResult<Option<Account>> {
        Ok(self.trie_account(address)?.map(|a| Account {
            nonce: a.nonce,
            balance: a.balance,
            code_hash: a.code_hash,
        }))
    }

    fn storage_trie(&mut self, address: Address) -> DbResult<&mut SparseTrie<'w>> {
        if !self.storages.contains_key(&address) {
            let root = self.trie_account(address)?.map_or(EMPTY_ROOT_HASH, |a| a.storage_root);
            let trie = SparseTrie::new(self.witness, root, format!("storage trie of {address}"));
            self.storages.insert(address, trie);
        }
        self.storages
            .get_mut(&address)
            .ok_or_else(|| DatabaseError::Inconsistent("storage trie vanished".into()))
    }

    /// Slot `slot` of `address`; zero when absent.
    pub fn storage(&mut self, address: Address, slot: B256) -> DbResult<U256> {
        let Some(leaf) = self.storage_trie(address)?.get(&keccak256(slot))? else {
            return Ok(U256::ZERO);
        };
        U256::decode(&mut leaf.as_slice()).map_err(|e| DatabaseError::Decode {
            table: "storage trie leaf",
            reason: format!("slot {slot} of {address}: {e}"),
        })
    }

    /// The storage root of `address` as it stands.
    pub fn storage_root(&mut self, address: Address) -> DbResult<B256> {
        self.storage_trie(address)?.root()
    }

    /// The state root as it stands.
    pub fn root(&mut self) -> DbResult<B256> {
        self.accounts.root()
    }

    /// Applies a block's state changes and returns the new state root.
    pub fn apply(&mut self, changes: &StateChanges) -> DbResult<B256> {
        let deleted: BTreeSet<Address> =
            changes.accounts.iter().filter(|(_, a)| a.is_none()).map(|(k, _)| *k).collect();
        for address in changes.wiped.iter().chain(&deleted) {
            let trie = SparseTrie::new(
                self.witness,
                EMPTY_ROOT_HASH,
                format!("storage trie of {address}"),
            );
            self.storages.insert(*address, trie);
        }
        for (address, slots) in changes.storage.iter().filter(|(a, _)| !deleted.contains(*a)) {
            let updates = slots
                .iter()
                .map(|(slot, value)| {
                    let leaf = (!value.is_zero()).then(|| alloy_rlp::encode(value));
                    (key_nibbles(&keccak256(slot)), leaf)
                })
                .collect();
            self.storage_trie(*address)?.update(updates)?;
        }
        let touched: BTreeSet<Address> = changes
            .accounts
            .keys()
            .chain(changes.storage.keys())
            .chain(changes.wiped.iter())
            .copied()
            .collect();
        let mut updates = Vec::with_capacity(touched.len());
        for address in touched {
            let account = match changes.accounts.get(&address) {
                Some(account) => *account,
                None => self.account(address)?,
            };
            let leaf = match account {
                Some(account) => Some(alloy_rlp::encode(TrieAccount {
                    nonce: account.nonce,
                    balance: account.balance,
                    storage_root: self.storage_root(address)?,
                    code_hash: account.code_hash,
                })),
                None => None,
            };
            updates.push((key_nibbles(&keccak256(address)), leaf));
        }
        self.accounts.update(updates)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trie::{proof, root_from_leaves, witness_rlp, MemStore};
    use rand::{rngs::StdRng, Rng, SeedableRng};
    use std::collections::BTreeMap;

    fn keys(count: u64) -> Vec<B256> {
        (0..count)
            .map(|i| {
                let mut k = keccak256(i.to_be_bytes());
                // shared prefixes force extensions, splits and collapses
                if i % 3 == 0 {
                    k.0[..2].copy_from_slice(&[0xab, 0xcd]);
                }
                k
            })
            .collect()
    }

    fn random_changes(
        rng: &mut StdRng,
        keys: &[B256],
        model: &mut BTreeMap<B256, Vec<u8>>,
    ) -> Vec<TrieChange> {
        let mut changes = Vec::new();
        for _ in 0..rng.random_range(1..40) {
            let key = keys[rng.random_range(0..keys.len())];
            let value = if rng.random_bool(0.35) {
                None
            } else {
                let len = if rng.random_bool(0.5) { 1 } else { 40 };
                Some(vec![rng.random::<u8>() | 1; len])
            };
            match &value {
                Some(v) => model.insert(key, v.clone()),
                None => model.remove(&key),
            };
            changes.push((key_nibbles(&key), value));
        }
        changes
    }

    /// A whole-trie witness: every node of `store`.
    fn full_witness(store: &MemStore) -> WitnessNodes {
        WitnessNodes::new(store.0.values().flat_map(|n| witness_rlp(std::slice::from_ref(n))))
    }

    #[test]
    fn random_rounds_over_a_witness_match_hash_builder() {
        let mut rng = StdRng::seed_from_u64(11);
        let keys = keys(300);
        let mut store = MemStore::default();
        let mut model = BTreeMap::new();
        let initial: Vec<TrieChange> = keys[..200]
            .iter()
            .map(|k| {
                model.insert(*k, vec![7; 40]);
                (key_nibbles(k), Some(vec![7; 40]))
            })
            .collect();
        let root = update_trie(&mut store, initial).unwrap();
        let witness = full_witness(&store);
        let mut sparse = SparseTrie::new(&witness, root, "test trie");
        for round in 0..200 {
            let changes = random_changes(&mut rng, &keys, &mut model);
            let root = sparse.update(changes).unwrap();
            let expected = root_from_leaves(model.iter().map(|(k, v)| (*k, v.clone())));
            assert_eq!(root, expected, "round {round}");
            for key in keys.iter().take(50) {
                assert_eq!(sparse.get(key).unwrap(), model.get(key).cloned(), "round {round}");
            }
        }
    }

    #[test]
    fn a_proof_witness_reads_and_updates_only_what_it_proves() {
        let keys = keys(200);
        let mut store = MemStore::default();
        let root = update_trie(
            &mut store,
            keys.iter().map(|k| (key_nibbles(k), Some(vec![9; 40]))).collect(),
        )
        .unwrap();
        let target = keys[5];
        let witness = WitnessNodes::new(witness_rlp(&proof(&mut store, &target).unwrap()));
        let mut sparse = SparseTrie::new(&witness, root, "account trie");
        assert_eq!(sparse.get(&target).unwrap(), Some(vec![9; 40]));
        // changing the proven key needs nothing else
        let changed = sparse.update(vec![(key_nibbles(&target), Some(vec![1; 40]))]).unwrap();
        update_trie(&mut store, vec![(key_nibbles(&target), Some(vec![1; 40]))]).unwrap();
        assert_eq!(changed, trie_root(&mut store).unwrap());
        // a key off the proven path needs a node the witness lacks, named by hash and path
        let other = keys.iter().find(|k| k.0[0] >> 4 != target.0[0] >> 4).unwrap();
        match sparse.get(other) {
            Err(DatabaseError::MissingTrieNode { trie, hash, path }) => {
                assert_eq!(trie, "account trie");
                assert_eq!(path, format!("{:x}", other.0[0] >> 4));
                let node = store.0.get(&vec![other.0[0] >> 4]).unwrap();
                assert_eq!(hash, node.root_hash(), "the named hash is the real node's");
            }
            other => panic!("expected a missing node, got {other:?}"),
        }
    }

    #[test]
    fn hostile_nodes_are_errors_not_panics() {
        // a "root" that is a leaf with a short key, and garbage bytes
        let leaf = TrieNode::Leaf { key: vec![1, 2, 3], value: vec![0x80; 40] };
        let mut rlp = Vec::new();
        leaf.encode_rlp(&mut rlp);
        let garbage = vec![0xf8, 0x40, 0x01];
        let witness = WitnessNodes::new([rlp.clone(), garbage.clone()]);
        let mut sparse = SparseTrie::new(&witness, keccak256(&rlp), "t");
        assert!(matches!(sparse.get(&B256::ZERO), Err(DatabaseError::InvalidTrieNode { .. })));
        let mut sparse = SparseTrie::new(&witness, keccak256(&garbage), "t");
        assert!(matches!(sparse.get(&B256::ZERO), Err(DatabaseError::InvalidTrieNode { .. })));
        let mut sparse = SparseTrie::new(&witness, B256::repeat_byte(1), "t");
        assert!(matches!(
            sparse.update(vec![(key_nibbles(&B256::ZERO), None)]),
            Err(DatabaseError::MissingTrieNode { .. })
        ));
    }
}
