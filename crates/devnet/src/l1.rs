//! The embedded L1: a real little Ethereum chain in process. It executes its transactions with
//! revm (Cancun rules, through alloy-evm's Ethereum block executor), and keeps blocks, receipts
//! and logs, so that the sequencer can post batches and commitments and a verifier can read them
//! back without any outside program.

use alloy_consensus::{
    proofs::ordered_trie_root_with_encoder, transaction::SignerRecoverable, Header,
    TxEip4844Variant, TxEnvelope, TxReceipt, EMPTY_OMMER_ROOT_HASH,
};
use alloy_eips::{eip1559::BaseFeeParams, eip2718::Decodable2718, eip2718::Encodable2718, eip4844};
use alloy_evm::{
    block::{BlockExecutionError, BlockExecutor, BlockValidationError},
    eth::{
        receipt_builder::AlloyReceiptBuilder, spec::EthExecutorSpec, EthBlockExecutionCtx,
        EthBlockExecutor,
    },
    EthEvmFactory, EvmEnv, EvmFactory,
};
use alloy_hardforks::{EthereumHardfork, EthereumHardforks, ForkCondition};
use alloy_primitives::{keccak256, Address, Bloom, B256, U256};
use alloy_trie::{root::storage_root_unhashed, TrieAccount, EMPTY_ROOT_HASH};
use lockstep_l1::{L1Block, L1Error, L1Node, L1Source};
use revm::{
    context::{BlockEnv, CfgEnv},
    database::{states::bundle_state::BundleRetention, AccountState, CacheDB, EmptyDB, State},
    primitives::hardfork::SpecId,
    state::AccountInfo,
};
use std::collections::HashMap;

/// Seconds between L1 blocks.
pub const L1_BLOCK_TIME: u64 = 12;
/// The L1 gas limit.
pub const L1_GAS_LIMIT: u64 = 30_000_000;
/// The most blobs one L1 block carries (Cancun).
pub const MAX_BLOBS_PER_BLOCK: usize = 6;

/// Every Ethereum fork up to Cancun from genesis; Prague never.
#[derive(Debug, Clone, Copy, Default)]
struct DevL1Spec;

impl EthereumHardforks for DevL1Spec {
    fn ethereum_fork_activation(&self, fork: EthereumHardfork) -> ForkCondition {
        if fork <= EthereumHardfork::Paris {
            ForkCondition::Block(0)
        } else if fork <= EthereumHardfork::Cancun {
            ForkCondition::Timestamp(0)
        } else {
            ForkCondition::Never
        }
    }
}

impl EthExecutorSpec for DevL1Spec {
    fn deposit_contract_address(&self) -> Option<Address> {
        None
    }
}

/// The in-process L1 chain.
#[derive(Debug)]
pub struct EmbeddedL1 {
    chain_id: u64,
    state: CacheDB<EmptyDB>,
    blocks: Vec<L1Block>,
    by_hash: HashMap<B256, u64>,
    pending: Vec<TxEnvelope>,
    /// Blobs from the sidecars of blob transactions, by versioned hash (an L1 node's beacon
    /// side keeps them; here they live beside the chain).
    blobs: HashMap<B256, Box<eip4844::Blob>>,
}

impl EmbeddedL1 {
    /// A chain whose genesis at `timestamp` funds `accounts`.
    pub fn new(chain_id: u64, timestamp: u64, accounts: &[(Address, U256)]) -> Self {
        let mut state = CacheDB::new(EmptyDB::default());
        for (address, balance) in accounts {
            state.insert_account_info(
                *address,
                AccountInfo { balance: *balance, ..Default::default() },
            );
        }
        // EIP-4788's contract, which Cancun blocks call
        let beacon = revm::bytecode::Bytecode::new_raw(eip4788_code());
        state.insert_account_info(
            alloy_eips::eip4788::BEACON_ROOTS_ADDRESS,
            AccountInfo { code_hash: beacon.hash_slow(), code: Some(beacon), ..Default::default() },
        );
        let header = Header {
            ommers_hash: EMPTY_OMMER_ROOT_HASH,
            state_root: state_root(&state),
            transactions_root: EMPTY_ROOT_HASH,
            receipts_root: EMPTY_ROOT_HASH,
            gas_limit: L1_GAS_LIMIT,
            timestamp,
            mix_hash: keccak256(b"lockstep embedded L1"),
            base_fee_per_gas: Some(1_000_000_000),
            withdrawals_root: Some(EMPTY_ROOT_HASH),
            blob_gas_used: Some(0),
            excess_blob_gas: Some(0),
            parent_beacon_block_root: Some(B256::ZERO),
            ..Default::default()
        };
        let hash = header.hash_slow();
        let genesis = L1Block { header, hash, transactions: vec![], receipts: vec![] };
        Self {
            chain_id,
            state,
            blocks: vec![genesis],
            by_hash: HashMap::from([(hash, 0)]),
            pending: vec![],
            blobs: HashMap::new(),
        }
    }

    fn latest(&self) -> &L1Block {
        // the chain always holds its genesis
        &self.blocks[self.blocks.len() - 1]
    }

    /// The block with `hash`.
    pub fn block_by_hash(&self, hash: B256) -> Option<&L1Block> {
        self.by_hash.get(&hash).and_then(|n| self.blocks.get(*n as usize))
    }

    /// The nonce and balance of `address` at the head.
    pub fn account(&self, address: Address) -> (u64, U256) {
        self.state
            .cache
            .accounts
            .get(&address)
            .filter(|a| a.account_state != AccountState::NotExisting)
            .map_or((0, U256::ZERO), |a| (a.info.nonce, a.info.balance))
    }
}

impl L1Source for EmbeddedL1 {
    fn chain_id(&self) -> u64 {
        self.chain_id
    }

    fn head_number(&self) -> Result<u64, L1Error> {
        Ok(self.latest().header.number)
    }

    fn block(&self, number: u64) -> Result<Option<L1Block>, L1Error> {
        Ok(usize::try_from(number).ok().and_then(|n| self.blocks.get(n)).cloned())
    }

    fn blobs(&self, block: &L1Block, hashes: &[B256]) -> Result<Vec<Box<eip4844::Blob>>, L1Error> {
        hashes
            .iter()
            .map(|h| {
                self.blobs.get(h).cloned().ok_or_else(|| {
                    L1Error::BadResponse(format!("no blob {h} in L1 block {}", block.header.number))
                })
            })
            .collect()
    }

    /// The embedded L1 never reorgs; it calls a block finalized two epochs (64 blocks) after
    /// it, as a beacon chain would at the earliest.
    fn finalized_number(&self) -> Result<Option<u64>, L1Error> {
        Ok(Some(self.latest().header.number.saturating_sub(FINALITY_DEPTH)))
    }
}

/// How far behind its head the embedded L1 calls blocks finalized: two epochs of 32 slots.
pub const FINALITY_DEPTH: u64 = 64;

impl L1Node for EmbeddedL1 {
    fn head(&self) -> Result<L1Block, L1Error> {
        Ok(self.latest().clone())
    }

    /// Queues a signed transaction (EIP-2718 bytes) for the next block. A blob transaction
    /// comes in its network form, with its sidecar: the sidecar is checked against the
    /// versioned hashes (KZG proofs), its blobs are kept, and the block holds the transaction
    /// without it.
    fn send_raw_transaction(&mut self, raw: &[u8]) -> Result<B256, L1Error> {
        let mut tx =
            TxEnvelope::decode_2718_exact(raw).map_err(|e| L1Error::Rejected(e.to_string()))?;
        tx.recover_signer().map_err(|e| L1Error::Rejected(e.to_string()))?;
        let hash = *tx.tx_hash();
        if let TxEnvelope::Eip4844(signed) = &tx {
            let (variant, signature, hash) = signed.clone().into_parts();
            match variant {
                TxEip4844Variant::TxEip4844WithSidecar(with) => {
                    let sidecar = with.sidecar.as_eip4844().ok_or_else(|| {
                        L1Error::Rejected("only EIP-4844 sidecars are supported".into())
                    })?;
                    let settings = eip4844::env_settings::EnvKzgSettings::Default;
                    sidecar
                        .validate(&with.tx.blob_versioned_hashes, settings.get())
                        .map_err(|e| L1Error::Rejected(format!("blob sidecar: {e}")))?;
                    for (blob, versioned) in sidecar.blobs.iter().zip(sidecar.versioned_hashes()) {
                        self.blobs.insert(versioned, Box::new(*blob));
                    }
                    let bare = TxEip4844Variant::TxEip4844(with.tx);
                    tx = TxEnvelope::Eip4844(alloy_consensus::Signed::new_unchecked(
                        bare, signature, hash,
                    ));
                }
                TxEip4844Variant::TxEip4844(_) => {
                    return Err(L1Error::Rejected(
                        "a blob transaction must come with its sidecar".into(),
                    ))
                }
            }
        }
        self.pending.push(tx);
        Ok(hash)
    }

    /// Mines the next block from the queued transactions; invalid ones are dropped, as a
    /// mempool drops them.
    fn mine(&mut self, block_time: u64) -> Result<L1Block, L1Error> {
        let parent = self.latest().header.clone();
        let parent_hash = self.latest().hash;
        let number = parent.number + 1;
        let timestamp = parent.timestamp + block_time;
        let base_fee = parent.next_block_base_fee(BaseFeeParams::ethereum()).unwrap_or_default();
        let excess_blob_gas = parent
            .next_block_excess_blob_gas(alloy_eips::eip7840::BlobParams::cancun())
            .unwrap_or_default();
        let beacon_root = keccak256([b"beacon".as_slice(), &number.to_be_bytes()].concat());
        let mut header = Header {
            parent_hash,
            ommers_hash: EMPTY_OMMER_ROOT_HASH,
            number,
            gas_limit: L1_GAS_LIMIT,
            timestamp,
            mix_hash: keccak256(number.to_be_bytes()),
            base_fee_per_gas: Some(base_fee),
            withdrawals_root: Some(EMPTY_ROOT_HASH),
            excess_blob_gas: Some(excess_blob_gas),
            parent_beacon_block_root: Some(beacon_root),
            ..Default::default()
        };
        let env = EvmEnv {
            cfg_env: CfgEnv::new_with_spec(SpecId::CANCUN).with_chain_id(self.chain_id),
            block_env: BlockEnv {
                number: U256::from(number),
                beneficiary: Address::ZERO,
                timestamp: U256::from(timestamp),
                gas_limit: L1_GAS_LIMIT,
                basefee: base_fee,
                difficulty: U256::ZERO,
                prevrandao: Some(header.mix_hash),
                blob_excess_gas_and_price: Some(
                    revm::context_interface::block::BlobExcessGasAndPrice::new(
                        excess_blob_gas,
                        eip4844::BLOB_GASPRICE_UPDATE_FRACTION as u64,
                    ),
                ),
                slot_num: 0,
            },
        };
        let pending = std::mem::take(&mut self.pending);
        let (transactions, receipts, bundle) = {
            let mut state =
                State::builder().with_database(&mut self.state).with_bundle_update().build();
            let evm = EthEvmFactory::default().create_evm(&mut state, env);
            let ctx = EthBlockExecutionCtx {
                parent_hash,
                parent_beacon_block_root: Some(beacon_root),
                ommers: &[],
                withdrawals: None,
                extra_data: Default::default(),
                slot_number: None,
                tx_count_hint: None,
            };
            let mut executor =
                EthBlockExecutor::new(evm, ctx, DevL1Spec, AlloyReceiptBuilder::default());
            executor
                .apply_pre_execution_changes()
                .map_err(|e| L1Error::Execution(e.to_string()))?;
            let mut included = Vec::new();
            let mut blobs_in_block = 0;
            for tx in pending {
                // at most six blobs a block (Cancun); the rest wait for the next one
                let blobs = alloy_consensus::Transaction::blob_versioned_hashes(&tx)
                    .map_or(0, <[B256]>::len);
                if blobs_in_block + blobs > MAX_BLOBS_PER_BLOCK {
                    self.pending.push(tx);
                    continue;
                }
                let Ok(recovered) = tx.clone().try_into_recovered() else { continue };
                match executor.execute_transaction(&recovered) {
                    Ok(_) => {
                        blobs_in_block += blobs;
                        included.push(tx);
                    }
                    Err(BlockExecutionError::Validation(BlockValidationError::InvalidTx {
                        ..
                    })) => {}
                    Err(BlockExecutionError::Validation(
                        BlockValidationError::TransactionGasLimitMoreThanAvailableBlockGas {
                            ..
                        },
                    )) => self.pending.push(tx),
                    Err(e) => return Err(L1Error::Execution(e.to_string())),
                }
            }
            let (_, result) = executor.finish().map_err(|e| L1Error::Execution(e.to_string()))?;
            state.merge_transitions(BundleRetention::PlainState);
            (included, result.receipts, state.take_bundle())
        };
        for (address, account) in bundle.state {
            match account.info {
                None => {
                    self.state.cache.accounts.remove(&address);
                }
                Some(info) => {
                    if account.status.was_destroyed() {
                        if let Some(db_account) = self.state.cache.accounts.get_mut(&address) {
                            db_account.storage.clear();
                        }
                    }
                    self.state.insert_account_info(address, info);
                    for (slot, value) in account.storage {
                        let _ =
                            self.state.insert_account_storage(address, slot, value.present_value);
                    }
                }
            }
        }
        header.state_root = state_root(&self.state);
        header.transactions_root =
            ordered_trie_root_with_encoder(&transactions, |tx, buf| tx.encode_2718(buf));
        header.receipts_root =
            ordered_trie_root_with_encoder(&receipts, |r, buf| r.encode_2718(buf));
        header.logs_bloom = receipts.iter().fold(Bloom::ZERO, |b, r| b | r.bloom());
        header.gas_used = receipts.last().map_or(0, |r| r.cumulative_gas_used());
        header.blob_gas_used = Some(
            transactions
                .iter()
                .filter_map(|t| alloy_consensus::Transaction::blob_versioned_hashes(t))
                .map(|hashes| hashes.len() as u64 * eip4844::DATA_GAS_PER_BLOB)
                .sum::<u64>(),
        );
        let hash = header.hash_slow();
        self.by_hash.insert(hash, number);
        self.blocks.push(L1Block { header, hash, transactions, receipts });
        Ok(self.latest().clone())
    }
}

fn eip4788_code() -> alloy_primitives::Bytes {
    alloy_eips::eip4788::BEACON_ROOTS_CODE.clone()
}

/// The state root of the whole in-memory state.
fn state_root(state: &CacheDB<EmptyDB>) -> B256 {
    let accounts = state
        .cache
        .accounts
        .iter()
        .filter(|(_, a)| a.account_state != AccountState::NotExisting)
        .map(|(address, account)| {
            let storage_root = storage_root_unhashed(
                account
                    .storage
                    .iter()
                    .filter(|(_, v)| !v.is_zero())
                    .map(|(k, v)| (B256::from(*k), *v)),
            );
            let code_hash = if account.info.code_hash == B256::ZERO {
                alloy_trie::KECCAK_EMPTY
            } else {
                account.info.code_hash
            };
            (
                *address,
                TrieAccount {
                    nonce: account.info.nonce,
                    balance: account.info.balance,
                    storage_root,
                    code_hash,
                },
            )
        });
    alloy_trie::root::state_root_unhashed(accounts)
}
