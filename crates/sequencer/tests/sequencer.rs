//! The shared sequencer over the devnet chains: every mint is paid by its burn at the same
//! timestamp, bad submissions are refused, and each fault makes exactly its difference.

#![allow(clippy::unwrap_used, clippy::type_complexity)]

use alloy_consensus::{Header, SignableTransaction, TxEip1559, TxLegacy};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{keccak256, Address, TxKind, B256, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolCall;
use lockstep_crosschain::bridge::ISuperchainBridge;
use lockstep_devnet::{dev_key, DevnetConfig, BRIDGE, TOKEN};
use lockstep_primitives::Transfer;
use lockstep_sequencer::{BuiltBlock, Fault, FaultKind, IntakeError, L1Origin, SharedSequencer};
use rand::{rngs::StdRng, Rng, SeedableRng};
use std::collections::BTreeMap;

const BLOCKS_PER_BATCH: u64 = 3;

struct Harness {
    sequencer: SharedSequencer,
    _dir: tempfile::TempDir,
    nonces: BTreeMap<(u64, Address), u64>,
    rng: StdRng,
    round: u64,
    /// Bridge calls submitted, to count the reverted ones afterwards.
    burn_calls: Vec<(u64, B256)>,
}

impl Harness {
    fn new(faults: &[Fault], seed: u64) -> Self {
        let config = DevnetConfig::default();
        let chains = config.sequenced_chains();
        let dir = tempfile::tempdir().unwrap();
        let sequencer = SharedSequencer::open(
            dir.path(),
            &chains,
            BRIDGE,
            dev_key(8),
            BLOCKS_PER_BATCH,
            faults,
        )
        .unwrap();
        Self {
            sequencer,
            _dir: dir,
            nonces: BTreeMap::new(),
            rng: StdRng::seed_from_u64(seed),
            round: 0,
            burn_calls: vec![],
        }
    }

    fn signed(
        &mut self,
        chain: u64,
        who: &PrivateKeySigner,
        to: Address,
        value: U256,
        input: Vec<u8>,
    ) -> Vec<u8> {
        let nonce = self.nonces.entry((chain, who.address())).or_default();
        let tx = TxEip1559 {
            chain_id: chain,
            nonce: *nonce,
            gas_limit: 300_000,
            max_fee_per_gas: 10_000_000_000,
            max_priority_fee_per_gas: 1,
            to: TxKind::Call(to),
            value,
            access_list: Default::default(),
            input: input.into(),
        };
        *nonce += 1;
        let sig = who.sign_hash_sync(&tx.signature_hash()).unwrap();
        tx.into_signed(sig).encoded_2718()
    }

    /// Submits a random mix: native and token burns both ways (some reverting), transfers.
    fn traffic(&mut self, count: usize) {
        for _ in 0..count {
            let (chain, other) = if self.rng.random_bool(0.5) { (901, 902) } else { (902, 901) };
            let who = dev_key(self.rng.random_range(0..8));
            let to = dev_key(self.rng.random_range(0..8)).address();
            let amount = U256::from(self.rng.random_range(1..1_000_000u64));
            let raw = match self.rng.random_range(0..10) {
                0..4 => {
                    // a native burn; one in four sends the wrong value and reverts
                    let value =
                        if self.rng.random_bool(0.25) { amount + U256::from(1) } else { amount };
                    let call = ISuperchainBridge::burnCall {
                        destination: U256::from(other),
                        token: Address::ZERO,
                        to,
                        amount,
                    };
                    self.signed(chain, &who, BRIDGE, value, call.abi_encode())
                }
                4..7 => {
                    // a token burn; one in four burns more than the balance and reverts
                    let amount = if self.rng.random_bool(0.25) { U256::MAX } else { amount };
                    let call = ISuperchainBridge::burnCall {
                        destination: U256::from(other),
                        token: TOKEN,
                        to,
                        amount,
                    };
                    self.signed(chain, &who, BRIDGE, U256::ZERO, call.abi_encode())
                }
                _ => self.signed(chain, &who, to, amount, vec![]),
            };
            let hash = self.sequencer.submit(chain, &raw).unwrap();
            self.burn_calls.push((chain, hash));
        }
    }

    fn build(&mut self) -> Vec<BuiltBlock> {
        self.round += 1;
        let header = Header {
            number: 100 + self.round / 4,
            timestamp: 1_767_225_000 + self.round * 2,
            mix_hash: keccak256(self.round.to_be_bytes()),
            base_fee_per_gas: Some(7),
            parent_beacon_block_root: Some(B256::with_last_byte(1)),
            ..Default::default()
        };
        let origin = L1Origin { header, sequence_number: self.round % 4 };
        self.sequencer.build(&origin, &BTreeMap::new()).unwrap()
    }
}

/// Per (batch, source, destination): burn leaves and mint leaves, in order.
type Lists = BTreeMap<(u64, u64, u64), (Vec<Transfer>, Vec<Transfer>)>;

fn run(faults: &[Fault], rounds: usize, seed: u64) -> (Lists, Vec<BuiltBlock>, Harness) {
    let mut h = Harness::new(faults, seed);
    let mut lists = Lists::new();
    let mut all = Vec::new();
    for _ in 0..rounds {
        h.traffic(8);
        let blocks = h.build();
        let timestamps: Vec<u64> = blocks.iter().map(|b| b.block.header.timestamp).collect();
        assert!(timestamps.windows(2).all(|w| w[0] == w[1]), "every chain at the same timestamp");
        for b in &blocks {
            for t in &b.burns {
                lists.entry((b.batch, t.source, t.destination)).or_default().0.push(*t);
            }
            for t in &b.mints {
                lists.entry((b.batch, t.source, t.destination)).or_default().1.push(*t);
            }
        }
        all.extend(blocks);
    }
    (lists, all, h)
}

#[test]
fn every_burn_is_minted_at_the_same_timestamp_and_reverted_burns_are_not() {
    let (lists, blocks, h) = run(&[], 15, 1);
    // per timestamp, too: the finer mode of DESIGN.md 5.6
    let mut by_time: BTreeMap<(u64, u64, u64), (Vec<B256>, Vec<B256>)> = BTreeMap::new();
    for b in &blocks {
        let t = b.block.header.timestamp;
        for x in &b.burns {
            by_time.entry((t, x.source, x.destination)).or_default().0.push(x.leaf());
        }
        for x in &b.mints {
            by_time.entry((t, x.source, x.destination)).or_default().1.push(x.leaf());
        }
    }
    for (key, (burns, mints)) in &by_time {
        assert_eq!(burns, mints, "timestamp/pair {key:?}");
    }
    let burns: usize = lists.values().map(|(b, _)| b.len()).sum();
    assert!(burns > 30, "the traffic burns ({burns})");
    assert!(lists.keys().any(|k| k.1 == 901) && lists.keys().any(|k| k.1 == 902), "both ways");
    assert!(lists.values().flat_map(|(b, _)| b).any(|t| t.token == TOKEN));

    // reverted burns happened, and none of them was minted: every mint matched a burn above
    let db = h.sequencer.database().tx().unwrap();
    let mut reverted = 0;
    for b in &blocks {
        let provider = lockstep_storage::ChainProvider::new(&db, b.chain_id);
        for (tx, receipt) in provider
            .transactions(b.block.header.number)
            .unwrap()
            .iter()
            .zip(provider.receipts(b.block.header.number).unwrap())
        {
            if h.burn_calls.contains(&(b.chain_id, tx.tx_hash())) && !receipt.status() {
                reverted += 1;
            }
        }
    }
    assert!(reverted > 5, "some burns revert ({reverted})");
}

#[test]
fn bad_submissions_get_clear_errors_and_blocks_go_on() {
    let mut h = Harness::new(&[], 2);
    let alice = dev_key(0);
    assert!(matches!(h.sequencer.submit(901, &[0x02, 0xff, 0x00]), Err(IntakeError::Malformed(_))));
    assert!(matches!(h.sequencer.submit(999, &[0x02]), Err(IntakeError::UnknownChain(999))));
    let wrong_chain = h.signed(902, &alice, alice.address(), U256::from(1), vec![]);
    assert!(matches!(
        h.sequencer.submit(901, &wrong_chain),
        Err(IntakeError::WrongChain { expected: 901, found: Some(902) })
    ));
    // underpriced: a legacy transaction at 1 wei per gas
    let legacy = TxLegacy {
        chain_id: Some(901),
        nonce: 0,
        gas_price: 1,
        gas_limit: 21_000,
        to: TxKind::Call(alice.address()),
        value: U256::from(1),
        input: Default::default(),
    };
    let sig = alice.sign_hash_sync(&legacy.signature_hash()).unwrap();
    let err = h.sequencer.submit(901, &legacy.into_signed(sig).encoded_2718()).unwrap_err();
    assert!(matches!(err, IntakeError::Underpriced { max_fee: 1, .. }), "{err}");
    assert!(err.to_string().contains("underpriced"));
    // nonces: the first is accepted, a repeat is too low, a gap is too high
    h.nonces.insert((901, alice.address()), 0);
    let ok = h.signed(901, &alice, alice.address(), U256::from(1), vec![]);
    h.sequencer.submit(901, &ok).unwrap();
    h.nonces.insert((901, alice.address()), 0);
    let again = h.signed(901, &alice, alice.address(), U256::from(2), vec![]);
    assert!(matches!(
        h.sequencer.submit(901, &again),
        Err(IntakeError::NonceTooLow { expected: 1, found: 0 })
    ));
    h.nonces.insert((901, alice.address()), 5);
    let gap = h.signed(901, &alice, alice.address(), U256::from(2), vec![]);
    assert!(matches!(
        h.sequencer.submit(901, &gap),
        Err(IntakeError::NonceTooHigh { expected: 1, found: 5 })
    ));
    // the system address only relays
    let system = dev_key(8);
    let from_system = h.signed(901, &system, alice.address(), U256::from(1), vec![]);
    assert!(matches!(h.sequencer.submit(901, &from_system), Err(IntakeError::SystemSender)));
    // a penniless sender
    let poor = PrivateKeySigner::random();
    let broke = h.signed(901, &poor, alice.address(), U256::from(1), vec![]);
    assert!(matches!(h.sequencer.submit(901, &broke), Err(IntakeError::InsufficientFunds)));

    assert_eq!(h.sequencer.pending(901), 1);
    let blocks = h.build();
    assert_eq!(
        blocks[0].block.transactions.len(),
        2,
        "the L1 info deposit and the one good transaction"
    );
    assert_eq!(h.sequencer.pending(901), 0);
}

/// The leaves of a list.
fn leaves(list: &[Transfer]) -> Vec<B256> {
    list.iter().map(Transfer::leaf).collect()
}

#[test]
fn each_fault_makes_exactly_its_difference_in_its_batch() {
    const FAULT_BATCH: u64 = 2;
    for (kind, _) in FaultKind::ALL {
        let about_mints = matches!(
            kind,
            FaultKind::DropMint
                | FaultKind::DelayMint
                | FaultKind::ForgeMint
                | FaultKind::AlterAmount
                | FaultKind::ReorderMints
        );
        if !about_mints {
            continue; // the others are about L1: commitments and batches
        }
        let (lists, _, _) = run(&[Fault { kind, batch: FAULT_BATCH }], 15, 3);
        let differing: Vec<_> = lists.iter().filter(|(_, (b, m))| leaves(b) != leaves(m)).collect();
        let batches: Vec<u64> = differing.iter().map(|((batch, _, _), _)| *batch).collect();
        match kind {
            FaultKind::DelayMint => {
                assert_eq!(batches, vec![FAULT_BATCH, FAULT_BATCH + 1], "{kind:?}")
            }
            _ => assert_eq!(batches, vec![FAULT_BATCH], "{kind:?}: {differing:?}"),
        }
        let (_, (burns, mints)) = differing[0];
        match kind {
            FaultKind::DropMint => {
                assert_eq!(burns.len(), mints.len() + 1);
                assert_eq!(mints[..], burns[1..], "the first burn's mint is missing");
            }
            FaultKind::DelayMint => {
                assert_eq!(mints[..], burns[1..]);
                let (_, (later_burns, later_mints)) = differing[1];
                assert_eq!(later_mints[0], burns[0], "the held mint arrives one batch late");
                assert_eq!(later_mints[1..], later_burns[..]);
            }
            FaultKind::ForgeMint => {
                assert_eq!(mints.len(), burns.len() + 1);
                assert!(mints.iter().any(|m| !burns.contains(m)));
            }
            FaultKind::AlterAmount => {
                assert_eq!(mints.len(), burns.len());
                assert_eq!((mints[0].source, mints[0].nonce), (burns[0].source, burns[0].nonce));
                assert_ne!(mints[0].amount, burns[0].amount);
                assert_eq!(mints[1..], burns[1..]);
            }
            FaultKind::ReorderMints => {
                let (mut b, mut m) = (leaves(burns), leaves(mints));
                assert_ne!(b, m);
                b.sort();
                m.sort();
                assert_eq!(b, m, "the same transfers in another order");
            }
            _ => unreachable!(),
        }
    }
}
