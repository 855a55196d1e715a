//! Karst's execution rules on real blocks over MDBX, each against the same block on a chain
//! that stops at Jovian: EIP-7825's transaction gas cap (2^24, deposits exempt), the bn254
//! pairing input cap of 57,600 bytes (Karst exec-engine spec), Osaka's MODEXP input bound
//! (EIP-7823) and prices (EIP-7883), P256VERIFY's price (EIP-7951) and CLZ (EIP-7939).

#![allow(clippy::unwrap_used, missing_docs)]

use alloy_consensus::{SignableTransaction, TxEip1559};
use alloy_eips::eip2718::Encodable2718;
use alloy_genesis::GenesisAccount;
use alloy_primitives::{address, keccak256, Address, Bytes, TxKind, B256, U256};
use alloy_signer::SignerSync;
use lockstep_chainspec::ChainSpec;
use lockstep_execution::{
    test_utils::{dev_signers, test_chain_spec, BlockGenerator, GENESIS_TIME},
    ChainExecutor, ExecutedBlock, OpPayloadAttributes, BN254_PAIRING_MAX_INPUT, TX_GAS_LIMIT_CAP,
};
use lockstep_storage::{test_utils::temp_database, ChainProvider};
use op_alloy_consensus::{OpReceiptEnvelope, OpTxEnvelope, TxDeposit};
use std::sync::Arc;

const CHAIN: u64 = 901;

/// Copies its calldata to memory, STATICCALLs precompile `target` with it and all gas left, and
/// stores the call's success flag at slot 0.
fn forwarder(target: u8) -> Vec<u8> {
    vec![
        0x36, 0x60, 0x00, 0x60, 0x00, 0x37, // calldatacopy(0, 0, calldatasize)
        0x60, 0x20, 0x60, 0x00, 0x36, 0x60, 0x00, 0x60, target, 0x5a,
        0xfa, // staticcall(gas, target, 0, calldatasize, 0, 32)
        0x60, 0x00, 0x55, 0x00, // sstore(0, success); stop
    ]
}

/// As [`forwarder`], but the call gets `gas` gas only.
fn forwarder_with_gas(target: u16, gas: u16) -> Vec<u8> {
    let [t0, t1] = target.to_be_bytes();
    let [g0, g1] = gas.to_be_bytes();
    vec![
        0x36, 0x60, 0x00, 0x60, 0x00, 0x37, // calldatacopy(0, 0, calldatasize)
        0x60, 0x20, 0x60, 0x00, 0x36, 0x60, 0x00, 0x61, t0, t1, 0x61, g0, g1,
        0xfa, // staticcall(gas, target, 0, calldatasize, 0, 32)
        0x60, 0x00, 0x55, 0x00, // sstore(0, success); stop
    ]
}

/// Counts 700,000 times round a loop of 26 gas (18.2M gas in all), then stores 1 at slot 0.
const LOOP: [u8; 17] = [
    0x62, 0x0a, 0xae, 0x60, // push3 700000
    0x5b, // 4: jumpdest
    0x60, 0x01, 0x90, 0x03, // push1 1; swap1; sub
    0x80, 0x60, 0x04, 0x57, // dup1; push1 4; jumpi
    0x60, 0x01, 0x60, 0x00,
];

/// `clz(1)` stored at slot 0.
const CLZ: [u8; 7] = [0x60, 0x01, 0x1e, 0x60, 0x00, 0x55, 0x00];

const PAIRING: Address = address!("0x00000000000000000000000000000000000c0008");
const MODEXP: Address = address!("0x00000000000000000000000000000000000c0005");
const LOOPER: Address = address!("0x00000000000000000000000000000000000c100f");
const COUNTER: Address = address!("0x00000000000000000000000000000000000c1e1e");
/// P256VERIFY (0x100) with 5,000 gas: enough for Fjord's 3,450, not for Karst's 6,900.
const P256: Address = address!("0x00000000000000000000000000000000000c0100");
/// MODEXP with 300 gas: enough for EIP-2565's minimum of 200, not for EIP-7883's 500.
const MODEXP_CHEAP: Address = address!("0x00000000000000000000000000000000000c0505");

/// The test chain with the contracts above, Jovian from block 1 and Karst too if `karst`.
fn spec(karst: bool) -> ChainSpec {
    let mut spec = test_chain_spec(CHAIN, 2);
    let code = |c: Vec<u8>| GenesisAccount::default().with_code(Some(c.into()));
    let mut looper = LOOP.to_vec();
    looper.extend([0x55, 0x00]); // sstore; stop
    for (address, c) in [
        (PAIRING, forwarder(0x08)),
        (MODEXP, forwarder(0x05)),
        (LOOPER, looper),
        (COUNTER, CLZ.to_vec()),
        (P256, forwarder_with_gas(0x100, 5_000)),
        (MODEXP_CHEAP, forwarder_with_gas(0x05, 300)),
    ] {
        spec.genesis.alloc.insert(address, code(c));
    }
    spec.rollup.hardforks.jovian_time = Some(GENESIS_TIME + 2);
    if karst {
        spec.rollup.hardforks.karst_time = Some(GENESIS_TIME + 2);
    }
    spec
}

fn signed(nonce: u64, to: Address, gas_limit: u64, input: Vec<u8>) -> OpTxEnvelope {
    let signer = &dev_signers(CHAIN, 2)[0];
    let tx = TxEip1559 {
        chain_id: CHAIN,
        nonce,
        gas_limit,
        max_fee_per_gas: 20_000_000_000,
        max_priority_fee_per_gas: 1_000,
        to: TxKind::Call(to),
        value: U256::ZERO,
        access_list: Default::default(),
        input: input.into(),
    };
    let sig = signer.sign_hash_sync(&tx.signature_hash()).unwrap();
    tx.into_signed(sig).into()
}

fn deposit(n: u8, to: Address, gas_limit: u64) -> OpTxEnvelope {
    TxDeposit {
        source_hash: keccak256([n]),
        from: Address::repeat_byte(0x77),
        to: TxKind::Call(to),
        mint: 10u128.pow(18),
        value: U256::ZERO,
        gas_limit,
        is_system_transaction: false,
        input: Bytes::new(),
    }
    .into()
}

/// Executes block 1 with `txs` after its L1 info deposit; returns the block, its receipts and
/// slot 0 of every contract.
fn block_one(
    karst: bool,
    txs: Vec<OpTxEnvelope>,
) -> (ExecutedBlock, Vec<OpReceiptEnvelope>, [U256; 6]) {
    let db = temp_database();
    let executor = ChainExecutor::new(Arc::new(spec(karst)));
    let tx = db.env.tx_mut().unwrap();
    executor.init_genesis(&tx).unwrap();
    let mut generator = BlockGenerator::new(CHAIN, 2, 0);
    let mut attrs: OpPayloadAttributes = generator.next_attributes();
    let mut all = vec![generator.l1_info_deposit(1)];
    all.extend(txs);
    attrs.transactions = Some(all.iter().map(|t| t.encoded_2718().into()).collect());
    attrs.min_base_fee = Some(0);
    let executed = executor.execute(&tx, &attrs).unwrap();
    tx.commit().unwrap();
    let tx = db.env.tx().unwrap();
    let provider = ChainProvider::new(&tx, CHAIN);
    let slot = |a| provider.storage(a, B256::ZERO).unwrap();
    let slots =
        [slot(PAIRING), slot(MODEXP), slot(LOOPER), slot(COUNTER), slot(P256), slot(MODEXP_CHEAP)];
    (executed, provider.receipts(1).unwrap(), slots)
}

#[test]
fn a_transaction_over_2_pow_24_gas_is_left_out_from_karst_and_a_deposit_is_not() {
    let txs = || {
        vec![
            deposit(1, LOOPER, 20_000_000),
            signed(0, COUNTER, TX_GAS_LIMIT_CAP + 1, vec![]),
            signed(0, COUNTER, TX_GAS_LIMIT_CAP, vec![]),
        ]
    };
    let (before, receipts, _) = block_one(false, txs());
    // before Karst the first signed transaction goes in (and the second's nonce is then wrong)
    assert_eq!(before.skipped.len(), 1);
    assert_eq!(before.skipped[0].index, 3);
    assert!(receipts[1].status());
    let (karst, receipts, slots) = block_one(true, txs());
    assert_eq!(karst.skipped.len(), 1, "{:?}", karst.skipped);
    assert_eq!(karst.skipped[0].index, 2);
    assert!(karst.skipped[0].reason.contains("transaction gas cap"), "{:?}", karst.skipped);
    // the deposit ran its whole loop, past 2^24 gas
    let used = receipts[1].cumulative_gas_used() - receipts[0].cumulative_gas_used();
    assert!(receipts[1].status() && used > TX_GAS_LIMIT_CAP, "{used}");
    assert_eq!(slots[2], U256::from(1));
    assert_eq!(karst.block.transactions.len(), 3);
}

#[test]
fn the_bn254_pairing_takes_at_most_300_pairs_from_karst() {
    assert_eq!(BN254_PAIRING_MAX_INPUT, 300 * 192);
    // pairs of points at infinity: a valid input whose pairing holds
    let call = |pairs: usize| signed(0, PAIRING, TX_GAS_LIMIT_CAP, vec![0; pairs * 192]);
    let (_, _, slots) = block_one(true, vec![call(300)]);
    assert_eq!(slots[0], U256::from(1), "300 pairs pass");
    let (_, _, slots) = block_one(true, vec![call(301)]);
    assert_eq!(slots[0], U256::ZERO, "301 pairs fail");
    let (_, _, slots) = block_one(false, vec![call(301)]);
    assert_eq!(slots[0], U256::from(1), "under Jovian (81,984 bytes), 301 pairs pass");
}

#[test]
fn modexp_is_bounded_and_clz_exists_from_karst() {
    // a 1,025-byte base (EIP-7823 bounds each length at 1,024)
    let mut input = [U256::from(1025), U256::from(1), U256::from(1)]
        .iter()
        .flat_map(|w| w.to_be_bytes::<32>())
        .collect::<Vec<u8>>();
    input.extend(vec![2u8; 1025 + 2]);
    let txs =
        || vec![signed(0, MODEXP, 1_000_000, input.clone()), signed(1, COUNTER, 100_000, vec![])];
    let (_, receipts, slots) = block_one(false, txs());
    assert_eq!(slots[1], U256::from(1), "before Karst the long base is taken");
    assert!(!receipts[2].status() && slots[3] == U256::ZERO, "before Karst CLZ is invalid");
    let (_, receipts, slots) = block_one(true, txs());
    assert_eq!(slots[1], U256::ZERO, "from Karst it is refused");
    assert!(receipts[2].status());
    assert_eq!(slots[3], U256::from(255), "clz(1)");
}

#[test]
fn p256verify_and_modexp_cost_what_osaka_charges_from_karst() {
    // an all-zero P256VERIFY input fails verification (an empty answer) but the call succeeds
    // when its gas suffices; a 1-byte MODEXP of 2^2 mod 5
    let modexp = [U256::from(1), U256::from(1), U256::from(1)]
        .iter()
        .flat_map(|w| w.to_be_bytes::<32>())
        .chain([2, 2, 5])
        .collect::<Vec<u8>>();
    let txs = || {
        vec![
            signed(0, P256, 200_000, vec![0; 160]),
            signed(1, MODEXP_CHEAP, 200_000, modexp.clone()),
        ]
    };
    let (_, _, slots) = block_one(false, txs());
    assert_eq!((slots[4], slots[5]), (U256::from(1), U256::from(1)), "Jovian's prices");
    let (_, _, slots) = block_one(true, txs());
    assert_eq!((slots[4], slots[5]), (U256::ZERO, U256::ZERO), "Karst's prices");
}
