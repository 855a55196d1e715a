//! The OP fields of a receipt: what a transaction paid for its data on L1 and to the operator,
//! as op-geth and op-reth add them (`l1Fee`, `l1GasPrice`, `l1GasUsed`, from Ecotone
//! `l1BaseFeeScalar`, `l1BlobBaseFee`, `l1BlobBaseFeeScalar`, before it `l1FeeScalar`, from
//! Isthmus `operatorFeeScalar` and `operatorFeeConstant`, from Jovian `daFootprintGasScalar`).
//!
//! The L1 fee parameters are the L1Block contract's after the block's L1 info deposit, read
//! from the state after the block (nothing else in a block writes them), and the fee is
//! computed by op-revm's `L1BlockInfo`, the code that charged it during execution. A deposit
//! pays no L1 fee and gets none of these fields.

use crate::superchain::server_error;
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::U256;
use jsonrpsee::types::ErrorObjectOwned;
use lockstep_chainspec::RollupConfig;
use lockstep_storage::{ChainProvider, DbTx, RO};
use op_alloy_consensus::OpTxEnvelope;
use op_revm::{L1BlockInfo, OpSpecId};
use revm::database_interface::WrapDatabaseRef;
use serde_json::{json, Map, Value};

/// One block's L1 fee parameters.
#[derive(Debug, Clone)]
pub(crate) struct L1Fees {
    info: L1BlockInfo,
    spec: OpSpecId,
}

fn hex(value: U256) -> Value {
    json!(format!("0x{value:x}"))
}

impl L1Fees {
    /// The parameters block `number` (at `timestamp`) charged with.
    pub(crate) fn load(
        provider: &ChainProvider<'_, DbTx<'_, RO>>,
        rollup: &RollupConfig,
        number: u64,
        timestamp: u64,
    ) -> Result<Self, ErrorObjectOwned> {
        let spec = lockstep_execution::spec_id(rollup, timestamp);
        let mut state = WrapDatabaseRef(provider.state_at(number));
        let info =
            L1BlockInfo::try_fetch(&mut state, U256::from(number), spec).map_err(server_error)?;
        Ok(Self { info, spec })
    }

    /// Adds the OP fee fields of `tx` to its receipt `map`.
    pub(crate) fn add_fields(&self, tx: &OpTxEnvelope, map: &mut Map<String, Value>) {
        if tx.is_deposit() {
            return;
        }
        let encoded = tx.encoded_2718();
        let mut info = self.info.clone();
        info.clear_tx_l1_cost();
        let fee = info.calculate_tx_l1_cost(&encoded, self.spec);
        let mut gas_used = info.data_gas(&encoded, self.spec);
        if !self.spec.is_enabled_in(OpSpecId::ECOTONE) {
            gas_used = gas_used.saturating_add(info.l1_fee_overhead.unwrap_or_default());
        }
        map.insert("l1Fee".into(), hex(fee));
        map.insert("l1GasPrice".into(), hex(info.l1_base_fee));
        map.insert("l1GasUsed".into(), hex(gas_used));
        if self.spec.is_enabled_in(OpSpecId::ECOTONE) {
            map.insert("l1BaseFeeScalar".into(), hex(info.l1_base_fee_scalar));
            map.insert("l1BlobBaseFee".into(), hex(info.l1_blob_base_fee.unwrap_or_default()));
            map.insert(
                "l1BlobBaseFeeScalar".into(),
                hex(info.l1_blob_base_fee_scalar.unwrap_or_default()),
            );
        } else {
            // op-geth's decimal rendering of the scalar (parts per million)
            let scalar = info.l1_base_fee_scalar.saturating_to::<u64>();
            map.insert("l1FeeScalar".into(), json!(format!("{}", scalar as f64 / 1e6)));
        }
        if self.spec.is_enabled_in(OpSpecId::ISTHMUS) {
            let scalar = info.operator_fee_scalar.unwrap_or_default();
            let constant = info.operator_fee_constant.unwrap_or_default();
            map.insert("operatorFeeScalar".into(), hex(scalar));
            map.insert("operatorFeeConstant".into(), hex(constant));
        }
        if self.spec.is_enabled_in(OpSpecId::JOVIAN) {
            let scalar = info.da_footprint_gas_scalar.unwrap_or_default();
            map.insert("daFootprintGasScalar".into(), json!(format!("0x{scalar:x}")));
        }
    }
}
