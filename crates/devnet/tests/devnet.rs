//! The devnet's contracts and configuration, executed for real.

#![allow(clippy::unwrap_used)]

use alloy_consensus::{SignableTransaction, TxEip1559};
use alloy_primitives::{Address, Bytes, Log, TxKind, B256, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{SolCall, SolEvent};
use lockstep_devnet::{
    contracts::{ISuperchainBridge, ISuperchainToken},
    dev_key, DevnetConfig, BRIDGE, L1_BLOCK, TOKEN,
};
use lockstep_execution::{ChainExecutor, OpPayloadAttributes};
use lockstep_storage::{test_utils::temp_database, ChainProvider, DatabaseEnv};
use op_alloy_consensus::{OpReceiptEnvelope, OpTxEnvelope, TxDeposit};
use std::{
    path::{Path, PathBuf},
    process::Command,
    sync::Arc,
};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn checked_in_bytecode_is_what_the_sources_compile_to() {
    let root = repo();
    assert!(
        root.join("node_modules/solc").exists(),
        "solc-js is not installed: run scripts/setup.sh (npm ci) first"
    );
    let out =
        Command::new("node").arg("contracts/build.mjs").arg("--check").current_dir(&root).output();
    let out = out.expect("node must be installed (scripts/setup.sh installs it)");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn checked_in_devnet_config_is_what_the_generator_makes() {
    let dir = repo().join("etc/devnet");
    let config = DevnetConfig::default();
    if std::env::var_os("LOCKSTEP_BLESS").is_some() {
        config.write(&dir).unwrap();
    }
    for (rel, text) in config.files() {
        let have = std::fs::read_to_string(dir.join(&rel))
            .unwrap_or_else(|e| panic!("etc/devnet/{rel}: {e} (LOCKSTEP_BLESS=1 regenerates)"));
        assert_eq!(have, text, "etc/devnet/{rel} is stale (LOCKSTEP_BLESS=1 regenerates)");
    }
    let set = lockstep_chainspec::SuperchainSet::load(&dir.join("superchain.toml")).unwrap();
    assert_eq!(set.chains.len(), 2);
    assert_eq!(set.bridge, BRIDGE);
    assert_eq!(set.sequencer, config.sequencer());
    assert_eq!(set.commitments, Some(config.commitments()));
}

/// Executes blocks on one devnet chain from signed transactions.
struct DevChain {
    executor: ChainExecutor,
    number: u64,
    nonces: std::collections::HashMap<Address, u64>,
}

impl DevChain {
    fn new(env: &DatabaseEnv, config: &DevnetConfig, chain_id: u64) -> Self {
        let executor = ChainExecutor::new(Arc::new(config.chain_spec(chain_id)));
        let tx = env.tx_mut().unwrap();
        executor.init_genesis(&tx).unwrap();
        tx.commit().unwrap();
        Self { executor, number: 0, nonces: Default::default() }
    }

    fn chain_id(&self) -> u64 {
        self.executor.chain_id()
    }

    fn sign(
        &mut self,
        signer: &PrivateKeySigner,
        to: Address,
        value: U256,
        input: Vec<u8>,
    ) -> OpTxEnvelope {
        let chain_id = self.chain_id();
        let nonce = self.nonces.entry(signer.address()).or_default();
        let tx = TxEip1559 {
            chain_id,
            nonce: *nonce,
            gas_limit: 500_000,
            max_fee_per_gas: 1_000_000_000,
            max_priority_fee_per_gas: 1,
            to: TxKind::Call(to),
            value,
            access_list: Default::default(),
            input: input.into(),
        };
        *nonce += 1;
        let sig = signer.sign_hash_sync(&tx.signature_hash()).unwrap();
        tx.into_signed(sig).into()
    }

    /// Executes a block of `txs` after an L1 info deposit; returns each user tx's receipt.
    fn block(&mut self, env: &DatabaseEnv, txs: Vec<OpTxEnvelope>) -> Vec<OpReceiptEnvelope> {
        self.number += 1;
        let info = kona_protocol::L1BlockInfoIsthmus {
            number: self.number,
            time: DevnetConfig::default().genesis_time + 2 * self.number,
            base_fee: 1_000_000_000,
            block_hash: B256::with_last_byte(self.number as u8),
            sequence_number: 0,
            batcher_address: Address::with_last_byte(0xba),
            blob_base_fee: 1,
            blob_base_fee_scalar: 5,
            base_fee_scalar: 7,
            operator_fee_scalar: 0,
            operator_fee_constant: 0,
        };
        let deposit: OpTxEnvelope = TxDeposit {
            source_hash: B256::with_last_byte(self.number as u8),
            from: lockstep_execution::test_utils::L1_INFO_DEPOSITOR,
            to: TxKind::Call(L1_BLOCK),
            mint: 0,
            value: U256::ZERO,
            gas_limit: 1_000_000,
            is_system_transaction: false,
            input: info.encode_calldata(),
        }
        .into();
        let all: Vec<Bytes> = std::iter::once(deposit)
            .chain(txs)
            .map(|t| alloy_eips::eip2718::Encodable2718::encoded_2718(&t).into())
            .collect();
        let attrs = OpPayloadAttributes {
            payload_attributes: alloy_rpc_types_engine::PayloadAttributes {
                timestamp: DevnetConfig::default().genesis_time + 2 * self.number,
                prev_randao: B256::ZERO,
                suggested_fee_recipient: Address::with_last_byte(0x11),
                withdrawals: Some(vec![]),
                parent_beacon_block_root: Some(B256::ZERO),
                slot_number: None,
                target_gas_limit: None,
            },
            transactions: Some(all),
            no_tx_pool: Some(true),
            gas_limit: Some(60_000_000),
            eip_1559_params: Some(Default::default()),
            min_base_fee: None,
        };
        let tx = env.tx_mut().unwrap();
        let executed = self.executor.execute(&tx, &attrs).unwrap();
        tx.commit().unwrap();
        assert!(executed.skipped.is_empty());
        let receipts = executed.block.receipts;
        assert!(receipts[0].status(), "the L1 info deposit into our L1Block succeeds");
        receipts[1..].to_vec()
    }

    fn balance(&self, env: &DatabaseEnv, who: Address) -> U256 {
        let tx = env.tx().unwrap();
        ChainProvider::new(&tx, self.chain_id())
            .account(who)
            .unwrap()
            .map_or(U256::ZERO, |a| a.balance)
    }

    fn token_balance(&self, env: &DatabaseEnv, who: Address) -> U256 {
        let tx = env.tx().unwrap();
        let slot = alloy_primitives::keccak256([who.into_word().0, [0u8; 32]].concat());
        ChainProvider::new(&tx, self.chain_id()).storage(TOKEN, slot).unwrap()
    }
}

fn logs(receipt: &OpReceiptEnvelope) -> Vec<Log> {
    receipt.logs().to_vec()
}

#[test]
fn bridge_burns_and_relays_on_the_devnet_chains() {
    let db = temp_database();
    let config = DevnetConfig::default();
    let mut op = DevChain::new(&db.env, &config, 901);
    let mut base = DevChain::new(&db.env, &config, 902);
    let alice = dev_key(0);
    let bob = dev_key(1).address();
    let sequencer = dev_key(8);
    assert_eq!(sequencer.address(), config.sequencer());
    let amount = U256::from(3u64) * U256::from(10u64.pow(18));

    // burns on op: native (ok), native with the wrong value (reverts), token (ok), token beyond
    // the balance (reverts), and to its own chain (reverts)
    let burn = |destination: u64, token: Address, amount: U256| {
        ISuperchainBridge::burnCall { destination: U256::from(destination), token, to: bob, amount }
            .abi_encode()
    };
    let txs = vec![
        op.sign(&alice, BRIDGE, amount, burn(902, Address::ZERO, amount)),
        op.sign(&alice, BRIDGE, U256::from(1), burn(902, Address::ZERO, amount)),
        op.sign(&alice, BRIDGE, U256::ZERO, burn(902, TOKEN, U256::from(500))),
        op.sign(&alice, BRIDGE, U256::ZERO, burn(902, TOKEN, U256::MAX)),
        op.sign(&alice, BRIDGE, amount, burn(901, Address::ZERO, amount)),
    ];
    let token_before = op.token_balance(&db.env, alice.address());
    let receipts = op.block(&db.env, txs);
    let status: Vec<bool> = receipts.iter().map(|r| r.status()).collect();
    assert_eq!(status, vec![true, false, true, false, false]);
    assert_eq!(op.token_balance(&db.env, alice.address()), token_before - U256::from(500));
    let burns: Vec<ISuperchainBridge::Burn> = receipts
        .iter()
        .flat_map(logs)
        .filter(|l| l.address == BRIDGE)
        .map(|l| ISuperchainBridge::Burn::decode_log(&l).unwrap().data)
        .collect();
    assert_eq!(burns.len(), 2, "reverted burns emit nothing");
    assert_eq!((burns[0].nonce, burns[1].nonce), (U256::ZERO, U256::from(1)));
    assert_eq!(burns[0].destination, U256::from(902));
    assert_eq!((burns[0].token, burns[0].from, burns[0].to), (Address::ZERO, alice.address(), bob));

    // relays on base: both mints (ok), a second relay of nonce 0 (reverts), a relay by
    // someone else (reverts)
    let relay = |b: &ISuperchainBridge::Burn| {
        ISuperchainBridge::relayCall {
            source: U256::from(901),
            nonce: b.nonce,
            token: b.token,
            from: b.from,
            to: b.to,
            amount: b.amount,
        }
        .abi_encode()
    };
    let reserve_before = base.balance(&db.env, BRIDGE);
    let bob_before = base.balance(&db.env, bob);
    let bob_tokens_before = base.token_balance(&db.env, bob);
    let txs = vec![
        base.sign(&sequencer, BRIDGE, U256::ZERO, relay(&burns[0])),
        base.sign(&sequencer, BRIDGE, U256::ZERO, relay(&burns[1])),
        base.sign(&sequencer, BRIDGE, U256::ZERO, relay(&burns[0])),
        base.sign(&alice, BRIDGE, U256::ZERO, relay(&burns[1])),
    ];
    let receipts = base.block(&db.env, txs);
    let status: Vec<bool> = receipts.iter().map(|r| r.status()).collect();
    assert_eq!(status, vec![true, true, false, false]);
    assert_eq!(base.balance(&db.env, bob), bob_before + amount, "the native mint pays bob");
    assert_eq!(base.balance(&db.env, BRIDGE), reserve_before - amount, "out of the reserve");
    assert_eq!(base.token_balance(&db.env, bob), bob_tokens_before + U256::from(500));
    let mints: Vec<ISuperchainBridge::Mint> = receipts
        .iter()
        .flat_map(logs)
        .filter(|l| l.address == BRIDGE)
        .map(|l| ISuperchainBridge::Mint::decode_log(&l).unwrap().data)
        .collect();
    assert_eq!(mints.len(), 2);
    for (mint, burn) in mints.iter().zip(&burns) {
        assert_eq!(
            (mint.source, mint.nonce, mint.token, mint.from, mint.to, mint.amount),
            (U256::from(901), burn.nonce, burn.token, burn.from, burn.to, burn.amount)
        );
    }
    // the token emitted its ERC-20 transfer from the zero address for the mint
    let minted = receipts[1]
        .logs()
        .iter()
        .filter(|l| l.address == TOKEN)
        .filter_map(|l| ISuperchainToken::Transfer::decode_log(l).ok())
        .any(|t| t.data.from == Address::ZERO && t.data.to == bob);
    assert!(minted);
}
