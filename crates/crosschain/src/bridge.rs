//! The bridge predeploy's interface, exactly as `contracts/src/SuperchainBridge.sol` declares it
//! (DESIGN.md 5.1). The verifier depends only on the two events.

alloy_sol_types::sol! {
    /// The bridge predeploy.
    #[derive(Debug, PartialEq, Eq)]
    interface ISuperchainBridge {
        /// A successful burn on the source chain.
        event Burn(uint256 indexed destination, uint256 indexed nonce, address indexed token, address from, address to, uint256 amount);
        /// The mint the shared sequencer relayed on the destination chain.
        event Mint(uint256 indexed source, uint256 indexed nonce, address indexed token, address from, address to, uint256 amount);
        /// Burns `amount` of `token` (address(0): native, sent as value) for `to` on `destination`.
        function burn(uint256 destination, address token, address to, uint256 amount) external payable returns (uint256 nonce);
        /// Pays out burn `nonce` of chain `source`; only the sequencer's system address may call it.
        function relay(uint256 source, uint256 nonce, address token, address from, address to, uint256 amount) external;
        /// The next burn nonce towards `destination`.
        function nextNonce(uint256 destination) external view returns (uint256);
        /// Whether burn `nonce` of `source` was relayed.
        function relayed(uint256 source, uint256 nonce) external view returns (bool);
    }
}

alloy_sol_types::sol! {
    /// The L1 contract where the shared sequencer commits each batch
    /// (`contracts/src/BatchCommitments.sol`, DESIGN.md 5.6).
    #[derive(Debug)]
    interface IBatchCommitments {
        /// One chain's output root at the batch's end.
        struct ChainOutput { uint256 chainId; uint64 l2Block; bytes32 outputRoot; }
        /// One ordered pair's burn and mint roots.
        struct PairRoots { uint256 source; uint256 destination; bytes32 burnRoot; bytes32 mintRoot; }
        /// A batch's commitment, posted by `committer` (anyone may post; the verifier counts
        /// only the set's sequencer).
        event Committed(uint256 indexed batch, address indexed committer, ChainOutput[] outputs, PairRoots[] pairs);
        /// Commits batch `batch`.
        function commit(uint256 batch, ChainOutput[] outputs, PairRoots[] pairs) external;
    }
}

use crate::check::{Commitment, CommittedOutput, CommittedPair};
use alloy_primitives::{Log, B256};
use alloy_sol_types::SolEvent;

/// The topic of the commitment contract's `Committed` event.
pub const COMMITMENT_TOPIC: B256 = IBatchCommitments::Committed::SIGNATURE_HASH;

/// The commitment a `Committed` log of the commitment contract holds, or `None` if the log is
/// not one (or names a batch beyond 64 bits).
pub fn decode_commitment(l1_block: u64, tx_hash: B256, log: &Log) -> Option<Commitment> {
    if log.topics().first() != Some(&COMMITMENT_TOPIC) {
        return None;
    }
    let event = IBatchCommitments::Committed::decode_log_data(&log.data).ok()?;
    Some(Commitment {
        batch: u64::try_from(event.batch).ok()?,
        l1_block,
        tx_hash,
        committer: event.committer,
        outputs: event
            .outputs
            .iter()
            .map(|o| CommittedOutput {
                chain_id: o.chainId,
                l2_block: o.l2Block,
                output_root: o.outputRoot,
            })
            .collect(),
        pairs: event
            .pairs
            .iter()
            .map(|p| CommittedPair {
                source: p.source,
                destination: p.destination,
                burn_root: p.burnRoot,
                mint_root: p.mintRoot,
            })
            .collect(),
    })
}
