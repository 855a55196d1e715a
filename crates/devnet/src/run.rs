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
    Fault, FaultKind, SharedSequencer,
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
    /// The sequencer's own derivation (how it follows L1) failed.
    #[error("following L1: {0}")]
    Follow(String),
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
    /// The sequencer's own derivation from L1 (op-node's part beside its sequencer).
    follower: lockstep_node::Node,
    /// Each chain's last block posted to L1 (or derived from it).
    posted_through: HashMap<u64, u64>,
    /// Rounds built since the last batch was posted.
    unposted_rounds: u64,
    /// Offline until this L1 block (the `offline` fault).
    offline_until: Option<u64>,
    went_offline: bool,
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
        let specs = config.chains.iter().map(|c| config.chain_spec(c.chain_id)).collect();
        let follower = lockstep_node::Node::open(
            &datadir.join("follower"),
            specs,
            lockstep_node::CheckSettings {
                bridge: BRIDGE,
                sequencer: config.sequencer(),
                commitments: Some(config.commitments()),
                commitment_window: config.commitment_window,
            },
        )
        .map_err(|e| DevnetRunError::Follow(e.to_string()))?;
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
            follower,
            posted_through: HashMap::new(),
            unposted_rounds: 0,
            offline_until: None,
            went_offline: false,
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
                Junk::InvalidTransaction => (
                    self.config.batcher_key(chain),
                    channel(invalid_tx_span(chain, rollup, batched)?)?,
                ),
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

    /// The deposits of L1 block `number` to every chain, for the first L2 block of its epoch.
    fn deposits_of(&self, number: u64) -> Result<BTreeMap<u64, Vec<OpTxEnvelope>>, DevnetRunError> {
        let block = self
            .l1
            .block(number)?
            .ok_or_else(|| DevnetRunError::Options(format!("the L1 has no block {number}")))?;
        Ok(self
            .config
            .chains
            .iter()
            .map(|c| (c.chain_id, deposits_in(&block, self.config.deposit_portal(c.chain_id))))
            .collect())
    }

    /// The L1 block an L2 block at `timestamp` takes as its epoch: the newest one at or before
    /// it, and at most `head` (the newest the L1 has). For the L2 blocks of one L1 block's
    /// time that is the L1 head; for blocks rebuilt after L1 set a chain back, older ones.
    fn origin_for(&self, timestamp: u64, head: &L1Block) -> Result<L1Block, DevnetRunError> {
        if timestamp >= head.header.timestamp {
            return Ok(head.clone());
        }
        let behind = (head.header.timestamp - timestamp).div_ceil(L1_BLOCK_TIME);
        let number = head.header.number.saturating_sub(behind).max(self.config.l1_origin.0);
        self.l1
            .block(number)?
            .ok_or_else(|| DevnetRunError::Options(format!("the L1 has no block {number}")))
    }

    /// Each chain's head: `(number, timestamp)`.
    fn heads(&self) -> Result<Vec<(u64, u64, u64)>, DevnetRunError> {
        let sequencer = self.lock()?;
        let db = sequencer.database().tx()?;
        let mut out = Vec::new();
        for chain in &self.config.chains {
            let provider = lockstep_storage::ChainProvider::new(&db, chain.chain_id);
            let head = provider.head()?.map_or(0, |h| h.number);
            let ts = provider.header(head)?.map_or(0, |h| h.timestamp);
            out.push((chain.chain_id, head, ts));
        }
        Ok(out)
    }

    /// Follows L1 as op-node's sequencer does: the sequencer's own derivation reads what L1
    /// holds, and a chain whose derived block differs from the sequencer's (a batch L1 refused,
    /// a silence past the sequencer window) is taken back to where they agree and given the
    /// derived blocks. The blocks after them are built again and posted from there.
    fn follow_l1(&mut self) -> Result<(), DevnetRunError> {
        self.follower.sync(&self.l1).map_err(|e| DevnetRunError::Follow(e.to_string()))?;
        let derived_db = self.follower.shared_database();
        let derived_tx = derived_db.tx()?;
        for (chain, number, hash) in self.follower.heads() {
            let handle = self.sequencer.clone();
            let mut sequencer = handle.lock().map_err(|_| DevnetRunError::Poisoned)?;
            let ours_tx = sequencer.database().tx()?;
            let ours = lockstep_storage::ChainProvider::new(&ours_tx, chain);
            if ours.block_hash(number)? == Some(hash) {
                continue;
            }
            let derived = lockstep_storage::ChainProvider::new(&derived_tx, chain);
            let our_head = ours.head()?.map_or(0, |h| h.number);
            let mut ancestor = number.min(our_head);
            while ancestor > 0 && ours.block_hash(ancestor)? != derived.block_hash(ancestor)? {
                ancestor -= 1;
            }
            let mut blocks = Vec::new();
            for n in ancestor + 1..=number {
                let header = derived.header(n)?.ok_or_else(|| {
                    DevnetRunError::Follow(format!("derived block {n} of chain {chain} missing"))
                })?;
                blocks.push((header, derived.transactions(n)?));
            }
            drop(ours_tx);
            tracing::warn!(
                target: "lockstep::devnet",
                chain,
                dropped = our_head - ancestor,
                adopted = blocks.len(),
                head = number,
                "the sequencer follows the chain L1 derived"
            );
            sequencer.adopt(chain, ancestor, &blocks)?;
            // the derived blocks are on L1 already: what follows them is posted anew
            self.posted_through.insert(chain, number);
        }
        Ok(())
    }

    /// Runs one L1 block: the sequencer follows what L1 derived, builds every chain's L2
    /// blocks up to the L1 block's time (rebuilding a chain that L1 set back first), posts the
    /// batches and the commitment when a batch is complete, and mines the L1 block.
    pub fn step(&mut self) -> Result<Option<PostedBatch>, DevnetRunError> {
        let head = self.l1.head()?;
        if self.offline_until.is_some_and(|until| head.header.number < until) {
            // offline: nothing built, nothing posted; L1 goes on
            self.deposit_burn()?;
            self.l1.mine(L1_BLOCK_TIME)?;
            return Ok(None);
        }
        self.offline_until = None;
        self.follow_l1()?;
        let target = head.header.timestamp + L1_BLOCK_TIME;
        // a chain that L1 set back is built alone up to the others' height
        let heads = self.heads()?;
        let top = heads.iter().map(|(_, _, ts)| *ts).max().unwrap_or_default();
        for (chain, _, mut ts) in heads {
            while ts < top {
                ts += self.config.block_time;
                let origin = self.origin_for(ts, &head)?;
                let deposits = self.deposits_of(origin.header.number)?;
                let ours = deposits.get(&chain).cloned().unwrap_or_default();
                self.lock()?.build_alone(chain, &origin.header, &ours)?;
            }
        }
        let mut ts = top;
        while ts + self.config.block_time <= target {
            ts += self.config.block_time;
            self.traffic()?;
            let origin = self.origin_for(ts, &head)?;
            let deposits = self.deposits_of(origin.header.number)?;
            self.lock()?.build_on(&origin.header, &deposits)?;
            self.l2_number += 1;
            self.unposted_rounds += 1;
        }
        let mut posted = None;
        if self.unposted_rounds >= self.options.blocks_per_batch {
            self.unposted_rounds = 0;
            let index =
                self.follower.batches().map_err(|e| DevnetRunError::Follow(e.to_string()))?;
            if self.fault_now(FaultKind::Offline, index) && !self.went_offline {
                self.went_offline = true;
                self.offline_until = Some(head.header.number + self.config.seq_window_size + 2);
            } else if !self.silent {
                posted = Some(self.post_batch(index)?);
            }
        }
        self.deposit_burn()?;
        let mined = self.l1.mine(L1_BLOCK_TIME)?;
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
        Ok(())
    }

    /// Posts every chain's blocks not yet posted, and the commitment of batch `index`: every
    /// chain's output at its head and every pair's roots over the blocks after the last batch
    /// that L1 closed, as the sequencer believes L1 will derive them.
    fn post_batch(&mut self, index: u64) -> Result<PostedBatch, DevnetRunError> {
        let ids: Vec<u64> = self.config.chains.iter().map(|c| c.chain_id).collect();
        let since = match index.checked_sub(1) {
            Some(last) => self
                .follower
                .batch(last)
                .map_err(|e| DevnetRunError::Follow(e.to_string()))?
                .map_or(self.config.genesis_time, |b| b.to_timestamp),
            None => self.config.genesis_time,
        };
        let mut outputs = Vec::new();
        let (mut burns, mut mints) = (Vec::new(), Vec::new());
        let mut l2_heads = Vec::new();
        for (position, &chain) in ids.iter().enumerate() {
            let spec = self.config.chain_spec(chain);
            let (blocks, head) = {
                let sequencer = self.lock()?;
                let db = sequencer.database().tx()?;
                let provider = lockstep_storage::ChainProvider::new(&db, chain);
                let head = provider.head()?.map(|h| (h.number, h.hash)).unwrap_or_default();
                let from = self.posted_through.get(&chain).map_or(1, |p| p + 1);
                let mut blocks = Vec::new();
                for n in from..=head.0 {
                    blocks.push(stored_block(&provider, n)?);
                }
                // the pairs' roots: every block after the last closed batch
                let mut n = head.0;
                let mut covered = Vec::new();
                while n > 0 {
                    let header = provider.header(n)?.ok_or_else(|| missing(chain, n))?;
                    if header.timestamp <= since {
                        break;
                    }
                    covered.push(n);
                    n -= 1;
                }
                for n in covered.into_iter().rev() {
                    let receipts = provider.receipts(n)?;
                    for event in
                        lockstep_crosschain::bridge_events(chain, n, &receipts, &[], BRIDGE)
                    {
                        match event.item.kind {
                            lockstep_crosschain::EventKind::Burn => burns.push(event.item.transfer),
                            lockstep_crosschain::EventKind::Mint => mints.push(event.item.transfer),
                        }
                    }
                }
                let state_root = provider.state_root()?;
                let passer = provider.storage_root(lockstep_chainspec::L2_TO_L1_MESSAGE_PASSER)?;
                let mut output = lockstep_execution::output_root(state_root, passer, head.1);
                if self.fault_now(FaultKind::BadOutputRoot, index) && position == 0 {
                    output.0[0] ^= 0xff;
                }
                outputs.push(IBatchCommitments::ChainOutput {
                    chainId: U256::from(chain),
                    l2Block: head.0,
                    outputRoot: output,
                });
                (blocks, head)
            };
            l2_heads.push((chain, head.0));
            self.posted_through.insert(chain, head.0);
            if blocks.is_empty() {
                continue;
            }
            let batched: Vec<BatchedBlock<'_>> = blocks
                .iter()
                .map(|(block, epoch_num, epoch_hash)| BatchedBlock {
                    block,
                    epoch_num: *epoch_num,
                    epoch_hash: *epoch_hash,
                })
                .collect();
            self.post_junk(chain, index, &spec.rollup, &batched)?;
            let mut span = if position == 0 && self.fault_now(FaultKind::InvalidTx, index) {
                invalid_tx_span(chain, &spec.rollup, &batched)?
            } else {
                batcher::span_batch(&spec.rollup, &batched)?
            };
            if position == 0 && self.fault_now(FaultKind::BadBatch, index) {
                // a parent check that is not the safe head's: derivation drops the batch
                span.parent_check[0] ^= 0xff;
            }
            let rlp = batcher::channel_rlp(&[Batch::Span(span)])?;
            let (compression, blobs) = self.channel_format(&spec.rollup)?;
            let data = batcher::compress(&rlp, compression)?;
            let id = batcher::channel_id(chain, index ^ (head.0 << 20));
            if blobs {
                self.post_blobs(chain, id, &data)?;
            } else {
                let batcher_key = self.config.batcher_key(chain);
                for frame in batcher::frames(id, &data, 120_000)? {
                    let data = batcher::calldata(&[frame]).to_vec();
                    self.post_inbox(chain, &batcher_key, data)?;
                }
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

/// The span batch of `batched` with one more transaction in its first block that an engine
/// refuses (its gas limit is above the block's): from Holocene a verifier builds that block
/// from its deposits alone and drops the rest of the channel.
fn invalid_tx_span(
    chain: u64,
    rollup: &lockstep_chainspec::RollupConfig,
    batched: &[BatchedBlock<'_>],
) -> Result<lockstep_derive::span_batch::SpanBatch, DevnetRunError> {
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
    lockstep_derive::span_batch::SpanBatch::from_batches(&batches, seq_num, rollup.genesis.l2_time)
        .map_err(|e| DevnetRunError::Options(e.to_string()))
}

fn missing(chain: u64, number: u64) -> DevnetRunError {
    DevnetRunError::Follow(format!(
        "chain {chain} block {number} is not in the sequencer's database"
    ))
}

/// Block `number` of the sequencer's chain with its epoch, read back from its L1 info deposit.
fn stored_block<T: lockstep_storage::TableRead>(
    provider: &lockstep_storage::ChainProvider<'_, T>,
    number: u64,
) -> Result<(lockstep_storage::StoredBlock, u64, B256), DevnetRunError> {
    let chain = provider.chain();
    let header = provider.header(number)?.ok_or_else(|| missing(chain, number))?;
    let hash = provider.block_hash(number)?.ok_or_else(|| missing(chain, number))?;
    let transactions = provider.transactions(number)?;
    let (epoch_num, epoch_hash) = transactions
        .first()
        .and_then(|tx| tx.as_deposit())
        .and_then(|tx| lockstep_derive::l1_block_info::L1BlockInfo::decode(&tx.input).ok())
        .map(|(_, info)| (info.number, info.block_hash))
        .ok_or_else(|| {
            DevnetRunError::Follow(format!("chain {chain} block {number} has no L1 info"))
        })?;
    let block = lockstep_storage::StoredBlock { hash, header, transactions, receipts: Vec::new() };
    Ok((block, epoch_num, epoch_hash))
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
