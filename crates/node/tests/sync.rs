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

fn node_for<L: L1Node>(devnet: &Devnet<L>, dir: &std::path::Path) -> Node {
    let config = devnet.config();
    let specs = config.chains.iter().map(|c| config.chain_spec(c.chain_id)).collect();
    Node::open(dir, specs).unwrap()
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
    }
}
