//! What Karst asks of the EVM beyond op-revm 20's Karst spec (which brings Osaka's opcodes,
//! MODEXP and P256VERIFY rules): the bn254 pairing input cap of 57,600 bytes (Karst
//! exec-engine spec; op-revm 20 keeps Jovian's 81,984), and EIP-7825's transaction gas cap for
//! every transaction but deposits (Karst overview: "not enabled for deposits").
//!
//! op-revm 20 enforces the cap in its environment checks, which deposits skip, but it also
//! hands every transaction at most the cap as execution gas and keeps the rest aside
//! (revm's EIP-8037 gas split), so a deposit of 20M gas would run out of gas at 2^24. The EVM
//! is therefore given no cap (`evm_env`) and the executor refuses a non-deposit over the cap
//! itself, as the shipped clients do when they lift the cap around a deposit.

use alloy_evm::precompiles::PrecompilesMap;
use alloy_primitives::Address;
use lockstep_chainspec::RollupConfig;
use op_alloy_consensus::OpTxEnvelope;
use op_revm::precompiles::bn254_pair;
use revm::precompile::{
    bn254, call_eth_precompile, EthPrecompileResult, Precompile, PrecompileHalt, PrecompileId,
    PrecompileResult, Precompiles,
};
use std::sync::LazyLock;

/// EIP-7825's cap on a transaction's gas limit, from Karst (2^24).
pub const TX_GAS_LIMIT_CAP: u64 = 1 << 24;

/// Karst's bn254 pairing input limit: 300 pairs of 192 bytes.
pub const BN254_PAIRING_MAX_INPUT: usize = 57_600;

/// The bn254 pairing precompile's address.
pub const BN254_PAIRING: Address = bn254::pair::ADDRESS;

/// The bn254 pairing with Karst's input cap, then Jovian's pairing (its prices and checks).
fn run_pair_karst(input: &[u8], gas_limit: u64) -> EthPrecompileResult {
    if input.len() > BN254_PAIRING_MAX_INPUT {
        return Err(PrecompileHalt::Bn254PairLength);
    }
    bn254_pair::run_pair_jovian(input, gas_limit)
}

fn pair_karst(input: &[u8], gas_limit: u64, reservoir: u64) -> PrecompileResult {
    Ok(call_eth_precompile(run_pair_karst, input, gas_limit, reservoir))
}

/// op-revm 20's Karst precompiles with the pairing replaced by [`pair_karst`]. Built once and
/// handed to each EVM as a static set: mapping the pairing per EVM (alloy-evm's
/// `map_precompile`) would turn every precompile of every block's EVM into a dynamic one, behind
/// an `Arc` and a hash map.
static KARST_PRECOMPILES: LazyLock<Precompiles> = LazyLock::new(|| {
    let mut jovian_pairing = Precompiles::default();
    jovian_pairing.extend([bn254_pair::JOVIAN]);
    let mut karst = op_revm::precompiles::karst().difference(&jovian_pairing);
    karst.extend([Precompile::new(PrecompileId::Bn254Pairing, BN254_PAIRING, pair_karst)]);
    karst
});

/// Puts Karst's limits on `precompiles` when Karst is active at `timestamp`: a bn254 pairing
/// input over [`BN254_PAIRING_MAX_INPUT`] halts as op-revm halts an over-long one at
/// Jovian's limit, consuming all gas.
pub(crate) fn limit_precompiles(
    rollup: &RollupConfig,
    timestamp: u64,
    precompiles: &mut PrecompilesMap,
) {
    if rollup.is_karst_active(timestamp) {
        *precompiles = PrecompilesMap::from_static(&KARST_PRECOMPILES);
    }
}

/// Why `tx` may not be in the block at `timestamp`, if its gas limit is over Karst's cap and it
/// is not a deposit.
pub(crate) fn over_gas_cap(
    rollup: &RollupConfig,
    timestamp: u64,
    tx: &OpTxEnvelope,
) -> Option<String> {
    use alloy_consensus::Transaction;
    let gas = tx.gas_limit();
    (rollup.is_karst_active(timestamp) && !tx.is_deposit() && gas > TX_GAS_LIMIT_CAP)
        .then(|| format!("gas limit {gas} is over the transaction gas cap {TX_GAS_LIMIT_CAP}"))
}

/// The gas an `eth_call` may have in the block at `timestamp`: `gas` under Karst's cap, as
/// op-geth caps a call after Osaka.
pub(crate) fn call_gas(rollup: &RollupConfig, timestamp: u64, gas: u64) -> u64 {
    if rollup.is_karst_active(timestamp) {
        gas.min(TX_GAS_LIMIT_CAP)
    } else {
        gas
    }
}
