//! Pending user transactions of one chain, in arrival order.

use alloy_consensus::{transaction::Recovered, Transaction};
use alloy_primitives::Address;
use op_alloy_consensus::OpTxEnvelope;
use std::collections::HashMap;

/// Transactions waiting for the next block, with the next nonce each sender may use.
#[derive(Debug, Default)]
pub(crate) struct TxPool {
    pending: Vec<Recovered<OpTxEnvelope>>,
    next_nonce: HashMap<Address, u64>,
}

impl TxPool {
    /// The next nonce `sender` may use, given its state nonce.
    pub(crate) fn next_nonce(&self, sender: Address, state_nonce: u64) -> u64 {
        self.next_nonce.get(&sender).copied().unwrap_or(state_nonce).max(state_nonce)
    }

    pub(crate) fn push(&mut self, tx: Recovered<OpTxEnvelope>) {
        self.next_nonce.insert(tx.signer(), tx.nonce() + 1);
        self.pending.push(tx);
    }

    /// Takes transactions in arrival order while their gas limits fit in `gas`.
    pub(crate) fn take(&mut self, mut gas: u64) -> Vec<Recovered<OpTxEnvelope>> {
        let fit = self
            .pending
            .iter()
            .take_while(|tx| {
                let fits = tx.gas_limit() <= gas;
                gas = gas.saturating_sub(tx.gas_limit());
                fits
            })
            .count();
        let taken: Vec<_> = self.pending.drain(..fit).collect();
        if self.pending.is_empty() {
            self.next_nonce.clear();
        }
        taken
    }

    pub(crate) fn len(&self) -> usize {
        self.pending.len()
    }
}
