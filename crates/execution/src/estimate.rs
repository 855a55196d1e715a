//! `eth_estimateGas`: the least gas limit with which a message succeeds, found by executing it,
//! as geth's estimator does.
//!
//! The message runs once with the most gas it may have; if it fails there, that failure is the
//! answer (a revert with its data, or the halt). Otherwise the gas it used, raised by the 64/63
//! that a call must keep back, is tried first, and then a binary search between what failed and
//! what succeeded narrows the limit until the two are within 1.5%. The result is never below the
//! transaction's intrinsic gas or its EIP-7623 calldata floor. The OP L1 data fee is charged in
//! wei, not gas, so it is not part of the estimate (as op-geth estimates).

use crate::{
    call::{run, CallOutcome, CallRequest},
    env::spec_id,
    ExecutionError,
};
use alloy_consensus::Header;
use alloy_primitives::Bytes;
use lockstep_chainspec::RollupConfig;
use revm::{
    context_interface::cfg::gas::calculate_initial_tx_gas, database_interface::DatabaseRef,
};
use std::time::Instant;

/// What an estimate found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GasEstimate {
    /// The message succeeds with this much gas.
    Gas(u64),
    /// It reverts even with the most gas it may have, with this data.
    Revert(Bytes),
    /// It halts even with the most gas it may have (`gas`), for this reason.
    Halt {
        /// Why it stopped.
        reason: String,
        /// The gas it had.
        gas: u64,
    },
    /// The search ran past the deadline.
    TimedOut,
}

/// The search stops once the gas that failed and the gas that succeeded are this close
/// (as a fraction of the latter): geth's 1.5%.
const ERROR_RATIO: f64 = 0.015;

/// `request` with `gas`.
fn request_with(request: &CallRequest, gas: u64) -> CallRequest {
    CallRequest { gas: Some(gas), ..request.clone() }
}

/// Estimates the gas `request` needs on the state after `header`, with at most `cap` gas (and
/// at most what the request itself gives, the block's gas limit and, from Karst, the
/// transaction gas cap), executing by `deadline`.
pub fn estimate_gas<DB: DatabaseRef + std::fmt::Debug>(
    rollup: &RollupConfig,
    header: &Header,
    db: &DB,
    request: &CallRequest,
    cap: u64,
    deadline: Instant,
) -> Result<GasEstimate, ExecutionError>
where
    DB::Error: Send + Sync + 'static + std::fmt::Display,
{
    let timestamp = header.timestamp + rollup.block_time;
    let spec = spec_id(rollup, timestamp).into_eth_spec();
    let intrinsic = calculate_initial_tx_gas(spec, &request.input, request.to.is_none(), 0, 0, 0);
    let floor = intrinsic.initial_total_gas.max(intrinsic.floor_gas);
    let most = request.gas.unwrap_or(header.gas_limit).min(header.gas_limit).min(cap);
    let most = crate::karst::call_gas(rollup, timestamp, most);
    if most < floor {
        return Ok(GasEstimate::Halt {
            reason: format!("intrinsic gas too low: it needs {floor}"),
            gas: most,
        });
    }
    // a plain transfer to an account without code costs exactly the transaction's base gas
    if let (Some(to), true) = (request.to, request.input.is_empty()) {
        let code = db.basic_ref(to).map_err(|e| ExecutionError::Call(e.to_string()))?;
        if code.is_none_or(|account| account.is_empty_code_hash()) && floor <= most {
            let (outcome, _) = run(rollup, header, db, &request_with(request, most), deadline)?;
            return Ok(match outcome {
                CallOutcome::Success(_) => GasEstimate::Gas(floor),
                CallOutcome::Revert(data) => GasEstimate::Revert(data),
                CallOutcome::Halt(reason) => GasEstimate::Halt { reason, gas: most },
                CallOutcome::TimedOut => GasEstimate::TimedOut,
            });
        }
    }
    let with = |gas: u64| request_with(request, gas);
    let (outcome, used) = run(rollup, header, db, &with(most), deadline)?;
    match outcome {
        CallOutcome::Success(_) => {}
        CallOutcome::Revert(data) => return Ok(GasEstimate::Revert(data)),
        CallOutcome::Halt(reason) => return Ok(GasEstimate::Halt { reason, gas: most }),
        CallOutcome::TimedOut => return Ok(GasEstimate::TimedOut),
    }
    // does it succeed with `gas`? a message refused outright (below its intrinsic gas) does not
    let succeeds = |gas: u64| -> Result<Option<bool>, ExecutionError> {
        match run(rollup, header, db, &with(gas), deadline) {
            Ok((CallOutcome::Success(_), _)) => Ok(Some(true)),
            Ok((CallOutcome::TimedOut, _)) => Ok(None),
            Ok(_) | Err(ExecutionError::Call(_)) => Ok(Some(false)),
            Err(other) => Err(other),
        }
    };
    let mut lo = used.max(floor).saturating_sub(1);
    let mut hi = most;
    // the gas used, with the 1/64 a call keeps back and the stipend, usually suffices
    let optimistic = (used + 2_300) * 64 / 63;
    if optimistic < hi {
        match succeeds(optimistic)? {
            Some(true) => hi = optimistic,
            Some(false) => lo = optimistic,
            None => return Ok(GasEstimate::TimedOut),
        }
    }
    while lo + 1 < hi {
        if ((hi - lo) as f64) < ERROR_RATIO * hi as f64 {
            break;
        }
        let mut mid = lo + (hi - lo) / 2;
        // a limit far above the lowest failure is likely to succeed: probe near it first
        if mid > lo.saturating_mul(2) {
            mid = lo * 2;
        }
        match succeeds(mid)? {
            Some(true) => hi = mid,
            Some(false) => lo = mid,
            None => return Ok(GasEstimate::TimedOut),
        }
    }
    Ok(GasEstimate::Gas(hi.max(floor)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{Address, U256};
    use revm::{
        database::{CacheDB, EmptyDB},
        state::{AccountInfo, Bytecode},
    };
    use std::time::Duration;

    fn rollup() -> RollupConfig {
        let mut rollup = RollupConfig::default();
        lockstep_chainspec::activate_through_isthmus(&mut rollup);
        rollup
    }

    fn header() -> Header {
        Header { gas_limit: 30_000_000, base_fee_per_gas: Some(1), ..Default::default() }
    }

    /// A contract at `to` that runs `code`, and a sender with some ether.
    fn db(to: Address, code: &[u8]) -> CacheDB<EmptyDB> {
        let mut db = CacheDB::new(EmptyDB::default());
        db.insert_account_info(
            to,
            AccountInfo::default().with_code(Bytecode::new_raw(Bytes::copy_from_slice(code))),
        );
        db.insert_account_info(
            Address::with_last_byte(1),
            AccountInfo { balance: U256::from(10u128.pow(18)), ..Default::default() },
        );
        db
    }

    fn deadline() -> Instant {
        Instant::now() + Duration::from_secs(60)
    }

    #[test]
    fn a_plain_transfer_needs_exactly_21000() {
        let to = Address::with_last_byte(0x77);
        let db = db(Address::with_last_byte(0x55), &[]);
        let request = CallRequest {
            from: Address::with_last_byte(1),
            to: Some(to),
            value: U256::from(5),
            ..Default::default()
        };
        let got = estimate_gas(&rollup(), &header(), &db, &request, 50_000_000, deadline());
        assert_eq!(got.unwrap(), GasEstimate::Gas(21_000));
    }

    #[test]
    fn storage_writes_are_estimated_high_enough_and_within_the_error_ratio() {
        // SSTORE(0, 1) then SSTORE(1, 1): two fresh slots, 2 x 22,100 gas beyond the call
        let code = [0x60, 0x01, 0x60, 0x00, 0x55, 0x60, 0x01, 0x60, 0x01, 0x55, 0x00];
        let to = Address::with_last_byte(0x55);
        let db = db(to, &code);
        let request =
            CallRequest { from: Address::with_last_byte(1), to: Some(to), ..Default::default() };
        let GasEstimate::Gas(gas) =
            estimate_gas(&rollup(), &header(), &db, &request, 50_000_000, deadline()).unwrap()
        else {
            panic!("the writes succeed")
        };
        // what the writes cost by the yellow paper and EIP-2929: 21,000 + 4 pushes of 3 gas
        // each + 2 cold SSTOREs of a zero slot (2,100 + 20,000 each) + STOP
        let exact = 21_000 + 4 * 3 + 2 * 22_100;
        assert!(gas >= exact, "{gas} < {exact}");
        assert!((gas - exact) as f64 / gas as f64 <= ERROR_RATIO, "{gas} vs {exact}");
        // and with the estimate, the message does succeed
        let (outcome, _) =
            run(&rollup(), &header(), &db, &CallRequest { gas: Some(gas), ..request }, deadline())
                .unwrap();
        assert!(matches!(outcome, CallOutcome::Success(_)), "{outcome:?}");
    }

    #[test]
    fn a_revert_is_the_answer_with_its_data() {
        // REVERT(0, 0)
        let to = Address::with_last_byte(0x55);
        let db = db(to, &[0x60, 0x00, 0x60, 0x00, 0xfd]);
        let request =
            CallRequest { from: Address::with_last_byte(1), to: Some(to), ..Default::default() };
        let got = estimate_gas(&rollup(), &header(), &db, &request, 50_000_000, deadline());
        assert_eq!(got.unwrap(), GasEstimate::Revert(Bytes::new()));
    }

    #[test]
    fn calldata_is_estimated_at_its_floor_at_least() {
        // 1,000 nonzero calldata bytes to an account without code: Prague's floor (EIP-7623,
        // 10 gas per token, 4 tokens per nonzero byte) is above the standard 16 gas per byte
        let to = Address::with_last_byte(0x77);
        let db = db(Address::with_last_byte(0x55), &[]);
        let request = CallRequest {
            from: Address::with_last_byte(1),
            to: Some(to),
            input: Bytes::from(vec![0xff; 1_000]),
            ..Default::default()
        };
        let GasEstimate::Gas(gas) =
            estimate_gas(&rollup(), &header(), &db, &request, 50_000_000, deadline()).unwrap()
        else {
            panic!("the call succeeds")
        };
        let floor = 21_000 + 1_000 * 4 * 10;
        assert!(gas >= floor, "{gas} < {floor}");
        assert!((gas - floor) as f64 / gas as f64 <= ERROR_RATIO, "{gas} vs {floor}");
    }
}
