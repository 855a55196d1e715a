//! Executing OP blocks from payload attributes over the shared MDBX state.

use crate::{
    env::{evm_env, extra_data, next_base_fee},
    ExecutionError,
};
use alloy_consensus::{
    proofs::ordered_trie_root_with_encoder, Header, TxReceipt, EMPTY_OMMER_ROOT_HASH,
};
use alloy_eips::{eip2718::Encodable2718, eip7685::EMPTY_REQUESTS_HASH};
use alloy_evm::{
    block::{BlockExecutionError, BlockExecutor, BlockValidationError},
    Evm, EvmFactory,
};
use alloy_op_evm::{
    block::{OpAlloyReceiptBuilder, OpBlockExecutor},
    OpBlockExecutionCtx, OpEvmFactory, OpTx,
};
use alloy_primitives::{keccak256, Bloom, B256, B64, U256};
use alloy_trie::EMPTY_ROOT_HASH;
use lockstep_chainspec::RollupConfig;
use lockstep_chainspec::{ChainSpec, L2_TO_L1_MESSAGE_PASSER};
use lockstep_storage::{
    Account, ChainProvider, DatabaseError, DbTx, StateChanges, StoredBlock, TableWrite, RW,
};
use op_alloy_consensus::{OpReceiptEnvelope, OpTxEnvelope};
use op_alloy_rpc_types_engine::OpPayloadAttributes;
use revm::{
    database::{states::bundle_state::BundleRetention, BundleState, State},
    database_interface::{DatabaseRef, WrapDatabaseRef},
};
use std::sync::Arc;

/// The largest gas limit a header may carry, as geth and reth bound it (2^63 - 1).
const MAX_GAS_LIMIT: u64 = i64::MAX as u64;

/// A transaction of the attributes that the EVM rejected as invalid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedTransaction {
    /// Its index in the attributes.
    pub index: usize,
    /// Why the EVM rejected it.
    pub reason: String,
}

/// A block that was executed and written.
#[derive(Debug, Clone)]
pub struct ExecutedBlock {
    /// The block as stored.
    pub block: StoredBlock,
    /// Transactions of the attributes that the EVM rejected and that were left out.
    pub skipped: Vec<RejectedTransaction>,
}

/// The outcome of executing transactions over some state, before anything is written.
#[derive(Debug)]
pub struct ExecutionOutcome {
    /// The header fields known before execution (roots and gas still unset).
    pub header: Header,
    /// The transactions that were included.
    pub transactions: Vec<OpTxEnvelope>,
    /// Their receipts.
    pub receipts: Vec<OpReceiptEnvelope>,
    /// Gas used by the block.
    pub gas_used: u64,
    /// The block's DA footprint (from Jovian; 0 before).
    pub da_footprint: u64,
    /// The state changes.
    pub bundle: BundleState,
    /// Transactions that the EVM rejected and that were left out.
    pub skipped: Vec<RejectedTransaction>,
}

/// Executes the blocks of one chain.
#[derive(Debug, Clone)]
pub struct ChainExecutor {
    spec: Arc<ChainSpec>,
}

impl ChainExecutor {
    /// An executor for the chain described by `spec`.
    pub const fn new(spec: Arc<ChainSpec>) -> Self {
        Self { spec }
    }

    /// The chain's spec.
    pub fn spec(&self) -> &ChainSpec {
        &self.spec
    }

    /// The chain's spec, shared.
    pub const fn shared_spec(&self) -> &Arc<ChainSpec> {
        &self.spec
    }

    /// The chain id.
    pub fn chain_id(&self) -> u64 {
        self.spec.chain_id()
    }

    /// Writes the chain's genesis (state, trie, header) unless it is there already, and returns
    /// its state root and block hash. A different genesis already stored for this chain is an
    /// error and nothing is written.
    pub fn init_genesis(&self, tx: &DbTx<'_, RW>) -> Result<GenesisInfo, ExecutionError> {
        let provider = ChainProvider::new(tx, self.chain_id());
        let stored = provider.genesis_hash()?;
        if stored.is_some() {
            // computing it again would write; compare against the stored header instead
            let number = self.spec.genesis_number();
            let header = provider.header(number)?.ok_or_else(|| {
                DatabaseError::Inconsistent(format!("genesis header {number} missing"))
            })?;
            let info = GenesisInfo {
                state_root: header.state_root,
                hash: header.hash_slow(),
                newly_written: false,
            };
            let expected = genesis_header(&self.spec).hash_slow();
            if expected != info.hash {
                return Err(ExecutionError::GenesisMismatch {
                    chain: self.chain_id(),
                    stored: info.hash,
                    computed: expected,
                });
            }
            return Ok(info);
        }
        let number = self.spec.genesis_number();
        let state_root = provider.write_state(number, &genesis_changes(&self.spec))?;
        let message_passer_root = provider.storage_root(L2_TO_L1_MESSAGE_PASSER)?;
        let header = self.spec.genesis_header(state_root, message_passer_root);
        let hash = header.hash_slow();
        provider.write_block(&StoredBlock {
            hash,
            header,
            transactions: Vec::new(),
            receipts: Vec::new(),
        })?;
        provider.set_genesis_hash(hash)?;
        Ok(GenesisInfo { state_root, hash, newly_written: true })
    }

    /// Builds the header of the next block on `parent` from `attrs`, before execution.
    pub fn next_header(
        &self,
        parent: &Header,
        parent_hash: B256,
        attrs: &OpPayloadAttributes,
    ) -> Result<Header, ExecutionError> {
        next_header(&self.spec.rollup, parent, parent_hash, attrs)
    }

    /// Executes the attributes' transactions on top of `header`'s parent state in `db`.
    /// Nothing is written; the outcome holds the state changes.
    pub fn execute_transactions<DB: DatabaseRef + std::fmt::Debug>(
        &self,
        header: Header,
        attrs: &OpPayloadAttributes,
        db: DB,
    ) -> Result<ExecutionOutcome, ExecutionError>
    where
        DB::Error: Send + Sync + 'static,
    {
        execute_transactions(&self.spec.rollup, header, attrs, db)
    }

    /// Executes `attrs` on the chain's head and writes the block, its state, changesets, trie and
    /// receipts in `tx` (the write transaction, or an [`lockstep_storage::Overlay`] over a read
    /// snapshot). The caller commits.
    pub fn execute<T: TableWrite + std::fmt::Debug>(
        &self,
        tx: &T,
        attrs: &OpPayloadAttributes,
    ) -> Result<ExecutedBlock, ExecutionError> {
        self.execute_on_head_with(tx, attrs, |outcome| outcome)
    }

    /// Executes a derived payload as an engine does: every transaction must be valid, or the
    /// whole payload is refused ([`ExecutionError::InvalidPayload`]) and nothing is written.
    /// Otherwise as [`Self::execute`].
    pub fn execute_payload<T: TableWrite + std::fmt::Debug>(
        &self,
        tx: &T,
        attrs: &OpPayloadAttributes,
    ) -> Result<ExecutedBlock, ExecutionError> {
        let refuse = |result: Result<ExecutionOutcome, ExecutionError>| match result {
            Err(ExecutionError::InvalidAttributes(reason)) => {
                Err(ExecutionError::InvalidPayload(reason))
            }
            Ok(outcome) => match outcome.skipped.first() {
                Some(rejected) => Err(ExecutionError::InvalidPayload(format!(
                    "transaction {}: {}",
                    rejected.index, rejected.reason
                ))),
                None => Ok(outcome),
            },
            Err(err) => Err(err),
        };
        self.execute_on_head_with(tx, attrs, refuse)
    }

    /// Executes `attrs` on the chain's head; `accept` judges the execution's outcome (or its
    /// error) before anything is written.
    fn execute_on_head_with<T: TableWrite + std::fmt::Debug>(
        &self,
        tx: &T,
        attrs: &OpPayloadAttributes,
        accept: impl FnOnce(
            Result<ExecutionOutcome, ExecutionError>,
        ) -> Result<ExecutionOutcome, ExecutionError>,
    ) -> Result<ExecutedBlock, ExecutionError> {
        let chain = self.chain_id();
        let provider = ChainProvider::new(tx, chain);
        let head = provider.head()?.ok_or(ExecutionError::NotInitialised(chain))?;
        let parent = provider.header(head.number)?.ok_or_else(|| {
            DatabaseError::Inconsistent(format!(
                "chain {chain}: head header {} missing",
                head.number
            ))
        })?;
        let header = self.next_header(&parent, head.hash, attrs)?;
        let outcome = accept(self.execute_transactions(header, attrs, provider.state()))?;
        let block = self.seal(&provider, outcome.header.number, outcome)?;
        provider.write_block(&block.block)?;
        Ok(block)
    }

    /// Writes the outcome's state and fills in the header's roots.
    fn seal<T: TableWrite>(
        &self,
        provider: &ChainProvider<'_, T>,
        number: u64,
        mut outcome: ExecutionOutcome,
    ) -> Result<ExecutedBlock, ExecutionError> {
        let state_root = provider.write_state(number, &bundle_changes(&outcome.bundle))?;
        let passer_root = if self.spec.rollup.is_isthmus_active(outcome.header.timestamp) {
            Some(provider.storage_root(L2_TO_L1_MESSAGE_PASSER)?)
        } else {
            None
        };
        let skipped = std::mem::take(&mut outcome.skipped);
        Ok(ExecutedBlock {
            block: seal_block(&self.spec.rollup, outcome, state_root, passer_root),
            skipped,
        })
    }

    /// The output root of the chain's head block:
    /// `keccak256(0 ‖ stateRoot ‖ messagePasserStorageRoot ‖ blockHash)`.
    pub fn head_output_root<K: lockstep_storage::TransactionKind>(
        &self,
        tx: &DbTx<'_, K>,
    ) -> Result<B256, ExecutionError> {
        let provider = ChainProvider::new(tx, self.chain_id());
        let head = provider.head()?.ok_or(ExecutionError::NotInitialised(self.chain_id()))?;
        let state_root = provider.state_root()?;
        let passer = provider.storage_root(L2_TO_L1_MESSAGE_PASSER)?;
        Ok(output_root(state_root, passer, head.hash))
    }
}

/// Builds the header of the next block on `parent` from `attrs`, before execution: every field
/// but the roots, the bloom and the gas used.
pub fn next_header(
    rollup: &RollupConfig,
    parent: &Header,
    parent_hash: B256,
    attrs: &OpPayloadAttributes,
) -> Result<Header, ExecutionError> {
    let pa = &attrs.payload_attributes;
    let timestamp = pa.timestamp;
    if timestamp <= parent.timestamp {
        return Err(ExecutionError::InvalidAttributes(format!(
            "timestamp {timestamp} is not after the parent's {}",
            parent.timestamp
        )));
    }
    let gas_limit = attrs
        .gas_limit
        .ok_or_else(|| ExecutionError::InvalidAttributes("gasLimit is required".into()))?;
    if gas_limit == 0 || gas_limit > MAX_GAS_LIMIT {
        return Err(ExecutionError::InvalidAttributes(format!(
            "gasLimit {gas_limit} is outside 1..={MAX_GAS_LIMIT}"
        )));
    }
    let ecotone = rollup.is_ecotone_active(timestamp);
    Ok(Header {
        parent_hash,
        ommers_hash: EMPTY_OMMER_ROOT_HASH,
        beneficiary: pa.suggested_fee_recipient,
        number: parent.number + 1,
        gas_limit,
        timestamp,
        extra_data: extra_data(rollup, timestamp, attrs.eip_1559_params, attrs.min_base_fee)?,
        mix_hash: pa.prev_randao,
        nonce: B64::ZERO,
        base_fee_per_gas: Some(next_base_fee(rollup, parent, timestamp)?),
        blob_gas_used: ecotone.then_some(0),
        excess_blob_gas: ecotone.then_some(0),
        parent_beacon_block_root: if ecotone { pa.parent_beacon_block_root } else { None },
        requests_hash: rollup.is_isthmus_active(timestamp).then_some(EMPTY_REQUESTS_HASH),
        withdrawals_root: rollup.is_canyon_active(timestamp).then_some(EMPTY_ROOT_HASH),
        ..Default::default()
    })
}

/// Executes the attributes' transactions on top of `header`'s parent state in `db`.
/// Nothing is written; the outcome holds the state changes.
pub fn execute_transactions<DB: DatabaseRef + std::fmt::Debug>(
    rollup: &RollupConfig,
    header: Header,
    attrs: &OpPayloadAttributes,
    db: DB,
) -> Result<ExecutionOutcome, ExecutionError>
where
    DB::Error: Send + Sync + 'static,
{
    let mut decoded = Vec::new();
    for (index, tx) in attrs.decoded_transactions().enumerate() {
        let tx = tx.map_err(|e| {
            ExecutionError::InvalidAttributes(format!("transaction {index} does not decode: {e}"))
        })?;
        decoded.push(tx);
    }
    let recovered = crate::recover::recover_senders(decoded);
    let mut state =
        State::builder().with_database(WrapDatabaseRef(db)).with_bundle_update().build();
    let mut evm = OpEvmFactory::<OpTx>::default().create_evm(&mut state, evm_env(rollup, &header));
    crate::karst::limit_precompiles(rollup, header.timestamp, evm.precompiles_mut());
    let ctx = OpBlockExecutionCtx {
        parent_hash: header.parent_hash,
        parent_beacon_block_root: header.parent_beacon_block_root,
        extra_data: header.extra_data.clone(),
    };
    let mut executor = OpBlockExecutor::new(
        evm,
        ctx,
        crate::forks::Forks(rollup),
        OpAlloyReceiptBuilder::default(),
    );
    executor.apply_pre_execution_changes()?;
    let mut transactions = Vec::with_capacity(recovered.len());
    let mut skipped = Vec::new();
    for (index, tx) in recovered.into_iter().enumerate() {
        // op-reth refuses a payload with a transaction whose signature does not recover
        let tx = tx.map_err(|e| {
            ExecutionError::InvalidAttributes(format!(
                "transaction {index}: the sender cannot be recovered: {e}"
            ))
        })?;
        if let Some(reason) = crate::karst::over_gas_cap(rollup, header.timestamp, tx.inner()) {
            skipped.push(RejectedTransaction { index, reason });
            continue;
        }
        match executor.execute_transaction(&tx) {
            Ok(_) => transactions.push(tx.into_inner()),
            // a block builder leaves out a transaction the EVM rejects as invalid (and an
            // engine refuses the payload: `execute_payload`)
            Err(BlockExecutionError::Validation(BlockValidationError::InvalidTx {
                error, ..
            })) => skipped.push(RejectedTransaction { index, reason: error.to_string() }),
            Err(BlockExecutionError::Validation(error)) => {
                skipped.push(RejectedTransaction { index, reason: error.to_string() })
            }
            Err(err) => return Err(err.into()),
        }
    }
    let (_evm, result) = executor.finish()?;
    state.merge_transitions(BundleRetention::Reverts);
    Ok(ExecutionOutcome {
        header,
        transactions,
        receipts: result.receipts,
        gas_used: result.gas_used,
        da_footprint: result.blob_gas_used,
        bundle: state.take_bundle(),
        skipped,
    })
}

/// The sealed block of an execution outcome: the header completed with the state root, the
/// withdrawals root (the message passer's storage root, from Isthmus), the gas used, the DA
/// footprint (Jovian's blob gas), the
/// transactions and receipts roots and the bloom.
pub fn seal_block(
    rollup: &RollupConfig,
    outcome: ExecutionOutcome,
    state_root: B256,
    message_passer_root: Option<B256>,
) -> StoredBlock {
    let mut header = outcome.header;
    header.state_root = state_root;
    if rollup.is_isthmus_active(header.timestamp) {
        header.withdrawals_root = message_passer_root;
    }
    header.gas_used = outcome.gas_used;
    if rollup.is_jovian_active(header.timestamp) {
        // from Jovian the header's blob gas carries the block's DA footprint
        header.blob_gas_used = Some(outcome.da_footprint);
    }
    header.transactions_root =
        ordered_trie_root_with_encoder(&outcome.transactions, |tx, buf| tx.encode_2718(buf));
    header.receipts_root = receipts_root(rollup, header.timestamp, &outcome.receipts);
    header.logs_bloom = outcome.receipts.iter().fold(Bloom::ZERO, |bloom, r| bloom | r.bloom());
    let hash = header.hash_slow();
    StoredBlock { hash, header, transactions: outcome.transactions, receipts: outcome.receipts }
}

/// `keccak256(bytes32(0) ‖ stateRoot ‖ messagePasserStorageRoot ‖ blockHash)`, the output root
/// of OP fault proofs (version 0).
pub fn output_root(state_root: B256, message_passer_root: B256, block_hash: B256) -> B256 {
    let mut preimage = [0u8; 128];
    preimage[32..64].copy_from_slice(state_root.as_slice());
    preimage[64..96].copy_from_slice(message_passer_root.as_slice());
    preimage[96..].copy_from_slice(block_hash.as_slice());
    keccak256(preimage)
}

/// The receipts root. Between Regolith and Canyon, deposit receipts are hashed without their
/// nonce, as op-geth did.
fn receipts_root(rollup: &RollupConfig, timestamp: u64, receipts: &[OpReceiptEnvelope]) -> B256 {
    if rollup.is_regolith_active(timestamp) && !rollup.is_canyon_active(timestamp) {
        let stripped: Vec<_> = receipts
            .iter()
            .cloned()
            .map(|mut r| {
                if let OpReceiptEnvelope::Deposit(d) = &mut r {
                    d.receipt.deposit_nonce = None;
                }
                r
            })
            .collect();
        return ordered_trie_root_with_encoder(&stripped, |r, buf| r.encode_2718(buf));
    }
    ordered_trie_root_with_encoder(receipts, |r, buf| r.encode_2718(buf))
}

/// What the chain was initialised with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenesisInfo {
    /// The genesis state root.
    pub state_root: B256,
    /// The genesis block hash.
    pub hash: B256,
    /// Whether this call wrote it (false: it was there already).
    pub newly_written: bool,
}

/// The genesis header of `spec`, with its state root computed in memory from the alloc (no
/// database involved).
pub fn genesis_header(spec: &ChainSpec) -> Header {
    let changes = genesis_changes(spec);
    let root_of = |slots: Option<&std::collections::BTreeMap<B256, U256>>| {
        lockstep_storage::trie::root_from_leaves(
            slots
                .into_iter()
                .flatten()
                .filter(|(_, v)| !v.is_zero())
                .map(|(slot, value)| (keccak256(slot), alloy_rlp::encode(value))),
        )
    };
    let state_root = lockstep_storage::trie::root_from_leaves(changes.accounts.iter().filter_map(
        |(address, account)| {
            let account = (*account)?;
            let leaf = alloy_trie::TrieAccount {
                nonce: account.nonce,
                balance: account.balance,
                storage_root: root_of(changes.storage.get(address)),
                code_hash: account.code_hash,
            };
            Some((keccak256(address), alloy_rlp::encode(leaf)))
        },
    ));
    spec.genesis_header(state_root, root_of(changes.storage.get(&L2_TO_L1_MESSAGE_PASSER)))
}

/// The genesis alloc as state changes.
pub fn genesis_changes(spec: &ChainSpec) -> StateChanges {
    let mut changes = StateChanges::default();
    for (address, account) in &spec.genesis.alloc {
        let code_hash = match &account.code {
            Some(code) if !code.is_empty() => {
                let hash = keccak256(code);
                changes.contracts.push((hash, code.to_vec()));
                hash
            }
            _ => alloy_trie::KECCAK_EMPTY,
        };
        changes.accounts.insert(
            *address,
            Some(Account {
                nonce: account.nonce.unwrap_or_default(),
                balance: account.balance,
                code_hash,
            }),
        );
        let slots = changes.storage.entry(*address).or_default();
        for (slot, value) in account.storage.iter().flatten() {
            slots.insert(*slot, U256::from_be_bytes(value.0));
        }
    }
    changes
}

/// The state changes of an executed block.
pub fn bundle_changes(bundle: &BundleState) -> StateChanges {
    let mut changes = StateChanges::default();
    for (address, account) in &bundle.state {
        if account.was_destroyed() {
            changes.wiped.insert(*address);
        }
        changes.accounts.insert(*address, account.info.as_ref().map(Account::from));
        let slots: std::collections::BTreeMap<B256, U256> = account
            .storage
            .iter()
            .filter(|(_, slot)| slot.is_changed() || account.was_destroyed())
            .map(|(key, slot)| (B256::from(*key), slot.present_value))
            .collect();
        if !slots.is_empty() {
            changes.storage.insert(*address, slots);
        }
    }
    for (hash, code) in &bundle.contracts {
        changes.contracts.push((*hash, code.original_bytes().to_vec()));
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_consensus::{Eip658Value, Receipt, ReceiptWithBloom};
    use alloy_primitives::{Address, Log, LogData};
    use alloy_rlp::Encodable;
    use op_alloy_consensus::OpDepositReceipt;

    fn receipts() -> Vec<OpReceiptEnvelope> {
        let log = Log {
            address: Address::repeat_byte(7),
            data: LogData::new_unchecked(vec![B256::repeat_byte(1)], vec![1, 2, 3].into()),
        };
        let deposit = OpDepositReceipt {
            inner: Receipt {
                status: Eip658Value::Eip658(true),
                cumulative_gas_used: 50_000,
                logs: vec![log.clone()],
            },
            deposit_nonce: Some(41),
            deposit_receipt_version: None,
        };
        let user = Receipt {
            status: Eip658Value::Eip658(false),
            cumulative_gas_used: 71_000,
            logs: vec![log],
        };
        vec![
            OpReceiptEnvelope::Deposit(ReceiptWithBloom::new(deposit.clone(), deposit.bloom())),
            OpReceiptEnvelope::Eip1559(ReceiptWithBloom::new(user.clone(), user.bloom())),
        ]
    }

    /// A receipt's consensus encoding written out by hand from the deposit spec: the type byte,
    /// then the list of status, cumulative gas, bloom and logs, and with Canyon the deposit
    /// nonce and receipt version.
    fn by_hand(receipt: &OpReceiptEnvelope, nonce_and_version: Option<(u64, u64)>) -> Vec<u8> {
        let (ty, inner) = match receipt {
            OpReceiptEnvelope::Deposit(r) => (0x7e, &r.receipt.inner),
            OpReceiptEnvelope::Eip1559(r) => (0x02, &r.receipt),
            _ => unreachable!("the test builds only these"),
        };
        let mut payload = Vec::new();
        inner.status.coerce_status().encode(&mut payload);
        inner.cumulative_gas_used.encode(&mut payload);
        receipt.bloom().encode(&mut payload);
        inner.logs.encode(&mut payload);
        if let Some((nonce, version)) = nonce_and_version {
            nonce.encode(&mut payload);
            version.encode(&mut payload);
        }
        let mut out = vec![ty];
        alloy_rlp::Header { list: true, payload_length: payload.len() }.encode(&mut out);
        out.extend(payload);
        out
    }

    /// The receipts trie: keyed by the RLP of each index (not hashed), built with alloy-trie's
    /// `HashBuilder` in key order.
    fn root_by_hand(encoded: &[Vec<u8>]) -> B256 {
        let mut leaves: Vec<_> =
            encoded.iter().enumerate().map(|(i, rlp)| (alloy_rlp::encode(i), rlp)).collect();
        leaves.sort();
        let mut builder = alloy_trie::HashBuilder::default();
        for (key, value) in leaves {
            builder.add_leaf(alloy_trie::Nibbles::unpack(key), value);
        }
        builder.root()
    }

    #[test]
    fn deposit_receipts_are_hashed_without_their_nonce_from_regolith_to_canyon() {
        let mut rollup = RollupConfig::default();
        rollup.hardforks.regolith_time = Some(0);
        rollup.hardforks.canyon_time = Some(100);
        let receipts = receipts();
        // between Regolith and Canyon the nonce is kept in the receipt but not hashed
        let expected = root_by_hand(&[by_hand(&receipts[0], None), by_hand(&receipts[1], None)]);
        assert_eq!(receipts_root(&rollup, 50, &receipts), expected);
        // from Canyon the nonce and the receipt version are hashed
        let mut canyon = receipts;
        if let OpReceiptEnvelope::Deposit(d) = &mut canyon[0] {
            d.receipt.deposit_receipt_version = Some(1);
        }
        let expected =
            root_by_hand(&[by_hand(&canyon[0], Some((41, 1))), by_hand(&canyon[1], None)]);
        assert_eq!(receipts_root(&rollup, 100, &canyon), expected);
    }
}
