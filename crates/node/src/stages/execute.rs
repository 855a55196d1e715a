//! Every chain derives what the L1 block makes safe and executes it, each on its own thread
//! against a read snapshot with its writes buffered in an overlay; the overlays then land, in
//! order, in the one write transaction. Unwinding takes every chain back to its head at the
//! common ancestor.

use super::{L1Input, Parts, Stage, StepOutput, UnwindInput};
use crate::{driver::ChainState, ChainStep, NodeError};
use lockstep_derive::{
    block_info, op_block, ChainDeriver, DeriveError, Derived, L1Window, L2Chain,
};
use lockstep_execution::ExecutionError;
use lockstep_storage::{ChainProvider, DbTx, Overlay, OverlayWrites, TableWrite, RW};

/// Resets one L1 block may trigger before the node gives up on it.
const MAX_RESETS_PER_BLOCK: u32 = 4;

/// Derivation and execution of every chain.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ExecuteStage;

impl Stage for ExecuteStage {
    fn name(&self) -> &'static str {
        "execute"
    }

    fn execute(
        &mut self,
        parts: &mut Parts<'_>,
        tx: &DbTx<'_, RW>,
        input: &L1Input,
        out: &mut StepOutput,
    ) -> Result<(), NodeError> {
        let (env, l1, number) = (parts.env, parts.l1, input.number);
        let results: Vec<Result<(ChainStep, OverlayWrites), NodeError>> =
            std::thread::scope(|scope| {
                let handles: Vec<_> = parts
                    .chains
                    .iter_mut()
                    .map(|chain| {
                        scope.spawn(move || {
                            let snapshot = env.tx()?;
                            let overlay = Overlay::new(&snapshot);
                            let step = derive_chain(chain, l1, &overlay, number)?;
                            Ok((step, overlay.into_writes()))
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|handle| {
                        handle.join().unwrap_or_else(|_| {
                            Err(NodeError::Inconsistent("a chain's thread panicked".into()))
                        })
                    })
                    .collect()
            });
        for result in results {
            let (step, writes) = result?;
            writes.apply(tx)?;
            out.chains.push(step);
        }
        Ok(())
    }

    fn unwind(
        &mut self,
        parts: &mut Parts<'_>,
        tx: &DbTx<'_, RW>,
        input: &UnwindInput,
    ) -> Result<Vec<(u64, u64)>, NodeError> {
        let mut unwound = Vec::new();
        for chain in parts.chains.iter() {
            let provider = ChainProvider::new(tx, chain.chain_id());
            let head = provider.head()?.map_or(0, |h| h.number);
            let target = match &input.ancestor {
                Some((_, record)) => record
                    .heads
                    .iter()
                    .find(|h| h.chain_id == chain.chain_id())
                    .map(|h| h.number)
                    .ok_or_else(|| {
                        NodeError::Inconsistent(format!(
                            "L1 record lacks chain {}",
                            chain.chain_id()
                        ))
                    })?,
                None => chain.spec.genesis_number(),
            };
            provider.unwind_to(target)?;
            unwound.push((chain.chain_id(), head - target));
        }
        Ok(unwound)
    }
}

/// Derives and executes what L1 block `number` makes safe on one chain, in `tx`.
fn derive_chain<T: TableWrite + std::fmt::Debug>(
    chain: &mut ChainState,
    l1: &L1Window,
    tx: &T,
    number: u64,
) -> Result<ChainStep, NodeError> {
    let mut step = ChainStep {
        chain_id: chain.chain_id(),
        blocks: 0,
        transactions: 0,
        gas: 0,
        head: chain.head.block_info.number,
        replaced: 0,
    };
    if number < chain.genesis_l1() {
        return Ok(step);
    }
    let mut resets = 0;
    loop {
        let deriver = chain.deriver.as_mut().ok_or_else(|| {
            NodeError::Inconsistent(format!("chain {}: no pipeline", chain.spec.chain_id()))
        })?;
        match deriver.next(&L2Chain::new(&chain.l2, tx), chain.head) {
            Ok(Derived::Attributes(attributes)) => {
                let executed = match chain.executor.execute_payload(tx, &attributes.inner) {
                    Ok(executed) => executed,
                    Err(ExecutionError::InvalidPayload(reason)) => {
                        let timestamp = attributes.inner.payload_attributes.timestamp;
                        let number = chain.head.block_info.number + 1;
                        if !chain.rollup.is_holocene_active(timestamp) {
                            // before Holocene the attributes are dropped and derivation
                            // goes on from the same head
                            tracing::warn!(
                                target: "lockstep::node",
                                chain = chain.spec.chain_id(),
                                block = number,
                                %reason,
                                "invalid payload dropped"
                            );
                            continue;
                        }
                        tracing::warn!(
                            target: "lockstep::node",
                            chain = chain.spec.chain_id(),
                            block = number,
                            %reason,
                            "invalid payload replaced by its deposits alone (Holocene)"
                        );
                        step.replaced += 1;
                        let replacement = deriver.deposit_only(&attributes);
                        // deposits alone cannot be invalid unless the L1 is: that stops
                        chain.executor.execute_payload(tx, &replacement.inner)?
                    }
                    Err(err) => return Err(err.into()),
                };
                let block = executed.block;
                let l2_number = block.header.number;
                let mut found = lockstep_crosschain::bridge_events(
                    chain.chain_id(),
                    l2_number,
                    &block.receipts,
                    &[],
                    chain.bridge,
                );
                for event in &mut found {
                    if let Some(t) = block.transactions.get(event.tx_index as usize) {
                        event.tx_hash = t.tx_hash();
                        event.deposit_source = t.as_deposit().map(|d| d.source_hash);
                    }
                }
                chain.events.insert(l2_number, found);
                if block.header.requests_hash.is_none() {
                    // before Isthmus the header does not carry it (from Canyon its
                    // withdrawals root is the empty root): keep it for output roots
                    let provider = ChainProvider::new(tx, chain.chain_id());
                    let root =
                        provider.storage_root(lockstep_chainspec::L2_TO_L1_MESSAGE_PASSER)?;
                    provider.put_message_passer_root(block.header.number, root)?;
                }
                step.blocks += 1;
                step.transactions += block.transactions.len() as u64;
                step.gas += block.header.gas_used;
                chain.head = chain.l2.push(op_block(block.header, block.transactions))?;
                step.head = chain.head.block_info.number;
            }
            Ok(Derived::Exhausted) => return Ok(step),
            Err(DeriveError::Reset { reason, .. }) if resets < MAX_RESETS_PER_BLOCK => {
                resets += 1;
                tracing::warn!(
                    target: "lockstep::node",
                    chain = chain.spec.chain_id(),
                    %reason,
                    "derivation reset from the chain's head"
                );
                let origin_number = ChainDeriver::reset_origin_number(&chain.rollup, &chain.head);
                let origin = l1.get(origin_number).map(|b| block_info(&b)).ok_or_else(|| {
                    NodeError::Inconsistent(format!("L1 block {origin_number} not held"))
                })?;
                deriver.reset(&L2Chain::new(&chain.l2, tx), chain.head, origin)?;
            }
            Err(err) => return Err(err.into()),
        }
    }
}
