//! `eth_getProof` (EIP-1186): an account and some of its storage slots with the Merkle proofs
//! that tie them to a block's state root, so that a challenger can check an output root's
//! message-passer root, or any account, without trusting this node.
//!
//! The trie is stored for the head only. For an older block inside the history window, the
//! state is rewound in memory (as `debug_executionWitness` does) and the proof is read from
//! the rewound trie, whose root is checked against that block's header first.

use crate::{
    eth::{address_param, Chain, Provider},
    superchain::{invalid_params, params_by_name, required, server_error},
};
use alloy_consensus::{constants::KECCAK_EMPTY, EMPTY_ROOT_HASH};
use alloy_primitives::{Address, Bytes, B256, U256};
use jsonrpsee::types::{ErrorObjectOwned, Params};
use lockstep_storage::{trie::witness_rlp, ChainProvider, Overlay, TableRead};
use serde_json::{json, Value};

/// The most storage keys one `eth_getProof` call may ask for.
pub const MAX_PROOF_KEYS: usize = 1024;

/// A storage key as the client wrote it: 32 bytes are echoed as a hash, anything shorter as a
/// quantity, as op-reth does.
struct StorageKey {
    slot: B256,
    as_hash: bool,
}

impl StorageKey {
    fn parse(index: usize, value: &Value) -> Result<Self, ErrorObjectOwned> {
        let bad = |why: &str| invalid_params(format!("`storageKeys[{index}]` {why}, got {value}"));
        let text = value.as_str().ok_or_else(|| bad("must be a hex string"))?;
        let hex = text.strip_prefix("0x").ok_or_else(|| bad("must start with 0x"))?;
        if hex.is_empty() || hex.len() > 64 {
            return Err(bad("must be 1 to 64 hex digits"));
        }
        let slot = U256::from_str_radix(hex, 16).map_err(|_| bad("must be hex digits"))?;
        Ok(Self { slot: B256::from(slot), as_hash: hex.len() == 64 })
    }

    fn json(&self) -> Value {
        if self.as_hash {
            json!(self.slot)
        } else {
            json!(format!("0x{:x}", U256::from_be_bytes(self.slot.0)))
        }
    }
}

fn storage_keys(value: &Value) -> Result<Vec<StorageKey>, ErrorObjectOwned> {
    let keys = value
        .as_array()
        .ok_or_else(|| invalid_params(format!("`storageKeys` must be an array, got {value}")))?;
    if keys.len() > MAX_PROOF_KEYS {
        return Err(invalid_params(format!(
            "`storageKeys` holds {} keys; at most {MAX_PROOF_KEYS} are proven in one call",
            keys.len()
        )));
    }
    keys.iter().enumerate().map(|(i, key)| StorageKey::parse(i, key)).collect()
}

fn nodes_json(nodes: &[lockstep_storage::TrieNode]) -> Value {
    json!(witness_rlp(nodes).into_iter().map(Bytes::from).collect::<Vec<_>>())
}

/// The proof of `address` and `keys` in the state `provider` reads.
fn proof_json<T: TableRead>(
    provider: &ChainProvider<'_, T>,
    address: Address,
    keys: &[StorageKey],
) -> Result<Value, ErrorObjectOwned> {
    let account = provider.account(address).map_err(server_error)?;
    let storage_hash = match account {
        Some(_) => provider.storage_root(address).map_err(server_error)?,
        None => EMPTY_ROOT_HASH,
    };
    let mut storage = Vec::with_capacity(keys.len());
    for key in keys {
        let (value, proof) = if account.is_some() {
            let value = provider.storage(address, key.slot).map_err(server_error)?;
            (value, provider.storage_proof(address, key.slot).map_err(server_error)?)
        } else {
            (U256::ZERO, Vec::new())
        };
        storage.push(json!({
            "key": key.json(),
            "value": format!("0x{value:x}"),
            "proof": nodes_json(&proof),
        }));
    }
    let account_proof = provider.account_proof(address).map_err(server_error)?;
    let account = account.unwrap_or_default();
    let code_hash = if account.has_code() { account.code_hash } else { KECCAK_EMPTY };
    Ok(json!({
        "address": address,
        "accountProof": nodes_json(&account_proof),
        "balance": format!("0x{:x}", account.balance),
        "codeHash": code_hash,
        "nonce": format!("0x{:x}", account.nonce),
        "storageHash": storage_hash,
        "storageProof": storage,
    }))
}

impl Chain {
    /// `eth_getProof(address, storageKeys, block)`.
    pub(crate) fn get_proof(&self, params: &Params<'_>) -> Result<Value, ErrorObjectOwned> {
        let p = params_by_name(params, &["address", "storageKeys", "block"])?;
        let address = address_param("address", required("address", &p[0])?)?;
        let keys = storage_keys(required("storageKeys", &p[1])?)?;
        let tx = self.tx()?;
        let provider: Provider<'_> = ChainProvider::new(&tx, self.chain_id);
        let number = self.resolve(&tx, &provider, p[2].as_ref())?;
        self.check_history(&provider, number)?;
        if number == self.head(&provider)? {
            return proof_json(&provider, address, &keys);
        }
        let past = Overlay::new(&tx);
        let rewound = ChainProvider::new(&past, self.chain_id);
        let root = rewound.rewind_state_to(number).map_err(server_error)?;
        let header = provider
            .header(number)
            .map_err(server_error)?
            .ok_or_else(|| server_error(format!("block {number} has no stored header")))?;
        if root != header.state_root {
            return Err(server_error(format!(
                "the state rewound to block {number} has root {root}, not the header's {}",
                header.state_root
            )));
        }
        proof_json(&rewound, address, &keys)
    }
}
