//! A deterministic generator of OP chains and blocks for tests and benchmarks.
//!
//! [`test_chain_spec`] makes an Isthmus-at-genesis chain with funded dev accounts and a small
//! storage contract; [`BlockGenerator`] produces payload attributes whose transactions mix
//! deposits, ETH transfers, contract deploys, storage writes and deletes, self-destructs,
//! reverts and touches of empty accounts.

use alloy_consensus::{SignableTransaction, TxEip1559, TxLegacy};
use alloy_eips::eip4895::Withdrawals;
use alloy_genesis::{Genesis, GenesisAccount};
use alloy_primitives::{address, b256, keccak256, Address, Bytes, TxKind, B256, B64, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use kona_protocol::L1BlockInfoIsthmus;
use lockstep_chainspec::{
    BaseFeeConfig, ChainGenesis, GenesisSystemConfig as SystemConfig, RollupConfig,
};
use lockstep_chainspec::{ChainSpec, L2_TO_L1_MESSAGE_PASSER};
use op_alloy_consensus::{OpTxEnvelope, TxDeposit};
use op_alloy_rpc_types_engine::OpPayloadAttributes;
use rand::{rngs::StdRng, Rng, SeedableRng};
use std::collections::BTreeMap;

/// Runtime of the test contract: with empty calldata it self-destructs to the caller; otherwise
/// it stores word 1 at slot word 0, then reverts if word 2 is non-zero.
pub const STORAGE_CONTRACT: &[u8] = &[
    0x36, 0x15, 0x60, 0x19, 0x57, 0x60, 0x20, 0x35, 0x60, 0x00, 0x35, 0x55, 0x60, 0x40, 0x35, 0x60,
    0x13, 0x57, 0x00, 0x5b, 0x60, 0x00, 0x60, 0x00, 0xfd, 0x5b, 0x33, 0xff,
];

/// Init code that deploys [`STORAGE_CONTRACT`].
pub fn storage_contract_initcode() -> Vec<u8> {
    let mut code = vec![0x60, 0x1c, 0x80, 0x60, 0x0b, 0x60, 0x00, 0x39, 0x60, 0x00, 0xf3];
    code.extend_from_slice(STORAGE_CONTRACT);
    code
}

/// Init code that writes a slot and self-destructs during construction: the account is created
/// and removed in one transaction.
pub const SELF_DESTRUCT_INITCODE: &[u8] = &[0x60, 0x2a, 0x60, 0x01, 0x55, 0x33, 0xff];

/// The test contract's address in the generated genesis.
pub const STORAGE_CONTRACT_ADDRESS: Address =
    address!("0x00000000000000000000000000000000000c0de1");

/// The L1 attributes depositor account.
pub const L1_INFO_DEPOSITOR: Address = address!("0xdeaddeaddeaddeaddeaddeaddeaddeaddead0001");
/// The L1Block predeploy.
pub const L1_BLOCK: Address = address!("0x4200000000000000000000000000000000000015");

/// Genesis timestamp of generated chains.
pub const GENESIS_TIME: u64 = 1_700_000_000;

/// The dev accounts' keys for `chain_id`.
pub fn dev_signers(chain_id: u64, count: usize) -> Vec<PrivateKeySigner> {
    (0..count as u64)
        .map(|i| {
            let seed = keccak256([chain_id.to_be_bytes(), i.to_be_bytes()].concat());
            PrivateKeySigner::from_bytes(&seed).expect("a keccak output is a valid key")
        })
        .collect()
}

/// An Isthmus-at-genesis chain with `accounts` funded dev accounts. The message passer holds the
/// storage contract too, so blocks change the withdrawals root.
pub fn test_chain_spec(chain_id: u64, accounts: usize) -> ChainSpec {
    let mut alloc = BTreeMap::new();
    for signer in dev_signers(chain_id, accounts) {
        alloc.insert(
            signer.address(),
            GenesisAccount::default().with_balance(U256::from(10u128.pow(24))),
        );
    }
    let contract = GenesisAccount::default().with_code(Some(STORAGE_CONTRACT.to_vec().into()));
    alloc.insert(
        STORAGE_CONTRACT_ADDRESS,
        contract.clone().with_storage(Some(BTreeMap::from([(
            B256::with_last_byte(1),
            B256::with_last_byte(7),
        )]))),
    );
    alloc.insert(L2_TO_L1_MESSAGE_PASSER, contract);
    alloc.insert(
        alloy_eips::eip4788::BEACON_ROOTS_ADDRESS,
        GenesisAccount::default().with_code(Some(alloy_eips::eip4788::BEACON_ROOTS_CODE.clone())),
    );
    alloc.insert(
        alloy_eips::eip2935::HISTORY_STORAGE_ADDRESS,
        GenesisAccount::default()
            .with_code(Some(alloy_eips::eip2935::HISTORY_STORAGE_CODE.clone())),
    );
    let base_fee = BaseFeeConfig::optimism();
    let mut extra = vec![0u8];
    extra.extend_from_slice(&(base_fee.eip1559_denominator_canyon as u32).to_be_bytes());
    extra.extend_from_slice(&(base_fee.eip1559_elasticity as u32).to_be_bytes());
    let genesis = Genesis {
        timestamp: GENESIS_TIME,
        gas_limit: 60_000_000,
        extra_data: extra.into(),
        base_fee_per_gas: Some(1_000_000_000),
        alloc,
        ..Default::default()
    };
    let mut rollup = RollupConfig {
        genesis: ChainGenesis {
            l2_time: GENESIS_TIME,
            system_config: Some(SystemConfig { gas_limit: 60_000_000, ..Default::default() }),
            ..Default::default()
        },
        block_time: 2,
        l2_chain_id: chain_id.into(),
        chain_op_config: base_fee,
        ..Default::default()
    };
    lockstep_chainspec::activate_through_isthmus(&mut rollup);
    ChainSpec { rollup, genesis }
}

/// Produces a deterministic stream of payload attributes for one chain.
#[derive(Debug)]
pub struct BlockGenerator {
    chain_id: u64,
    signers: Vec<PrivateKeySigner>,
    nonces: Vec<u64>,
    rng: StdRng,
    number: u64,
    /// Contracts deployed by the generator (addresses it can call).
    contracts: Vec<Address>,
    /// How many user transactions per block, at most.
    pub max_txs: usize,
}

impl BlockGenerator {
    /// A generator for a chain made by [`test_chain_spec`] with the same `accounts`.
    pub fn new(chain_id: u64, accounts: usize, seed: u64) -> Self {
        Self {
            chain_id,
            signers: dev_signers(chain_id, accounts),
            nonces: vec![0; accounts],
            rng: StdRng::seed_from_u64(seed),
            number: 0,
            contracts: vec![STORAGE_CONTRACT_ADDRESS, L2_TO_L1_MESSAGE_PASSER],
            max_txs: 12,
        }
    }

    fn sign(
        &mut self,
        who: usize,
        to: TxKind,
        value: U256,
        input: Vec<u8>,
        legacy: bool,
    ) -> OpTxEnvelope {
        let nonce = self.nonces[who];
        self.nonces[who] += 1;
        let signer = &self.signers[who];
        if let TxKind::Create = to {
            self.contracts.push(signer.address().create(nonce));
        }
        if legacy {
            let tx = TxLegacy {
                chain_id: Some(self.chain_id),
                nonce,
                gas_price: 20_000_000_000,
                gas_limit: 300_000,
                to,
                value,
                input: input.into(),
            };
            let sig = signer.sign_hash_sync(&tx.signature_hash()).expect("signing");
            tx.into_signed(sig).into()
        } else {
            let tx = TxEip1559 {
                chain_id: self.chain_id,
                nonce,
                gas_limit: 300_000,
                max_fee_per_gas: 20_000_000_000,
                max_priority_fee_per_gas: 1_000,
                to,
                value,
                access_list: Default::default(),
                input: input.into(),
            };
            let sig = signer.sign_hash_sync(&tx.signature_hash()).expect("signing");
            tx.into_signed(sig).into()
        }
    }

    fn storage_call(&mut self, revert: bool) -> Vec<u8> {
        let slot = U256::from(self.rng.random_range(0..24u64));
        // a third of the writes clear the slot
        let value = if self.rng.random_bool(0.33) {
            U256::ZERO
        } else {
            U256::from(self.rng.random::<u64>())
        };
        [
            slot.to_be_bytes::<32>(),
            value.to_be_bytes::<32>(),
            U256::from(revert as u8).to_be_bytes::<32>(),
        ]
        .concat()
    }

    /// The attributes of the next block.
    pub fn next_attributes(&mut self) -> OpPayloadAttributes {
        self.number += 1;
        let number = self.number;
        let timestamp = GENESIS_TIME + 2 * number;
        let mut txs: Vec<OpTxEnvelope> = vec![self.l1_info_deposit(number)];
        if self.rng.random_bool(0.3) {
            let to = if self.rng.random_bool(0.5) {
                TxKind::Call(Address::from(self.rng.random::<[u8; 20]>()))
            } else {
                TxKind::Call(STORAGE_CONTRACT_ADDRESS)
            };
            let input = if to == TxKind::Call(STORAGE_CONTRACT_ADDRESS) {
                self.storage_call(false)
            } else {
                vec![]
            };
            txs.push(
                TxDeposit {
                    source_hash: keccak256([b"user".as_slice(), &number.to_be_bytes()].concat()),
                    from: Address::from(self.rng.random::<[u8; 20]>()),
                    to,
                    mint: 10u128.pow(18),
                    value: U256::from(10u128.pow(17)),
                    gas_limit: 200_000,
                    is_system_transaction: false,
                    input: input.into(),
                }
                .into(),
            );
        }
        let count = self.rng.random_range(0..=self.max_txs);
        for _ in 0..count {
            let who = self.rng.random_range(0..self.signers.len());
            let legacy = self.rng.random_bool(0.2);
            let tx = match self.rng.random_range(0..100) {
                0..30 => {
                    let to = if self.rng.random_bool(0.5) {
                        self.signers[self.rng.random_range(0..self.signers.len())].address()
                    } else {
                        Address::from(self.rng.random::<[u8; 20]>())
                    };
                    let value = U256::from(self.rng.random_range(1..10u64.pow(15)));
                    self.sign(who, TxKind::Call(to), value, vec![], legacy)
                }
                30..60 => {
                    let target = self.contracts[self.rng.random_range(0..self.contracts.len())];
                    let input = self.storage_call(false);
                    self.sign(who, TxKind::Call(target), U256::ZERO, input, legacy)
                }
                60..70 => {
                    let target = self.contracts[self.rng.random_range(0..self.contracts.len())];
                    let input = self.storage_call(true);
                    self.sign(who, TxKind::Call(target), U256::ZERO, input, legacy)
                }
                70..78 => {
                    self.sign(who, TxKind::Create, U256::ZERO, storage_contract_initcode(), legacy)
                }
                78..86 => {
                    let value = U256::from(self.rng.random_range(0..10u64.pow(12)));
                    self.sign(who, TxKind::Create, value, SELF_DESTRUCT_INITCODE.to_vec(), legacy)
                }
                86..93 => {
                    // a self-destruct of an existing contract (since Cancun it only moves the balance)
                    let target = self.contracts[self.rng.random_range(0..self.contracts.len())];
                    self.sign(who, TxKind::Call(target), U256::from(5), vec![], legacy)
                }
                _ => {
                    // touches a fresh empty account, which must not be created
                    let to = Address::from(self.rng.random::<[u8; 20]>());
                    self.sign(who, TxKind::Call(to), U256::ZERO, vec![], legacy)
                }
            };
            txs.push(tx);
        }
        let transactions = txs
            .iter()
            .map(|tx| Bytes::from(alloy_eips::eip2718::Encodable2718::encoded_2718(tx)))
            .collect();
        OpPayloadAttributes {
            payload_attributes: alloy_rpc_types_engine_attributes(timestamp, number),
            transactions: Some(transactions),
            no_tx_pool: Some(true),
            gas_limit: Some(60_000_000),
            eip_1559_params: Some(B64::ZERO),
            min_base_fee: None,
        }
    }

    /// The L1 info deposit (Isthmus format) of block `number`.
    pub fn l1_info_deposit(&self, number: u64) -> OpTxEnvelope {
        let info = L1BlockInfoIsthmus {
            number: 1000 + number / 6,
            time: GENESIS_TIME + number * 2 - number % 6,
            base_fee: 7,
            block_hash: keccak256((number / 6).to_be_bytes()),
            sequence_number: number % 6,
            batcher_address: address!("0x00000000000000000000000000000000000ba7c4"),
            blob_base_fee: 1,
            blob_base_fee_scalar: 1,
            base_fee_scalar: 1,
            operator_fee_scalar: 0,
            operator_fee_constant: 0,
        };
        TxDeposit {
            source_hash: keccak256([b"l1info".as_slice(), &number.to_be_bytes()].concat()),
            from: L1_INFO_DEPOSITOR,
            to: TxKind::Call(L1_BLOCK),
            mint: 0,
            value: U256::ZERO,
            gas_limit: 1_000_000,
            is_system_transaction: false,
            input: info.encode_calldata(),
        }
        .into()
    }
}

fn alloy_rpc_types_engine_attributes(
    timestamp: u64,
    number: u64,
) -> alloy_rpc_types_engine::PayloadAttributes {
    alloy_rpc_types_engine::PayloadAttributes {
        timestamp,
        prev_randao: keccak256(number.to_be_bytes()),
        suggested_fee_recipient: address!("0x4200000000000000000000000000000000000011"),
        withdrawals: Some(Withdrawals::default().into_inner()),
        parent_beacon_block_root: Some(b256!(
            "0x00000000000000000000000000000000000000000000000000000000000000be"
        )),
        slot_number: None,
        target_gas_limit: None,
    }
}
