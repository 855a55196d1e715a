//! The witness of every stored block, replayed statelessly, gives that block's hash: the stored
//! trie (which the witness is cut from) and the sparse trie (which the stateless run computes
//! the root over) agree on every state change of a generated history with creations,
//! self-destructs, storage writes and deletes, reverts and deposits.

#![allow(clippy::unwrap_used)]

use lockstep_execution::{
    execute_stateless, execution_witness,
    test_utils::{test_chain_spec, BlockGenerator},
    ChainExecutor, StatelessBlock,
};
use lockstep_storage::test_utils::temp_database;
use std::sync::Arc;

#[test]
fn every_block_replays_from_its_witness_to_its_hash() {
    let db = temp_database();
    let spec = Arc::new(test_chain_spec(901, 8));
    let executor = ChainExecutor::new(spec.clone());
    let tx = db.env.tx_mut().unwrap();
    executor.init_genesis(&tx).unwrap();
    tx.commit().unwrap();
    let mut generator = BlockGenerator::new(901, 8, 5);
    let mut hashes = Vec::new();
    for _ in 0..60 {
        let tx = db.env.tx_mut().unwrap();
        let executed = executor.execute(&tx, &generator.next_attributes()).unwrap();
        tx.commit().unwrap();
        hashes.push(executed.block.hash);
    }
    let tx = db.env.tx().unwrap();
    let (mut nodes, mut codes) = (0, 0);
    for number in (1..=60u64).rev() {
        // taken at the head, so every block but the last is rewound first
        let witness = execution_witness(&spec.rollup, &tx, 901, number).unwrap();
        assert_eq!(witness.hash, hashes[number as usize - 1]);
        nodes += witness.witness.state.len();
        codes += witness.witness.codes.len();
        let input = StatelessBlock {
            chain_id: Some(901),
            rollup_config: spec.rollup.clone(),
            parent_hash: Some(witness.parent.hash_slow()),
            parent_header: witness.parent.clone(),
            payload_attributes: witness.attributes.clone(),
            witness: witness.witness.clone(),
            expected: None,
        };
        // through JSON, as a file would carry it
        let json = serde_json::to_vec(&input).unwrap();
        let input = StatelessBlock::from_slice(&json).unwrap();
        let block = execute_stateless(&input).unwrap_or_else(|e| panic!("block {number}: {e}"));
        assert_eq!(block.hash, hashes[number as usize - 1], "block {number}");
    }
    assert!(nodes > 60 && codes > 0, "{nodes} nodes, {codes} codes");
    // nothing was written
    assert_eq!(executor_head(&db.env), 60);
    assert!(execution_witness(&spec.rollup, &tx, 901, 0).is_err());
    assert!(execution_witness(&spec.rollup, &tx, 901, 61).is_err());
}

fn executor_head(env: &lockstep_storage::DatabaseEnv) -> u64 {
    let tx = env.tx().unwrap();
    lockstep_storage::ChainProvider::new(&tx, 901).head().unwrap().unwrap().number
}
