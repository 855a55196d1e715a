//! An incremental Merkle-Patricia trie whose nodes live in the database under their paths.
//!
//! Updating the trie visits only the paths of the keys that changed, so a block's root costs
//! `O(changed keys × depth)` node reads and writes, whatever the size of the state. Each branch
//! keeps its children's references, so an untouched subtree is never read.

use crate::{models::TrieNode, DatabaseError, DbResult};
use alloy_primitives::{keccak256, B256};
use alloy_trie::{nodes::RlpNode, TrieMask, EMPTY_ROOT_HASH};

/// Where the nodes of one trie are kept. Paths are nibble slices, the root at `[]`.
pub trait NodeStore {
    /// The node at `path`, if any.
    fn node(&mut self, path: &[u8]) -> DbResult<Option<TrieNode>>;
    /// Stores `node` at `path`.
    fn put_node(&mut self, path: &[u8], node: &TrieNode) -> DbResult<()>;
    /// Removes the node at `path`.
    fn delete_node(&mut self, path: &[u8]) -> DbResult<()>;
}

/// One change to a trie: a 64-nibble key and its new RLP value, `None` to delete it.
pub type TrieChange = (Vec<u8>, Option<Vec<u8>>);

/// Unpacks a hashed key into its 64 nibbles.
pub fn key_nibbles(hashed: &B256) -> Vec<u8> {
    hashed.iter().flat_map(|b| [b >> 4, b & 0x0f]).collect()
}

/// The root hash of the trie in `store`.
pub fn trie_root(store: &mut impl NodeStore) -> DbResult<B256> {
    Ok(store.node(&[])?.map_or(EMPTY_ROOT_HASH, |root| root.root_hash()))
}

/// The nodes on the path to hashed key `key`, root first: they prove its value or its absence.
pub fn proof(store: &mut impl NodeStore, key: &B256) -> DbResult<Vec<TrieNode>> {
    let full = key_nibbles(key);
    let mut path = Vec::with_capacity(64);
    let mut nodes = Vec::new();
    while let Some(node) = store.node(&path)? {
        let next = match &node {
            TrieNode::Leaf { .. } => None,
            TrieNode::Extension { key, .. } => {
                full.get(path.len()..).filter(|rest| rest.starts_with(key)).map(|_| key.clone())
            }
            TrieNode::Branch { mask, .. } => {
                full.get(path.len()).filter(|n| mask.is_bit_set(**n)).map(|n| vec![*n])
            }
        };
        nodes.push(node);
        match next {
            Some(step) => path.extend_from_slice(&step),
            None => break,
        }
    }
    Ok(nodes)
}

/// The RLP of `nodes` as a witness holds them: the root, and every node long enough to be
/// referenced by hash (shorter ones sit inside their parent's RLP).
pub fn witness_rlp(nodes: &[TrieNode]) -> Vec<Vec<u8>> {
    nodes
        .iter()
        .enumerate()
        .filter_map(|(i, node)| {
            let mut out = Vec::new();
            node.encode_rlp(&mut out);
            (i == 0 || out.len() >= 32).then_some(out)
        })
        .collect()
}

/// Applies `changes` (in any order; the last change of a key wins) and returns the new root.
pub fn update_trie(store: &mut impl NodeStore, mut changes: Vec<TrieChange>) -> DbResult<B256> {
    changes.reverse();
    changes.sort_by(|a, b| a.0.cmp(&b.0));
    changes.dedup_by(|later, earlier| later.0 == earlier.0);
    if changes.iter().any(|c| c.0.len() != 64) {
        return Err(DatabaseError::Inconsistent("trie keys must be 64 nibbles".into()));
    }
    let mut updater = Updater { store, buf: Vec::with_capacity(600) };
    let root = updater.update(&mut Vec::with_capacity(64), &changes)?;
    Ok(root.map_or(EMPTY_ROOT_HASH, |node| node.root_hash()))
}

struct Updater<'a, S> {
    store: &'a mut S,
    buf: Vec<u8>,
}

fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

fn concat(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    out.extend_from_slice(a);
    out.extend_from_slice(b);
    out
}

impl<S: NodeStore> Updater<'_, S> {
    /// Applies `changes` (sorted, unique, all under `path`) to the subtree at `path` and returns
    /// the node now stored there.
    fn update(&mut self, path: &mut Vec<u8>, changes: &[TrieChange]) -> DbResult<Option<TrieNode>> {
        if changes.is_empty() {
            return self.store.node(path);
        }
        match self.store.node(path)? {
            None => {
                let inserts: Vec<_> = changes
                    .iter()
                    .filter_map(|(k, v)| Some((k.as_slice(), v.as_deref()?)))
                    .collect();
                self.build(path, &inserts)
            }
            Some(TrieNode::Leaf { key, value }) => {
                let existing = concat(path, &key);
                let mut inserts: Vec<(&[u8], &[u8])> = changes
                    .iter()
                    .filter_map(|(k, v)| Some((k.as_slice(), v.as_deref()?)))
                    .collect();
                if !changes.iter().any(|(k, _)| *k == existing) {
                    let at = inserts.partition_point(|(k, _)| *k < existing.as_slice());
                    inserts.insert(at, (&existing, &value));
                }
                self.store.delete_node(path)?;
                self.build(path, &inserts)
            }
            Some(TrieNode::Extension { key, child }) => {
                let depth = path.len();
                let split = changes
                    .iter()
                    .map(|(k, _)| common_prefix(&k[depth..], &key))
                    .min()
                    .unwrap_or(key.len());
                if split == key.len() {
                    path.extend_from_slice(&key);
                    let below = self.update(path, changes)?;
                    path.truncate(depth);
                    return self.finish_extension(path, &key, below);
                }
                // Some change leaves the extension at `split`: put a branch there holding the
                // old subtree, then apply the changes to that branch.
                self.store.delete_node(path)?;
                path.extend_from_slice(&key[..split]);
                let branch_depth = path.len();
                path.push(key[split]);
                let old_ref = if split + 1 == key.len() {
                    child
                } else {
                    let rest = TrieNode::Extension { key: key[split + 1..].to_vec(), child };
                    self.store.put_node(path, &rest)?;
                    rest.reference(&mut self.buf)
                };
                path.truncate(branch_depth);
                let branch = TrieNode::Branch {
                    mask: TrieMask::from_nibble(key[split]),
                    children: vec![old_ref],
                };
                self.store.put_node(path, &branch)?;
                let below = self.update(path, changes)?;
                path.truncate(depth);
                if split == 0 {
                    Ok(below)
                } else {
                    self.finish_extension(path, &key[..split], below)
                }
            }
            Some(TrieNode::Branch { mask, children }) => {
                let depth = path.len();
                let mut refs: [Option<RlpNode>; 16] = Default::default();
                let mut present = children.into_iter();
                for nibble in 0..16u8 {
                    if mask.is_bit_set(nibble) {
                        refs[nibble as usize] = present.next();
                    }
                }
                let mut rest = changes;
                while let Some(first) = rest.first() {
                    let nibble = first.0[depth];
                    let end = rest.partition_point(|(k, _)| k[depth] == nibble);
                    path.push(nibble);
                    let child = self.update(path, &rest[..end])?;
                    path.truncate(depth);
                    refs[nibble as usize] = child.map(|node| node.reference(&mut self.buf));
                    rest = &rest[end..];
                }
                self.finish_branch(path, refs)
            }
        }
    }

    /// Builds a fresh subtree at `path` from sorted, unique `(key, value)` pairs.
    fn build(
        &mut self,
        path: &mut Vec<u8>,
        inserts: &[(&[u8], &[u8])],
    ) -> DbResult<Option<TrieNode>> {
        let depth = path.len();
        let node = match inserts {
            [] => return Ok(None),
            [(key, value)] => TrieNode::Leaf { key: key[depth..].to_vec(), value: value.to_vec() },
            [(first, _), .., (last, _)] => {
                let shared = common_prefix(&first[depth..], &last[depth..]);
                if shared > 0 {
                    path.extend_from_slice(&first[depth..depth + shared]);
                    let below = self.build(path, inserts)?;
                    path.truncate(depth);
                    let below = below.ok_or_else(|| inconsistent("empty subtree"))?;
                    TrieNode::Extension {
                        key: first[depth..depth + shared].to_vec(),
                        child: below.reference(&mut self.buf),
                    }
                } else {
                    let mut mask = TrieMask::default();
                    let mut children = Vec::new();
                    let mut rest = inserts;
                    while let Some((first, _)) = rest.first() {
                        let nibble = first[depth];
                        let end = rest.partition_point(|(k, _)| k[depth] == nibble);
                        path.push(nibble);
                        let child = self.build(path, &rest[..end])?;
                        path.truncate(depth);
                        let child = child.ok_or_else(|| inconsistent("empty subtree"))?;
                        mask.set_bit(nibble);
                        children.push(child.reference(&mut self.buf));
                        rest = &rest[end..];
                    }
                    TrieNode::Branch { mask, children }
                }
            }
        };
        self.store.put_node(path, &node)?;
        Ok(Some(node))
    }

    /// Stores the branch at `path` with children `refs`, collapsing it if fewer than two remain.
    fn finish_branch(
        &mut self,
        path: &mut Vec<u8>,
        refs: [Option<RlpNode>; 16],
    ) -> DbResult<Option<TrieNode>> {
        let mut present = refs.iter().enumerate().filter(|(_, r)| r.is_some());
        let (Some((only, _)), None) = (present.next(), present.next()) else {
            let mut mask = TrieMask::default();
            let mut children = Vec::new();
            for (nibble, child) in refs.into_iter().enumerate() {
                if let Some(child) = child {
                    mask.set_bit(nibble as u8);
                    children.push(child);
                }
            }
            if children.is_empty() {
                self.store.delete_node(path)?;
                return Ok(None);
            }
            let node = TrieNode::Branch { mask, children };
            self.store.put_node(path, &node)?;
            return Ok(Some(node));
        };
        // One child left: the branch becomes an extension, or merges with the child.
        let depth = path.len();
        path.push(only as u8);
        let child = self.store.node(path)?.ok_or_else(|| inconsistent("branch child missing"))?;
        let node = match child {
            TrieNode::Leaf { key, value } => {
                self.store.delete_node(path)?;
                TrieNode::Leaf { key: concat(&[only as u8], &key), value }
            }
            TrieNode::Extension { key, child } => {
                self.store.delete_node(path)?;
                TrieNode::Extension { key: concat(&[only as u8], &key), child }
            }
            branch @ TrieNode::Branch { .. } => TrieNode::Extension {
                key: vec![only as u8],
                child: branch.reference(&mut self.buf),
            },
        };
        path.truncate(depth);
        self.store.put_node(path, &node)?;
        Ok(Some(node))
    }

    /// Stores the extension `key` at `path` over the updated node `below`, merging as needed.
    fn finish_extension(
        &mut self,
        path: &[u8],
        key: &[u8],
        below: Option<TrieNode>,
    ) -> DbResult<Option<TrieNode>> {
        let node = match below {
            None => {
                self.store.delete_node(path)?;
                return Ok(None);
            }
            Some(TrieNode::Leaf { key: rest, value }) => {
                self.store.delete_node(&concat(path, key))?;
                TrieNode::Leaf { key: concat(key, &rest), value }
            }
            Some(TrieNode::Extension { key: rest, child }) => {
                self.store.delete_node(&concat(path, key))?;
                TrieNode::Extension { key: concat(key, &rest), child }
            }
            Some(branch @ TrieNode::Branch { .. }) => {
                TrieNode::Extension { key: key.to_vec(), child: branch.reference(&mut self.buf) }
            }
        };
        self.store.put_node(path, &node)?;
        Ok(Some(node))
    }
}

fn inconsistent(what: &str) -> DatabaseError {
    DatabaseError::Inconsistent(format!("trie: {what}"))
}

/// Recomputes a trie root from scratch with alloy's `HashBuilder`, independently of the stored
/// nodes; used to cross-check the incremental root.
pub fn root_from_leaves(leaves: impl IntoIterator<Item = (B256, Vec<u8>)>) -> B256 {
    let mut leaves: Vec<_> = leaves.into_iter().collect();
    leaves.sort_by_key(|leaf| leaf.0);
    let mut builder = alloy_trie::HashBuilder::default();
    for (key, value) in leaves {
        builder.add_leaf(alloy_trie::Nibbles::unpack(key), &value);
    }
    builder.root()
}

/// `keccak256` of a trie key, as the secure trie hashes addresses and slots.
pub fn hashed_key(raw: &[u8]) -> B256 {
    keccak256(raw)
}

/// A whole trie in memory, for tests.
#[cfg(test)]
#[derive(Default)]
pub(crate) struct MemStore(pub(crate) std::collections::HashMap<Vec<u8>, TrieNode>);

#[cfg(test)]
impl NodeStore for MemStore {
    fn node(&mut self, path: &[u8]) -> DbResult<Option<TrieNode>> {
        Ok(self.0.get(path).cloned())
    }
    fn put_node(&mut self, path: &[u8], node: &TrieNode) -> DbResult<()> {
        self.0.insert(path.to_vec(), node.clone());
        Ok(())
    }
    fn delete_node(&mut self, path: &[u8]) -> DbResult<()> {
        self.0.remove(path);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{rngs::StdRng, Rng, SeedableRng};
    use std::collections::BTreeMap;

    /// Every stored node must be reachable from the root: no stale nodes are left behind.
    fn reachable(store: &MemStore, path: &mut Vec<u8>, seen: &mut usize) {
        let Some(node) = store.0.get(path.as_slice()) else { panic!("missing node at {path:?}") };
        *seen += 1;
        match node {
            TrieNode::Leaf { .. } => {}
            TrieNode::Extension { key, .. } => {
                let depth = path.len();
                path.extend_from_slice(key);
                reachable(store, path, seen);
                path.truncate(depth);
            }
            TrieNode::Branch { mask, .. } => {
                for nibble in 0..16u8 {
                    if mask.is_bit_set(nibble) {
                        path.push(nibble);
                        reachable(store, path, seen);
                        path.pop();
                    }
                }
            }
        }
    }

    #[test]
    fn random_updates_match_hash_builder() {
        let mut rng = StdRng::seed_from_u64(7);
        let mut store = MemStore::default();
        let mut model: BTreeMap<B256, Vec<u8>> = BTreeMap::new();
        // a small key space forces shared prefixes, splits and collapses
        let keys: Vec<B256> = (0..300u64)
            .map(|i| {
                let mut k = keccak256(i.to_be_bytes());
                if i % 3 == 0 {
                    k.0[..2].copy_from_slice(&[0xab, 0xcd]);
                }
                k
            })
            .collect();
        for round in 0..200 {
            let mut changes = Vec::new();
            for _ in 0..rng.random_range(1..40) {
                let key = keys[rng.random_range(0..keys.len())];
                let value = if rng.random_bool(0.35) {
                    None
                } else {
                    // short values make embedded (< 32 byte) nodes
                    let len = if rng.random_bool(0.5) { 1 } else { 40 };
                    Some(vec![rng.random::<u8>() | 1; len])
                };
                match &value {
                    Some(v) => model.insert(key, v.clone()),
                    None => model.remove(&key),
                };
                changes.push((key_nibbles(&key), value));
            }
            let root = update_trie(&mut store, changes).unwrap();
            let expected = root_from_leaves(model.iter().map(|(k, v)| (*k, v.clone())));
            assert_eq!(root, expected, "round {round}");
            assert_eq!(trie_root(&mut store).unwrap(), expected);
            let mut seen = 0;
            if !model.is_empty() {
                reachable(&store, &mut Vec::new(), &mut seen);
            }
            assert_eq!(seen, store.0.len(), "stale nodes after round {round}");
        }
    }

    #[test]
    fn deleting_everything_empties_the_store() {
        let mut store = MemStore::default();
        let keys: Vec<B256> = (0..50u64).map(|i| keccak256(i.to_be_bytes())).collect();
        update_trie(&mut store, keys.iter().map(|k| (key_nibbles(k), Some(vec![1; 33]))).collect())
            .unwrap();
        let root = update_trie(&mut store, keys.iter().map(|k| (key_nibbles(k), None)).collect());
        assert_eq!(root.unwrap(), EMPTY_ROOT_HASH);
        assert!(store.0.is_empty());
    }
}
