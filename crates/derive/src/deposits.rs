//! User deposits: the `TransactionDeposited` logs of the deposit contract in an L1 block's
//! receipts, turned into deposit transactions (deposit spec, "Deposit Contract"), as op-node
//! reads them.
//!
//! `TransactionDeposited(address indexed from, address indexed to, uint256 indexed version,
//! bytes opaqueData)`, version 0: `opaqueData = mint (32) ++ value (32) ++ gasLimit (8) ++
//! isCreation (1) ++ data`, ABI-encoded as one `bytes` in the log's data.

use crate::{l1_block_info::user_deposit_source_hash, DeriveError};
use alloy_consensus::TxReceipt;
use alloy_primitives::{b256, Address, Log, TxKind, B256, U256};
use op_alloy_consensus::TxDeposit;

/// `keccak256("TransactionDeposited(address,address,uint256,bytes)")`.
pub const DEPOSIT_EVENT_TOPIC: B256 =
    b256!("0xb3813568d9991fc951961fcb4c784893574240a28925604d09fc577c55bb7c32");

fn bad(what: impl Into<String>) -> DeriveError {
    DeriveError::BadInput(format!("deposit log: {}", what.into()))
}

/// A word of `data` at `at` as a u64, if all of it fits.
fn word_u64(data: &[u8], at: usize) -> Option<u64> {
    let word = U256::from_be_slice(data.get(at..at + 32)?);
    u64::try_from(word).ok()
}

/// The deposit of one `TransactionDeposited` log, the `log_index`-th log of the L1 block
/// `block_hash`.
pub fn decode_deposit_log(
    block_hash: B256,
    log_index: u64,
    log: &Log,
) -> Result<TxDeposit, DeriveError> {
    let topics = log.topics();
    if topics.len() != 4 {
        return Err(bad(format!("{} topics, not 4", topics.len())));
    }
    if topics[0] != DEPOSIT_EVENT_TOPIC {
        return Err(bad("not a TransactionDeposited event"));
    }
    let from = Address::from_slice(&topics[1][12..]);
    let to = Address::from_slice(&topics[2][12..]);
    if topics[3] != B256::ZERO {
        return Err(bad(format!("version {} is unknown", topics[3])));
    }
    let data = log.data.data.as_ref();
    if data.len() < 64 || !data.len().is_multiple_of(32) {
        return Err(bad(format!("{} bytes of data are not ABI-encoded bytes", data.len())));
    }
    if word_u64(data, 0) != Some(32) {
        return Err(bad("the opaque data's offset is not 32"));
    }
    let length = word_u64(data, 32).ok_or_else(|| bad("the opaque data's length overflows"))?;
    let room = (data.len() - 64) as u64;
    if length > room {
        return Err(bad(format!("opaque data of {length} bytes in {room}")));
    }
    if room - length >= 32 {
        return Err(bad("padding of a word or more after the opaque data"));
    }
    let opaque = &data[64..64 + length as usize];
    if opaque.len() < 32 + 32 + 8 + 1 {
        return Err(bad(format!("opaque data of {} bytes is too short", opaque.len())));
    }
    let mint = u128::try_from(U256::from_be_slice(&opaque[..32]))
        .map_err(|_| bad("mint does not fit 128 bits"))?;
    let value = U256::from_be_slice(&opaque[32..64]);
    let mut gas = [0u8; 8];
    gas.copy_from_slice(&opaque[64..72]);
    let is_creation = opaque[72] != 0;
    Ok(TxDeposit {
        source_hash: user_deposit_source_hash(block_hash, log_index),
        from,
        to: if is_creation { TxKind::Create } else { TxKind::Call(to) },
        mint,
        value,
        gas_limit: u64::from_be_bytes(gas),
        is_system_transaction: false,
        input: opaque[73..].to_vec().into(),
    })
}

/// Every user deposit of an L1 block, in log order: the `TransactionDeposited` logs that the
/// deposit contract `portal` emitted in successful transactions. The log index counts every
/// log of the block. A malformed log from the portal is an error, as op-node treats it.
pub fn user_deposits<R: TxReceipt<Log = Log>>(
    block_hash: B256,
    receipts: &[R],
    portal: Address,
) -> Result<Vec<TxDeposit>, DeriveError> {
    let mut deposits = Vec::new();
    let mut index = 0u64;
    for receipt in receipts {
        for log in receipt.logs() {
            let ours = log.address == portal && log.topics().first() == Some(&DEPOSIT_EVENT_TOPIC);
            if ours && receipt.status() {
                deposits.push(decode_deposit_log(block_hash, index, log)?);
            }
            index += 1;
        }
    }
    Ok(deposits)
}
