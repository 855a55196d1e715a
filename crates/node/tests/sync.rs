//! The node derives every chain from what the devnet posted to L1, with kona-derive, and
//! executes it to exactly the sequencer's blocks.

#![allow(clippy::unwrap_used)]

use lockstep_devnet::{Devnet, DevnetOptions};
use lockstep_l1::{L1Node, L1Source};
use lockstep_node::{Node, StepOutcome};
use lockstep_storage::{tables::DerivationCursors, ChainProvider};

/// Logs to the test output when `RUST_LOG` is set.
fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

fn options() -> DevnetOptions {
    DevnetOptions { blocks_per_batch: 6, txs_per_block: 6, seed: 11, ..Default::default() }
}

fn check_addresses(config: &lockstep_devnet::DevnetConfig) -> lockstep_node::CheckSettings {
    lockstep_node::CheckSettings {
        bridge: lockstep_devnet::BRIDGE,
        sequencer: config.sequencer(),
        commitments: Some(config.commitments()),
        commitment_window: config.commitment_window,
    }
}

fn node_for<L: L1Node>(devnet: &Devnet<L>, dir: &std::path::Path) -> Node {
    let config = devnet.config();
    let specs = config.chains.iter().map(|c| config.chain_spec(c.chain_id)).collect();
    Node::open(dir, specs, check_addresses(config)).unwrap()
}

/// Every block of every chain in the node's database has the sequencer's hash, and the node
/// has every block the sequencer posted.
fn assert_same_blocks<L: L1Node>(devnet: &Devnet<L>, node: &Node) {
    let handle = devnet.sequencer();
    let sequencer = handle.lock().unwrap();
    let built_tx = sequencer.database().tx().unwrap();
    let node_tx = node.database().tx().unwrap();
    let posted_through = devnet.posted.last().unwrap().l2_heads[0].1;
    for chain in node.chain_ids() {
        let built = ChainProvider::new(&built_tx, chain);
        let derived = ChainProvider::new(&node_tx, chain);
        let head = derived.head().unwrap().unwrap();
        for number in 0..=head.number {
            if derived.block_hash(number).unwrap() != built.block_hash(number).unwrap() {
                panic!(
                    "chain {chain} block {number}:\nderived {:#?}\nbuilt {:#?}\nderived txs {:#?}\nbuilt txs {:#?}",
                    derived.header(number).unwrap(),
                    built.header(number).unwrap(),
                    derived.transactions(number).unwrap().first(),
                    built.transactions(number).unwrap().first()
                );
            }
        }
        assert_eq!(head.number, posted_through, "chain {chain}: every posted block was derived");
        for number in 0..=head.number {
            assert_eq!(
                derived.block_hash(number).unwrap(),
                built.block_hash(number).unwrap(),
                "chain {chain} block {number}"
            );
        }
        assert_eq!(
            derived.state_root().unwrap(),
            built.header(head.number).unwrap().unwrap().state_root
        );
    }
    // every chain is at the same L1 cursor
    let cursors: Vec<_> = node
        .chain_ids()
        .iter()
        .map(|c| node_tx.get::<DerivationCursors>(c).unwrap().unwrap().l1_number)
        .collect();
    assert!(cursors.windows(2).all(|w| w[0] == w[1]), "{cursors:?}");
    assert_eq!(Some(cursors[0]), node.l1_cursor().unwrap().map(|c| c.0));
}

#[test]
fn node_derives_the_sequencers_blocks_from_the_embedded_l1() {
    init_tracing();
    let dir = tempfile::tempdir().unwrap();
    let mut devnet = Devnet::start(&dir.path().join("sequencer"), options()).unwrap();
    let mut node = node_for(&devnet, &dir.path().join("node"));
    let mut batches = 0;
    for _ in 0..6 {
        devnet.step().unwrap();
        // the node follows the L1 as it grows
        for outcome in node.sync(&devnet.l1).unwrap() {
            if let StepOutcome::Processed { batch: Some(_), .. } = outcome {
                batches += 1;
            }
        }
    }
    assert_eq!(node.l1_cursor().unwrap().unwrap().0, devnet.l1.head_number().unwrap());
    assert_same_blocks(&devnet, &node);
    assert_eq!(batches, node.batches().unwrap());
    assert_eq!(batches as usize, devnet.posted.len(), "one superchain batch per posted batch");
    // batch ranges are contiguous and match what the sequencer posted
    let mut first = 1;
    for (index, posted) in devnet.posted.iter().enumerate() {
        let batch = node.batch(index as u64).unwrap().unwrap();
        for (range, (chain, last)) in batch.ranges.iter().zip(&posted.l2_heads) {
            assert_eq!(range.chain_id, *chain);
            assert_eq!((range.first, range.last), (first, *last), "batch {index}");
        }
        first = posted.l2_heads[0].1 + 1;
        assert_eq!(batch.l1_number, posted.l1_block, "batch {index} closed by its L1 block");
        // the check used the events its threads extracted while executing: the same trees
        // come out of the stored receipts, and they are the sequencer's own roots
        let check = lockstep_crosschain::CrossChainCheck {
            chains: node.chain_ids(),
            bridge: lockstep_devnet::BRIDGE,
            sequencer: devnet.config().sequencer(),
            commitment_window: devnet.config().commitment_window,
            atomicity: lockstep_crosschain::Atomicity::Batch,
        };
        let tx = node.database().tx().unwrap();
        let events = check.events(&tx, &batch).unwrap();
        let from_db = lockstep_crosschain::check_pairs(
            batch.index,
            &node.chain_ids(),
            &events,
            &mut Default::default(),
            lockstep_crosschain::Atomicity::Batch,
        );
        let verdict = node.verdict(index as u64).unwrap().unwrap();
        assert!(verdict.matches, "batch {index}");
        assert_eq!(from_db.pairs, verdict.pairs, "batch {index}");
        for pair in &verdict.pairs {
            let burns: Vec<_> = posted
                .burns
                .iter()
                .filter(|t| (t.source, t.destination) == (pair.source, pair.destination))
                .map(lockstep_primitives::Transfer::leaf)
                .collect();
            assert_eq!(pair.burn_root, lockstep_primitives::merkle_root(&burns), "batch {index}");
        }
    }
}

/// anvil as the devnet expects it.
fn devnet_anvil() -> lockstep_l1::test_utils::Anvil {
    let args = lockstep_devnet::DevnetConfig::default().anvil_args();
    lockstep_l1::test_utils::spawn_anvil(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

fn heads_at(node: &Node, l1: u64) -> Vec<(u64, u64)> {
    let tx = node.database().tx().unwrap();
    let record = tx.get::<lockstep_storage::tables::L1Blocks>(&l1).unwrap().unwrap();
    record.heads.iter().map(|h| (h.chain_id, h.number)).collect()
}

#[test]
fn an_l1_reorg_under_the_node_unwinds_both_chains_and_derives_the_new_l1() {
    init_tracing();
    let anvil = devnet_anvil();
    let dir = tempfile::tempdir().unwrap();
    let l1 = lockstep_l1::JsonRpcL1::connect(&anvil.url).unwrap();
    // a mint of batch 2 is paid late, in batch 3: the check's records span the reorgs below
    let faults = vec!["delay-mint@2".parse().unwrap()];
    let mut devnet =
        Devnet::start_on(l1, &dir.path().join("sequencer"), DevnetOptions { faults, ..options() })
            .unwrap();
    for _ in 0..4 {
        devnet.step().unwrap();
    }
    let reader = lockstep_l1::JsonRpcL1::connect(&anvil.url).unwrap();
    let mut node = node_for(&devnet, &dir.path().join("node"));
    node.sync(&reader).unwrap();
    assert_same_blocks(&devnet, &node);
    let tip = reader.head_number().unwrap();
    assert_eq!(devnet.posted.last().unwrap().l1_block, tip, "the tip carries the last batch");
    let batches = node.batches().unwrap();
    let heads_before_tip = heads_at(&node, tip - 1);

    // 1. the tip is replaced by a block that carries the same batcher transactions
    let old_tip = reader.block(tip).unwrap().unwrap();
    let raws = old_tip
        .transactions
        .iter()
        .map(|tx| (alloy_eips::eip2718::Encodable2718::encoded_2718(tx), 0))
        .collect();
    devnet.l1.anvil_reorg(1, raws).unwrap();
    let new_tip = reader.block(tip).unwrap().unwrap();
    assert_ne!(new_tip.hash, old_tip.hash);
    devnet.l1.mine(lockstep_devnet::l1::L1_BLOCK_TIME).unwrap();
    let outcomes = node.sync(&reader).unwrap();
    let StepOutcome::Reorged { ancestor, unwound } = &outcomes[0] else {
        panic!("the reorg is found first: {outcomes:?}")
    };
    assert_eq!(*ancestor, Some(tip - 1));
    assert!(unwound.iter().all(|(_, blocks)| *blocks == 6), "{unwound:?}");
    assert_eq!(outcomes.len(), 3, "then the new tip and the block after it: {outcomes:?}");
    assert_same_blocks(&devnet, &node);
    assert_eq!(node.batches().unwrap(), batches, "the batch closes again, in the new block");
    let tx = node.database().tx().unwrap();
    let record = tx.get::<lockstep_storage::tables::L1Blocks>(&tip).unwrap().unwrap();
    assert_eq!(record.hash, new_tip.hash);
    drop(tx);
    let flagged = |node: &Node| -> Vec<u64> {
        (0..node.batches().unwrap())
            .filter(|i| !node.verdict(*i).unwrap().unwrap().matches)
            .collect()
    };
    assert_eq!(flagged(&node), [2, 3], "MissingMint in 2, LateMint in 3");
    assert_same_check(&node, &devnet, &reader, &dir.path().join("fresh-1"));

    // 2. a deeper reorg drops the last two batches' L1 blocks for empty ones
    let head = reader.head_number().unwrap();
    devnet.l1.anvil_reorg(3, vec![]).unwrap();
    devnet.l1.mine(lockstep_devnet::l1::L1_BLOCK_TIME).unwrap();
    let outcomes = node.sync(&reader).unwrap();
    assert!(
        matches!(outcomes[0], StepOutcome::Reorged { ancestor: Some(a), .. } if a == head - 3),
        "{outcomes:?}"
    );
    assert_eq!(node.batches().unwrap(), batches - 2, "the two batches are gone");
    let heads: Vec<(u64, u64)> = node.heads().iter().map(|(c, n, _)| (*c, *n)).collect();
    let expected = heads_at(&node, head - 3);
    assert_eq!(heads, expected);
    assert!(heads.iter().zip(&heads_before_tip).all(|(a, b)| a.1 + 6 == b.1));
    // the unwound chains are exactly the sequencer's chains at those heights
    let handle = devnet.sequencer();
    let sequencer = handle.lock().unwrap();
    let built = sequencer.database().tx().unwrap();
    let tx = node.database().tx().unwrap();
    for (chain, number) in heads {
        let derived = ChainProvider::new(&tx, chain);
        let built = ChainProvider::new(&built, chain);
        assert_eq!(derived.block_hash(number).unwrap(), built.block_hash(number).unwrap());
        assert_eq!(
            derived.state_root().unwrap(),
            built.header(number).unwrap().unwrap().state_root
        );
        assert_eq!(derived.block_hash(number + 1).unwrap(), None);
    }
    drop(tx);
    drop(built);
    drop(sequencer);
    assert_same_check(&node, &devnet, &reader, &dir.path().join("fresh-2"));
}

/// The cross-chain check's tables of `node` (verdicts, flagged list, transfer records,
/// commitments) equal those of a node that synced `l1` from scratch: unwinding the check
/// leaves exactly what never having seen the unwound blocks leaves.
fn assert_same_check<L: L1Node>(
    node: &Node,
    devnet: &Devnet<L>,
    l1: &lockstep_l1::JsonRpcL1,
    fresh_dir: &std::path::Path,
) {
    use lockstep_storage::tables::{BatchCommitments, BatchVerdicts, FlaggedBatches, Transfers};
    let mut fresh = node_for(devnet, fresh_dir);
    fresh.sync(l1).unwrap();
    let (a, b) = (node.database().tx().unwrap(), fresh.database().tx().unwrap());
    assert_eq!(
        a.walk_prefix::<BatchVerdicts>(&[]).unwrap(),
        b.walk_prefix::<BatchVerdicts>(&[]).unwrap()
    );
    assert_eq!(
        a.walk_prefix::<FlaggedBatches>(&[]).unwrap(),
        b.walk_prefix::<FlaggedBatches>(&[]).unwrap()
    );
    let transfers = a.walk_prefix::<Transfers>(&[]).unwrap();
    assert!(!transfers.is_empty());
    assert_eq!(transfers, b.walk_prefix::<Transfers>(&[]).unwrap());
    assert_eq!(
        a.walk_prefix::<BatchCommitments>(&[]).unwrap(),
        b.walk_prefix::<BatchCommitments>(&[]).unwrap()
    );
}

#[test]
fn malformed_batcher_data_is_dropped_and_sync_goes_on() {
    use lockstep_devnet::Junk;
    init_tracing();
    let dir = tempfile::tempdir().unwrap();
    let mut devnet = Devnet::start(&dir.path().join("sequencer"), options()).unwrap();
    let mut node = node_for(&devnet, &dir.path().join("node"));
    let plan: [&[Junk]; 6] = [
        &[],
        &[Junk::Garbage, Junk::CorruptChannel],
        &[Junk::WrongSender],
        &[Junk::BadParentCheck],
        &[Junk::Garbage, Junk::WrongSender, Junk::CorruptChannel, Junk::BadParentCheck],
        &[],
    ];
    for junk in plan {
        for kind in junk {
            devnet.inject(*kind);
        }
        let posted = devnet.step().unwrap().unwrap();
        // the junk really is on L1, in the batch's block, to each chain's inbox
        let block = devnet.l1.block(posted.l1_block).unwrap().unwrap();
        for chain in node.chain_ids() {
            let inbox = devnet.config().batch_inbox(chain);
            let to_inbox = block
                .transactions
                .iter()
                .filter(|tx| alloy_consensus::Transaction::to(*tx) == Some(inbox))
                .count();
            assert_eq!(to_inbox, 1 + junk.len(), "chain {chain}, batch {}", posted.index);
        }
        node.sync(&devnet.l1).unwrap();
    }
    assert_same_blocks(&devnet, &node);
    let records: Vec<_> = (0..node.batches().unwrap()).map(|i| node.batch(i).unwrap()).collect();
    assert_eq!(node.batches().unwrap(), plan.len() as u64, "{records:#?}");
}

/// Runs `batches` blob-carrying batches on `devnet`, syncing `node` from `source` after each,
/// and checks that the batches really are in blobs.
fn sync_blob_batches<L: L1Node, S: L1Source>(
    devnet: &mut Devnet<L>,
    node: &mut Node,
    source: &S,
    batches: usize,
) {
    for _ in 0..batches {
        let posted = devnet.step().unwrap().unwrap();
        let block = source.block(posted.l1_block).unwrap().unwrap();
        for chain in node.chain_ids() {
            let inbox = devnet.config().batch_inbox(chain);
            let to_inbox: Vec<_> = block
                .transactions
                .iter()
                .filter(|tx| alloy_consensus::Transaction::to(*tx) == Some(inbox))
                .collect();
            assert_eq!(to_inbox.len(), 1);
            assert!(alloy_consensus::Transaction::input(to_inbox[0]).is_empty(), "no calldata");
            assert!(alloy_consensus::Transaction::blob_versioned_hashes(to_inbox[0]).is_some());
        }
        node.sync(source).unwrap();
    }
    assert_same_blocks(devnet, node);
    assert_eq!(node.batches().unwrap(), batches as u64);
}

#[test]
fn node_derives_blob_batches_from_the_embedded_l1() {
    init_tracing();
    let dir = tempfile::tempdir().unwrap();
    let options = DevnetOptions { blobs: true, ..options() };
    let mut devnet = Devnet::start(&dir.path().join("sequencer"), options).unwrap();
    let mut node = node_for(&devnet, &dir.path().join("node"));
    for _ in 0..4 {
        let posted = devnet.step().unwrap().unwrap();
        let block = devnet.l1.block(posted.l1_block).unwrap().unwrap();
        let blob_txs = block
            .transactions
            .iter()
            .filter(|tx| alloy_consensus::Transaction::blob_versioned_hashes(*tx).is_some())
            .count();
        assert_eq!(blob_txs, 2, "one blob transaction per chain");
        node.sync(&devnet.l1).unwrap();
    }
    assert_same_blocks(&devnet, &node);
    assert_eq!(node.batches().unwrap(), 4);
}

#[test]
fn node_derives_blob_batches_from_anvil_through_its_beacon_api() {
    init_tracing();
    let anvil = devnet_anvil();
    let dir = tempfile::tempdir().unwrap();
    let l1 = lockstep_l1::JsonRpcL1::connect(&anvil.url).unwrap();
    let options = DevnetOptions { blobs: true, ..options() };
    let mut devnet = Devnet::start_on(l1, &dir.path().join("sequencer"), options).unwrap();
    let reader = lockstep_l1::JsonRpcL1::connect(&anvil.url).unwrap().with_beacon(&anvil.url);
    let mut node = node_for(&devnet, &dir.path().join("node"));
    sync_blob_batches(&mut devnet, &mut node, &reader, 4);
}

/// An L1 that goes away: every few calls fail as if the connection dropped.
struct Flaky<'a, S> {
    inner: &'a S,
    calls: std::cell::Cell<u64>,
    failures: std::cell::Cell<u64>,
}

impl<S: L1Source> Flaky<'_, S> {
    fn check(&self) -> Result<(), lockstep_l1::L1Error> {
        self.calls.set(self.calls.get() + 1);
        if self.calls.get().is_multiple_of(3) {
            self.failures.set(self.failures.get() + 1);
            return Err(lockstep_l1::L1Error::Unreachable("connection refused".into()));
        }
        Ok(())
    }
}

impl<S: L1Source> L1Source for Flaky<'_, S> {
    fn chain_id(&self) -> u64 {
        self.inner.chain_id()
    }
    fn head_number(&self) -> Result<u64, lockstep_l1::L1Error> {
        self.check()?;
        self.inner.head_number()
    }
    fn block(&self, number: u64) -> Result<Option<lockstep_l1::L1Block>, lockstep_l1::L1Error> {
        self.check()?;
        self.inner.block(number)
    }
    fn blobs(
        &self,
        block: &lockstep_l1::L1Block,
        hashes: &[alloy_primitives::B256],
    ) -> Result<Vec<Box<lockstep_l1::Blob>>, lockstep_l1::L1Error> {
        self.check()?;
        self.inner.blobs(block, hashes)
    }
}

#[test]
fn an_l1_that_keeps_going_away_stalls_the_node_but_changes_nothing() {
    init_tracing();
    let dir = tempfile::tempdir().unwrap();
    let options = DevnetOptions { blobs: true, ..options() };
    let mut devnet = Devnet::start(&dir.path().join("sequencer"), options).unwrap();
    for _ in 0..4 {
        devnet.step().unwrap();
    }
    // without retries, the failure surfaces as a clear error and nothing is half-written
    let mut node = node_for(&devnet, &dir.path().join("plain"));
    let flaky = Flaky { inner: &devnet.l1, calls: 0.into(), failures: 0.into() };
    let mut errors = 0;
    loop {
        match node.sync(&flaky) {
            Ok(_) => break,
            Err(err) => {
                assert!(err.to_string().contains("L1 unreachable"), "{err}");
                errors += 1;
                let report = lockstep_node::cursor_report(node.database()).unwrap();
                assert!(report.consistent(), "after an L1 failure: {report:?}");
            }
        }
    }
    assert!(errors > 0);
    assert_same_blocks(&devnet, &node);
    // with retries, the node rides it out
    let mut node = node_for(&devnet, &dir.path().join("retrying"));
    let flaky = Flaky { inner: &devnet.l1, calls: 0.into(), failures: 0.into() };
    let backoff = lockstep_l1::Backoff {
        initial: std::time::Duration::from_millis(1),
        max: std::time::Duration::from_millis(5),
        attempts: None,
    };
    let retrying = lockstep_l1::Retrying::new(&flaky, backoff);
    node.sync(&retrying).unwrap();
    assert!(flaky.failures.get() > 5);
    assert_same_blocks(&devnet, &node);
}

#[test]
fn a_node_pointed_at_the_wrong_l1_says_so_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut devnet = Devnet::start(&dir.path().join("sequencer"), options()).unwrap();
    devnet.step().unwrap();
    // rollup configs made for another L1: their genesis L1 block has another hash
    let config = devnet.config();
    let specs = config
        .chains
        .iter()
        .map(|c| {
            let mut spec = config.chain_spec(c.chain_id);
            spec.rollup.genesis.l1.hash = alloy_primitives::B256::repeat_byte(0xab);
            spec
        })
        .collect();
    let mut node = Node::open(&dir.path().join("node"), specs, check_addresses(config)).unwrap();
    let err = node.sync(&devnet.l1).unwrap_err();
    assert!(matches!(err, lockstep_node::NodeError::WrongL1 { .. }), "{err}");
    assert!(err.to_string().contains("is --l1.rpc the right L1"), "{err}");
    assert_eq!(node.l1_cursor().unwrap(), None, "nothing committed");
    assert_eq!(node.batches().unwrap(), 0);
}

/// The contracts each fork's upgrade transactions deploy, with the code hash the fork's spec
/// gives for it (Ecotone, Fjord and Isthmus derivation specs).
const DEPLOYED: [(&str, alloy_primitives::Address, alloy_primitives::B256); 9] = [
    // Jovian's two: the code hashes of testdata/specs/vectors/jovian_upgrade_txs_fields.json
    (
        "Jovian L1Block",
        alloy_primitives::address!("0x3Ba4007f5C922FBb33C454B41ea7a1f11E83df2C"),
        alloy_primitives::b256!(
            "0x5f885ca815d2cf27a203123e50b8ae204fdca910b6995d90b2d7700cbb9240d1"
        ),
    ),
    (
        "Jovian GasPriceOracle",
        alloy_primitives::address!("0x4f1db3c6AbD250ba86E0928471A8F7DB3AFd88F1"),
        alloy_primitives::b256!(
            "0xe9fc7c96c4db0d6078e3d359d7e8c982c350a513cb2c31121adf5e1e8a446614"
        ),
    ),
    (
        "Ecotone L1Block",
        alloy_primitives::address!("0x07dbe8500fc591d1852b76fee44d5a05e13097ff"),
        alloy_primitives::b256!(
            "0xc88a313aa75dc4fbf0b6850d9f9ae41e04243b7008cf3eadb29256d4a71c1dfd"
        ),
    ),
    (
        "Ecotone GasPriceOracle",
        alloy_primitives::address!("0xb528d11cc114e026f138fe568744c6d45ce6da7a"),
        alloy_primitives::b256!(
            "0x8b71360ea773b4cfaf1ae6d2bd15464a4e1e2e360f786e475f63aeaed8da0ae5"
        ),
    ),
    (
        "Fjord GasPriceOracle",
        alloy_primitives::address!("0xa919894851548179a0750865e7974da599c0fac7"),
        alloy_primitives::b256!(
            "0xa88fa50a2745b15e6794247614b5298483070661adacb8d32d716434ed24c6b2"
        ),
    ),
    (
        "Isthmus L1Block",
        alloy_primitives::address!("0xff256497d61dcd71a9e9ff43967c13fde1f72d12"),
        alloy_primitives::b256!(
            "0x8e3fe7a416d3e5f3b7be74ddd4e7e58e516fa3f80b67c6d930e3cd7297da4a4b"
        ),
    ),
    (
        "Isthmus GasPriceOracle",
        alloy_primitives::address!("0x93e57a196454cb919193fa9946f14943cf733845"),
        alloy_primitives::b256!(
            "0x4d195a9d7caf9fb6d4beaf80de252c626c853afd5868c4f4f8d19c9d301c2679"
        ),
    ),
    (
        "Isthmus OperatorFeeVault",
        alloy_primitives::address!("0x4fa2be8cd41504037f1838bce3bcc93bc68ff537"),
        alloy_primitives::b256!(
            "0x57dc55c9c09ca456fa728f253fe7b895d3e6aae0706104935fe87c7721001971"
        ),
    ),
    (
        "Isthmus EIP-2935 history contract",
        alloy_primitives::address!("0x0000F90827F1C53a10cb7A02335B175320002935"),
        alloy_primitives::b256!(
            "0x6e49e66782037c0555897870e29fa5e552daf4719552131a0abce779daec0a5d"
        ),
    ),
];

/// The Karst bundle's gas, as the upstream tests assert it
/// (`testdata/specs/vectors/karst_bundle_assertions.json`).
fn karst_bundle_gas() -> u64 {
    let path = format!(
        "{}/../../testdata/specs/vectors/karst_bundle_assertions.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let facts: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    facts["assertions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["what"] == "total upgrade gas (sum of gasLimit)")
        .unwrap()["value"]
        .as_u64()
        .unwrap()
}

/// Runs a devnet that starts at Delta and activates every later fork 24 s apart, with the node
/// deriving it (`sync`, after every L1 block); checks every block, the upgrade transactions of
/// each activation block, what they deploy, and that nothing is flagged.
fn cross_every_fork<L: L1Node>(
    devnet: &mut Devnet<L>,
    node: &mut Node,
    mut sync: impl FnMut(&mut Node, &Devnet<L>),
) {
    use lockstep_derive::upgrades::{karst, ECOTONE, FJORD, ISTHMUS, JOVIAN};
    let config = devnet.config().clone();
    let activations = config.activations();
    assert_eq!(activations.len(), 7, "Ecotone, Fjord, Granite, Holocene, Isthmus, Jovian, Karst");
    let last = activations.last().unwrap().1;
    // until a batch past Karst is derived
    while devnet.posted.last().is_none_or(|p| {
        let head = p.l2_heads[0].1;
        config.genesis_time + head * config.block_time < last + 12
    }) {
        devnet.step().unwrap();
        sync(node, devnet);
    }
    assert_same_blocks(devnet, node);
    for index in 0..node.batches().unwrap() {
        assert!(node.verdict(index).unwrap().unwrap().matches, "batch {index} flagged");
    }
    let tx = node.database().tx().unwrap();
    for chain in node.chain_ids() {
        let provider = ChainProvider::new(&tx, chain);
        for (name, time) in &activations {
            let number = (time - config.genesis_time) / config.block_time;
            let upgrades: &[lockstep_derive::upgrades::Upgrade] = match *name {
                "Ecotone" => &ECOTONE,
                "Fjord" => &FJORD,
                "Isthmus" => &ISTHMUS,
                "Jovian" => &JOVIAN,
                "Karst" => karst(),
                _ => &[],
            };
            let sources = |n: u64| -> Vec<alloy_primitives::B256> {
                provider
                    .transactions(n)
                    .unwrap()
                    .iter()
                    .filter_map(|t| t.as_deposit().map(|d| d.source_hash))
                    .collect()
            };
            let here = sources(number);
            let mut at = 0;
            for upgrade in upgrades {
                let hash = upgrade.deposit().source_hash;
                // in the fork's order, after the L1 info deposit and any user deposits
                let Some(position) = here.iter().position(|h| *h == hash) else {
                    panic!("chain {chain} block {number}: {}", upgrade.intent)
                };
                assert!(position > at, "chain {chain} block {number}: {}", upgrade.intent);
                at = position;
                assert!(
                    !sources(number - 1).contains(&hash) && !sources(number + 1).contains(&hash)
                );
            }
            // the L1 info deposit opens the block in the format of the fork before
            let first = provider.transactions(number).unwrap()[0].clone();
            let selector = &first.as_deposit().unwrap().input[..4];
            let expected: &[u8] = match *name {
                "Ecotone" => &[0x01, 0x5d, 0x8e, 0xb9],
                "Isthmus" => &[0x44, 0x0a, 0x5e, 0x20],
                "Jovian" => &[0x09, 0x89, 0x99, 0xbe],
                "Karst" => &[0x3d, 0xb6, 0xbe, 0x2b],
                _ => selector,
            };
            assert_eq!(selector, expected, "chain {chain}: {name} activation block's L1 info");
            if *name == "Jovian" {
                // no user transaction in it; the next block opens with setL1BlockValuesJovian,
                // and from it the header carries version 1 extra data and the DA footprint
                let all = provider.transactions(number).unwrap();
                assert!(all.iter().all(|t| t.is_deposit()), "chain {chain}: Jovian's block");
                let next = provider.transactions(number + 1).unwrap()[0].clone();
                assert_eq!(&next.as_deposit().unwrap().input[..4], &[0x3d, 0xb6, 0xbe, 0x2b]);
                let header = provider.header(number + 1).unwrap().unwrap();
                assert_eq!((header.extra_data.len(), header.extra_data[0]), (17, 1));
            }
            if *name == "Karst" {
                // no user transaction in it, and room for the bundle on top of the configured
                // limit (the upstream tests' figure), which the next block gives back
                let all = provider.transactions(number).unwrap();
                assert!(all.iter().all(|t| t.is_deposit()), "chain {chain}: Karst's block");
                let header = provider.header(number).unwrap().unwrap();
                assert_eq!(header.gas_limit, config.gas_limit + karst_bundle_gas());
                let next = provider.header(number + 1).unwrap().unwrap();
                assert_eq!(next.gas_limit, config.gas_limit);
                // every upgrade deposit ran; the first deployed the ConditionalDeployer through
                // the deterministic deployment proxy, at the address the upstream tests find
                let receipts = provider.receipts(number).unwrap();
                assert!(receipts.iter().all(|r| r.status()), "chain {chain}: Karst's receipts");
                let deployer =
                    alloy_primitives::address!("0x906835344844979ffd3a752eaa23728d513db00b");
                let account = provider.account(deployer).unwrap().unwrap();
                assert_ne!(account.code_hash, alloy_primitives::KECCAK256_EMPTY);
            }
        }
        for (what, address, code_hash) in DEPLOYED {
            let account = provider.account(address).unwrap().unwrap_or_else(|| panic!("{what}"));
            assert_eq!(account.code_hash, code_hash, "chain {chain}: {what}");
        }
    }
}

#[test]
fn the_devnet_crosses_every_fork_and_the_node_derives_each_activation_block() {
    init_tracing();
    let dir = tempfile::tempdir().unwrap();
    let options = DevnetOptions { fork_gap: Some(24), ..options() };
    let mut devnet = Devnet::start(&dir.path().join("sequencer"), options).unwrap();
    let mut node = node_for(&devnet, &dir.path().join("node"));
    cross_every_fork(&mut devnet, &mut node, |node, devnet| {
        node.sync(&devnet.l1).unwrap();
    });
}

#[test]
fn the_devnet_crosses_every_fork_on_anvil_with_blobs_from_ecotone() {
    init_tracing();
    let anvil = devnet_anvil();
    let dir = tempfile::tempdir().unwrap();
    let l1 = lockstep_l1::JsonRpcL1::connect(&anvil.url).unwrap();
    let options = DevnetOptions { fork_gap: Some(24), blobs: true, ..options() };
    let mut devnet = Devnet::start_on(l1, &dir.path().join("sequencer"), options).unwrap();
    let reader = lockstep_l1::JsonRpcL1::connect(&anvil.url).unwrap().with_beacon(&anvil.url);
    let mut node = node_for(&devnet, &dir.path().join("node"));
    cross_every_fork(&mut devnet, &mut node, |node, _| {
        node.sync(&reader).unwrap();
    });
}

/// Every block hash of `chain` in `node`, from genesis to its head.
fn hashes(node: &Node, chain: u64) -> Vec<alloy_primitives::B256> {
    let tx = node.database().tx().unwrap();
    let provider = ChainProvider::new(&tx, chain);
    let head = provider.head().unwrap().unwrap().number;
    (0..=head).map(|n| provider.block_hash(n).unwrap().unwrap()).collect()
}

#[test]
fn a_batch_with_a_transaction_the_engine_refuses_becomes_a_deposit_only_block_and_sync_goes_on() {
    use lockstep_devnet::Junk;
    init_tracing();
    let dir = tempfile::tempdir().unwrap();
    let mut devnet = Devnet::start(&dir.path().join("sequencer"), options()).unwrap();
    let mut node = node_for(&devnet, &dir.path().join("node"));
    for _ in 0..2 {
        devnet.step().unwrap();
        node.sync(&devnet.l1).unwrap();
    }
    assert_same_blocks(&devnet, &node);
    // the hostile channel comes first in the L1 block, before the sequencer's honest one
    devnet.inject(Junk::InvalidTransaction);
    let posted = devnet.step().unwrap().unwrap();
    let outcomes = node.sync(&devnet.l1).unwrap();
    let replaced: u64 = outcomes
        .iter()
        .filter_map(|o| match o {
            StepOutcome::Processed { chains, .. } => {
                Some(chains.iter().map(|c| c.replaced).sum::<u64>())
            }
            StepOutcome::Reorged { .. } => None,
        })
        .sum();
    assert!(replaced >= 2, "each chain replaced the refused payload: {outcomes:#?}");
    let first = posted.l2_heads[0].1 - options().blocks_per_batch + 1;
    let handle = devnet.sequencer();
    for chain in node.chain_ids() {
        let tx = node.database().tx().unwrap();
        let derived = ChainProvider::new(&tx, chain);
        let txs = derived.transactions(first).unwrap();
        assert!(
            !txs.is_empty() && txs.iter().all(|t| t.is_deposit()),
            "chain {chain}: deposits only"
        );
        let sequencer = handle.lock().unwrap();
        let built_tx = sequencer.database().tx().unwrap();
        let built = ChainProvider::new(&built_tx, chain);
        assert_eq!(derived.block_hash(first - 1).unwrap(), built.block_hash(first - 1).unwrap());
        assert_ne!(derived.block_hash(first).unwrap(), built.block_hash(first).unwrap());
    }
    // the node is not stopped: it follows the L1 on
    for _ in 0..3 {
        devnet.step().unwrap();
        node.sync(&devnet.l1).unwrap();
    }
    assert_eq!(node.l1_cursor().unwrap().unwrap().0, devnet.l1.head_number().unwrap());
    // a node started afresh derives exactly the same chain: the outcome replays
    let mut again = node_for(&devnet, &dir.path().join("again"));
    again.sync(&devnet.l1).unwrap();
    for chain in node.chain_ids() {
        assert_eq!(hashes(&again, chain), hashes(&node, chain), "chain {chain}");
    }
}

#[test]
fn before_holocene_a_refused_payload_is_dropped_and_the_honest_batch_after_it_is_taken() {
    use lockstep_devnet::Junk;
    init_tracing();
    let dir = tempfile::tempdir().unwrap();
    // Holocene comes 96 s after genesis: the first batches are derived by the batch queue
    let options = DevnetOptions { fork_gap: Some(24), ..options() };
    let mut devnet = Devnet::start(&dir.path().join("sequencer"), options).unwrap();
    let mut node = node_for(&devnet, &dir.path().join("node"));
    devnet.step().unwrap();
    node.sync(&devnet.l1).unwrap();
    devnet.inject(Junk::InvalidTransaction);
    let posted = devnet.step().unwrap().unwrap();
    let holocene = devnet.config().rollup_config(901).hardforks.holocene_time.unwrap();
    let config = devnet.config().clone();
    assert!(config.genesis_time + posted.l2_heads[0].1 * config.block_time < holocene);
    let outcomes = node.sync(&devnet.l1).unwrap();
    assert!(outcomes.iter().all(|o| match o {
        StepOutcome::Processed { chains, .. } => chains.iter().all(|c| c.replaced == 0),
        StepOutcome::Reorged { .. } => true,
    }));
    devnet.step().unwrap();
    node.sync(&devnet.l1).unwrap();
    // the refused attributes were dropped, and the sequencer's own batch, queued behind them
    // in the same L1 block, gave the very blocks the sequencer built
    assert_same_blocks(&devnet, &node);
}

/// An L1 RPC that lies now and then: a block with another block's receipts, or with a
/// transaction left out, or under another block's hash.
struct Lying<'a, S> {
    inner: &'a S,
    calls: std::cell::Cell<u64>,
    lies: std::cell::Cell<u64>,
}

impl<S: L1Source> L1Source for Lying<'_, S> {
    fn chain_id(&self) -> u64 {
        self.inner.chain_id()
    }
    fn head_number(&self) -> Result<u64, lockstep_l1::L1Error> {
        self.inner.head_number()
    }
    fn block(&self, number: u64) -> Result<Option<lockstep_l1::L1Block>, lockstep_l1::L1Error> {
        let mut block = self.inner.block(number)?;
        self.calls.set(self.calls.get() + 1);
        if let Some(b) = block.as_mut().filter(|b| !b.transactions.is_empty()) {
            if self.calls.get().is_multiple_of(2) {
                self.lies.set(self.lies.get() + 1);
                match self.lies.get() % 3 {
                    // another block's receipts, as a reorg between two calls gives
                    0 => {
                        let other = (0..number).rev().find_map(|n| {
                            self.inner.block(n).ok().flatten().filter(|o| {
                                o.receipts.len() == b.receipts.len() && o.receipts != b.receipts
                            })
                        });
                        match other {
                            Some(other) => b.receipts = other.receipts,
                            None => b.receipts.pop().map_or((), drop),
                        }
                    }
                    1 => {
                        b.transactions.pop();
                        b.receipts.pop();
                    }
                    _ => b.hash = alloy_primitives::keccak256(b.hash),
                }
            }
        }
        Ok(block)
    }
    fn blobs(
        &self,
        block: &lockstep_l1::L1Block,
        hashes: &[alloy_primitives::B256],
    ) -> Result<Vec<Box<lockstep_l1::Blob>>, lockstep_l1::L1Error> {
        self.inner.blobs(block, hashes)
    }
}

#[test]
fn an_l1_that_pairs_a_block_with_other_data_is_caught_and_retried() {
    init_tracing();
    let dir = tempfile::tempdir().unwrap();
    let mut devnet = Devnet::start(&dir.path().join("sequencer"), options()).unwrap();
    for _ in 0..4 {
        devnet.step().unwrap();
    }
    // without retries each lie is a clear error, and nothing is written from it
    let mut node = node_for(&devnet, &dir.path().join("plain"));
    let lying = Lying { inner: &devnet.l1, calls: 0.into(), lies: 0.into() };
    let mut caught = 0;
    loop {
        match node.sync(&lying) {
            Ok(_) => break,
            Err(err) => {
                assert!(err.to_string().contains("does not match its header"), "{err}");
                caught += 1;
                let report = lockstep_node::cursor_report(node.database()).unwrap();
                assert!(report.consistent(), "after a lie: {report:?}");
            }
        }
    }
    assert!(caught >= 3, "every kind of lie was told and caught: {caught}");
    assert_same_blocks(&devnet, &node);
    // with retries, the node asks again and goes on
    let mut node = node_for(&devnet, &dir.path().join("retrying"));
    let lying = Lying { inner: &devnet.l1, calls: 0.into(), lies: 0.into() };
    let backoff = lockstep_l1::Backoff {
        initial: std::time::Duration::from_millis(1),
        max: std::time::Duration::from_millis(5),
        attempts: None,
    };
    node.sync(&lockstep_l1::Retrying::new(&lying, backoff)).unwrap();
    assert!(lying.lies.get() >= 3);
    assert_same_blocks(&devnet, &node);
}

#[test]
fn past_the_sequencer_window_a_silent_sequencers_chains_advance_on_deposits_alone() {
    init_tracing();
    let dir = tempfile::tempdir().unwrap();
    let options = DevnetOptions { seq_window_size: Some(4), ..options() };
    let mut devnet = Devnet::start(&dir.path().join("sequencer"), options).unwrap();
    let mut node = node_for(&devnet, &dir.path().join("node"));
    devnet.step().unwrap();
    node.sync(&devnet.l1).unwrap();
    let posted = devnet.posted.last().unwrap().l2_heads[0].1;
    devnet.set_silent(true);
    for _ in 0..8 {
        assert!(devnet.step().unwrap().is_none(), "a silent sequencer posts nothing");
        node.sync(&devnet.l1).unwrap();
    }
    let tx = node.database().tx().unwrap();
    let l1_head = devnet.l1.head_number().unwrap();
    for chain in node.chain_ids() {
        let provider = ChainProvider::new(&tx, chain);
        let head = provider.head().unwrap().unwrap().number;
        // every epoch whose window has passed is filled: 6 L2 blocks per L1 block
        let expired_epochs = l1_head - 4 - 1;
        assert!(head > posted, "chain {chain}: the chain moved on without the sequencer");
        assert!(head >= expired_epochs * 6, "chain {chain}: head {head} at L1 {l1_head}");
        for number in posted + 1..=head {
            let txs = provider.transactions(number).unwrap();
            assert!(txs.iter().all(|t| t.is_deposit()), "chain {chain} block {number}");
        }
    }
}

fn commit_call(
    c: &lockstep_crosschain::Commitment,
) -> lockstep_devnet::contracts::IBatchCommitments::commitCall {
    use lockstep_devnet::contracts::IBatchCommitments::{commitCall, ChainOutput, PairRoots};
    commitCall {
        batch: alloy_primitives::U256::from(c.batch),
        outputs: c
            .outputs
            .iter()
            .map(|o| ChainOutput {
                chainId: o.chain_id,
                l2Block: o.l2_block,
                outputRoot: o.output_root,
            })
            .collect(),
        pairs: c
            .pairs
            .iter()
            .map(|p| PairRoots {
                source: p.source,
                destination: p.destination,
                burnRoot: p.burn_root,
                mintRoot: p.mint_root,
            })
            .collect(),
    }
}

#[test]
fn a_strangers_commitment_is_ignored_and_a_second_different_one_from_the_sequencer_is_flagged() {
    use lockstep_crosschain::{Classification, CommitmentCheck};
    init_tracing();
    let dir = tempfile::tempdir().unwrap();
    let mut devnet = Devnet::start(&dir.path().join("sequencer"), options()).unwrap();
    let mut node = node_for(&devnet, &dir.path().join("node"));
    for _ in 0..2 {
        devnet.step().unwrap().unwrap();
        node.sync(&devnet.l1).unwrap();
    }
    let first = lockstep_crosschain::commitments(&node.database().tx().unwrap(), 1).unwrap();
    assert_eq!(first.len(), 1, "the sequencer committed batch 1");
    assert_eq!(first[0].committer, devnet.config().sequencer());
    // a stranger commits false roots for batch 1 and, ahead of time, for batch 2
    let mut forged = commit_call(&first[0]);
    forged.outputs[0].outputRoot.0[0] ^= 1;
    devnet.commit_as(&lockstep_devnet::dev_key(3), &forged).unwrap();
    forged.batch = alloy_primitives::U256::from(2);
    devnet.commit_as(&lockstep_devnet::dev_key(3), &forged).unwrap();
    // the sequencer repeats batch 0's commitment word for word: nothing changes
    let zero = lockstep_crosschain::commitments(&node.database().tx().unwrap(), 0).unwrap();
    devnet.commit_as(&lockstep_devnet::dev_key(8), &commit_call(&zero[0])).unwrap();
    for _ in 0..2 {
        devnet.step().unwrap().unwrap();
        node.sync(&devnet.l1).unwrap();
    }
    for batch in 0..4 {
        let verdict = node.verdict(batch).unwrap().unwrap();
        assert!(verdict.matches, "batch {batch}: {:?}", verdict.differences);
        assert!(matches!(verdict.commitment, CommitmentCheck::Matches { .. }), "batch {batch}");
    }
    // the sequencer itself commits batch 1 again, differently
    let mut second = commit_call(&first[0]);
    second.pairs[0].mintRoot.0[31] ^= 1;
    devnet.commit_as(&lockstep_devnet::dev_key(8), &second).unwrap();
    devnet.step().unwrap().unwrap();
    node.sync(&devnet.l1).unwrap();
    let verdict = node.verdict(1).unwrap().unwrap();
    let classes: Vec<_> = verdict.differences.iter().map(|d| d.classification).collect();
    assert_eq!(classes, [Classification::ConflictingCommitment]);
    assert!(!verdict.matches);
    assert_eq!(node.flagged_count().unwrap(), 1, "only batch 1");
}

/// A node stopped after any L1 block of a faulty run (a refused transaction, so a deposit-only
/// block, the sequencer following L1, and a censored deposit) and opened again ends where an
/// uninterrupted one does: the same heads, verdicts and transfer records.
#[test]
fn a_node_reopened_after_any_l1_block_of_a_faulty_run_ends_where_an_uninterrupted_one_does() {
    init_tracing();
    let dir = tempfile::tempdir().unwrap();
    let faults = ["invalid-tx@3", "censor@5"].iter().map(|f| f.parse().unwrap()).collect();
    let options = DevnetOptions { faults, txs_per_block: 2, ..options() };
    let mut devnet = Devnet::start(&dir.path().join("sequencer"), options).unwrap();
    while devnet.posted.len() < 9 {
        devnet.step().unwrap();
    }
    let tip = devnet.l1.head_number().unwrap();
    let mut clean = node_for(&devnet, &dir.path().join("clean"));
    clean.sync(&devnet.l1).unwrap();
    let expected = (hashes(&clean, 901), hashes(&clean, 902), clean.batches().unwrap());
    let flagged = clean.flagged_count().unwrap();
    assert!(flagged >= 2, "both faults are flagged: {flagged}");
    for stop in 1..tip {
        let path = dir.path().join(format!("stopped-{stop}"));
        let mut node = node_for(&devnet, &path);
        while node.l1_cursor().unwrap().is_none_or(|(n, _)| n < stop) {
            node.step(&devnet.l1).unwrap().unwrap();
        }
        drop(node);
        let mut node = node_for(&devnet, &path);
        node.sync(&devnet.l1).unwrap();
        let got = (hashes(&node, 901), hashes(&node, 902), node.batches().unwrap());
        assert_eq!(got, expected, "reopened after L1 block {stop}");
        assert_eq!(node.flagged_count().unwrap(), flagged, "reopened after L1 block {stop}");
        drop(node);
        std::fs::remove_dir_all(&path).unwrap();
    }
}

/// Pruning never takes the receipts a batch still to close needs: while the first chain lags
/// (a bad batch of it that L1 overrules only once the sequencer window passes), the second runs
/// far ahead of the last closed batch, further than a node keeping 12 blocks of history keeps.
/// That node is reopened after every L1 block (a reopened node reads the events of unbatched
/// blocks back from their receipts); every verdict of it must equal an archive node's.
#[test]
fn a_pruned_node_checks_every_batch_as_an_archive_node_does_while_one_chain_lags() {
    init_tracing();
    let dir = tempfile::tempdir().unwrap();
    let options = DevnetOptions {
        faults: vec!["bad-batch@2".parse().unwrap()],
        seq_window_size: Some(8),
        ..options()
    };
    let mut devnet = Devnet::start(&dir.path().join("sequencer"), options).unwrap();
    let mut archive = node_for(&devnet, &dir.path().join("archive"));
    archive.set_history_blocks(None).unwrap();
    let mut pruned = node_for(&devnet, &dir.path().join("pruned"));
    pruned.set_history_blocks(Some(12)).unwrap();
    let mut widest = 0;
    for _ in 0..18 {
        devnet.step().unwrap();
        archive.sync(&devnet.l1).unwrap();
        drop(pruned);
        pruned = node_for(&devnet, &dir.path().join("pruned"));
        pruned.set_history_blocks(Some(12)).unwrap();
        pruned.sync(&devnet.l1).unwrap();
        let heads: Vec<u64> = pruned.heads().iter().map(|(_, n, _)| *n).collect();
        widest = widest.max(heads.iter().max().unwrap() - heads.iter().min().unwrap());
    }
    assert!(widest > 12, "the chains never drifted apart further than the kept history: {widest}");
    assert_eq!(archive.heads(), pruned.heads());
    let batches = archive.batches().unwrap();
    assert_eq!(batches, pruned.batches().unwrap());
    assert!(batches >= 10, "{batches} batches");
    for index in 0..batches {
        assert_eq!(
            archive.verdict(index).unwrap(),
            pruned.verdict(index).unwrap(),
            "batch {index}"
        );
    }
    let tx = pruned.database().tx().unwrap();
    let starts: Vec<u64> = pruned
        .chain_ids()
        .into_iter()
        .map(|c| ChainProvider::new(&tx, c).history_start().unwrap())
        .collect();
    assert!(starts.iter().all(|s| *s > 0), "nothing was pruned: {starts:?}");
}

#[test]
fn shift_mint_passes_in_batch_mode_and_flags_only_its_batch_in_timestamp_mode() {
    use lockstep_crosschain::{Atomicity, Classification};
    init_tracing();
    let dir = tempfile::tempdir().unwrap();
    let faults = vec!["shift-mint@5".parse().unwrap()];
    let mut devnet =
        Devnet::start(&dir.path().join("sequencer"), DevnetOptions { faults, ..options() })
            .unwrap();
    let mut batch_mode = node_for(&devnet, &dir.path().join("batch"));
    let mut timestamp_mode = node_for(&devnet, &dir.path().join("timestamp"));
    timestamp_mode.set_atomicity(Atomicity::Timestamp);
    assert_eq!(batch_mode.atomicity(), Atomicity::Batch, "batch mode is the default");
    while devnet.posted.len() < 8 {
        devnet.step().unwrap();
        batch_mode.sync(&devnet.l1).unwrap();
        timestamp_mode.sync(&devnet.l1).unwrap();
    }
    let flagged = |node: &Node| {
        let tx = node.database().tx().unwrap();
        lockstep_crosschain::flagged(&tx, 0, 100).unwrap()
    };
    assert_eq!(flagged(&batch_mode), [], "inside the batch: atomic per batch");
    let strict = flagged(&timestamp_mode);
    assert_eq!(strict.iter().map(|(b, _)| *b).collect::<Vec<_>>(), [5], "{strict:?}");
    let verdict = timestamp_mode.verdict(5).unwrap().unwrap();
    assert!(verdict.pairs.iter().all(|p| p.matches()), "the roots agree; only a time differs");
    let [difference] = &verdict.differences[..] else { panic!("{:?}", verdict.differences) };
    assert_eq!(difference.classification, Classification::TimestampMismatch);
    // the evidence names both timestamps, each its block's as the node stored it
    let (burn, mint) = (difference.burn.as_ref().unwrap(), difference.mint.as_ref().unwrap());
    assert_eq!(burn.transfer, mint.transfer);
    let tx = timestamp_mode.database().tx().unwrap();
    let header = |chain, number| {
        lockstep_storage::ChainProvider::new(&tx, chain).header(number).unwrap().unwrap()
    };
    let burned = header(burn.location.chain_id, burn.location.block);
    let minted = header(mint.location.chain_id, mint.location.block);
    assert_eq!(burn.location.timestamp, Some(burned.timestamp));
    assert_eq!(mint.location.timestamp, Some(minted.timestamp));
    assert_eq!(mint.location.block, burn.location.block + 1, "one L2 block later");
    assert_eq!(minted.timestamp, burned.timestamp + 2, "the chains' 2 s block time");
    assert!(difference.detail.contains(&burned.timestamp.to_string()), "{}", difference.detail);
    assert!(difference.detail.contains(&minted.timestamp.to_string()), "{}", difference.detail);
    // the same history in batch mode: every batch matches
    for index in 0..devnet.posted.len() as u64 {
        assert!(batch_mode.verdict(index).unwrap().is_none_or(|v| v.matches), "batch {index}");
    }
}
