//! The EVM environment and header rules of an OP block: spec by timestamp, base fee, extra data.

use crate::ExecutionError;
use alloy_consensus::Header;
use alloy_eips::eip1559::BaseFeeParams;
use alloy_evm::EvmEnv;
use alloy_primitives::{Bytes, B64, U256};
use lockstep_chainspec::RollupConfig;
use op_alloy_consensus::{
    decode_holocene_extra_data, decode_jovian_extra_data, encode_holocene_extra_data,
    encode_jovian_extra_data,
};
use op_revm::OpSpecId;
use revm::context::{BlockEnv, CfgEnv};

/// The OP EVM spec in force at `timestamp`.
pub fn spec_id(rollup: &RollupConfig, timestamp: u64) -> OpSpecId {
    if rollup.is_karst_active(timestamp) {
        OpSpecId::KARST
    } else if rollup.is_jovian_active(timestamp) {
        OpSpecId::JOVIAN
    } else if rollup.is_isthmus_active(timestamp) {
        OpSpecId::ISTHMUS
    } else if rollup.is_holocene_active(timestamp) {
        OpSpecId::HOLOCENE
    } else if rollup.is_granite_active(timestamp) {
        OpSpecId::GRANITE
    } else if rollup.is_fjord_active(timestamp) {
        OpSpecId::FJORD
    } else if rollup.is_ecotone_active(timestamp) {
        OpSpecId::ECOTONE
    } else if rollup.is_canyon_active(timestamp) {
        OpSpecId::CANYON
    } else if rollup.is_regolith_active(timestamp) {
        OpSpecId::REGOLITH
    } else {
        OpSpecId::BEDROCK
    }
}

/// The chain's default EIP-1559 parameters at `timestamp`.
pub fn base_fee_params(rollup: &RollupConfig, timestamp: u64) -> BaseFeeParams {
    if rollup.is_canyon_active(timestamp) {
        rollup.chain_op_config.as_canyon_base_fee_params()
    } else {
        rollup.chain_op_config.as_base_fee_params()
    }
}

/// The base fee of the block after `parent`, at `timestamp`, as op-reth computes it. From
/// Holocene the parameters come from the parent's extra data. From Jovian (at the parent's
/// time) the parent's gas is metered as the larger of its gas used and its DA footprint (its
/// `blobGasUsed`), and the result is never below the minimum base fee of the parent's extra
/// data.
pub fn next_base_fee(
    rollup: &RollupConfig,
    parent: &Header,
    timestamp: u64,
) -> Result<u64, ExecutionError> {
    let defaults = base_fee_params(rollup, timestamp);
    let bad_extra = |e| ExecutionError::InvalidAttributes(format!("parent extra data: {e}"));
    // both zero: the chain's defaults; one zero alone is refused (op-alloy at the shipped
    // clients' tag refuses it, and a zero elasticity would divide by zero)
    let chosen = |elasticity: u32, denominator: u32| match (elasticity, denominator) {
        (0, 0) => Ok(defaults),
        (0, _) | (_, 0) => Err(ExecutionError::InvalidAttributes(format!(
            "parent extra data: denominator {denominator} with elasticity {elasticity}"
        ))),
        _ => Ok(BaseFeeParams::new(denominator as u128, elasticity as u128)),
    };
    if rollup.is_jovian_active(parent.timestamp) {
        let (elasticity, denominator, min_base_fee) =
            decode_jovian_extra_data(&parent.extra_data).map_err(bad_extra)?;
        let metered = parent.gas_used.max(parent.blob_gas_used.unwrap_or_default());
        let fee = alloy_eips::eip1559::calc_next_block_base_fee(
            metered,
            parent.gas_limit,
            parent.base_fee_per_gas.unwrap_or_default(),
            chosen(elasticity, denominator)?,
        );
        return Ok(fee.max(min_base_fee));
    }
    let params = if rollup.is_holocene_active(parent.timestamp) {
        let (elasticity, denominator) =
            decode_holocene_extra_data(&parent.extra_data).map_err(bad_extra)?;
        chosen(elasticity, denominator)?
    } else {
        defaults
    };
    Ok(parent.next_block_base_fee(params).unwrap_or_default())
}

/// The extra data of a block at `timestamp`: empty before Holocene; Holocene's version 0 with
/// the EIP-1559 parameters; from Jovian version 1, which adds the minimum base fee. The
/// attributes must carry `minBaseFee` from Jovian and must not before it.
pub fn extra_data(
    rollup: &RollupConfig,
    timestamp: u64,
    eip_1559_params: Option<B64>,
    min_base_fee: Option<u64>,
) -> Result<Bytes, ExecutionError> {
    let jovian = rollup.is_jovian_active(timestamp);
    match (jovian, min_base_fee) {
        (false, Some(_)) => {
            return Err(ExecutionError::InvalidAttributes("minBaseFee before Jovian".into()))
        }
        (true, None) => {
            return Err(ExecutionError::InvalidAttributes("Jovian block without minBaseFee".into()))
        }
        _ => {}
    }
    if !rollup.is_holocene_active(timestamp) {
        return Ok(Bytes::new());
    }
    let params = eip_1559_params.ok_or_else(|| {
        ExecutionError::InvalidAttributes("Holocene block without eip1559Params".into())
    })?;
    let defaults = base_fee_params(rollup, timestamp);
    match min_base_fee {
        Some(min_base_fee) => encode_jovian_extra_data(params, defaults, min_base_fee),
        None => encode_holocene_extra_data(params, defaults),
    }
    .map_err(|e| ExecutionError::InvalidAttributes(format!("eip1559Params: {e}")))
}

/// The EVM environment for executing `header`.
pub fn evm_env(rollup: &RollupConfig, header: &Header) -> EvmEnv<OpSpecId> {
    let spec = spec_id(rollup, header.timestamp);
    let mut cfg_env = CfgEnv::new_with_spec(spec).with_chain_id(rollup.l2_chain_id.id());
    // Karst's transaction gas cap is the executor's to enforce: op-revm would also cut a
    // deposit's execution gas at it (`karst`)
    cfg_env.tx_gas_limit_cap = Some(u64::MAX);
    let block_env = BlockEnv {
        number: U256::from(header.number),
        beneficiary: header.beneficiary,
        timestamp: U256::from(header.timestamp),
        gas_limit: header.gas_limit,
        basefee: header.base_fee_per_gas.unwrap_or_default(),
        difficulty: header.difficulty,
        prevrandao: Some(header.mix_hash),
        blob_excess_gas_and_price: header.excess_blob_gas.map(|excess| {
            revm::context_interface::block::BlobExcessGasAndPrice::new(
                excess,
                alloy_eips::eip4844::BLOB_GASPRICE_UPDATE_FRACTION as u64,
            )
        }),
        // Amsterdam's EIP-7843; no OP fork has slots
        slot_num: 0,
    };
    EvmEnv { cfg_env, block_env }
}
