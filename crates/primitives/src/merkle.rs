use alloy_primitives::{keccak256, B256, U256};
use serde::{Deserialize, Serialize};

/// `keccak256(left ‖ right)`.
fn node(left: &B256, right: &B256) -> B256 {
    let mut buf = [0u8; 64];
    buf[..32].copy_from_slice(left.as_slice());
    buf[32..].copy_from_slice(right.as_slice());
    keccak256(buf)
}

/// `keccak256(tree_root ‖ uint256(count))`.
fn commit(tree_root: &B256, count: usize) -> B256 {
    node(tree_root, &B256::from(U256::from(count)))
}

/// The root of an all-padding subtree of each height: `zero[0] = bytes32(0)`.
fn zero_subtrees(height: usize) -> Vec<B256> {
    let mut zeros = vec![B256::ZERO];
    for level in 1..=height {
        let below = zeros[level - 1];
        zeros.push(node(&below, &below));
    }
    zeros
}

fn height(count: usize) -> usize {
    count.max(1).next_power_of_two().trailing_zeros() as usize
}

/// The committed root of `leaves` without keeping the tree. Padding subtrees are not hashed:
/// their roots are computed once per height.
pub fn merkle_root(leaves: &[B256]) -> B256 {
    match leaves {
        [] => commit(&B256::ZERO, 0),
        [only] => commit(only, 1),
        _ => {
            let zeros = zero_subtrees(height(leaves.len()));
            let mut level: Vec<B256> = leaves.chunks(2).map(|p| pair(p, &zeros[0])).collect();
            let mut depth = 1;
            while level.len() > 1 {
                let next_len = level.len().div_ceil(2);
                for i in 0..next_len {
                    let right = level.get(2 * i + 1).copied().unwrap_or(zeros[depth]);
                    level[i] = node(&level[2 * i], &right);
                }
                level.truncate(next_len);
                depth += 1;
            }
            commit(&level[0], leaves.len())
        }
    }
}

fn pair(p: &[B256], zero: &B256) -> B256 {
    node(&p[0], p.get(1).unwrap_or(zero))
}

/// A Merkle tree with every level kept, for proofs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MerkleTree {
    /// `levels[0]` are the leaves (unpadded); each next level up to the single tree root.
    levels: Vec<Vec<B256>>,
    count: usize,
}

impl MerkleTree {
    /// Builds the tree over `leaves`, in order.
    pub fn new(leaves: Vec<B256>) -> Self {
        let count = leaves.len();
        let zeros = zero_subtrees(height(count));
        let mut levels = vec![leaves];
        let mut depth = 0;
        while levels[depth].len() > 1 {
            let below = &levels[depth];
            let up = below.chunks(2).map(|p| pair(p, &zeros[depth])).collect();
            levels.push(up);
            depth += 1;
        }
        Self { levels, count }
    }

    /// Number of leaves.
    pub const fn count(&self) -> usize {
        self.count
    }

    /// The leaves.
    pub fn leaves(&self) -> &[B256] {
        &self.levels[0]
    }

    /// The root of the binary tree alone (`bytes32(0)` when empty).
    pub fn tree_root(&self) -> B256 {
        self.levels.last().and_then(|l| l.first()).copied().unwrap_or(B256::ZERO)
    }

    /// The committed root, `keccak256(tree_root ‖ uint256(count))`.
    pub fn root(&self) -> B256 {
        commit(&self.tree_root(), self.count)
    }

    /// The proof of leaf `index`.
    pub fn proof(&self, index: usize) -> Option<MerkleProof> {
        if index >= self.count {
            return None;
        }
        let zeros = zero_subtrees(height(self.count));
        let mut siblings = Vec::with_capacity(self.levels.len());
        let mut i = index;
        for (depth, level) in self.levels[..self.levels.len() - 1].iter().enumerate() {
            siblings.push(level.get(i ^ 1).copied().unwrap_or(zeros[depth]));
            i /= 2;
        }
        Some(MerkleProof { index: index as u64, count: self.count as u64, siblings })
    }
}

/// The path from a leaf to the top: sibling hashes, leaf index, and the number of leaves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MerkleProof {
    /// The leaf's position.
    pub index: u64,
    /// How many leaves the tree has.
    pub count: u64,
    /// Sibling hashes from the leaf level up.
    pub siblings: Vec<B256>,
}

impl MerkleProof {
    /// The committed root this proof leads to from `leaf`, or `None` if the proof is malformed
    /// (index out of range or the wrong number of siblings for `count`).
    pub fn root_from_leaf(&self, leaf: B256) -> Option<B256> {
        let count = usize::try_from(self.count).ok()?;
        if self.index >= self.count || self.siblings.len() != height(count) {
            return None;
        }
        let mut hash = leaf;
        let mut index = self.index;
        for sibling in &self.siblings {
            hash =
                if index.is_multiple_of(2) { node(&hash, sibling) } else { node(sibling, &hash) };
            index /= 2;
        }
        Some(commit(&hash, count))
    }

    /// Whether this proof shows `leaf` under `root`.
    pub fn verify(&self, leaf: B256, root: B256) -> bool {
        self.root_from_leaf(leaf) == Some(root)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streaming_root_equals_kept_tree_and_proofs_verify() {
        for n in 0..70usize {
            let leaves: Vec<B256> = (0..n as u64).map(|i| keccak256(i.to_be_bytes())).collect();
            let tree = MerkleTree::new(leaves.clone());
            assert_eq!(merkle_root(&leaves), tree.root(), "n = {n}");
            for (i, leaf) in leaves.iter().enumerate() {
                let proof = tree.proof(i).unwrap();
                assert!(proof.verify(*leaf, tree.root()), "n = {n}, i = {i}");
                assert!(!proof.verify(B256::repeat_byte(1), tree.root()));
            }
            assert!(tree.proof(n).is_none());
        }
    }

    #[test]
    fn malformed_proofs_are_rejected() {
        let proof = MerkleProof { index: 5, count: 4, siblings: vec![B256::ZERO; 2] };
        assert_eq!(proof.root_from_leaf(B256::ZERO), None);
        let proof = MerkleProof { index: 0, count: 4, siblings: vec![B256::ZERO; 3] };
        assert_eq!(proof.root_from_leaf(B256::ZERO), None);
    }
}
