//! The execution witness of a stored block: every trie node, bytecode and ancestor header that
//! executing it reads or rewrites, as `debug_executionWitness` returns it.
//!
//! The block is executed again over the state before it: the plain state and tries are rewound
//! in memory (an [`Overlay`] over the read snapshot, so nothing is written), and the keys the
//! execution and the state-root update read are recorded. The witness holds the pre-state nodes
//! at every recorded trie path and the proof of every account and slot read, so that a stateless
//! executor can both read the state and compute the new root.

use crate::{
    executor::{bundle_changes, execute_transactions, next_header, seal_block},
    stateless::ExecutionWitness,
    ExecutionError,
};
use alloy_consensus::Header;
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{keccak256, Bytes, B256, B64};
use alloy_rlp::Encodable;
use alloy_rpc_types_engine::PayloadAttributes;
use lockstep_chainspec::RollupConfig;
use lockstep_chainspec::L2_TO_L1_MESSAGE_PASSER;
use lockstep_storage::{
    tables::{AccountsTrie, Bytecodes, StoragesTrie},
    trie::witness_rlp,
    ChainProvider, NibblePath, Overlay, ReadRecorder, TableRead,
};
use op_alloy_consensus::OpTxEnvelope;
use op_alloy_rpc_types_engine::OpPayloadAttributes;
use std::collections::{BTreeMap, BTreeSet};

/// A stored block's witness, with what a stateless executor needs besides it.
#[derive(Debug, Clone)]
pub struct BlockWitness {
    /// The witness.
    pub witness: ExecutionWitness,
    /// The parent block's header.
    pub parent: Header,
    /// The payload attributes that make the block.
    pub attributes: OpPayloadAttributes,
    /// The block's hash, which executing it again reproduced.
    pub hash: B256,
}

/// The payload attributes that produce the stored block with `header` and `transactions`.
pub fn payload_attributes(
    rollup: &RollupConfig,
    header: &Header,
    transactions: &[OpTxEnvelope],
) -> OpPayloadAttributes {
    let t = header.timestamp;
    let extra = header.extra_data.as_ref();
    // from Holocene the extra data is a version byte and the eight bytes of eip1559Params;
    // from Jovian the minimum base fee's eight bytes follow
    let eip_1559_params =
        (rollup.is_holocene_active(t) && extra.len() >= 9).then(|| B64::from_slice(&extra[1..9]));
    let min_base_fee = (rollup.is_jovian_active(t) && extra.len() >= 17).then(|| {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(&extra[9..17]);
        u64::from_be_bytes(bytes)
    });
    OpPayloadAttributes {
        payload_attributes: PayloadAttributes {
            timestamp: t,
            prev_randao: header.mix_hash,
            suggested_fee_recipient: header.beneficiary,
            withdrawals: rollup.is_canyon_active(t).then(Vec::new),
            parent_beacon_block_root: header.parent_beacon_block_root,
            slot_number: None,
            target_gas_limit: None,
        },
        transactions: Some(transactions.iter().map(|tx| Bytes::from(tx.encoded_2718())).collect()),
        no_tx_pool: Some(true),
        gas_limit: Some(header.gas_limit),
        eip_1559_params,
        min_base_fee,
    }
}

fn unavailable(what: String) -> ExecutionError {
    ExecutionError::WitnessUnavailable(what)
}

/// Builds the execution witness of block `number` of chain `chain` from the database `tx`
/// (any block after genesis whose predecessors' changesets are kept). Nothing is written.
pub fn execution_witness<T: TableRead + std::fmt::Debug>(
    rollup: &RollupConfig,
    tx: &T,
    chain: u64,
    number: u64,
) -> Result<BlockWitness, ExecutionError> {
    let provider = ChainProvider::new(tx, chain);
    let head = provider.head()?.ok_or(ExecutionError::NotInitialised(chain))?.number;
    let genesis = rollup.genesis.l2.number;
    if number <= genesis || number > head {
        return Err(unavailable(format!(
            "block {number} is not an executed block (genesis {genesis}, head {head})"
        )));
    }
    let stored = |n: u64| -> Result<(Header, B256), ExecutionError> {
        let header = provider.header(n)?;
        let hash = provider.block_hash(n)?;
        header.zip(hash).ok_or_else(|| unavailable(format!("block {n} is not stored")))
    };
    let (header, hash) = stored(number)?;
    let (parent, parent_hash) = stored(number - 1)?;
    let attributes = payload_attributes(rollup, &header, &provider.transactions(number)?);

    // the state after the parent, in memory
    let pre = Overlay::new(tx);
    let rewound = ChainProvider::new(&pre, chain).rewind_state_to(number - 1)?;
    if rewound != parent.state_root {
        return Err(unavailable(format!(
            "the state rewound to block {} has root {rewound}, not the header's {}",
            number - 1,
            parent.state_root
        )));
    }
    // the block once more over it, recording what it reads
    let work = Overlay::new(&pre);
    let recorder = ReadRecorder::new(&work);
    let replay = ChainProvider::new(&recorder, chain);
    let next = next_header(rollup, &parent, parent_hash, &attributes)?;
    let outcome = execute_transactions(rollup, next, &attributes, replay.state())?;
    let state_root = replay.write_state(number, &bundle_changes(&outcome.bundle))?;
    let passer_root = if rollup.is_isthmus_active(header.timestamp) {
        Some(replay.storage_root(L2_TO_L1_MESSAGE_PASSER)?)
    } else {
        None
    };
    let block = seal_block(rollup, outcome, state_root, passer_root);
    if block.hash != hash {
        let differ = crate::header_mismatches(&block.header, &header);
        let fields: Vec<_> = differ.iter().map(|m| m.field.as_str()).collect();
        return Err(unavailable(format!(
            "block {number} executed again hashes to {}, not to the stored {hash} ({} differ)",
            block.hash,
            fields.join(", ")
        )));
    }
    let reads = recorder.into_reads();

    let before = ChainProvider::new(&pre, chain);
    let mut nodes: BTreeMap<B256, Bytes> = BTreeMap::new();
    let mut add = |rlp: Vec<u8>| {
        nodes.insert(keccak256(&rlp), rlp.into());
    };
    // the pre-state node at every trie path the update read (a collapse reads a sibling that
    // no proof holds); shorter nodes are embedded in their parents
    let mut trie_nodes = Vec::new();
    for path in &reads.account_trie {
        let node = pre.get::<AccountsTrie>(&(chain, NibblePath(path.clone())))?;
        trie_nodes.extend(node.map(|n| (path.is_empty(), n)));
    }
    for (owner, paths) in &reads.storage_tries {
        for path in paths {
            let node = pre.get::<StoragesTrie>(&(chain, *owner, NibblePath(path.clone())))?;
            trie_nodes.extend(node.map(|n| (path.is_empty(), n)));
        }
    }
    for (is_root, node) in trie_nodes {
        let mut rlp = Vec::new();
        node.encode_rlp(&mut rlp);
        if is_root || rlp.len() >= 32 {
            add(rlp);
        }
    }
    // the proof of every account and slot read
    let mut keys = Vec::new();
    // from Isthmus the header commits to the message passer's storage root, which a stateless
    // executor reads from its account leaf
    let passer = rollup.is_isthmus_active(header.timestamp).then_some(&L2_TO_L1_MESSAGE_PASSER);
    let proven: BTreeSet<_> =
        reads.accounts.iter().chain(reads.storage.keys()).chain(passer).collect();
    for address in proven {
        witness_rlp(&before.account_proof(*address)?).into_iter().for_each(&mut add);
    }
    for address in &reads.accounts {
        keys.push(Bytes::copy_from_slice(address.as_slice()));
    }
    for (address, slots) in &reads.storage {
        for slot in slots {
            witness_rlp(&before.storage_proof(*address, *slot)?).into_iter().for_each(&mut add);
            keys.push(Bytes::copy_from_slice(slot.as_slice()));
        }
    }
    let mut codes = Vec::new();
    for hash in &reads.codes {
        if let Some(code) = pre.get::<Bytecodes>(hash)? {
            codes.push(Bytes::from(code));
        }
    }
    // BLOCKHASH(n) is proven by the headers from n + 1 up to the parent
    let mut headers = Vec::new();
    if let Some(oldest) = reads.block_hashes.iter().copied().filter(|n| *n + 1 < number).min() {
        for n in (oldest + 1..number).rev() {
            let (header, _) = stored(n)?;
            let mut rlp = Vec::new();
            header.encode(&mut rlp);
            headers.push(Bytes::from(rlp));
        }
    }
    Ok(BlockWitness {
        witness: ExecutionWitness { state: nodes.into_values().collect(), codes, keys, headers },
        parent,
        attributes,
        hash,
    })
}
