//! What the check records: a batch's verdict with its evidence, and each transfer's status.
//!
//! These are stored as JSON and served as JSON unchanged (`superchain_getBatch`,
//! `superchain_getEvidence`, `lockstep evidence export`), so their serde shape is the schema
//! that the README documents. [`EVIDENCE_VERSION`] changes whenever that shape does.

use alloy_primitives::{B256, U256};
use lockstep_primitives::{ChainId, MerkleProof, Transfer};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The version of the verdict and evidence JSON.
pub const EVIDENCE_VERSION: u32 = 2;

/// The kind of a difference (DESIGN.md 5.4 and 5.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Classification {
    /// A burn in the batch has no mint in the batch.
    MissingMint,
    /// A mint in the batch pays out a burn of an earlier batch.
    LateMint,
    /// A mint has no burn with its `(source, destination, nonce)` in this or an earlier batch.
    UnbackedMint,
    /// A mint names a burn's `(source, nonce)` but differs in token, from, to or amount.
    AlteredMint,
    /// A second mint for the same `(source, nonce)`.
    DuplicateMint,
    /// The same transfers, minted in another order than burned.
    OrderMismatch,
    /// The sequencer's L1 commitment names a false output root.
    InvalidOutputRoot,
    /// The sequencer's L1 commitment names a false burn or mint root.
    InvalidCommitment,
    /// The sequencer posted no commitment for the batch within the commitment window.
    MissingCommitment,
    /// The sequencer posted a second commitment for the batch that differs from the first.
    ConflictingCommitment,
    /// Timestamp mode only (DESIGN.md 5.6): the mint is in the burn's batch but not at the
    /// burn's L2 timestamp.
    TimestampMismatch,
}

/// What "at the same time" means for a burn and its mint (DESIGN.md 5.6).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Atomicity {
    /// In the same superchain batch (the default).
    #[default]
    Batch,
    /// At the same L2 timestamp: stricter, a mint one block after its burn is flagged
    /// `TimestampMismatch` even inside the batch.
    Timestamp,
}

impl Atomicity {
    /// The name used on the command line and in logs.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Batch => "batch",
            Self::Timestamp => "timestamp",
        }
    }
}

impl Classification {
    /// Every classification, in order.
    pub const ALL: [Self; 11] = [
        Self::MissingMint,
        Self::LateMint,
        Self::UnbackedMint,
        Self::AlteredMint,
        Self::DuplicateMint,
        Self::OrderMismatch,
        Self::InvalidOutputRoot,
        Self::InvalidCommitment,
        Self::MissingCommitment,
        Self::ConflictingCommitment,
        Self::TimestampMismatch,
    ];

    /// The name used in JSON, logs and metrics.
    pub const fn name(self) -> &'static str {
        match self {
            Self::MissingMint => "MissingMint",
            Self::LateMint => "LateMint",
            Self::UnbackedMint => "UnbackedMint",
            Self::AlteredMint => "AlteredMint",
            Self::DuplicateMint => "DuplicateMint",
            Self::OrderMismatch => "OrderMismatch",
            Self::InvalidOutputRoot => "InvalidOutputRoot",
            Self::InvalidCommitment => "InvalidCommitment",
            Self::MissingCommitment => "MissingCommitment",
            Self::ConflictingCommitment => "ConflictingCommitment",
            Self::TimestampMismatch => "TimestampMismatch",
        }
    }
}

impl std::fmt::Display for Classification {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Where a bridge event was emitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventLocation {
    /// The chain.
    pub chain_id: ChainId,
    /// The L2 block number.
    pub block: u64,
    /// The transaction's index in the block.
    pub tx_index: u32,
    /// The log's index in the block.
    pub log_index: u32,
    /// The transaction's hash.
    pub tx_hash: B256,
    /// The superchain batch of the block.
    pub batch: u64,
    /// The block's L2 timestamp (absent in records written before it was kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<u64>,
    /// For an event of a deposit transaction: the L1 log that made the deposit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub l1_deposit: Option<L1Deposit>,
}

/// The L1 side of a deposit transaction: a burn sent through the deposit portal is forced in
/// through L1 (DESIGN.md 5.7), and its `MissingMint` names the L1 transaction that sent it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct L1Deposit {
    /// The L1 block.
    pub l1_block: u64,
    /// Its hash (with the log index, it makes the source hash).
    pub l1_block_hash: B256,
    /// The L1 transaction.
    pub l1_tx_hash: B256,
    /// The `TransactionDeposited` log's index in the L1 block.
    pub log_index: u64,
    /// The L2 deposit transaction's source hash.
    pub source_hash: B256,
}

/// A leaf of one of a pair's trees, with the proof that it is there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProvenEvent {
    /// The transfer as this event names it.
    pub transfer: Transfer,
    /// Its leaf, `keccak256(abi.encode(transfer))`.
    pub leaf: B256,
    /// Where the event was emitted.
    pub location: EventLocation,
    /// Its proof in the tree of this batch (`None` for an event of an earlier batch).
    pub proof: Option<MerkleProof>,
}

/// One difference of a flagged batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Difference {
    /// What kind of difference.
    pub classification: Classification,
    /// The source chain of the pair (for `InvalidOutputRoot`, the chain whose root is false).
    pub source: ChainId,
    /// The destination chain of the pair (for `InvalidOutputRoot`, the same chain).
    pub destination: ChainId,
    /// The burn involved, with its proof in the batch's burn tree.
    pub burn: Option<ProvenEvent>,
    /// The mint involved, with its proof in the batch's mint tree.
    pub mint: Option<ProvenEvent>,
    /// For a commitment: what the sequencer committed (`None`: it left the entry out).
    pub committed: Option<B256>,
    /// For a commitment: what lockstep computed.
    pub computed: Option<B256>,
    /// A sentence for people.
    pub detail: String,
}

/// One chain's part of a batch, with the output root at the batch's end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChainOutput {
    /// The chain.
    pub chain_id: ChainId,
    /// The first L2 block of the batch (`first > last`: the batch holds none of its blocks).
    pub first: u64,
    /// The last L2 block of the batch: the output root is this block's.
    pub last: u64,
    /// That block's hash.
    pub block_hash: B256,
    /// Its state root.
    pub state_root: B256,
    /// The L2ToL1MessagePasser's storage root after it.
    pub message_passer_storage_root: B256,
    /// `keccak256(bytes32(0) ‖ stateRoot ‖ messagePasserStorageRoot ‖ blockHash)`.
    pub output_root: B256,
}

/// The two roots of an ordered pair of chains in a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PairRoots {
    /// Where the burns are.
    pub source: ChainId,
    /// Where the mints are.
    pub destination: ChainId,
    /// The burn tree's root.
    pub burn_root: B256,
    /// The number of burns.
    pub burns: u64,
    /// The mint tree's root.
    pub mint_root: B256,
    /// The number of mints.
    pub mints: u64,
}

impl PairRoots {
    /// Whether the pair's roots agree.
    pub fn matches(&self) -> bool {
        self.burn_root == self.mint_root
    }
}

/// Whether the sequencer's commitment for a batch has been seen and checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "status")]
pub enum CommitmentCheck {
    /// No commitment for this batch has been seen on L1 yet.
    NotSeen,
    /// The commitment of L1 block `l1Block` agrees with everything computed.
    Matches {
        /// The L1 block holding it.
        #[serde(rename = "l1Block")]
        l1_block: u64,
    },
    /// The commitment of L1 block `l1Block` is false; the differences say where.
    Invalid {
        /// The L1 block holding it.
        #[serde(rename = "l1Block")]
        l1_block: u64,
    },
    /// No commitment from the sequencer by the end of the commitment window, which L1 block
    /// `due` closed (one that comes later is still checked, and the flag stays).
    Missing {
        /// The last L1 block of the window.
        due: u64,
    },
}

/// A burn or mint whose other chain is not in the superchain set: reported, never guessed at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ForeignEvent {
    /// `burn` or `mint`.
    pub kind: String,
    /// The transfer as the event names it.
    pub transfer: Transfer,
    /// Where it was emitted.
    pub location: EventLocation,
}

/// A checked superchain batch: its verdict and, when flagged, the evidence (DESIGN.md 5.5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchVerdict {
    /// [`EVIDENCE_VERSION`].
    pub version: u32,
    /// The batch index.
    pub batch: u64,
    /// The L1 block that closed it.
    pub l1_block: u64,
    /// That block's hash.
    pub l1_hash: B256,
    /// The timestamp range's exclusive start.
    pub from_timestamp: u64,
    /// The timestamp range's inclusive end.
    pub to_timestamp: u64,
    /// `true` when every pair's roots agree and no commitment is false.
    pub matches: bool,
    /// Every chain's range and output root.
    pub chains: Vec<ChainOutput>,
    /// Every ordered pair's roots.
    pub pairs: Vec<PairRoots>,
    /// The sequencer's commitment.
    pub commitment: CommitmentCheck,
    /// Every difference, each with its evidence.
    pub differences: Vec<Difference>,
    /// Burns to, or mints from, chains outside the set.
    pub foreign: Vec<ForeignEvent>,
}

impl BatchVerdict {
    /// How many differences of each classification.
    pub fn counts(&self) -> BTreeMap<Classification, usize> {
        let mut counts = BTreeMap::new();
        for d in &self.differences {
            *counts.entry(d.classification).or_default() += 1;
        }
        counts
    }

    /// Sets `matches` from the pairs and the differences.
    pub(crate) fn settle(&mut self) {
        self.matches = self.differences.is_empty() && self.pairs.iter().all(PairRoots::matches);
    }
}

/// Where a transfer stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum TransferStatus {
    /// Burned, and minted unchanged in the same batch.
    Settled,
    /// Burned; no mint yet (its batch was flagged `MissingMint`).
    Missing,
    /// Minted unchanged, in a later batch than the burn.
    Late,
    /// Minted with another token, sender, recipient or amount.
    Altered,
    /// Minted with no burn behind it.
    Unbacked,
    /// Minted more than once.
    Duplicate,
    /// Burned towards a chain outside the set.
    UnknownDestination,
}

/// A transfer, by `(source, destination, nonce)`: its burn, its mints and its status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransferRecord {
    /// The source chain.
    pub source: ChainId,
    /// The destination chain.
    pub destination: ChainId,
    /// The nonce.
    pub nonce: U256,
    /// The burn, as burned.
    pub burn: Option<RecordedEvent>,
    /// Every mint, in order.
    pub mints: Vec<RecordedEvent>,
    /// The status.
    pub status: TransferStatus,
}

/// A burn or mint in a [`TransferRecord`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordedEvent {
    /// The transfer as the event names it.
    pub transfer: Transfer,
    /// Where it was emitted.
    pub location: EventLocation,
}

impl TransferRecord {
    /// The status that the burn and mints give.
    pub(crate) fn recompute_status(&mut self) {
        self.status = match (&self.burn, self.mints.as_slice()) {
            (_, [_, _, ..]) => TransferStatus::Duplicate,
            (None, [_]) => TransferStatus::Unbacked,
            (Some(_), []) | (None, []) => TransferStatus::Missing,
            (Some(burn), [mint]) if burn.transfer != mint.transfer => TransferStatus::Altered,
            (Some(burn), [mint]) if mint.location.batch > burn.location.batch => {
                TransferStatus::Late
            }
            (Some(_), [_]) => TransferStatus::Settled,
        };
    }
}
