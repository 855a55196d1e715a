//! The batch validity rules (derivation spec, "Batch Queue"; span batches, Delta; Holocene's
//! strict ordering), as op-node's `checkSingularBatch`, `checkSpanBatchPrefix` and
//! `checkSpanBatch` apply them.
//!
//! `l1_blocks` are the L1 blocks from the safe head's epoch up to the current origin; the
//! inclusion block is the L1 block the batch was read from.

use crate::{
    batch::SingleBatch,
    block_ref::{BlockInfo, L2BlockInfo, L2Source},
    span_batch::DerivedSpan,
};
use alloy_primitives::Bytes;
use lockstep_chainspec::RollupConfig;

/// The first byte of a deposit transaction.
pub const DEPOSIT_TX_TYPE: u8 = 0x7e;
/// The first byte of an EIP-7702 transaction.
const SET_CODE_TX_TYPE: u8 = 0x04;

/// What a batch check decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Validity {
    /// The batch is the next one.
    Accept,
    /// The batch is invalid, and why.
    Drop(String),
    /// More L1 or L2 data is needed to decide.
    Undecided,
    /// The batch is for later (before Holocene it is kept).
    Future,
    /// The batch is for blocks already safe (Holocene drops it without flushing).
    Past,
}

fn drop(reason: impl Into<String>) -> Validity {
    Validity::Drop(reason.into())
}

/// The transaction rules every batch's blocks obey: no empty transaction, no deposit, no
/// EIP-7702 transaction before Isthmus (at the block's time), and none at all in Jovian's
/// activation block, which holds only deposits and the upgrade transactions.
fn check_transactions(rollup: &RollupConfig, timestamp: u64, txs: &[Bytes]) -> Option<Validity> {
    if !txs.is_empty() && rollup.forbids_user_transactions(timestamp) {
        return Some(drop(format!(
            "{} transactions for Jovian's activation block, which may have none",
            txs.len()
        )));
    }
    for (i, tx) in txs.iter().enumerate() {
        match tx.first() {
            None => return Some(drop(format!("transaction {i} is empty"))),
            Some(&DEPOSIT_TX_TYPE) => {
                return Some(drop(format!(
                    "transaction {i} is a deposit, which batches may not carry"
                )))
            }
            Some(&SET_CODE_TX_TYPE) if !rollup.is_isthmus_active(timestamp) => {
                return Some(drop(format!("transaction {i} is EIP-7702, before Isthmus")))
            }
            _ => {}
        }
    }
    None
}

/// Checks a singular batch against the safe head `parent`.
pub fn check_single(
    rollup: &RollupConfig,
    l1_blocks: &[BlockInfo],
    parent: &L2BlockInfo,
    batch: &SingleBatch,
    inclusion: &BlockInfo,
) -> Validity {
    let Some(epoch) = l1_blocks.first() else { return Validity::Undecided };
    let holocene = rollup.is_holocene_active(inclusion.timestamp);
    let next_timestamp = parent.block_info.timestamp + rollup.block_time;
    if batch.timestamp > next_timestamp {
        if holocene {
            return drop("a batch past the next timestamp, out of order");
        }
        return Validity::Future;
    }
    if batch.timestamp < next_timestamp {
        if holocene {
            return Validity::Past;
        }
        return drop("a batch before the next timestamp");
    }
    if batch.parent_hash != parent.block_info.hash {
        return drop("the parent hash is not the safe head's");
    }
    if batch.epoch_num.saturating_add(rollup.seq_window_size) < inclusion.number {
        return drop("included after the sequencer window");
    }
    let origin = if batch.epoch_num < epoch.number {
        return drop("the epoch is too old");
    } else if batch.epoch_num == epoch.number {
        *epoch
    } else if batch.epoch_num == epoch.number + 1 {
        match l1_blocks.get(1) {
            Some(next) => *next,
            None => return Validity::Undecided,
        }
    } else {
        return drop("the epoch is too far ahead");
    };
    if batch.epoch_hash != origin.hash {
        return drop("the epoch hash is not the L1 block's");
    }
    if batch.timestamp < origin.timestamp {
        return drop("the timestamp is before the L1 origin's");
    }
    let max = origin.timestamp.saturating_add(rollup.max_sequencer_drift(origin.timestamp));
    if batch.timestamp > max {
        if !batch.transactions.is_empty() {
            return drop("past the sequencer drift with transactions");
        }
        // an empty batch past the drift is allowed only while the next origin is not yet due
        if epoch.number == origin.number {
            match l1_blocks.get(1) {
                None => return Validity::Undecided,
                Some(next) if batch.timestamp >= next.timestamp => {
                    return drop("past the sequencer drift when the next L1 origin was due");
                }
                Some(_) => {}
            }
        }
    }
    if let Some(invalid) = check_transactions(rollup, batch.timestamp, &batch.transactions) {
        return invalid;
    }
    Validity::Accept
}

/// The checks of a span batch that need no look at the blocks it overlaps; returns the L2
/// block it builds on when it passes them.
pub fn check_span_prefix(
    rollup: &RollupConfig,
    l1_blocks: &[BlockInfo],
    parent: &L2BlockInfo,
    batch: &DerivedSpan,
    inclusion: &BlockInfo,
    l2: &dyn L2Source,
) -> (Validity, Option<L2BlockInfo>) {
    let Some(epoch) = l1_blocks.first() else { return (Validity::Undecided, None) };
    let start_epoch = batch.start_epoch();
    let mut origin = *epoch;
    if start_epoch == epoch.number + 1 {
        match l1_blocks.get(1) {
            Some(next) => origin = *next,
            None => return (Validity::Undecided, None),
        }
    }
    if !rollup.is_delta_active(origin.timestamp) {
        return (drop("a span batch with an L1 origin before Delta"), None);
    }
    let holocene = rollup.is_holocene_active(inclusion.timestamp);
    let next_timestamp = parent.block_info.timestamp + rollup.block_time;
    if batch.timestamp() > next_timestamp {
        if holocene {
            return (drop("a span batch past the next timestamp, out of order"), None);
        }
        return (Validity::Future, None);
    }
    if batch.last().timestamp < next_timestamp {
        if holocene {
            return (Validity::Past, None);
        }
        return (drop("a span batch with no block after the safe head"), None);
    }
    let mut base = *parent;
    if batch.timestamp() < next_timestamp {
        let head_time = parent.block_info.timestamp;
        if batch.timestamp() > head_time {
            return (drop("a span batch misaligned with the block time"), None);
        }
        if !(head_time - batch.timestamp()).is_multiple_of(rollup.block_time) {
            return (drop("a span batch misaligned with the safe chain"), None);
        }
        let back = (head_time - batch.timestamp()) / rollup.block_time + 1;
        let Some(number) = parent.block_info.number.checked_sub(back) else {
            return (drop("a span batch that starts before genesis"), None);
        };
        match l2.info(number) {
            Ok(info) => base = info,
            Err(_) => return (Validity::Undecided, None),
        }
    }
    if !batch.check_parent(&base.block_info.hash) {
        return (drop("the parent hash is not the safe chain's"), None);
    }
    if start_epoch.saturating_add(rollup.seq_window_size) < inclusion.number {
        return (drop("included after the sequencer window"), None);
    }
    if start_epoch > base.l1_origin.number + 1 {
        return (drop("the first epoch is too far ahead"), None);
    }
    let end_epoch = batch.last().epoch_num;
    match l1_blocks.iter().find(|b| b.number == end_epoch) {
        Some(block) if !batch.check_origin(&block.hash) => {
            return (drop("the last epoch hash is not the L1 block's"), None);
        }
        Some(_) => {}
        None => return (Validity::Undecided, None),
    }
    if start_epoch < base.l1_origin.number {
        return (drop("the first epoch is too old"), None);
    }
    (Validity::Accept, Some(base))
}

/// Checks a whole span batch (before Holocene): the prefix, every new block's origin, time
/// and drift, and that the blocks it overlaps are the safe chain's.
pub fn check_span(
    rollup: &RollupConfig,
    l1_blocks: &[BlockInfo],
    parent: &L2BlockInfo,
    batch: &DerivedSpan,
    inclusion: &BlockInfo,
    l2: &dyn L2Source,
) -> Validity {
    let (validity, base) = check_span_prefix(rollup, l1_blocks, parent, batch, inclusion, l2);
    let (Validity::Accept, Some(base)) = (&validity, base) else { return validity };
    let mut origin_index = 0;
    let mut origin_advanced = batch.start_epoch() == base.l1_origin.number + 1;
    for (i, block) in batch.blocks.iter().enumerate() {
        if block.timestamp <= parent.block_info.timestamp {
            continue;
        }
        let mut origin = None;
        for (j, l1) in l1_blocks.iter().enumerate().skip(origin_index) {
            if l1.number == block.epoch_num {
                origin = Some(*l1);
                origin_index = j;
                break;
            }
        }
        // every epoch lies between the checked first and last, all in `l1_blocks`
        let Some(origin) = origin else {
            return drop(format!("block {i}'s epoch {} is not a known L1 block", block.epoch_num));
        };
        if i > 0 {
            origin_advanced = block.epoch_num > batch.blocks[i - 1].epoch_num;
        }
        if block.timestamp < origin.timestamp {
            return drop(format!("block {i}'s timestamp is before its L1 origin's"));
        }
        let max = origin.timestamp.saturating_add(rollup.max_sequencer_drift(origin.timestamp));
        if block.timestamp > max {
            if !block.transactions.is_empty() {
                return drop(format!("block {i} is past the sequencer drift with transactions"));
            }
            if !origin_advanced {
                match l1_blocks.get(origin_index + 1) {
                    None => return Validity::Undecided,
                    Some(next) if block.timestamp >= next.timestamp => {
                        return drop(format!(
                            "block {i} is past the sequencer drift when the next L1 origin was due"
                        ));
                    }
                    Some(_) => {}
                }
            }
        }
        if let Some(invalid) = check_transactions(rollup, block.timestamp, &block.transactions) {
            return invalid;
        }
    }
    // the blocks it overlaps must be the safe chain's, transaction for transaction
    let next_timestamp = parent.block_info.timestamp + rollup.block_time;
    if batch.timestamp() < next_timestamp {
        let overlap = parent.block_info.number - base.block_info.number;
        for i in 0..overlap {
            let number = base.block_info.number + i + 1;
            let (Ok(safe), Ok(info)) = (l2.transactions(number), l2.info(number)) else {
                return Validity::Undecided;
            };
            let Some(block) = batch.blocks.get(i as usize) else {
                return drop("an overlapped block is missing from the span batch");
            };
            let deposits = safe.iter().take_while(|t| t.first() == Some(&DEPOSIT_TX_TYPE)).count();
            let all_deposits = safe.iter().filter(|t| t.first() == Some(&DEPOSIT_TX_TYPE)).count();
            if safe.len() - all_deposits != block.transactions.len() {
                return drop(format!("overlapped block {number} has another transaction count"));
            }
            if safe[deposits..] != block.transactions[..] {
                return drop(format!("overlapped block {number} has other transactions"));
            }
            if info.l1_origin.number != block.epoch_num {
                return drop(format!("overlapped block {number} has another L1 origin"));
            }
        }
    }
    Validity::Accept
}
