//! Sender recovery, the most expensive step of execution after state access: done with the
//! secp256k1 C library, across all cores.

use alloy_consensus::{
    crypto::RecoveryError,
    transaction::{Recovered, SignerRecoverable},
};
use op_alloy_consensus::OpTxEnvelope;
use rayon::prelude::*;

/// Below this many transactions the thread hand-off costs more than it saves.
const PARALLEL_THRESHOLD: usize = 16;

/// Recovers the sender of every transaction, in order; deposits carry theirs.
pub(crate) fn recover_senders(
    txs: Vec<OpTxEnvelope>,
) -> Vec<Result<Recovered<OpTxEnvelope>, RecoveryError>> {
    if txs.len() < PARALLEL_THRESHOLD {
        return txs.into_iter().map(SignerRecoverable::try_into_recovered).collect();
    }
    txs.into_par_iter().map(SignerRecoverable::try_into_recovered).collect()
}
