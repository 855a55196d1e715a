//! Payload attributes: what the engine is asked to build for the block after the safe head
//! (derivation spec, "Building Individual Payload Attributes"; op-node's
//! `PreparePayloadAttributes`).
//!
//! The block opens with the L1 info deposit; the first block of an epoch then carries the
//! epoch's user deposits (and applies its system config updates); a fork's activation block
//! carries the fork's upgrade transactions; the batch's transactions follow.

use crate::{
    block_ref::{L2BlockInfo, L2Source},
    deposits::user_deposits,
    l1_block_info::L1BlockInfo,
    upgrades::{upgrade_gas, upgrade_transactions},
    DeriveError, L1Window,
};
use alloy_eips::{eip2718::Encodable2718, BlockNumHash};
use alloy_primitives::{address, Address, Bytes, Sealed, B64};
use alloy_rpc_types_engine::PayloadAttributes;
use lockstep_chainspec::RollupConfig;
use op_alloy_consensus::{OpTxEnvelope, TxDeposit};
use op_alloy_rpc_types_engine::OpPayloadAttributes;

/// The sequencer fee vault, every derived block's fee recipient.
pub const SEQUENCER_FEE_VAULT: Address = address!("0x4200000000000000000000000000000000000011");

/// A deposit as a block transaction's bytes.
pub fn deposit_bytes(deposit: TxDeposit) -> Bytes {
    OpTxEnvelope::Deposit(Sealed::new(deposit)).encoded_2718().into()
}

/// The attributes of the block after `parent` with L1 origin `epoch`, before the batch's
/// transactions are added. Errors say whether to reset (the epoch does not build on the
/// parent's, or breaks the L2-after-L1 time rule) or stop (a malformed deposit or config
/// update log).
pub fn prepare_attributes(
    rollup: &RollupConfig,
    l1: &L1Window,
    l2: &dyn L2Source,
    parent: &L2BlockInfo,
    epoch: BlockNumHash,
) -> Result<OpPayloadAttributes, DeriveError> {
    let chain = rollup.l2_chain_id.id();
    let reset = |reason: String| DeriveError::Reset { chain, reason };
    let critical = |reason: String| DeriveError::Critical { chain, reason };
    let mut config = l2.system_config(parent.block_info.number)?;
    let block =
        l1.by_hash(epoch.hash).map_err(|e| reset(format!("L1 origin {}: {e}", epoch.number)))?;
    let mut transactions = Vec::new();
    let sequence_number;
    let mut deposits = Vec::new();
    if parent.l1_origin.number != epoch.number {
        if block.header.parent_hash != parent.l1_origin.hash {
            return Err(reset(format!(
                "L1 origin {} builds on {}, not on the parent's origin {}",
                epoch.number, block.header.parent_hash, parent.l1_origin.hash
            )));
        }
        deposits = user_deposits(block.hash, &block.receipts, rollup.deposit_contract_address)
            .map_err(|e| critical(format!("deposits of L1 block {}: {e}", epoch.number)))?;
        let ecotone = rollup.is_ecotone_active(block.header.timestamp);
        config
            .apply_receipts(&block.receipts, rollup.l1_system_config_address, ecotone)
            .map_err(|e| critical(format!("L1 block {}: {e}", epoch.number)))?;
        sequence_number = 0;
    } else {
        if parent.l1_origin.hash != epoch.hash {
            return Err(reset(format!(
                "L1 origin {} is {}, but the parent's is {}",
                epoch.number, epoch.hash, parent.l1_origin.hash
            )));
        }
        sequence_number = parent.seq_num + 1;
    }
    let timestamp = parent.block_info.timestamp + rollup.block_time;
    if timestamp < block.header.timestamp {
        return Err(reset(format!(
            "block time {timestamp} is before its L1 origin {}'s time {}",
            epoch.number, block.header.timestamp
        )));
    }
    let (format, info) = L1BlockInfo::for_block(
        rollup,
        &config,
        sequence_number,
        &block.header,
        block.hash,
        timestamp,
    );
    transactions.push(deposit_bytes(info.deposit(format, rollup.is_regolith_active(timestamp))));
    transactions.extend(deposits.into_iter().map(deposit_bytes));
    transactions.extend(upgrade_transactions(rollup, timestamp));
    Ok(OpPayloadAttributes {
        payload_attributes: PayloadAttributes {
            timestamp,
            prev_randao: block.header.mix_hash,
            suggested_fee_recipient: SEQUENCER_FEE_VAULT,
            withdrawals: rollup.is_canyon_active(timestamp).then(Vec::new),
            parent_beacon_block_root: rollup
                .is_ecotone_active(timestamp)
                .then(|| block.header.parent_beacon_block_root.unwrap_or_default()),
            slot_number: None,
            target_gas_limit: None,
        },
        transactions: Some(transactions),
        no_tx_pool: Some(true),
        // Karst's activation block has room for its bundle on top of the configured limit
        gas_limit: Some(config.gas_limit.saturating_add(upgrade_gas(rollup, timestamp))),
        eip_1559_params: rollup
            .is_holocene_active(timestamp)
            .then(|| B64::from(config.eip1559_params)),
        // Jovian's minimum base fee goes into the block's extra data
        min_base_fee: rollup.is_jovian_active(timestamp).then_some(config.min_base_fee),
    })
}
