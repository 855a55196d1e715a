//! Executes long generated block sequences over MDBX and checks every root against an
//! independent full recomputation with alloy-trie's `HashBuilder`.

#![allow(clippy::unwrap_used)]

use alloy_primitives::{keccak256, B256};
use alloy_trie::{root::storage_root_unhashed, TrieAccount};
use lockstep_chainspec::{ChainSpec, L2_TO_L1_MESSAGE_PASSER};
use lockstep_execution::{
    output_root,
    test_utils::{test_chain_spec, BlockGenerator},
    ChainExecutor, OpPayloadAttributes,
};
use lockstep_storage::{test_utils::temp_database, ChainProvider, DatabaseEnv};
use op_alloy_consensus::OpReceiptEnvelope;
use std::sync::Arc;

const ACCOUNTS: usize = 8;

/// The state root computed from scratch from the plain state, sharing no code with the
/// incremental trie.
fn full_state_root(env: &DatabaseEnv, chain: u64) -> (B256, B256) {
    let tx = env.tx().unwrap();
    let provider = ChainProvider::new(&tx, chain);
    let mut passer_root = alloy_trie::EMPTY_ROOT_HASH;
    let mut leaves = Vec::new();
    for (address, account) in provider.all_accounts().unwrap() {
        let storage_root = storage_root_unhashed(provider.all_storage(address).unwrap());
        if address == L2_TO_L1_MESSAGE_PASSER {
            passer_root = storage_root;
        }
        let leaf = TrieAccount {
            nonce: account.nonce,
            balance: account.balance,
            storage_root,
            code_hash: account.code_hash,
        };
        leaves.push((keccak256(address), alloy_rlp::encode(leaf)));
    }
    leaves.sort();
    let mut builder = alloy_trie::HashBuilder::default();
    for (key, value) in leaves {
        builder.add_leaf(alloy_trie::Nibbles::unpack(key), &value);
    }
    (builder.root(), passer_root)
}

struct Chain {
    executor: ChainExecutor,
    attrs: Vec<OpPayloadAttributes>,
}

impl Chain {
    fn new(chain_id: u64, blocks: usize, seed: u64) -> Self {
        let spec: ChainSpec = test_chain_spec(chain_id, ACCOUNTS);
        let mut generator = BlockGenerator::new(chain_id, ACCOUNTS, seed);
        let attrs = (0..blocks).map(|_| generator.next_attributes()).collect();
        Self { executor: ChainExecutor::new(Arc::new(spec)), attrs }
    }

    fn init(&self, env: &DatabaseEnv) {
        let tx = env.tx_mut().unwrap();
        self.executor.init_genesis(&tx).unwrap();
        tx.commit().unwrap();
    }

    /// Executes block `index` (0-based attributes), commits, checks roots; returns the hash.
    fn execute_checked(&self, env: &DatabaseEnv, index: usize) -> B256 {
        let tx = env.tx_mut().unwrap();
        let executed = self.executor.execute(&tx, &self.attrs[index]).unwrap();
        tx.commit().unwrap();
        let header = &executed.block.header;
        assert!(executed.skipped.is_empty(), "generated transactions are all valid");
        let chain = self.executor.chain_id();
        let (root, passer) = full_state_root(env, chain);
        assert_eq!(header.state_root, root, "chain {chain} block {} state root", header.number);
        assert_eq!(
            header.withdrawals_root,
            Some(passer),
            "block {} withdrawals root",
            header.number
        );
        executed.block.hash
    }
}

#[test]
fn generated_blocks_match_full_recomputation_and_unwind_replays_identically() {
    let db = temp_database();
    let chain = Chain::new(901, 80, 1);
    chain.init(&db.env);
    let hashes: Vec<B256> =
        (0..chain.attrs.len()).map(|i| chain.execute_checked(&db.env, i)).collect();

    // the generator must have exercised what the test claims
    let tx = db.env.tx().unwrap();
    let provider = ChainProvider::new(&tx, 901);
    let (mut reverted, mut deposits, mut creates) = (0, 0, 0);
    for number in 1..=80 {
        for receipt in provider.receipts(number).unwrap() {
            match &receipt {
                OpReceiptEnvelope::Deposit(_) => deposits += 1,
                r if !r.status() => reverted += 1,
                _ => {}
            }
        }
        creates += provider
            .transactions(number)
            .unwrap()
            .iter()
            .filter(|t| alloy_consensus::Transaction::kind(*t).is_create())
            .count();
    }
    assert!(reverted > 10 && deposits > 80 && creates > 10, "{reverted} {deposits} {creates}");
    let head_header = provider.header(80).unwrap().unwrap();
    let head_root = chain.executor.head_output_root(&tx).unwrap();
    assert_eq!(
        head_root,
        output_root(head_header.state_root, head_header.withdrawals_root.unwrap(), hashes[79])
    );
    drop(tx);

    // unwind to the middle: the state, head and root are those of block 40
    let later_tx = {
        let tx = db.env.tx().unwrap();
        let hash = ChainProvider::new(&tx, 901).transactions(41).unwrap()[0].tx_hash();
        assert!(ChainProvider::new(&tx, 901).transaction_location(hash).unwrap().is_some());
        hash
    };
    let tx = db.env.tx_mut().unwrap();
    let root = ChainProvider::new(&tx, 901).unwind_to(40).unwrap();
    tx.commit().unwrap();
    let tx = db.env.tx().unwrap();
    let provider = ChainProvider::new(&tx, 901);
    let header40 = provider.header(40).unwrap().unwrap();
    assert_eq!(root, header40.state_root);
    assert_eq!(full_state_root(&db.env, 901).0, header40.state_root);
    assert_eq!(provider.head().unwrap().unwrap().hash, hashes[39]);
    assert!(provider.header(41).unwrap().is_none());
    assert!(provider.receipts(41).unwrap().is_empty());
    assert!(provider.transaction_location(later_tx).unwrap().is_none(), "the hash index unwinds");
    drop(tx);

    // executing the same attributes again gives the same blocks
    for (i, hash) in hashes.iter().enumerate().skip(40) {
        assert_eq!(chain.execute_checked(&db.env, i), *hash, "block {} after unwind", i + 1);
    }
}

#[test]
fn two_chains_share_one_database_without_interference() {
    let shared = temp_database();
    let alone = temp_database();
    let op = Chain::new(901, 30, 11);
    let base = Chain::new(902, 30, 12);
    op.init(&shared.env);
    base.init(&shared.env);
    op.init(&alone.env);
    for i in 0..30 {
        let op_hash = op.execute_checked(&shared.env, i);
        let base_hash = base.execute_checked(&shared.env, i);
        assert_ne!(op_hash, base_hash);
        // the same chain run alone in its own database makes the same blocks
        assert_eq!(op.execute_checked(&alone.env, i), op_hash);
    }
    // unwinding one chain leaves the other untouched
    let tx = shared.env.tx_mut().unwrap();
    ChainProvider::new(&tx, 902).unwind_to(10).unwrap();
    tx.commit().unwrap();
    let tx = shared.env.tx().unwrap();
    assert_eq!(ChainProvider::new(&tx, 901).head().unwrap().unwrap().number, 30);
    assert_eq!(ChainProvider::new(&tx, 902).head().unwrap().unwrap().number, 10);
    drop(tx);
    assert_eq!(
        full_state_root(&shared.env, 901).0,
        full_state_root(&alone.env, 901).0,
        "chain 901's state is the same as when it ran alone"
    );
}
