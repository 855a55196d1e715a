use crate::bridge::ISuperchainBridge;
use alloy_primitives::{Address, B256, U256};
use alloy_sol_types::SolEvent;
use lockstep_primitives::{ChainId, Transfer};
use op_alloy_consensus::OpReceiptEnvelope;

/// Whether a bridge event burned or minted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// A `Burn` on the source chain.
    Burn,
    /// A `Mint` on the destination chain.
    Mint,
}

/// A bridge event as a transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BridgeEvent {
    /// Burn or mint.
    pub kind: EventKind,
    /// The transfer it names.
    pub transfer: Transfer,
}

/// Something found in a block, with where it was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Located<T> {
    /// The item.
    pub item: T,
    /// The L2 block number.
    pub block: u64,
    /// The transaction's index in the block.
    pub tx_index: u32,
    /// The log's index in the block.
    pub log_index: u32,
    /// The transaction's hash.
    pub tx_hash: B256,
    /// The transaction's source hash when it is a deposit (a burn forced in through L1).
    pub deposit_source: Option<B256>,
}

fn chain_id(value: U256) -> Option<ChainId> {
    u64::try_from(value).ok()
}

/// The bridge events of one block of chain `chain`, in (transaction, log) order, from successful
/// transactions only. `tx_hashes` are the block's transaction hashes, parallel to `receipts`.
///
/// A log that claims to be a bridge event but does not decode, or names a chain id beyond 64 bits
/// (never a chain of the set), is left out: no contract but the bridge can emit from its address,
/// so only a broken bridge could produce one.
pub fn bridge_events(
    chain: ChainId,
    block: u64,
    receipts: &[OpReceiptEnvelope],
    tx_hashes: &[B256],
    bridge: Address,
) -> Vec<Located<BridgeEvent>> {
    let mut out = Vec::new();
    let mut log_index = 0u32;
    for (tx_index, receipt) in receipts.iter().enumerate() {
        let logs = receipt.logs();
        if !receipt.status() {
            log_index += logs.len() as u32;
            continue;
        }
        for log in logs {
            let index = log_index;
            log_index += 1;
            if log.address != bridge {
                continue;
            }
            let event = match log.topics().first() {
                Some(t) if *t == ISuperchainBridge::Burn::SIGNATURE_HASH => {
                    ISuperchainBridge::Burn::decode_log_data(&log.data).ok().and_then(|e| {
                        Some(BridgeEvent {
                            kind: EventKind::Burn,
                            transfer: Transfer {
                                source: chain,
                                destination: chain_id(e.destination)?,
                                nonce: e.nonce,
                                token: e.token,
                                from: e.from,
                                to: e.to,
                                amount: e.amount,
                            },
                        })
                    })
                }
                Some(t) if *t == ISuperchainBridge::Mint::SIGNATURE_HASH => {
                    ISuperchainBridge::Mint::decode_log_data(&log.data).ok().and_then(|e| {
                        Some(BridgeEvent {
                            kind: EventKind::Mint,
                            transfer: Transfer {
                                source: chain_id(e.source)?,
                                destination: chain,
                                nonce: e.nonce,
                                token: e.token,
                                from: e.from,
                                to: e.to,
                                amount: e.amount,
                            },
                        })
                    })
                }
                _ => None,
            };
            if let Some(item) = event {
                out.push(Located {
                    item,
                    block,
                    tx_index: tx_index as u32,
                    log_index: index,
                    tx_hash: tx_hashes.get(tx_index).copied().unwrap_or_default(),
                    deposit_source: None,
                });
            }
        }
    }
    out
}
