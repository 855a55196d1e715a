//! The batcher data of an L1 block: the calldata of each transaction to the chain's batch
//! inbox that the system config's batcher signed, and from Ecotone (by the L1 block's time)
//! the blobs of such blob transactions instead of their calldata. A blob that does not decode
//! is skipped, as op-node does; a transaction whose signer cannot be recovered is not the
//! batcher's.

use crate::{blob::decode_blob, DeriveError, L1Window};
use alloy_consensus::{transaction::SignerRecoverable, Transaction};
use alloy_primitives::Address;
use lockstep_l1::L1Block;

/// The batcher data items of `block`, in transaction order.
pub fn batcher_data(
    block: &L1Block,
    l1: &L1Window,
    inbox: Address,
    batcher: Address,
    blobs_active: bool,
) -> Result<Vec<Vec<u8>>, DeriveError> {
    let mut data = Vec::new();
    for tx in &block.transactions {
        if tx.to() != Some(inbox) {
            continue;
        }
        if tx.recover_signer().ok() != Some(batcher) {
            continue;
        }
        match tx.blob_versioned_hashes() {
            Some(hashes) if blobs_active => {
                for hash in hashes {
                    let blob = l1.blob(hash).ok_or(DeriveError::BlobMissing {
                        block: block.header.number,
                        hash: *hash,
                    })?;
                    match decode_blob(blob.as_slice()) {
                        Ok(bytes) => data.push(bytes),
                        Err(err) => tracing::warn!(
                            target: "lockstep::derive",
                            block = block.header.number,
                            %hash,
                            %err,
                            "skipping a blob that does not decode"
                        ),
                    }
                }
            }
            _ => data.push(tx.input().to_vec()),
        }
    }
    Ok(data)
}
