use crate::{pool::TxPool, Fault, FaultKind, IntakeError, SequencerError};
use alloy_consensus::{
    transaction::{Recovered, SignerRecoverable},
    Header, SignableTransaction, Transaction, TxEip1559,
};
use alloy_eips::eip2718::{Decodable2718, Encodable2718};
use alloy_primitives::{Address, Bytes, Sealed, TxKind, B256, B64, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolCall;
use lockstep_chainspec::ChainSpec;
use lockstep_crosschain::{bridge::ISuperchainBridge, bridge_events, EventKind};
use lockstep_derive::{
    attributes::SEQUENCER_FEE_VAULT,
    block_ref::l2_block_info,
    l1_block_info::L1BlockInfo,
    op_block,
    system_config::SystemConfig,
    upgrades::{upgrade_gas, upgrades_at},
};
use lockstep_execution::{next_base_fee, ChainExecutor, OpPayloadAttributes, TX_GAS_LIMIT_CAP};
use lockstep_primitives::Transfer;
use lockstep_storage::{
    tables::Transactions, ChainProvider, DatabaseEnv, DatabaseMode, StoredBlock, TableRead,
};
use op_alloy_consensus::OpTxEnvelope;
use std::{collections::BTreeMap, path::Path, sync::Arc};

/// Gas kept free in every block for deposits and relays.
const RESERVED_GAS: u64 = 5_000_000;
/// Gas limit of one relay transaction.
const RELAY_GAS: u64 = 200_000;

/// One chain the sequencer builds.
#[derive(Debug, Clone)]
pub struct SequencedChain {
    /// Its short name.
    pub name: String,
    /// Its spec.
    pub spec: Arc<ChainSpec>,
}

/// The L1 block a round of L2 blocks takes as origin, and the position in its epoch.
#[derive(Debug, Clone)]
pub struct L1Origin {
    /// The L1 header.
    pub header: Header,
    /// The L2 block's sequence number within the epoch (0 for the first).
    pub sequence_number: u64,
}

/// A block the sequencer built and committed.
#[derive(Debug, Clone)]
pub struct BuiltBlock {
    /// The chain.
    pub chain_id: u64,
    /// The superchain batch it belongs to.
    pub batch: u64,
    /// The attributes it was built from (what derivation must recover).
    pub attributes: OpPayloadAttributes,
    /// The block.
    pub block: StoredBlock,
    /// Successful burns in the block.
    pub burns: Vec<Transfer>,
    /// Mints in the block.
    pub mints: Vec<Transfer>,
}

#[derive(Debug)]
struct ChainState {
    name: String,
    executor: ChainExecutor,
    pool: TxPool,
}

/// A relay waiting for its destination block.
#[derive(Debug, Clone, Copy)]
struct Relay {
    transfer: Transfer,
    /// Whether its burn was forced in through L1 (a deposit), not sent to the sequencer.
    forced: bool,
}

/// The shared sequencer: every chain of the set, one database, one system key.
#[derive(Debug)]
pub struct SharedSequencer {
    env: std::sync::Arc<DatabaseEnv>,
    chains: Vec<ChainState>,
    bridge: Address,
    signer: PrivateKeySigner,
    blocks_per_batch: u64,
    faults: Vec<(Fault, bool)>,
    delayed: Vec<(Relay, u64)>,
}

impl SharedSequencer {
    /// Opens the sequencer's own database in `datadir` and initialises every chain's genesis.
    pub fn open(
        datadir: &Path,
        chains: &[SequencedChain],
        bridge: Address,
        signer: PrivateKeySigner,
        blocks_per_batch: u64,
        faults: &[Fault],
    ) -> Result<Self, SequencerError> {
        if chains.len() < 2 {
            return Err(SequencerError::Config("a shared sequencer needs two chains".into()));
        }
        let block_time = chains[0].spec.rollup.block_time;
        if chains.iter().any(|c| c.spec.rollup.block_time != block_time) {
            return Err(SequencerError::Config("chains must share one block time".into()));
        }
        let env = DatabaseEnv::open(datadir, DatabaseMode::ReadWrite)?;
        let tx = env.tx_mut()?;
        let mut states = Vec::with_capacity(chains.len());
        for chain in chains {
            let executor = ChainExecutor::new(chain.spec.clone());
            executor.init_genesis(&tx)?;
            states.push(ChainState { name: chain.name.clone(), executor, pool: TxPool::default() });
        }
        tx.commit()?;
        Ok(Self {
            env: std::sync::Arc::new(env),
            chains: states,
            bridge,
            signer,
            blocks_per_batch: blocks_per_batch.max(1),
            faults: faults.iter().map(|f| (*f, false)).collect(),
            delayed: Vec::new(),
        })
    }

    /// The sequencer's database (for reads: receipts, blocks, state).
    pub fn database(&self) -> &DatabaseEnv {
        &self.env
    }

    /// The sequencer's database, to share with readers (the `eth_` endpoints).
    pub fn shared_database(&self) -> std::sync::Arc<DatabaseEnv> {
        self.env.clone()
    }

    /// Chain `chain_id`'s spec, if it is in the set.
    pub fn chain_spec(
        &self,
        chain_id: u64,
    ) -> Option<std::sync::Arc<lockstep_chainspec::ChainSpec>> {
        self.chains
            .iter()
            .find(|c| c.executor.chain_id() == chain_id)
            .map(|c| c.executor.shared_spec().clone())
    }

    /// The chain ids, in set order.
    pub fn chain_ids(&self) -> Vec<u64> {
        self.chains.iter().map(|c| c.executor.chain_id()).collect()
    }

    /// The superchain batch of L2 block `number` (block 1 opens batch 0).
    pub fn batch_of(&self, number: u64) -> u64 {
        number.saturating_sub(1) / self.blocks_per_batch
    }

    /// Transactions waiting in `chain_id`'s pool.
    pub fn pending(&self, chain_id: u64) -> usize {
        self.chains.iter().find(|c| c.executor.chain_id() == chain_id).map_or(0, |c| c.pool.len())
    }

    /// The nonce `sender`'s next transaction on `chain_id` must carry: its nonce in state, or
    /// past its transactions waiting in the pool. `None` for a chain not sequenced here or a
    /// database that cannot be read.
    pub fn next_nonce(&self, chain_id: u64, sender: Address) -> Option<u64> {
        let chain = self.chains.iter().find(|c| c.executor.chain_id() == chain_id)?;
        let db = self.env.tx().ok()?;
        let account = ChainProvider::new(&db, chain_id).account(sender).ok()?.unwrap_or_default();
        Some(chain.pool.next_nonce(sender, account.nonce))
    }

    /// Validates a signed transaction for `chain_id` and queues it for the next block.
    pub fn submit(&mut self, chain_id: u64, raw: &[u8]) -> Result<B256, IntakeError> {
        let system = self.signer.address();
        let chain = self
            .chains
            .iter_mut()
            .find(|c| c.executor.chain_id() == chain_id)
            .ok_or(IntakeError::UnknownChain(chain_id))?;
        let tx = OpTxEnvelope::decode_2718_exact(raw)
            .map_err(|e| IntakeError::Malformed(e.to_string()))?;
        if tx.is_deposit() {
            return Err(IntakeError::Deposit);
        }
        if tx.chain_id() != Some(chain_id) {
            return Err(IntakeError::WrongChain { expected: chain_id, found: tx.chain_id() });
        }
        let sender = tx.recover_signer().map_err(|_| IntakeError::BadSignature)?;
        if sender == system {
            return Err(IntakeError::SystemSender);
        }
        let internal = |e: lockstep_storage::DatabaseError| IntakeError::Internal(e.to_string());
        let db = self.env.tx().map_err(internal)?;
        let provider = ChainProvider::new(&db, chain_id);
        let account = provider.account(sender).map_err(internal)?.unwrap_or_default();
        let expected = chain.pool.next_nonce(sender, account.nonce);
        match tx.nonce() {
            n if n < expected => return Err(IntakeError::NonceTooLow { expected, found: n }),
            n if n > expected => return Err(IntakeError::NonceTooHigh { expected, found: n }),
            _ => {}
        }
        let spec = chain.executor.spec();
        let gas_limit = spec.rollup.genesis.system_config.map_or(30_000_000, |c| c.gas_limit);
        if tx.gas_limit() < 21_000 || tx.gas_limit() > gas_limit - RESERVED_GAS {
            return Err(IntakeError::GasLimit(tx.gas_limit()));
        }
        let head = provider.head().map_err(internal)?.ok_or(IntakeError::UnknownChain(chain_id))?;
        let parent = provider
            .header(head.number)
            .map_err(internal)?
            .ok_or_else(|| IntakeError::Internal("head header missing".into()))?;
        let base_fee =
            next_base_fee(&spec.rollup, &parent, parent.timestamp + spec.rollup.block_time)
                .map_err(|e| IntakeError::Internal(e.to_string()))?;
        // Karst's transaction gas cap (EIP-7825), for the block the transaction would go in
        if spec.rollup.is_karst_active(parent.timestamp + spec.rollup.block_time)
            && tx.gas_limit() > TX_GAS_LIMIT_CAP
        {
            return Err(IntakeError::GasLimit(tx.gas_limit()));
        }
        if tx.max_fee_per_gas() < base_fee as u128 {
            return Err(IntakeError::Underpriced { max_fee: tx.max_fee_per_gas(), base_fee });
        }
        let cost = U256::from(tx.gas_limit()) * U256::from(tx.max_fee_per_gas()) + tx.value();
        if account.balance < cost {
            return Err(IntakeError::InsufficientFunds);
        }
        let hash = tx.tx_hash();
        chain.pool.push(Recovered::new_unchecked(tx, sender));
        Ok(hash)
    }

    /// Builds the next block of every chain at the same timestamp on `origin`, with each
    /// chain's L1 `deposits`, and commits them all in one write.
    pub fn build(
        &mut self,
        origin: &L1Origin,
        deposits: &BTreeMap<u64, Vec<OpTxEnvelope>>,
    ) -> Result<Vec<BuiltBlock>, SequencerError> {
        let origins = vec![origin.clone(); self.chains.len()];
        self.build_round(&origins, deposits)
    }

    /// Builds the next block of every chain at the same timestamp with L1 block `origin` as
    /// its epoch: each chain's place in the epoch follows from its head's (0 when the epoch is
    /// new to it, and only then with `origin`'s `deposits`).
    pub fn build_on(
        &mut self,
        origin: &Header,
        deposits: &BTreeMap<u64, Vec<OpTxEnvelope>>,
    ) -> Result<Vec<BuiltBlock>, SequencerError> {
        let mut origins = Vec::with_capacity(self.chains.len());
        let mut due = BTreeMap::new();
        for chain_id in self.chain_ids() {
            let sequence_number = self.next_sequence_number(chain_id, origin.number)?;
            if sequence_number == 0 {
                due.insert(chain_id, deposits.get(&chain_id).cloned().unwrap_or_default());
            }
            origins.push(L1Origin { header: origin.clone(), sequence_number });
        }
        self.build_round(&origins, &due)
    }

    /// The L1 origin (epoch) of chain `chain_id`'s head and the head's place in it.
    pub fn head_epoch(&self, chain_id: u64) -> Result<(u64, u64), SequencerError> {
        let db = self.env.tx()?;
        let provider = ChainProvider::new(&db, chain_id);
        let chain = self.chain(chain_id)?;
        let head = provider.head()?.ok_or(SequencerError::UnknownChain(chain_id))?;
        let header = provider.header(head.number)?.ok_or(SequencerError::UnknownChain(chain_id))?;
        let first = db.get::<Transactions>(&(chain_id, head.number, 0))?;
        let block = op_block(header, first.into_iter().collect());
        let (info, _) = l2_block_info(&block, head.hash, &chain.executor.spec().rollup)
            .map_err(SequencerError::L1Info)?;
        Ok((info.l1_origin.number, info.seq_num))
    }

    fn next_sequence_number(&self, chain_id: u64, origin: u64) -> Result<u64, SequencerError> {
        let (epoch, seq) = self.head_epoch(chain_id)?;
        Ok(if epoch == origin { seq + 1 } else { 0 })
    }

    fn chain(&self, chain_id: u64) -> Result<&ChainState, SequencerError> {
        self.chains
            .iter()
            .find(|c| c.executor.chain_id() == chain_id)
            .ok_or(SequencerError::UnknownChain(chain_id))
    }

    /// Builds the next block of chain `chain_id` alone, on L1 block `origin`, from the L1
    /// info deposit, `origin`'s `deposits` (when the epoch is new to the chain) and any
    /// upgrade deposits: what the sequencer rebuilds on a chain that L1 set back, up to the
    /// others' height. The mints of its burns go out in the next round.
    pub fn build_alone(
        &mut self,
        chain_id: u64,
        origin: &Header,
        deposits: &[OpTxEnvelope],
    ) -> Result<StoredBlock, SequencerError> {
        let sequence_number = self.next_sequence_number(chain_id, origin.number)?;
        let origin = L1Origin { header: origin.clone(), sequence_number };
        let tx = self.env.tx_mut()?;
        let chain = self.chain(chain_id)?;
        let spec = chain.executor.spec();
        let provider = ChainProvider::new(&tx, chain_id);
        let head = provider.head()?.ok_or(SequencerError::UnknownChain(chain_id))?;
        let parent = provider.header(head.number)?.ok_or(SequencerError::UnknownChain(chain_id))?;
        let timestamp = parent.timestamp + spec.rollup.block_time;
        let system = parent_system_config(spec, &tx, &parent, head.hash)?;
        let mut txs = vec![l1_info_deposit(spec, &system, &origin, timestamp)?];
        if sequence_number == 0 {
            txs.extend(deposits.iter().cloned());
        }
        txs.extend(upgrade_deposits(spec, timestamp));
        // the other chains' burns towards this one at the same height are relayed again: the
        // blocks that paid them are the ones L1 took away
        let number = head.number + 1;
        let mut nonce = provider.account(self.signer.address())?.unwrap_or_default().nonce;
        let base_fee = next_base_fee(&spec.rollup, &parent, timestamp)?;
        // a block that may hold only deposits relays them in the next round
        let quiet = spec.rollup.forbids_user_transactions(timestamp);
        let mut deferred = Vec::new();
        for other in self.chain_ids().into_iter().filter(|c| *c != chain_id) {
            let theirs = ChainProvider::new(&tx, other);
            if theirs.header(number)?.is_none_or(|h| h.timestamp != timestamp) {
                continue;
            }
            let receipts = theirs.receipts(number)?;
            for event in bridge_events(other, number, &receipts, &[], self.bridge) {
                let transfer = event.item.transfer;
                if event.item.kind == EventKind::Burn && transfer.destination == chain_id {
                    if quiet {
                        deferred.push((Relay { transfer, forced: false }, 0));
                        continue;
                    }
                    txs.push(self.sign_relay(chain_id, nonce, base_fee, &transfer)?);
                    nonce += 1;
                }
            }
        }
        let attrs = payload_attributes(spec, &system, &origin, timestamp, &txs);
        let executed = chain.executor.execute(&tx, &attrs)?;
        let block = executed.block;
        let hashes: Vec<B256> = block.transactions.iter().map(|t| t.tx_hash()).collect();
        let ids = self.chain_ids();
        for event in
            bridge_events(chain_id, block.header.number, &block.receipts, &hashes, self.bridge)
        {
            let transfer = event.item.transfer;
            if event.item.kind == EventKind::Burn && ids.contains(&transfer.destination) {
                // every burn here is a deposit (no user transactions): paid in the next round
                self.delayed.push((Relay { transfer, forced: true }, 0));
            }
        }
        self.delayed.extend(deferred);
        tx.commit()?;
        Ok(block)
    }

    /// Takes chain `chain_id` back to its block `ancestor` and executes `blocks` (each a header
    /// and its transactions, as L1 derived them) on it, in one write: the sequencer follows
    /// the chain L1 forced. Each block must come out with its header's hash.
    pub fn adopt(
        &mut self,
        chain_id: u64,
        ancestor: u64,
        blocks: &[(Header, Vec<OpTxEnvelope>)],
    ) -> Result<(), SequencerError> {
        let tx = self.env.tx_mut()?;
        let chain = self.chain(chain_id)?;
        let spec = chain.executor.spec();
        ChainProvider::new(&tx, chain_id).unwind_to(ancestor)?;
        for (header, transactions) in blocks {
            let rollup = &spec.rollup;
            let attrs = lockstep_execution::payload_attributes(rollup, header, transactions);
            let executed = chain.executor.execute_payload(&tx, &attrs)?;
            let want = header.hash_slow();
            if executed.block.hash != want {
                return Err(SequencerError::Config(format!(
                    "chain {chain_id}: block {} as L1 derived it is {want}, executed here {}",
                    header.number, executed.block.hash
                )));
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn build_round(
        &mut self,
        origins: &[L1Origin],
        deposits: &BTreeMap<u64, Vec<OpTxEnvelope>>,
    ) -> Result<Vec<BuiltBlock>, SequencerError> {
        let ids = self.chain_ids();
        // phase 1: execute every chain's deposits and user transactions to find the burns
        let mut bases = Vec::with_capacity(self.chains.len());
        let mut burns: Vec<Relay> = Vec::new();
        let (number, timestamp) = {
            let db = self.env.tx()?;
            let mut round: Option<(u64, u64)> = None;
            for (chain, origin) in self.chains.iter_mut().zip(origins) {
                let provider = ChainProvider::new(&db, chain.executor.chain_id());
                let head = provider.head()?.ok_or_else(|| {
                    SequencerError::Config(format!("chain {} has no genesis", chain.name))
                })?;
                let parent = provider.header(head.number)?.ok_or_else(|| {
                    SequencerError::Config(format!("chain {} head header missing", chain.name))
                })?;
                let spec = chain.executor.spec();
                let timestamp = parent.timestamp + spec.rollup.block_time;
                match round {
                    None => round = Some((head.number + 1, timestamp)),
                    Some((n, t)) if (n, t) != (head.number + 1, timestamp) => {
                        return Err(SequencerError::OutOfLockstep(format!(
                            "chain {} is at block {} time {timestamp}, others at {n} time {t}",
                            chain.name,
                            head.number + 1
                        )))
                    }
                    Some(_) => {}
                }
                let system = parent_system_config(spec, &db, &parent, head.hash)?;
                let mut txs: Vec<OpTxEnvelope> =
                    vec![l1_info_deposit(spec, &system, origin, timestamp)?];
                txs.extend(deposits.get(&spec.chain_id()).into_iter().flatten().cloned());
                txs.extend(upgrade_deposits(spec, timestamp));
                // a fork's activation block that may hold only deposits leaves the pool alone
                if !spec.rollup.forbids_user_transactions(timestamp) {
                    let users = chain.pool.take(system.gas_limit.saturating_sub(RESERVED_GAS));
                    txs.extend(users.into_iter().map(Recovered::into_inner));
                }
                let attrs = payload_attributes(spec, &system, origin, timestamp, &txs);
                let header = chain.executor.next_header(&parent, head.hash, &attrs)?;
                let outcome =
                    chain.executor.execute_transactions(header, &attrs, provider.state())?;
                let hashes: Vec<B256> = outcome.transactions.iter().map(|t| t.tx_hash()).collect();
                for event in bridge_events(
                    spec.chain_id(),
                    head.number + 1,
                    &outcome.receipts,
                    &hashes,
                    self.bridge,
                ) {
                    let transfer = event.item.transfer;
                    if event.item.kind == EventKind::Burn && ids.contains(&transfer.destination) {
                        let forced = outcome
                            .transactions
                            .get(event.tx_index as usize)
                            .is_some_and(OpTxEnvelope::is_deposit);
                        burns.push(Relay { transfer, forced });
                    }
                }
                bases.push((parent, head.hash, system, outcome.transactions));
            }
            round.unwrap_or_default()
        };
        let batch = self.batch_of(number);
        let last_of_batch = self.batch_of(number + 1) != batch;
        let mut relays = self.plan_relays(batch, last_of_batch, burns);
        // a relay is a user transaction: a round in which some chain may hold none sends its
        // relays in the next round
        let quiet = self
            .chains
            .iter()
            .any(|c| c.executor.spec().rollup.forbids_user_transactions(timestamp));
        if quiet {
            self.delayed.extend(relays.drain(..).map(|relay| (relay, batch)));
        }

        // phase 2: the final blocks, with each chain's relays appended, in one write
        let tx = self.env.tx_mut()?;
        let mut built = Vec::with_capacity(self.chains.len());
        for ((chain, (parent, _, system, mut txs)), origin) in
            self.chains.iter().zip(bases).zip(origins)
        {
            let spec = chain.executor.spec();
            let chain_id = spec.chain_id();
            let provider = ChainProvider::new(&tx, chain_id);
            let first_nonce = provider.account(self.signer.address())?.unwrap_or_default().nonce;
            let base_fee = next_base_fee(&spec.rollup, &parent, timestamp)?;
            let ours = relays.iter().filter(|r| r.transfer.destination == chain_id);
            for (nonce, relay) in (first_nonce..).zip(ours) {
                txs.push(self.sign_relay(chain_id, nonce, base_fee, &relay.transfer)?);
            }
            let attrs = payload_attributes(spec, &system, origin, timestamp, &txs);
            let executed = chain.executor.execute(&tx, &attrs)?;
            for rejected in &executed.skipped {
                tracing::warn!(
                    target: "lockstep::sequencer",
                    chain = chain_id,
                    block = number,
                    index = rejected.index,
                    reason = %rejected.reason,
                    "transaction left out of the block"
                );
            }
            let hashes: Vec<B256> =
                executed.block.transactions.iter().map(|t| t.tx_hash()).collect();
            let events =
                bridge_events(chain_id, number, &executed.block.receipts, &hashes, self.bridge);
            let (burns, mints) = events.iter().fold((vec![], vec![]), |(mut b, mut m), e| {
                match e.item.kind {
                    EventKind::Burn => b.push(e.item.transfer),
                    EventKind::Mint => m.push(e.item.transfer),
                }
                (b, m)
            });
            built.push(BuiltBlock {
                chain_id,
                batch,
                attributes: attrs,
                block: executed.block,
                burns,
                mints,
            });
        }
        tx.commit()?;
        Ok(built)
    }

    /// The relays of this round: one per burn, in order, with any fault of `batch` applied.
    /// `last_of_batch`: this round builds the batch's last blocks.
    fn plan_relays(&mut self, batch: u64, last_of_batch: bool, burns: Vec<Relay>) -> Vec<Relay> {
        let fresh = burns.len();
        let mut relays: Vec<Relay> = Vec::with_capacity(burns.len() + self.delayed.len());
        // mints held back by delay-mint go out in the first block of their release batch
        let (due, waiting): (Vec<_>, Vec<_>) =
            std::mem::take(&mut self.delayed).into_iter().partition(|(_, at)| *at <= batch);
        self.delayed = waiting;
        relays.extend(due.into_iter().map(|(relay, _)| relay));
        relays.extend(burns);
        for (fault, done) in &mut self.faults {
            if *done || fault.batch != batch {
                continue;
            }
            if fault.kind == FaultKind::Censor {
                // every round of the batch: the burns forced in through L1 go unpaid
                relays.retain(|r| !r.forced);
                continue;
            }
            let first = (!relays.is_empty()).then_some(0);
            match (fault.kind, first) {
                (FaultKind::DropMint, Some(i)) => {
                    relays.remove(i);
                    *done = true;
                }
                (FaultKind::DelayMint, Some(i)) => {
                    self.delayed.push((relays.remove(i), batch + 1));
                    *done = true;
                }
                // the last mint of this round's burns goes out in the next round, the first
                // of that round's mints, so that no pair's order changes; never from the
                // batch's last round, which would take it out of the batch
                (FaultKind::ShiftMint, Some(_)) if fresh > 0 && !last_of_batch => {
                    let last = relays.len() - 1;
                    self.delayed.push((relays.remove(last), batch));
                    *done = true;
                }
                (FaultKind::AlterAmount, Some(i)) => {
                    relays[i].transfer.amount += U256::from(1);
                    *done = true;
                }
                (FaultKind::ForgeMint, _) => {
                    let ids: Vec<u64> = self.chains.iter().map(|c| c.executor.chain_id()).collect();
                    relays.push(Relay {
                        transfer: Transfer {
                            source: ids[0],
                            destination: ids[1],
                            nonce: U256::from(1_000_000_000u64 + batch),
                            token: Address::ZERO,
                            from: self.signer.address(),
                            to: self.signer.address(),
                            amount: U256::from(1),
                        },
                        forced: false,
                    });
                    *done = true;
                }
                (FaultKind::ReorderMints, _) => {
                    // two relays of the same (source, destination) pair, swapped
                    let same_pair = |a: &Transfer, b: &Transfer| {
                        (a.source, a.destination) == (b.source, b.destination)
                    };
                    let mut pair = None;
                    'outer: for i in 0..relays.len() {
                        for j in i + 1..relays.len() {
                            if same_pair(&relays[i].transfer, &relays[j].transfer) {
                                pair = Some((i, j));
                                break 'outer;
                            }
                        }
                    }
                    if let Some((i, j)) = pair {
                        relays.swap(i, j);
                        *done = true;
                    }
                }
                _ => {}
            }
        }
        relays
    }

    fn sign_relay(
        &self,
        chain_id: u64,
        nonce: u64,
        base_fee: u64,
        transfer: &Transfer,
    ) -> Result<OpTxEnvelope, SequencerError> {
        let input = ISuperchainBridge::relayCall {
            source: U256::from(transfer.source),
            nonce: transfer.nonce,
            token: transfer.token,
            from: transfer.from,
            to: transfer.to,
            amount: transfer.amount,
        }
        .abi_encode();
        let tx = TxEip1559 {
            chain_id,
            nonce,
            gas_limit: RELAY_GAS,
            max_fee_per_gas: base_fee as u128 * 2 + 1,
            max_priority_fee_per_gas: 0,
            to: TxKind::Call(self.bridge),
            value: U256::ZERO,
            access_list: Default::default(),
            input: input.into(),
        };
        let sig = self
            .signer
            .sign_hash_sync(&tx.signature_hash())
            .map_err(|e| SequencerError::Signing(e.to_string()))?;
        Ok(tx.into_signed(sig).into())
    }
}

/// The system config `parent` was built with, read back from the block as derivation reads it
/// (its L1 info deposit, gas limit and Holocene extra data), so that the sequencer's next block
/// follows the same config a verifier derives.
pub fn parent_system_config<T: TableRead>(
    spec: &ChainSpec,
    db: &T,
    parent: &Header,
    parent_hash: B256,
) -> Result<SystemConfig, SequencerError> {
    let first = db.get::<Transactions>(&(spec.chain_id(), parent.number, 0))?;
    let block = op_block(parent.clone(), first.into_iter().collect());
    let (_, config) =
        l2_block_info(&block, parent_hash, &spec.rollup).map_err(SequencerError::L1Info)?;
    Ok(config)
}

/// The L1 info deposit that opens an L2 block at `timestamp` on `origin`, in the format of the
/// fork at `timestamp`, as derivation builds it.
pub fn l1_info_deposit(
    spec: &ChainSpec,
    system: &SystemConfig,
    origin: &L1Origin,
    timestamp: u64,
) -> Result<OpTxEnvelope, SequencerError> {
    let rollup = &spec.rollup;
    let hash = origin.header.hash_slow();
    let (format, info) = L1BlockInfo::for_block(
        rollup,
        system,
        origin.sequence_number,
        &origin.header,
        hash,
        timestamp,
    );
    let deposit = info.deposit(format, rollup.is_regolith_active(timestamp));
    Ok(OpTxEnvelope::Deposit(Sealed::new(deposit)))
}

/// The network upgrade deposits of the block at `timestamp`: those of every fork it activates.
pub fn upgrade_deposits(spec: &ChainSpec, timestamp: u64) -> Vec<OpTxEnvelope> {
    upgrades_at(&spec.rollup, timestamp)
        .iter()
        .map(|u| OpTxEnvelope::Deposit(Sealed::new(u.deposit())))
        .collect()
}

/// The payload attributes of a block, as op-node's attributes builder makes them: `txs` are
/// the L1 info deposit, the epoch's user deposits, a fork's upgrade deposits, then the
/// sequenced transactions.
pub fn payload_attributes(
    spec: &ChainSpec,
    system: &SystemConfig,
    origin: &L1Origin,
    timestamp: u64,
    txs: &[OpTxEnvelope],
) -> OpPayloadAttributes {
    let rollup = &spec.rollup;
    OpPayloadAttributes {
        payload_attributes: alloy_rpc_types_engine::PayloadAttributes {
            timestamp,
            prev_randao: origin.header.mix_hash,
            suggested_fee_recipient: SEQUENCER_FEE_VAULT,
            withdrawals: rollup.is_canyon_active(timestamp).then(Vec::new),
            parent_beacon_block_root: if rollup.is_ecotone_active(timestamp) {
                Some(origin.header.parent_beacon_block_root.unwrap_or_default())
            } else {
                None
            },
            slot_number: None,
            target_gas_limit: None,
        },
        transactions: Some(txs.iter().map(|t| Bytes::from(t.encoded_2718())).collect()),
        no_tx_pool: Some(true),
        // Karst's activation block has room for its bundle on top of the configured limit
        gas_limit: Some(system.gas_limit.saturating_add(upgrade_gas(rollup, timestamp))),
        eip_1559_params: rollup
            .is_holocene_active(timestamp)
            .then(|| B64::from(system.eip1559_params)),
        min_base_fee: rollup.is_jovian_active(timestamp).then_some(system.min_base_fee),
    }
}
