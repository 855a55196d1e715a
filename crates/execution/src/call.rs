//! `eth_call`: one message executed on a block's state, nothing written.

use crate::{env::evm_env, ExecutionError};
use alloy_consensus::Header;
use alloy_evm::{Evm, EvmFactory};
use alloy_op_evm::{OpEvmFactory, OpTx};
use alloy_primitives::{Address, Bytes, TxKind, B256, U256};
use lockstep_chainspec::RollupConfig;
use op_alloy_consensus::{OpTxEnvelope, TxDeposit};
use revm::{
    context::result::{ExecutionResult, Output},
    database_interface::{DatabaseRef, WrapDatabaseRef},
    interpreter::{InstructionResult, Interpreter},
    Inspector,
};
use std::time::{Duration, Instant};

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
    /// It was still running at the deadline and was stopped there.
    TimedOut,
}

/// Stops execution at a deadline: the clock is read every [`Self::EVERY`] instructions.
#[derive(Debug)]
struct Deadline {
    at: Instant,
    steps: u32,
    passed: bool,
}

impl Deadline {
    const EVERY: u32 = 4096;
}

impl<CTX> Inspector<CTX> for Deadline {
    fn step(&mut self, interp: &mut Interpreter, _context: &mut CTX) {
        self.steps = self.steps.wrapping_add(1);
        if self.steps.is_multiple_of(Self::EVERY) && Instant::now() >= self.at {
            self.passed = true;
        }
        if self.passed {
            // every frame halts as soon as it runs again, up to the outermost; an ordinary
            // halt (revm panics on its internal fatal flags), told apart by `passed`
            interp.halt(InstructionResult::OutOfGas);
        }
    }
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
    call_until(rollup, header, db, request, Instant::now() + Duration::from_secs(3600))
}

/// [`call`], stopped at `deadline` if it is still running then ([`CallOutcome::TimedOut`]).
pub fn call_until<DB: DatabaseRef + std::fmt::Debug>(
    rollup: &RollupConfig,
    header: &Header,
    db: DB,
    request: &CallRequest,
    deadline: Instant,
) -> Result<CallOutcome, ExecutionError>
where
    DB::Error: Send + Sync + 'static + std::fmt::Display,
{
    Ok(run(rollup, header, db, request, deadline)?.0)
}

/// Executes `request` as [`call_until`] does; also returns the gas it used.
pub(crate) fn run<DB: DatabaseRef + std::fmt::Debug>(
    rollup: &RollupConfig,
    header: &Header,
    db: DB,
    request: &CallRequest,
    deadline: Instant,
) -> Result<(CallOutcome, u64), ExecutionError>
where
    DB::Error: Send + Sync + 'static + std::fmt::Display,
{
    let mut env = evm_env(rollup, header);
    env.block_env.number = U256::from(header.number + 1);
    env.block_env.timestamp = U256::from(header.timestamp + rollup.block_time);
    let gas = request.gas.unwrap_or(header.gas_limit).min(header.gas_limit);
    let gas = crate::karst::call_gas(rollup, header.timestamp + rollup.block_time, gas);
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
    let inspector = Deadline { at: deadline, steps: 0, passed: false };
    let timestamp = header.timestamp + rollup.block_time;
    let mut evm = OpEvmFactory::<OpTx>::default().create_evm_with_inspector(
        WrapDatabaseRef(db),
        env,
        inspector,
    );
    crate::karst::limit_precompiles(rollup, timestamp, evm.precompiles_mut());
    let result = evm.transact(&tx);
    if evm.inspector().passed {
        return Ok((CallOutcome::TimedOut, gas));
    }
    let result = result.map_err(|e| ExecutionError::Call(e.to_string()))?.result;
    let used = result.tx_gas_used();
    let outcome = match result {
        ExecutionResult::Success { output: Output::Call(data), .. } => CallOutcome::Success(data),
        ExecutionResult::Success { output: Output::Create(data, _), .. } => {
            CallOutcome::Success(data)
        }
        ExecutionResult::Revert { output, .. } => CallOutcome::Revert(output),
        ExecutionResult::Halt { reason, .. } => CallOutcome::Halt(format!("{reason:?}")),
    };
    Ok((outcome, used))
}

#[cfg(test)]
mod tests {
    use super::*;
    use revm::database::{CacheDB, EmptyDB};

    fn rollup() -> RollupConfig {
        let mut rollup = RollupConfig::default();
        lockstep_chainspec::activate_through_isthmus(&mut rollup);
        rollup
    }

    fn header(gas_limit: u64) -> Header {
        Header { gas_limit, base_fee_per_gas: Some(1), ..Default::default() }
    }

    /// Init code that jumps back to its start for ever: `JUMPDEST PUSH1 0 JUMP`.
    fn endless(gas: u64) -> CallRequest {
        CallRequest {
            input: Bytes::from_static(&[0x5b, 0x60, 0x00, 0x56]),
            gas: Some(gas),
            ..Default::default()
        }
    }

    #[test]
    fn an_endless_loop_is_stopped_at_the_deadline() {
        // enough gas for hours of looping: only the deadline can end it
        let gas = 1 << 50;
        let started = Instant::now();
        let deadline = started + Duration::from_millis(200);
        let db = CacheDB::new(EmptyDB::default());
        let outcome = call_until(&rollup(), &header(gas), db, &endless(gas), deadline).unwrap();
        assert_eq!(outcome, CallOutcome::TimedOut);
        assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
    }

    #[test]
    fn a_loop_that_runs_out_of_gas_first_halts_and_is_not_a_timeout() {
        let db = CacheDB::new(EmptyDB::default());
        let deadline = Instant::now() + Duration::from_secs(3600);
        let outcome =
            call_until(&rollup(), &header(1 << 30), db, &endless(100_000), deadline).unwrap();
        // a deposit-style message that runs out of gas halts as a failed deposit
        assert!(matches!(outcome, CallOutcome::Halt(_)), "{outcome:?}");
    }
}
