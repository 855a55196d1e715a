//! lockstep's L1.
//!
//! Two seams. [`L1Source`] is what the verifier reads: the head, and blocks with their
//! transactions and receipts. [`L1Node`] adds what the devnet drives: sending transactions and
//! mining. Both have two implementations: the embedded L1 of `lockstep-devnet`, in process, and
//! [`JsonRpcL1`], any Ethereum JSON-RPC node (anvil in the tests), through alloy's provider.
//! Errors say whether to retry ([`L1Error::is_temporary`]); [`Retrying`] retries those with
//! backoff, so that an L1 that goes away stalls the node instead of stopping it.
//!
//! Good starting points: [`L1Source`], [`Retrying`] and [`JsonRpcL1::connect`].

#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod retry;
mod rpc;

pub use retry::{Backoff, Retrying};
pub use rpc::JsonRpcL1;

use alloy_consensus::{Header, ReceiptEnvelope, TxEnvelope};
pub use alloy_eips::eip4844::Blob;
use alloy_primitives::B256;

/// An L1 block with its transactions and receipts.
#[derive(Debug, Clone)]
pub struct L1Block {
    /// The header.
    pub header: Header,
    /// The header's hash.
    pub hash: B256,
    /// The transactions, in order.
    pub transactions: Vec<TxEnvelope>,
    /// Their receipts.
    pub receipts: Vec<ReceiptEnvelope>,
}

impl L1Block {
    /// Checks that the block holds together: the header hashes to `hash`, and the transactions
    /// and receipts give the header's transactions root and receipts root. An L1 RPC is not
    /// trusted to pair them.
    pub fn check(&self) -> Result<(), L1Error> {
        let number = self.header.number;
        let computed = self.header.hash_slow();
        if computed != self.hash {
            return Err(L1Error::Mismatched(format!(
                "block {number}: the header hashes to {computed}, not {}",
                self.hash
            )));
        }
        if self.receipts.len() != self.transactions.len() {
            return Err(L1Error::Mismatched(format!(
                "block {number}: {} transactions but {} receipts",
                self.transactions.len(),
                self.receipts.len()
            )));
        }
        let transactions = alloy_consensus::proofs::calculate_transaction_root(&self.transactions);
        if transactions != self.header.transactions_root {
            return Err(L1Error::Mismatched(format!(
                "block {number}: the transactions give root {transactions}, the header {}",
                self.header.transactions_root
            )));
        }
        let receipts = alloy_consensus::proofs::calculate_receipt_root(&self.receipts);
        if receipts != self.header.receipts_root {
            return Err(L1Error::Mismatched(format!(
                "block {number}: the receipts give root {receipts}, the header {}",
                self.header.receipts_root
            )));
        }
        Ok(())
    }
}

/// What went wrong talking to the L1.
#[derive(Debug, thiserror::Error)]
pub enum L1Error {
    /// The L1 could not be reached or did not answer; retrying may help.
    #[error("L1 unreachable: {0}")]
    Unreachable(String),
    /// The L1 refused a transaction.
    #[error("L1 refused the transaction: {0}")]
    Rejected(String),
    /// The L1 answered with something unusable.
    #[error("L1 answered badly: {0}")]
    BadResponse(String),
    /// The embedded L1 failed to execute a block.
    #[error("L1 block execution: {0}")]
    Execution(String),
    /// A block does not hold together: its hash, transactions root or receipts root is not
    /// what its header and contents give (another block's receipts, say, after a reorg between
    /// two calls). Retried.
    #[error("L1 block does not match its header: {0}")]
    Mismatched(String),
}

impl L1Error {
    /// Whether retrying later may succeed (the L1 went away), as opposed to a lasting error.
    pub const fn is_temporary(&self) -> bool {
        matches!(self, Self::Unreachable(_) | Self::Mismatched(_))
    }
}

/// An L1 as the verifier reads it.
pub trait L1Source {
    /// The L1 chain id.
    fn chain_id(&self) -> u64;
    /// The number of the latest block.
    fn head_number(&self) -> Result<u64, L1Error>;
    /// Block `number` with its transactions and receipts, if it exists.
    fn block(&self, number: u64) -> Result<Option<L1Block>, L1Error>;
    /// The blobs with versioned hashes `hashes` carried by `block`, in that order, each checked
    /// against its hash ([`verify_blob`]).
    fn blobs(&self, block: &L1Block, hashes: &[B256]) -> Result<Vec<Box<Blob>>, L1Error>;
    /// The number of the latest finalized block, if the L1 says (`None`: it has no finality).
    fn finalized_number(&self) -> Result<Option<u64>, L1Error> {
        Ok(None)
    }
}

/// The versioned hash of `blob`: its KZG commitment, computed here, hashed.
pub fn blob_versioned_hash(blob: &Blob) -> Result<B256, L1Error> {
    let settings = alloy_eips::eip4844::env_settings::EnvKzgSettings::Default.get();
    let commitment = settings
        .blob_to_kzg_commitment(&c_kzg::Blob::new(blob.0))
        .map_err(|e| L1Error::BadResponse(format!("blob: {e}")))?;
    Ok(alloy_eips::eip4844::kzg_to_versioned_hash(commitment.as_slice()))
}

/// Checks that `blob` is the blob with versioned hash `hash`: its KZG commitment, computed
/// here, must hash to it.
pub fn verify_blob(hash: &B256, blob: &Blob) -> Result<(), L1Error> {
    let computed = blob_versioned_hash(blob)?;
    if computed != *hash {
        return Err(L1Error::BadResponse(format!(
            "a blob said to be {hash} has versioned hash {computed}"
        )));
    }
    Ok(())
}

impl<S: L1Source + ?Sized> L1Source for &S {
    fn chain_id(&self) -> u64 {
        (**self).chain_id()
    }
    fn head_number(&self) -> Result<u64, L1Error> {
        (**self).head_number()
    }
    fn block(&self, number: u64) -> Result<Option<L1Block>, L1Error> {
        (**self).block(number)
    }
    fn blobs(&self, block: &L1Block, hashes: &[B256]) -> Result<Vec<Box<Blob>>, L1Error> {
        (**self).blobs(block, hashes)
    }
    fn finalized_number(&self) -> Result<Option<u64>, L1Error> {
        (**self).finalized_number()
    }
}

/// An L1 that the devnet drives: send transactions, mine blocks, read blocks back.
pub trait L1Node: L1Source {
    /// The latest block.
    fn head(&self) -> Result<L1Block, L1Error> {
        let number = self.head_number()?;
        self.block(number)?
            .ok_or_else(|| L1Error::BadResponse(format!("head block {number} is missing")))
    }
    /// Queues a signed transaction (EIP-2718 bytes) for the next block.
    fn send_raw_transaction(&mut self, raw: &[u8]) -> Result<B256, L1Error>;
    /// Mines the next block, `block_time` seconds after the head, and returns it.
    fn mine(&mut self, block_time: u64) -> Result<L1Block, L1Error>;
}

/// Helpers for tests: an anvil started from the npm package on a loopback port.
#[cfg(any(test, feature = "test-utils"))]
pub mod test_utils {
    use std::{
        io::{BufRead, BufReader},
        path::PathBuf,
        process::{Child, Command, Stdio},
        time::{Duration, Instant},
    };

    /// A running anvil, killed when dropped.
    #[derive(Debug)]
    pub struct Anvil {
        child: Child,
        /// Its JSON-RPC URL.
        pub url: String,
    }

    impl Drop for Anvil {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    /// The anvil binary: `$ANVIL`, else the one `scripts/setup.sh` installs in `node_modules`.
    pub fn anvil_path() -> PathBuf {
        std::env::var_os("ANVIL").map(PathBuf::from).unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../node_modules/.bin/anvil")
        })
    }

    /// Starts anvil with `args` on a loopback port of its own choosing and waits until it
    /// answers JSON-RPC.
    ///
    /// anvil binds port 0 itself and prints the port it got, so that no other process can take
    /// the port between its choice and the bind (a port picked here and handed over could be).
    ///
    /// # Panics
    /// When anvil is missing or does not start: run `scripts/setup.sh`.
    pub fn spawn_anvil(args: &[&str]) -> Anvil {
        let path = anvil_path();
        let mut child = Command::new(&path)
            .args(["--host", "127.0.0.1", "--port", "0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("{}: {e} (run scripts/setup.sh to install anvil)", path.display())
            });
        let stdout = child.stdout.take().expect("anvil's stdout is piped");
        let (found, port) = std::sync::mpsc::channel();
        // reads the port from anvil's banner, then drains its request log so that it never
        // blocks on a full pipe
        std::thread::spawn(move || {
            let mut found = Some(found);
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(address) = line.trim().strip_prefix("Listening on ") {
                    let port = address.rsplit(':').next().and_then(|p| p.parse::<u16>().ok());
                    if let (Some(port), Some(found)) = (port, found.take()) {
                        let _ = found.send(port);
                    }
                }
            }
        });
        let mut anvil = Anvil { child, url: String::new() };
        let Ok(port) = port.recv_timeout(Duration::from_secs(60)) else {
            let status = anvil.child.try_wait().ok().flatten();
            panic!("anvil did not say where it listens within 60 s (exit status {status:?})");
        };
        anvil.url = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        while let Err(err) = crate::JsonRpcL1::connect(&anvil.url) {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "anvil on {} does not answer: {err}",
                anvil.url
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        anvil
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_eips::eip4844::{env_settings::EnvKzgSettings, BlobTransactionSidecar};

    #[test]
    fn a_blob_is_checked_against_the_versioned_hash_of_its_commitment() {
        let mut blob = Blob::ZERO;
        for (i, byte) in blob.iter_mut().enumerate() {
            if i % 32 != 0 {
                *byte = (i * 31) as u8;
            }
        }
        let sidecar = BlobTransactionSidecar::try_from_blobs_with_settings(
            vec![blob],
            EnvKzgSettings::Default.get(),
        )
        .unwrap();
        let hash = sidecar.versioned_hashes().next().unwrap();
        assert_eq!(blob_versioned_hash(&blob).unwrap(), hash);
        verify_blob(&hash, &blob).unwrap();
        let mut other = blob;
        other[1] ^= 1;
        assert!(verify_blob(&hash, &other).is_err());
    }
}
