//! The devnet in one process: the embedded L1, the shared sequencer, a traffic generator, the
//! batcher and the commitments, in simulated time.

use crate::{
    contracts::{IBatchCommitments, IDepositPortal, BATCH_COMMITMENTS, DEPOSIT_PORTAL},
    dev_key,
    l1::{EmbeddedL1, L1_BLOCK_TIME},
    DevnetConfig, BRIDGE, DEV_ACCOUNTS, TOKEN,
};
use alloy_consensus::{SignableTransaction, TxEip1559};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, Bytes, TxKind, B256, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{SolCall, SolValue};
use lockstep_crosschain::bridge::ISuperchainBridge;
use lockstep_derive::batch::Batch;
use lockstep_l1::{L1Block, L1Node};
use lockstep_primitives::{merkle_root, Transfer};
use lockstep_sequencer::{
    batcher::{self, BatchedBlock, Compression},
    rpc::SequencerHandle,
    BuiltBlock, Fault, FaultKind, L1Origin, SharedSequencer,
};
use op_alloy_consensus::OpTxEnvelope;
use rand::{rngs::StdRng, Rng, SeedableRng};
use std::{
    collections::{BTreeMap, HashMap},
    path::Path,
};

/// Why the devnet stopped.
#[derive(Debug, thiserror::Error)]
pub enum DevnetRunError {
    /// The sequencer failed.
    #[error(transparent)]
    Sequencer(#[from] lockstep_sequencer::SequencerError),
    /// The L1 failed.
    #[error(transparent)]
    L1(#[from] lockstep_l1::L1Error),
    /// The batcher failed.
    #[error(transparent)]
    Batcher(#[from] lockstep_sequencer::batcher::BatcherError),
    /// Signing failed.
    #[error("signing: {0}")]
    Signing(String),
    /// The options cannot work.
    #[error("{0}")]
    Options(String),
    /// The sequencer's lock was poisoned by a panic elsewhere.
    #[error("the sequencer stopped")]
    Poisoned,
    /// The database failed.
    #[error(transparent)]
    Database(#[from] lockstep_storage::DatabaseError),
    /// Execution failed.
    #[error(transparent)]
    Execution(#[from] lockstep_execution::ExecutionError),
}

/// Devnet settings.
#[derive(Debug, Clone)]
pub struct DevnetOptions {
    /// L2 blocks per superchain batch (one L1 block carries each batch).
    pub blocks_per_batch: u64,
    /// User transactions per chain per L2 block.
    pub txs_per_block: usize,
    /// How batches are compressed.
    pub compression: Compression,
    /// Deliberate faults.
    pub faults: Vec<Fault>,
    /// Seed of the traffic generator.
    pub seed: u64,
    /// Post batches in blobs (one frame per blob, every chain's blobs in one transaction per
    /// chain) instead of calldata.
    pub blobs: bool,
    /// Start the chains at Delta and activate each later fork this many seconds after the one
    /// before (see [`DevnetConfig::fork_gap`]).
    pub fork_gap: Option<u64>,
    /// The sequencer window in L1 blocks (default 3,600).
    pub seq_window_size: Option<u64>,
}

impl Default for DevnetOptions {
    fn default() -> Self {
        Self {
            blocks_per_batch: 6,
            txs_per_block: 8,
            compression: Compression::Brotli,
            faults: vec![],
            seed: 1,
            blobs: false,
            fork_gap: None,
            seq_window_size: None,
        }
    }
}

/// What one posted batch held.
#[derive(Debug, Clone)]
pub struct PostedBatch {
    /// The batch index.
    pub index: u64,
    /// The L1 block that carried it.
    pub l1_block: u64,
    /// Each chain's last L2 block in the batch.
    pub l2_heads: Vec<(u64, u64)>,
    /// Successful burns.
    pub burns: Vec<Transfer>,
    /// Mints.
    pub mints: Vec<Transfer>,
}

/// The running devnet, on the embedded L1 unless another [`L1Node`] is given.
#[derive(Debug)]
pub struct Devnet<L: L1Node = EmbeddedL1> {
    config: DevnetConfig,
    options: DevnetOptions,
    /// The L1.
    pub l1: L,
    sequencer: SequencerHandle,
    rng: StdRng,
    /// A second stream for contract traffic, so that the first one's transfers and burns stay
    /// what they were for a given seed.
    contract_rng: StdRng,
    /// The storage contracts deployed on each chain.
    contracts: HashMap<u64, Vec<Address>>,
    nonces: HashMap<(u64, Address), u64>,
    l2_number: u64,
    batch_blocks: Vec<Vec<BuiltBlock>>,
    batch_origins: Vec<(u64, B256)>,
    deposits: BTreeMap<u64, BTreeMap<u64, Vec<OpTxEnvelope>>>,
    /// Every batch posted so far.
    pub posted: Vec<PostedBatch>,
    junk: Vec<Junk>,
    /// Whether the batcher posts nothing (a sequencer gone silent on L1).
    silent: bool,
}

/// Malformed batcher data the devnet can post ahead of the next real batch, to show that
/// derivation drops it as the OP derivation spec says and carries on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Junk {
    /// Random bytes after the derivation version byte, from the batcher.
    Garbage,
    /// A well-formed channel whose compressed data is random bytes, from the batcher.
    CorruptChannel,
    /// A valid channel for the next blocks with every user transaction left out, signed by a
    /// key that is not the chain's batcher: accepting it would change the chain.
    WrongSender,
    /// The next blocks' span batch with a parent check that does not match the safe head,
    /// from the batcher.
    BadParentCheck,
    /// The next blocks' span batch from the batcher, valid by every batch rule, with one more
    /// transaction in its first block that an engine refuses (its gas limit is above the
    /// block's): from Holocene a verifier builds that block from its deposits alone and drops
    /// the rest of the channel.
    InvalidTransaction,
}

fn sign_eip1559(
    signer: &PrivateKeySigner,
    chain_id: u64,
    nonce: u64,
    to: TxKind,
    value: U256,
    input: Vec<u8>,
    gas_limit: u64,
) -> Result<Vec<u8>, DevnetRunError> {
    let tx = TxEip1559 {
        chain_id,
        nonce,
        gas_limit,
        max_fee_per_gas: 50_000_000_000,
        max_priority_fee_per_gas: 1,
        to,
        value,
        access_list: Default::default(),
        input: input.into(),
    };
    let sig = signer
        .sign_hash_sync(&tx.signature_hash())
        .map_err(|e| DevnetRunError::Signing(e.to_string()))?;
    Ok(tx.into_signed(sig).encoded_2718())
}

impl Devnet<EmbeddedL1> {
    /// Starts the devnet on the embedded L1, with the sequencer's database in `datadir`.
    pub fn start(datadir: &Path, options: DevnetOptions) -> Result<Self, DevnetRunError> {
        let config = DevnetConfig {
            fork_gap: options.fork_gap,
            seq_window_size: options.seq_window_size.unwrap_or(3600),
            ..DevnetConfig::default()
        };
        let funded: Vec<(Address, U256)> =
            (0..16).map(|i| (dev_key(i).address(), U256::from(10u128.pow(22)))).collect();
        let l1 = EmbeddedL1::new(crate::L1_CHAIN_ID, config.genesis_time - L1_BLOCK_TIME, &funded);
        Self::start_on(l1, datadir, options)
    }
}

impl<L: L1Node> Devnet<L> {
    /// Starts the devnet on `l1`, whose head must be one L1 block time before the L2 genesis and
    /// whose dev accounts (keys 0 to 15 of the test mnemonic) must be funded: deploys the L1
    /// contracts, and opens the sequencer's chains at genesis with its database in `datadir`.
    pub fn start_on(
        mut l1: L,
        datadir: &Path,
        options: DevnetOptions,
    ) -> Result<Self, DevnetRunError> {
        let mut config = DevnetConfig {
            fork_gap: options.fork_gap,
            seq_window_size: options.seq_window_size.unwrap_or(3600),
            ..DevnetConfig::default()
        };
        if config.seq_window_size == 0 {
            return Err(DevnetRunError::Options("the sequencer window must be positive".into()));
        }
        let per_l1 = L1_BLOCK_TIME / config.block_time;
        if options.fork_gap.is_some_and(|gap| gap == 0 || !gap.is_multiple_of(config.block_time)) {
            return Err(DevnetRunError::Options(format!(
                "the fork gap must be a positive multiple of the {}s block time",
                config.block_time
            )));
        }
        if options.blocks_per_batch == 0 || !options.blocks_per_batch.is_multiple_of(per_l1) {
            return Err(DevnetRunError::Options(format!(
                "blocks per batch must be a positive multiple of {per_l1}, the L2 blocks per L1 block"
            )));
        }
        // the deployer's first contracts: a portal per chain, then the commitment contract
        let deployer = dev_key(9);
        let commitments = BATCH_COMMITMENTS.init_code().to_vec();
        let portals = config.chains.iter().map(|_| DEPOSIT_PORTAL.init_code().to_vec());
        for (nonce, init) in (0..).zip(portals.chain(std::iter::once(commitments))) {
            let chain_id = l1.chain_id();
            let raw = sign_eip1559(
                &deployer,
                chain_id,
                nonce,
                TxKind::Create,
                U256::ZERO,
                init,
                2_000_000,
            )?;
            l1.send_raw_transaction(&raw)?;
        }
        let origin = l1.mine(L1_BLOCK_TIME)?;
        config.l1_origin = (origin.header.number, origin.hash);
        let chains = config.sequenced_chains();
        let sequencer = SharedSequencer::open(
            datadir,
            &chains,
            BRIDGE,
            dev_key(8),
            options.blocks_per_batch,
            &options.faults,
        )?;
        Ok(Self {
            rng: StdRng::seed_from_u64(options.seed),
            contract_rng: StdRng::seed_from_u64(options.seed ^ 0xc0de),
            contracts: HashMap::new(),
            config,
            options,
            l1,
            sequencer: std::sync::Arc::new(std::sync::Mutex::new(sequencer)),
            nonces: HashMap::new(),
            l2_number: 0,
            batch_blocks: vec![],
            batch_origins: vec![],
            deposits: BTreeMap::new(),
            posted: vec![],
            junk: vec![],
            silent: false,
        })
    }

    /// Stops (or resumes) posting batches and commitments: the sequencer goes on building its
    /// blocks, but L1 sees none of them.
    pub fn set_silent(&mut self, silent: bool) {
        self.silent = silent;
    }

    /// Posts `junk` to every chain's inbox ahead of the next batch.
    pub fn inject(&mut self, junk: Junk) {
        self.junk.push(junk);
    }

    /// Sends `data` to `chain`'s batch inbox, signed by `key`.
    fn post_inbox(
        &mut self,
        chain: u64,
        key: &PrivateKeySigner,
        data: Vec<u8>,
    ) -> Result<(), DevnetRunError> {
        let nonce = self.next_nonce(self.l1.chain_id(), key.address());
        let raw = sign_eip1559(
            key,
            self.l1.chain_id(),
            nonce,
            TxKind::Call(self.config.batch_inbox(chain)),
            U256::ZERO,
            data,
            3_000_000,
        )?;
        self.l1.send_raw_transaction(&raw)?;
        Ok(())
    }

    /// Posts a channel to `chain`'s inbox in blobs: one frame per blob, in one blob
    /// transaction from the chain's batcher, with its sidecar.
    fn post_blobs(
        &mut self,
        chain: u64,
        id: lockstep_derive::frame::ChannelId,
        channel: &[u8],
    ) -> Result<(), DevnetRunError> {
        use alloy_consensus::{
            SignableTransaction, TxEip4844, TxEip4844Variant, TxEip4844WithSidecar,
        };
        use alloy_eips::{
            eip4844::{env_settings::EnvKzgSettings, BlobTransactionSidecar},
            eip7594::BlobTransactionSidecarVariant,
        };
        // the version byte and a frame's 23 bytes of header must fit beside the data
        let max_frame = lockstep_derive::blob::MAX_BLOB_DATA - 1 - 23;
        let mut blobs = Vec::new();
        for frame in batcher::frames(id, channel, max_frame)? {
            let data = batcher::calldata(&[frame]);
            let blob = lockstep_derive::blob::encode_blob(&data)
                .map_err(|e| DevnetRunError::Options(e.to_string()))?;
            blobs.push(*blob);
        }
        if blobs.len() > crate::l1::MAX_BLOBS_PER_BLOCK {
            return Err(DevnetRunError::Options(format!(
                "a batch of {} blobs does not fit in one L1 block: lower --txs-per-block",
                blobs.len()
            )));
        }
        let sidecar = BlobTransactionSidecar::try_from_blobs_with_settings(
            blobs,
            EnvKzgSettings::Default.get(),
        )
        .map_err(|e| DevnetRunError::Options(format!("KZG: {e}")))?;
        let key = self.config.batcher_key(chain);
        let nonce = self.next_nonce(self.l1.chain_id(), key.address());
        let tx = TxEip4844 {
            chain_id: self.l1.chain_id(),
            nonce,
            gas_limit: 100_000,
            max_fee_per_gas: 50_000_000_000,
            max_priority_fee_per_gas: 1,
            to: self.config.batch_inbox(chain),
            value: U256::ZERO,
            access_list: Default::default(),
            blob_versioned_hashes: sidecar.versioned_hashes().collect(),
            max_fee_per_blob_gas: 1_000_000_000,
            input: Bytes::new(),
        };
        let signature = key
            .sign_hash_sync(&tx.signature_hash())
            .map_err(|e| DevnetRunError::Signing(e.to_string()))?;
        let with = TxEip4844WithSidecar::from_tx_and_sidecar(
            tx,
            BlobTransactionSidecarVariant::Eip4844(sidecar),
        );
        let signed = TxEip4844Variant::TxEip4844WithSidecar(with).into_signed(signature);
        let raw = alloy_consensus::TxEnvelope::Eip4844(signed).encoded_2718();
        self.l1.send_raw_transaction(&raw)?;
        Ok(())
    }

    /// The compression and the data availability the batcher may use for its next channel:
    /// brotli only once Fjord is active at the L1 head's time, blobs only once Ecotone is
    /// (derivation reads neither before, by the time of the L1 block it reads the channel from,
    /// which is later than the head's).
    fn channel_format(
        &self,
        rollup: &lockstep_chainspec::RollupConfig,
    ) -> Result<(Compression, bool), DevnetRunError> {
        let head = self.l1.head()?.header.timestamp;
        let compression =
            if rollup.is_fjord_active(head) { self.options.compression } else { Compression::Zlib };
        Ok((compression, self.options.blobs && rollup.is_ecotone_active(head)))
    }

    /// Posts the queued junk for `chain`, built around the real batch's blocks.
    fn post_junk(
        &mut self,
        chain: u64,
        index: u64,
        rollup: &lockstep_chainspec::RollupConfig,
        batched: &[BatchedBlock<'_>],
    ) -> Result<(), DevnetRunError> {
        let junk = self.junk.clone();
        let (compression, _) = self.channel_format(rollup)?;
        for (n, kind) in junk.into_iter().enumerate() {
            let id = batcher::channel_id(chain, u64::MAX - index * 16 - n as u64);
            let channel =
                |span: lockstep_derive::span_batch::SpanBatch| -> Result<Vec<u8>, DevnetRunError> {
                    let rlp = batcher::channel_rlp(&[Batch::Span(span)])?;
                    let data = batcher::compress(&rlp, compression)?;
                    Ok(batcher::calldata(&batcher::frames(id, &data, 120_000)?).to_vec())
                };
            let (key, data) = match kind {
                Junk::Garbage => {
                    let mut data = vec![0u8; 300];
                    self.rng.fill(&mut data[..]);
                    data[0] = 0;
                    (self.config.batcher_key(chain), data)
                }
                Junk::CorruptChannel => {
                    let mut data = vec![0u8; 500];
                    self.rng.fill(&mut data[..]);
                    data[0] = 0x78; // a zlib header, then noise
                    data[1] = 0x9c;
                    let frames = batcher::frames(id, &data, 120_000)?;
                    (self.config.batcher_key(chain), batcher::calldata(&frames).to_vec())
                }
                Junk::WrongSender => {
                    let stripped: Vec<lockstep_storage::StoredBlock> = batched
                        .iter()
                        .map(|b| {
                            let mut block = b.block.clone();
                            block.transactions.retain(|tx| tx.is_deposit());
                            block
                        })
                        .collect();
                    let blocks: Vec<BatchedBlock<'_>> = batched
                        .iter()
                        .zip(&stripped)
                        .map(|(b, block)| BatchedBlock { block, ..*b })
                        .collect();
                    (dev_key(7), channel(batcher::span_batch(rollup, &blocks)?)?)
                }
                Junk::InvalidTransaction => {
                    let (mut batches, seq_num) = batcher::singular_batches(batched)?;
                    let refused = sign_eip1559(
                        &dev_key(7),
                        chain,
                        0,
                        TxKind::Call(Address::ZERO),
                        U256::ZERO,
                        Vec::new(),
                        1 << 40,
                    )?;
                    if let Some(first) = batches.first_mut() {
                        first.transactions.push(refused.into());
                    }
                    let span = lockstep_derive::span_batch::SpanBatch::from_batches(
                        &batches,
                        seq_num,
                        rollup.genesis.l2_time,
                    )
                    .map_err(|e| DevnetRunError::Options(e.to_string()))?;
                    (self.config.batcher_key(chain), channel(span)?)
                }
                Junk::BadParentCheck => {
                    let mut span = batcher::span_batch(rollup, batched)?;
                    span.parent_check[0] ^= 0xff;
                    (self.config.batcher_key(chain), channel(span)?)
                }
            };
            self.post_inbox(chain, &key, data)?;
        }
        Ok(())
    }

    /// The devnet's configuration (with the L1 origin of this run).
    pub const fn config(&self) -> &DevnetConfig {
        &self.config
    }

    /// The options the devnet runs with.
    pub const fn options(&self) -> &DevnetOptions {
        &self.options
    }

    /// The shared sequencer, for RPC endpoints and reads.
    pub fn sequencer(&self) -> SequencerHandle {
        self.sequencer.clone()
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, SharedSequencer>, DevnetRunError> {
        self.sequencer.lock().map_err(|_| DevnetRunError::Poisoned)
    }

    fn next_nonce(&mut self, chain: u64, who: Address) -> u64 {
        let nonce = self.nonces.entry((chain, who)).or_default();
        *nonce += 1;
        *nonce - 1
    }

    /// Submits one L2 block's worth of traffic to every chain: transfers, token transfers, and
    /// burns both ways in native ETH and tokens, some of them reverting; contract creations,
    /// self-destructs and storage writes and deletes.
    fn traffic(&mut self) -> Result<(), DevnetRunError> {
        let ids: Vec<u64> = self.config.chains.iter().map(|c| c.chain_id).collect();
        for &chain in &ids {
            for _ in 0..self.options.txs_per_block {
                let who = dev_key(self.rng.random_range(0..DEV_ACCOUNTS));
                let to = dev_key(self.rng.random_range(0..DEV_ACCOUNTS)).address();
                let other = *ids.iter().find(|c| **c != chain).unwrap_or(&chain);
                let amount = U256::from(self.rng.random_range(1..1_000_000_000u64));
                let (target, value, input) = match self.rng.random_range(0..10) {
                    0..3 => (to, amount, vec![]),
                    3 => {
                        let call =
                            crate::contracts::ISuperchainToken::transferCall { to, value: amount };
                        (TOKEN, U256::ZERO, call.abi_encode())
                    }
                    4..7 => {
                        let bad = self.rng.random_bool(0.15);
                        let call = ISuperchainBridge::burnCall {
                            destination: U256::from(other),
                            token: Address::ZERO,
                            to,
                            amount,
                        };
                        (
                            BRIDGE,
                            if bad { amount + U256::from(1) } else { amount },
                            call.abi_encode(),
                        )
                    }
                    _ => {
                        let amount = if self.rng.random_bool(0.15) { U256::MAX } else { amount };
                        let call = ISuperchainBridge::burnCall {
                            destination: U256::from(other),
                            token: TOKEN,
                            to,
                            amount,
                        };
                        (BRIDGE, U256::ZERO, call.abi_encode())
                    }
                };
                let nonce = self.next_nonce(chain, who.address());
                let raw =
                    sign_eip1559(&who, chain, nonce, TxKind::Call(target), value, input, 200_000)?;
                let refused = self.lock()?.submit(chain, &raw).is_err();
                if refused {
                    // the sequencer refused it; the nonce was not used
                    *self.nonces.entry((chain, who.address())).or_default() -= 1;
                }
            }
        }
        for &chain in &ids {
            self.contract_traffic(chain)?;
        }
        // now and then a deposit from L1
        if self.rng.random_bool(0.2) {
            let position = self.rng.random_range(0..ids.len());
            let portal = self.config.deposit_portal(ids[position]);
            let who = dev_key(self.rng.random_range(0..DEV_ACCOUNTS));
            let call = IDepositPortal::depositTransactionCall {
                to: who.address(),
                value: U256::from(1_000),
                gasLimit: 100_000,
                isCreation: false,
                data: Bytes::new(),
            };
            let nonce = self.next_nonce(self.l1.chain_id(), who.address());
            let raw = sign_eip1559(
                &who,
                self.l1.chain_id(),
                nonce,
                TxKind::Call(portal),
                U256::from(10u64.pow(15)),
                call.abi_encode(),
                300_000,
            )?;
            self.l1.send_raw_transaction(&raw)?;
        }
        Ok(())
    }

    /// Contract traffic for one block of `chain`: now and then a storage contract deployed, a
    /// contract that writes a slot and self-destructs in its constructor, and calls that set or
    /// clear a deployed contract's slots.
    fn contract_traffic(&mut self, chain: u64) -> Result<(), DevnetRunError> {
        let who = dev_key(self.contract_rng.random_range(0..DEV_ACCOUNTS));
        let deployed = self.contracts.get(&chain).map_or(&[][..], Vec::as_slice);
        let (to, input) = match self.contract_rng.random_range(0..10) {
            0..2 => (TxKind::Create, crate::contracts::STORAGE_CONTRACT_INITCODE.to_vec()),
            2 => (TxKind::Create, crate::contracts::SELF_DESTRUCT_INITCODE.to_vec()),
            3..6 if !deployed.is_empty() => {
                let target = deployed[self.contract_rng.random_range(0..deployed.len())];
                let slot = U256::from(self.contract_rng.random_range(0..4u64));
                // a zero value deletes the slot
                let value = if self.contract_rng.random_bool(0.4) {
                    U256::ZERO
                } else {
                    U256::from(self.contract_rng.random::<u64>())
                };
                (TxKind::Call(target), (slot, value).abi_encode())
            }
            _ => return Ok(()),
        };
        let nonce = self.next_nonce(chain, who.address());
        let raw = sign_eip1559(&who, chain, nonce, to, U256::ZERO, input, 200_000)?;
        if self.lock()?.submit(chain, &raw).is_err() {
            *self.nonces.entry((chain, who.address())).or_default() -= 1;
        } else if to == TxKind::Create {
            self.contracts.entry(chain).or_default().push(who.address().create(nonce));
        }
        Ok(())
    }

    /// Sends one burn through L1: a deposit to the bridge on one chain (each L1 block the
    /// other), so that every run exercises the way out of DESIGN.md 5.7. Its mint is due in
    /// the batch of the L2 block that takes the deposit in.
    fn deposit_burn(&mut self) -> Result<(), DevnetRunError> {
        let ids: Vec<u64> = self.config.chains.iter().map(|c| c.chain_id).collect();
        let head = self.l1.head()?.header.number;
        let position = head as usize % ids.len();
        let (source, destination) = (ids[position], ids[(position + 1) % ids.len()]);
        let who = dev_key((head % u64::from(DEV_ACCOUNTS)) as u32);
        let to = dev_key(((head + 1) % u64::from(DEV_ACCOUNTS)) as u32).address();
        let amount = U256::from(1_000_000_000_000u64 + head);
        let burn = ISuperchainBridge::burnCall {
            destination: U256::from(destination),
            token: Address::ZERO,
            to,
            amount,
        };
        let call = IDepositPortal::depositTransactionCall {
            to: BRIDGE,
            value: amount,
            gasLimit: 200_000,
            isCreation: false,
            data: burn.abi_encode().into(),
        };
        let nonce = self.next_nonce(self.l1.chain_id(), who.address());
        let raw = sign_eip1559(
            &who,
            self.l1.chain_id(),
            nonce,
            TxKind::Call(self.config.deposit_portal(source)),
            amount,
            call.abi_encode(),
            300_000,
        )?;
        self.l1.send_raw_transaction(&raw)?;
        Ok(())
    }

    /// Reads the deposits of the L1 head block, for the first L2 block of that epoch.
    fn collect_deposits(&mut self) -> Result<(), DevnetRunError> {
        let block = self.l1.head()?;
        let per_chain = self
            .config
            .chains
            .iter()
            .map(|c| (c.chain_id, deposits_in(&block, self.config.deposit_portal(c.chain_id))))
            .collect();
        self.deposits.insert(block.header.number, per_chain);
        Ok(())
    }

    /// Runs one L1 block: its L2 blocks on every chain, then (when a batch is complete) the
    /// batches and the commitment, then mines the L1 block.
    pub fn step(&mut self) -> Result<Option<PostedBatch>, DevnetRunError> {
        let l2_per_l1 = L1_BLOCK_TIME / self.config.block_time;
        let origin_block = self.l1.head()?;
        // the L2 genesis is block 0 of its L1 origin's epoch, so that epoch goes on from 1
        let first_seq = u64::from(origin_block.header.number == self.config.l1_origin.0);
        for seq in first_seq..first_seq + l2_per_l1 {
            self.traffic()?;
            let deposits = if seq == 0 {
                self.deposits.remove(&origin_block.header.number).unwrap_or_default()
            } else {
                BTreeMap::new()
            };
            let origin = L1Origin { header: origin_block.header.clone(), sequence_number: seq };
            let built = self.lock()?.build(&origin, &deposits)?;
            self.l2_number += 1;
            self.batch_blocks.push(built);
            self.batch_origins.push((origin_block.header.number, origin_block.hash));
        }
        let mut posted = None;
        if self.batch_blocks.len() as u64 >= self.options.blocks_per_batch {
            if self.silent {
                // the sequencer's blocks never reach L1
                self.batch_blocks.clear();
                self.batch_origins.clear();
            } else {
                posted = Some(self.post_batch()?);
            }
        }
        self.deposit_burn()?;
        let mined = self.l1.mine(L1_BLOCK_TIME)?;
        self.collect_deposits()?;
        if let Some(p) = posted.as_mut() {
            p.l1_block = mined.header.number;
        }
        if let Some(p) = &posted {
            self.posted.push(p.clone());
        }
        Ok(posted)
    }

    /// Mines one L1 block and nothing else: no L2 blocks, no batches. A run that has seen the
    /// batches it wanted idles until their commitment windows have passed.
    pub fn idle(&mut self) -> Result<(), DevnetRunError> {
        self.l1.mine(L1_BLOCK_TIME)?;
        self.collect_deposits()
    }

    /// Posts every chain's batch and the commitment for the batch just completed.
    fn post_batch(&mut self) -> Result<PostedBatch, DevnetRunError> {
        let index = self.posted.len() as u64;
        let blocks = std::mem::take(&mut self.batch_blocks);
        let origins = std::mem::take(&mut self.batch_origins);
        let ids: Vec<u64> = self.config.chains.iter().map(|c| c.chain_id).collect();
        let mut outputs = Vec::new();
        let (mut burns, mut mints) = (Vec::new(), Vec::new());
        for (position, &chain) in ids.iter().enumerate() {
            let spec = self.config.chain_spec(chain);
            let batched: Vec<BatchedBlock<'_>> = blocks
                .iter()
                .zip(&origins)
                .map(|(round, (num, hash))| BatchedBlock {
                    block: &round[position].block,
                    epoch_num: *num,
                    epoch_hash: *hash,
                })
                .collect();
            self.post_junk(chain, index, &spec.rollup, &batched)?;
            let span = batcher::span_batch(&spec.rollup, &batched)?;
            let rlp = batcher::channel_rlp(&[Batch::Span(span)])?;
            let (compression, blobs) = self.channel_format(&spec.rollup)?;
            let data = batcher::compress(&rlp, compression)?;
            let id = batcher::channel_id(chain, index);
            if blobs {
                self.post_blobs(chain, id, &data)?;
            } else {
                let batcher_key = self.config.batcher_key(chain);
                for frame in batcher::frames(id, &data, 120_000)? {
                    let data = batcher::calldata(&[frame]).to_vec();
                    self.post_inbox(chain, &batcher_key, data)?;
                }
            }
            let last = &blocks.last().map(|r| &r[position]);
            let sequencer = self.lock()?;
            let db = sequencer.database().tx()?;
            let provider = lockstep_storage::ChainProvider::new(&db, chain);
            let head = provider.head()?.map(|h| (h.number, h.hash)).unwrap_or_default();
            let state_root = provider.state_root()?;
            let passer = provider.storage_root(lockstep_chainspec::L2_TO_L1_MESSAGE_PASSER)?;
            let mut output = lockstep_execution::output_root(state_root, passer, head.1);
            if self.fault_now(FaultKind::BadOutputRoot, index) && position == 0 {
                output.0[0] ^= 0xff;
            }
            outputs.push(IBatchCommitments::ChainOutput {
                chainId: U256::from(chain),
                l2Block: last.map_or(head.0, |b| b.block.header.number),
                outputRoot: output,
            });
            for round in &blocks {
                burns.extend(round[position].burns.iter().copied());
                mints.extend(round[position].mints.iter().copied());
            }
        }
        let mut pairs = Vec::new();
        for &source in &ids {
            for &destination in &ids {
                if source == destination {
                    continue;
                }
                let leaves = |list: &[Transfer]| -> Vec<B256> {
                    list.iter()
                        .filter(|t| t.source == source && t.destination == destination)
                        .map(Transfer::leaf)
                        .collect()
                };
                let mut burn_root = merkle_root(&leaves(&burns));
                if self.fault_now(FaultKind::BadCommitment, index) && pairs.is_empty() {
                    burn_root.0[0] ^= 0xff;
                }
                pairs.push(IBatchCommitments::PairRoots {
                    source: U256::from(source),
                    destination: U256::from(destination),
                    burnRoot: burn_root,
                    mintRoot: merkle_root(&leaves(&mints)),
                });
            }
        }
        if !self.fault_now(FaultKind::WithholdCommitment, index) {
            let call = IBatchCommitments::commitCall { batch: U256::from(index), outputs, pairs };
            self.commit_as(&dev_key(8), &call)?;
        }
        self.junk.clear();
        let l2_heads = ids
            .iter()
            .enumerate()
            .map(|(p, c)| (*c, blocks.last().map_or(0, |r| r[p].block.header.number)))
            .collect();
        Ok(PostedBatch { index, l1_block: 0, l2_heads, burns, mints })
    }

    /// Sends `call` to the commitment contract from `key` (the sequencer's, or any other: the
    /// contract takes every commitment, and the verifier decides which count).
    pub fn commit_as(
        &mut self,
        key: &PrivateKeySigner,
        call: &IBatchCommitments::commitCall,
    ) -> Result<(), DevnetRunError> {
        let nonce = self.next_nonce(self.l1.chain_id(), key.address());
        let raw = sign_eip1559(
            key,
            self.l1.chain_id(),
            nonce,
            TxKind::Call(self.config.commitments()),
            U256::ZERO,
            call.abi_encode(),
            1_000_000,
        )?;
        self.l1.send_raw_transaction(&raw)?;
        Ok(())
    }

    fn fault_now(&self, kind: FaultKind, batch: u64) -> bool {
        self.options.faults.iter().any(|f| f.kind == kind && f.batch == batch)
    }
}

/// The deposit transactions that `portal`'s `TransactionDeposited` logs in `block` make, as OP
/// derivation makes them (the log index counts every log of the block).
pub fn deposits_in(block: &L1Block, portal: Address) -> Vec<OpTxEnvelope> {
    // lockstep's own reader: the verifier's pipeline derives the very same deposits
    lockstep_derive::deposits::user_deposits(block.hash, &block.receipts, portal)
        .unwrap_or_default()
        .into_iter()
        .map(|deposit| OpTxEnvelope::Deposit(alloy_consensus::Sealed::new(deposit)))
        .collect()
}
