//! `eth_call`: one message executed on a block's state, nothing written.

use crate::{env::evm_env, ExecutionError};
use alloy_consensus::Header;
use alloy_evm::{Evm, EvmFactory};
use alloy_op_evm::OpEvmFactory;
use alloy_primitives::{Address, Bytes, TxKind, B256, U256};
use lockstep_chainspec::RollupConfig;
use op_alloy_consensus::{OpTxEnvelope, TxDeposit};
use revm::{
    context::result::{ExecutionResult, Output},
    database_interface::{DatabaseRef, WrapDatabaseRef},
};

/// A message to execute, as `eth_call` takes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallRequest {
    /// The sender (`address(0)` if not given).
    pub from: Address,
    /// The callee; `None` runs `input` as init code.
    pub to: Option<Address>,
    /// Wei sent along; the sender must hold it.
    pub value: U256,
    /// Calldata.
    pub input: Bytes,
    /// Gas; the block's gas limit if not given.
    pub gas: Option<u64>,
}

/// What a call did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallOutcome {
    /// It returned this data.
    Success(Bytes),
    /// It reverted with this data.
    Revert(Bytes),
    /// It stopped abnormally (out of gas, invalid opcode, …).
    Halt(String),
}

/// Executes `request` on the state `db` (the state after `header`'s block) in the environment of
/// the block after it, as op-geth's `eth_call` does, and returns what it did.
///
/// The message runs as a deposit-style transaction: no signature, no nonce check, no gas fee and
/// no L1 data fee, which is what a read-only call wants; `GASPRICE` reads 0.
pub fn call<DB: DatabaseRef + std::fmt::Debug>(
    rollup: &RollupConfig,
    header: &Header,
    db: DB,
    request: &CallRequest,
) -> Result<CallOutcome, ExecutionError>
where
    DB::Error: Send + Sync + 'static + std::fmt::Display,
{
    let mut env = evm_env(rollup, header);
    env.block_env.number = U256::from(header.number + 1);
    env.block_env.timestamp = U256::from(header.timestamp + rollup.block_time);
    let gas = request.gas.unwrap_or(header.gas_limit).min(header.gas_limit);
    let deposit = TxDeposit {
        source_hash: B256::ZERO,
        from: request.from,
        to: request.to.map_or(TxKind::Create, TxKind::Call),
        mint: 0,
        value: request.value,
        gas_limit: gas,
        is_system_transaction: false,
        input: request.input.clone(),
    };
    let tx = alloy_consensus::transaction::Recovered::new_unchecked(
        OpTxEnvelope::Deposit(alloy_primitives::Sealed::new(deposit)),
        request.from,
    );
    let mut evm = OpEvmFactory::default().create_evm(WrapDatabaseRef(db), env);
    let result = evm.transact(&tx).map_err(|e| ExecutionError::Call(e.to_string()))?.result;
    Ok(match result {
        ExecutionResult::Success { output: Output::Call(data), .. } => CallOutcome::Success(data),
        ExecutionResult::Success { output: Output::Create(data, _), .. } => {
            CallOutcome::Success(data)
        }
        ExecutionResult::Revert { output, .. } => CallOutcome::Revert(output),
        ExecutionResult::Halt { reason, .. } => CallOutcome::Halt(format!("{reason:?}")),
    })
}
