//! lockstep's shared types for the cross-chain check (DESIGN.md 5.2–5.4).
//!
//! - [`Transfer`]: `(source, destination, nonce, token, from, to, amount)`, and its leaf
//!   `keccak256(abi.encode(...))`, the same for a burn and the mint that pays it.
//! - [`MerkleTree`]: a binary tree over leaves padded with `bytes32(0)` to a power of two,
//!   committed as `keccak256(tree_root ‖ uint256(count))`, with [`MerkleProof`]s.
//!
//! Good starting points: [`Transfer::leaf`], [`merkle_root`] and [`MerkleTree::proof`].

#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod merkle;
mod transfer;

pub use merkle::{merkle_root, MerkleProof, MerkleTree};
pub use transfer::{ChainId, Transfer};
