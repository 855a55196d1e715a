//! Stateless execution: one block re-executed from an execution witness, with no database.
//!
//! The input is a [`StatelessBlock`]: the chain's rollup config, the parent header, the block's
//! payload attributes and a witness in the shape of `debug_executionWitness` (the trie nodes,
//! bytecodes and ancestor headers that executing the block reads or rewrites). State reads are
//! served from a [`SparseState`] over the witness, the block runs through the same executor as
//! the node, and the post-state root is computed over the same sparse tries. A node the block
//! needs but the witness lacks is an error that names its hash and path.

use crate::{
    executor::{bundle_changes, execute_transactions, next_header, seal_block},
    ExecutionError,
};
use alloy_consensus::Header;
use alloy_primitives::{keccak256, Address, Bytes, B256, U256};
use alloy_rlp::Decodable;
use alloy_trie::KECCAK_EMPTY;
use lockstep_chainspec::RollupConfig;
use lockstep_chainspec::L2_TO_L1_MESSAGE_PASSER;
use lockstep_storage::{DatabaseError, SparseState, StoredBlock, WitnessNodes};
use op_alloy_rpc_types_engine::OpPayloadAttributes;
use revm::{bytecode::Bytecode, database_interface::DatabaseRef, state::AccountInfo};
use serde::{Deserialize, Serialize};
use std::{cell::RefCell, collections::HashMap, io::Read};

/// An execution witness, as `debug_executionWitness` returns it (reth's and geth's shape).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionWitness {
    /// RLP trie nodes of the account trie and of every touched storage trie.
    pub state: Vec<Bytes>,
    /// Bytecode of every contract the block runs.
    #[serde(default)]
    pub codes: Vec<Bytes>,
    /// The preimages of the trie keys: addresses (20 bytes) and slots (32 bytes).
    #[serde(default)]
    pub keys: Vec<Bytes>,
    /// RLP headers of the ancestors whose hashes `BLOCKHASH` reads, newest first.
    #[serde(default)]
    pub headers: Vec<Bytes>,
}

/// What a block is known to hash to, to compare against.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExpectedBlock {
    /// The real block hash.
    pub block_hash: B256,
    /// The real header, to find a mismatch field by field.
    #[serde(default)]
    pub header: Option<Header>,
}

/// One block with everything needed to execute it statelessly (the format of
/// `shared/testdata/op-sepolia`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatelessBlock {
    /// The L2 chain id; when given it must be the rollup config's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain_id: Option<u64>,
    /// The chain's rules, in op-node's `rollup.json` layout.
    pub rollup_config: RollupConfig,
    /// The parent's hash; when given, the parent header must hash to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_hash: Option<B256>,
    /// The parent block's header.
    pub parent_header: Header,
    /// The block's payload attributes, the L1 info deposit first.
    pub payload_attributes: OpPayloadAttributes,
    /// The pre-state the block reads.
    pub witness: ExecutionWitness,
    /// The block's real result, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<ExpectedBlock>,
}

/// The largest stateless file read (unzipped): real blocks' files are a few megabytes.
pub const MAX_FILE_BYTES: u64 = 1 << 30;

fn input_error(what: impl Into<String>) -> ExecutionError {
    ExecutionError::StatelessInput(what.into())
}

impl StatelessBlock {
    /// Parses the JSON of a stateless block, plain or gzipped. Errors name the key that is
    /// missing or malformed.
    pub fn from_slice(raw: &[u8]) -> Result<Self, ExecutionError> {
        let mut unzipped = Vec::new();
        let json = if raw.starts_with(&[0x1f, 0x8b]) {
            // a gzip bomb stops at the limit
            flate2::read::GzDecoder::new(raw)
                .take(MAX_FILE_BYTES + 1)
                .read_to_end(&mut unzipped)
                .map_err(|e| input_error(format!("not a valid gzip file: {e}")))?;
            if unzipped.len() as u64 > MAX_FILE_BYTES {
                return Err(input_error(format!(
                    "the file unzips to more than {MAX_FILE_BYTES} bytes"
                )));
            }
            unzipped.as_slice()
        } else {
            raw
        };
        let mut de = serde_json::Deserializer::from_slice(json);
        let block: Self = serde_path_to_error::deserialize(&mut de).map_err(|err| {
            let path = err.path().to_string();
            let inner = err.into_inner();
            if inner.is_syntax() || inner.is_eof() {
                input_error(format!("not valid JSON: {inner}"))
            } else if path == "." || path.is_empty() {
                input_error(inner.to_string())
            } else {
                input_error(format!("key `{path}`: {inner}"))
            }
        })?;
        de.end().map_err(|e| input_error(format!("not valid JSON: {e}")))?;
        Ok(block)
    }

    /// Checks what can be checked before execution: the chain id, the rollup config's forks
    /// and the parent hash.
    fn check(&self) -> Result<B256, ExecutionError> {
        lockstep_chainspec::check_rollup(&self.rollup_config)
            .map_err(|e| input_error(format!("key `rollupConfig`: {e}")))?;
        let chain = self.rollup_config.l2_chain_id.id();
        if let Some(id) = self.chain_id.filter(|id| *id != chain) {
            return Err(input_error(format!(
                "key `chainId`: {id} differs from rollupConfig.l2_chain_id {chain}"
            )));
        }
        let parent_hash = self.parent_header.hash_slow();
        if let Some(given) = self.parent_hash.filter(|given| *given != parent_hash) {
            return Err(input_error(format!(
                "key `parentHeader`: it hashes to {parent_hash}, not to parentHash {given}"
            )));
        }
        Ok(parent_hash)
    }
}

/// The state a witness holds, as revm reads it.
#[derive(Debug)]
pub struct WitnessDatabase<'w> {
    state: RefCell<SparseState<'w>>,
    codes: HashMap<B256, Bytecode>,
    block_hashes: HashMap<u64, B256>,
    /// The first read that failed, kept whole: the EVM passes on only its message.
    first_error: RefCell<Option<DatabaseError>>,
}

impl<'w> WitnessDatabase<'w> {
    /// The pre-state of the block after `parent` (whose hash is `parent_hash`): accounts and
    /// storage from `nodes`, code from `witness.codes`, and block hashes from the parent and the
    /// witness headers that chain back from it.
    pub fn new(
        nodes: &'w WitnessNodes,
        witness: &ExecutionWitness,
        parent: &Header,
        parent_hash: B256,
    ) -> Result<Self, ExecutionError> {
        let codes = witness
            .codes
            .iter()
            .map(|code| (keccak256(code), Bytecode::new_raw(code.clone())))
            .collect();
        let mut by_hash = HashMap::new();
        for (index, rlp) in witness.headers.iter().enumerate() {
            let header = Header::decode(&mut rlp.as_ref()).map_err(|e| {
                input_error(format!("key `witness.headers[{index}]`: not an RLP header: {e}"))
            })?;
            by_hash.insert(header.hash_slow(), header);
        }
        let mut block_hashes = HashMap::from([(parent.number, parent_hash)]);
        let mut next = parent;
        while let Some(header) = by_hash.get(&next.parent_hash) {
            block_hashes.insert(header.number, next.parent_hash);
            next = header;
        }
        if next.number > 0 {
            // the parent hash of the oldest header is known without its header
            block_hashes.insert(next.number - 1, next.parent_hash);
        }
        Ok(Self {
            state: RefCell::new(SparseState::new(nodes, parent.state_root)),
            codes,
            block_hashes,
            first_error: RefCell::new(None),
        })
    }

    /// Keeps the first failed read and gives the EVM its message.
    fn failed(&self, err: DatabaseError) -> DatabaseError {
        let message = DatabaseError::Inconsistent(err.to_string());
        self.first_error.borrow_mut().get_or_insert(err);
        message
    }

    /// The first read that failed, if any.
    pub fn take_error(&self) -> Option<DatabaseError> {
        self.first_error.borrow_mut().take()
    }

    /// Applies a block's state changes; returns the new state root.
    pub fn apply(&self, changes: &lockstep_storage::StateChanges) -> Result<B256, DatabaseError> {
        self.state.borrow_mut().apply(changes)
    }

    /// The storage root of `address` as it stands.
    pub fn storage_root(&self, address: Address) -> Result<B256, DatabaseError> {
        self.state.borrow_mut().storage_root(address)
    }
}

impl DatabaseRef for WitnessDatabase<'_> {
    type Error = DatabaseError;

    fn basic_ref(&self, address: Address) -> Result<Option<AccountInfo>, Self::Error> {
        let account = self.state.borrow_mut().account(address).map_err(|e| self.failed(e))?;
        Ok(account.map(Into::into))
    }

    fn code_by_hash_ref(&self, code_hash: B256) -> Result<Bytecode, Self::Error> {
        if code_hash == KECCAK_EMPTY {
            return Ok(Bytecode::default());
        }
        self.codes.get(&code_hash).cloned().ok_or_else(|| {
            self.failed(DatabaseError::Inconsistent(format!(
                "bytecode {code_hash} is not in witness.codes"
            )))
        })
    }

    fn storage_ref(&self, address: Address, index: U256) -> Result<U256, Self::Error> {
        let value = self.state.borrow_mut().storage(address, B256::from(index));
        value.map_err(|e| self.failed(e))
    }

    fn block_hash_ref(&self, number: u64) -> Result<B256, Self::Error> {
        self.block_hashes.get(&number).copied().ok_or_else(|| {
            self.failed(DatabaseError::Inconsistent(format!(
                "BLOCKHASH({number}) needs that block's child header in witness.headers"
            )))
        })
    }
}

/// Executes the block of `input` from its witness and returns it sealed, as the node would
/// store it. A payload the engine would refuse (a transaction the EVM rejects, bad attributes)
/// is an error.
pub fn execute_stateless(input: &StatelessBlock) -> Result<StoredBlock, ExecutionError> {
    let parent_hash = input.check()?;
    let rollup = &input.rollup_config;
    let header = next_header(rollup, &input.parent_header, parent_hash, &input.payload_attributes)?;
    let nodes = WitnessNodes::new(input.witness.state.iter().map(|node| node.to_vec()));
    let db = WitnessDatabase::new(&nodes, &input.witness, &input.parent_header, parent_hash)?;
    let outcome = execute_transactions(rollup, header, &input.payload_attributes, &db)
        .map_err(|err| db.take_error().map_or(err, ExecutionError::Database))?;
    if let Some(rejected) = outcome.skipped.first() {
        return Err(ExecutionError::InvalidAttributes(format!(
            "transaction {} is invalid: {}; the engine refuses the whole payload",
            rejected.index, rejected.reason
        )));
    }
    let state_root = db.apply(&bundle_changes(&outcome.bundle))?;
    // before Isthmus the header does not commit to the message passer
    let passer_root = if rollup.is_isthmus_active(outcome.header.timestamp) {
        Some(db.storage_root(L2_TO_L1_MESSAGE_PASSER)?)
    } else {
        None
    };
    Ok(seal_block(rollup, outcome, state_root, passer_root))
}

/// A header field whose computed value differs from the expected one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldMismatch {
    /// The field's JSON name (`stateRoot`, `gasUsed`, ...).
    pub field: String,
    /// The real value.
    pub expected: serde_json::Value,
    /// What lockstep computed.
    pub computed: serde_json::Value,
}

/// Every header field on which `computed` and `expected` differ, by JSON name.
pub fn header_mismatches(computed: &Header, expected: &Header) -> Vec<FieldMismatch> {
    let as_map = |header: &Header| match serde_json::to_value(header) {
        Ok(serde_json::Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    };
    let (computed, expected) = (as_map(computed), as_map(expected));
    let mut fields: Vec<&String> = computed.keys().chain(expected.keys()).collect();
    fields.sort();
    fields.dedup();
    fields
        .into_iter()
        .filter_map(|field| {
            let (c, e) = (computed.get(field), expected.get(field));
            (c != e).then(|| FieldMismatch {
                field: field.clone(),
                expected: e.cloned().unwrap_or(serde_json::Value::Null),
                computed: c.cloned().unwrap_or(serde_json::Value::Null),
            })
        })
        .collect()
}
