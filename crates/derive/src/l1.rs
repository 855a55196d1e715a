//! The L1 window: the L1 blocks the pipelines may read, filled by the driver.

use crate::DeriveError;
use alloy_eips::eip4844::Blob;
use alloy_primitives::B256;
use lockstep_l1::L1Block;
use std::{
    collections::{BTreeMap, HashMap},
    sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard},
};

#[derive(Debug, Default)]
struct Window {
    blocks: BTreeMap<u64, Arc<L1Block>>,
    by_hash: HashMap<B256, u64>,
    /// Blobs of batcher transactions, by versioned hash, with their block number.
    blobs: HashMap<B256, (u64, Arc<Blob>)>,
    /// The last block the pipelines may see.
    limit: u64,
}

/// The L1 blocks the pipelines read, shared by every chain's pipeline.
///
/// The driver fetches L1 blocks (with retries and reorg checks) and pushes them here; the
/// pipelines never do I/O. A block past [`L1Window::set_limit`] is "not yet available", which
/// is how a pipeline learns that it has derived everything the current L1 block makes safe.
#[derive(Debug, Clone, Default)]
pub struct L1Window {
    inner: Arc<RwLock<Window>>,
}

impl L1Window {
    fn read(&self) -> RwLockReadGuard<'_, Window> {
        self.inner.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Window> {
        self.inner.write().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Adds (or replaces) a block, with the blobs of its batcher transactions (already
    /// checked against their versioned hashes).
    pub fn insert(&self, block: L1Block, blobs: Vec<(B256, Box<Blob>)>) {
        let mut window = self.write();
        let number = block.header.number;
        window.blobs.retain(|_, (n, _)| *n != number);
        for (hash, blob) in blobs {
            window.blobs.insert(hash, (number, Arc::from(blob)));
        }
        if let Some(old) = window.blocks.insert(number, Arc::new(block)) {
            window.by_hash.remove(&old.hash);
        }
        let hash = window.blocks[&number].hash;
        window.by_hash.insert(hash, number);
    }

    /// Lets the pipelines see blocks up to `number`.
    pub fn set_limit(&self, number: u64) {
        self.write().limit = number;
    }

    /// The last block the pipelines may see.
    pub fn limit(&self) -> u64 {
        self.read().limit
    }

    /// The block at `number`, if held.
    pub fn get(&self, number: u64) -> Option<Arc<L1Block>> {
        self.read().blocks.get(&number).cloned()
    }

    /// Forgets the blocks below `number`.
    pub fn prune_below(&self, number: u64) {
        let mut window = self.write();
        let kept = window.blocks.split_off(&number);
        let dropped = std::mem::replace(&mut window.blocks, kept);
        for block in dropped.values() {
            window.by_hash.remove(&block.hash);
        }
        window.blobs.retain(|_, (n, _)| *n >= number);
    }

    /// Forgets the blocks above `number` (after an L1 reorg).
    pub fn truncate_above(&self, number: u64) {
        let mut window = self.write();
        let dropped = window.blocks.split_off(&(number + 1));
        for block in dropped.values() {
            window.by_hash.remove(&block.hash);
        }
        window.blobs.retain(|_, (n, _)| *n <= number);
        window.limit = window.limit.min(number);
    }

    /// How many blocks are held.
    pub fn len(&self) -> usize {
        self.read().blocks.len()
    }

    /// Whether no block is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The block at `number`, if the derivers may see it: past the limit it is "not yet
    /// available".
    pub fn block(&self, number: u64) -> Result<Arc<L1Block>, DeriveError> {
        let window = self.read();
        if number > window.limit {
            return Err(DeriveError::L1NotYetAvailable(number));
        }
        window
            .blocks
            .get(&number)
            .cloned()
            .ok_or_else(|| DeriveError::L1Missing(format!("number {number}")))
    }

    /// The blob with versioned hash `hash`, if it was fetched.
    pub fn blob(&self, hash: &B256) -> Option<Arc<Blob>> {
        self.read().blobs.get(hash).map(|(_, blob)| blob.clone())
    }

    /// The block with `hash`, if the derivers may see it.
    pub fn by_hash(&self, hash: B256) -> Result<Arc<L1Block>, DeriveError> {
        let window = self.read();
        window
            .by_hash
            .get(&hash)
            .filter(|n| **n <= window.limit)
            .and_then(|n| window.blocks.get(n))
            .cloned()
            .ok_or_else(|| DeriveError::L1Missing(format!("{hash}")))
    }
}
