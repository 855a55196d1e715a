//! The block summaries derivation works with: an L1 block's number, hash, parent and time, and
//! an L2 block's the same plus its L1 origin and its place in the epoch. An L2 block's summary
//! and its system config are read back from the block itself, from its L1 info deposit, as
//! op-node's `PayloadToBlockRef` and `PayloadToSystemConfig` do.

use crate::{
    l1_block_info::{L1BlockInfo, L1InfoFormat},
    system_config::SystemConfig,
    DeriveError,
};
use alloy_eips::BlockNumHash;
use alloy_primitives::{Address, B256};
use lockstep_chainspec::RollupConfig;
use lockstep_l1::L1Block;
use op_alloy_consensus::{OpBlock, OpTxEnvelope};

/// An L1 block as derivation sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct BlockInfo {
    /// The block hash.
    pub hash: B256,
    /// The block number.
    pub number: u64,
    /// The parent's hash.
    pub parent_hash: B256,
    /// The block time.
    pub timestamp: u64,
}

impl BlockInfo {
    /// The number and hash.
    pub const fn id(&self) -> BlockNumHash {
        BlockNumHash { number: self.number, hash: self.hash }
    }
}

/// The block's summary.
pub fn block_info(block: &L1Block) -> BlockInfo {
    BlockInfo {
        hash: block.hash,
        number: block.header.number,
        parent_hash: block.header.parent_hash,
        timestamp: block.header.timestamp,
    }
}

/// An L2 block as derivation sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct L2BlockInfo {
    /// The block itself.
    pub block_info: BlockInfo,
    /// Its L1 origin (epoch).
    pub l1_origin: BlockNumHash,
    /// Its position in the epoch: 0 for the epoch's first block.
    pub seq_num: u64,
}

/// The genesis system config of a rollup config, in derivation's form.
pub fn genesis_system_config(rollup: &RollupConfig) -> SystemConfig {
    let Some(genesis) = rollup.genesis.system_config.as_ref() else {
        return SystemConfig::default();
    };
    let mut eip1559_params = [0u8; 8];
    eip1559_params[..4].copy_from_slice(&genesis.eip1559_denominator.unwrap_or(0).to_be_bytes());
    eip1559_params[4..].copy_from_slice(&genesis.eip1559_elasticity.unwrap_or(0).to_be_bytes());
    SystemConfig {
        batcher: genesis.batcher_address,
        overhead: B256::from(genesis.overhead.to_be_bytes::<32>()),
        scalar: B256::from(genesis.scalar.to_be_bytes::<32>()),
        gas_limit: genesis.gas_limit,
        eip1559_params,
        operator_fee_params: operator_fee_word(
            genesis.operator_fee_scalar.unwrap_or(0),
            genesis.operator_fee_constant.unwrap_or(0),
        ),
        min_base_fee: genesis.min_base_fee.unwrap_or(0),
        da_footprint_gas_scalar: genesis.da_footprint_gas_scalar.unwrap_or(0),
    }
}

/// Isthmus's operator fee word: the scalar in bytes 20..24, the constant in 24..32.
pub fn operator_fee_word(scalar: u32, constant: u64) -> B256 {
    let mut word = B256::ZERO;
    word[20..24].copy_from_slice(&scalar.to_be_bytes());
    word[24..].copy_from_slice(&constant.to_be_bytes());
    word
}

/// Ecotone's scalar word, version 1: the blob base fee scalar in bytes 24..28, the base fee
/// scalar in 28..32.
pub fn ecotone_scalar_word(base_fee_scalar: u32, blob_base_fee_scalar: u32) -> B256 {
    let mut word = B256::ZERO;
    word[0] = 1;
    word[24..28].copy_from_slice(&blob_base_fee_scalar.to_be_bytes());
    word[28..].copy_from_slice(&base_fee_scalar.to_be_bytes());
    word
}

/// An L2 block's summary and the system config it was built with, read from the block: the
/// genesis block's from the rollup config, every other's from its L1 info deposit, its gas
/// limit and (from Holocene) its extra data.
pub fn l2_block_info(
    block: &OpBlock,
    hash: B256,
    rollup: &RollupConfig,
) -> Result<(L2BlockInfo, SystemConfig), String> {
    let header = &block.header;
    let block_info = BlockInfo {
        hash,
        number: header.number,
        parent_hash: header.parent_hash,
        timestamp: header.timestamp,
    };
    if header.number == rollup.genesis.l2.number {
        if hash != rollup.genesis.l2.hash {
            return Err(format!("genesis hash {hash} is not the rollup config's"));
        }
        let info = L2BlockInfo { block_info, l1_origin: rollup.genesis.l1, seq_num: 0 };
        return Ok((info, genesis_system_config(rollup)));
    }
    let Some(OpTxEnvelope::Deposit(deposit)) = block.body.transactions.first() else {
        return Err("the first transaction is not the L1 info deposit".into());
    };
    let (format, l1) = L1BlockInfo::decode(&deposit.inner().input).map_err(|e| e.to_string())?;
    let info = L2BlockInfo {
        block_info,
        l1_origin: BlockNumHash { number: l1.number, hash: l1.block_hash },
        seq_num: l1.sequence_number,
    };
    // Karst's activation block carries its bundle's gas on top of the configured limit; the
    // config it was built with has it only where the rollup config keeps it
    // (`keep_karst_upgrade_gas`, op-node's `upgradeGasToStrip`)
    let strip = if rollup.keep_karst_upgrade_gas.unwrap_or(false) {
        0
    } else {
        crate::upgrades::upgrade_gas(rollup, header.timestamp)
    };
    let gas_limit = header.gas_limit.checked_sub(strip).ok_or_else(|| {
        format!("gas limit {} is below the Karst bundle's gas {strip}", header.gas_limit)
    })?;
    let mut config = SystemConfig {
        batcher: Address::from_slice(&l1.batcher_hash[12..]),
        gas_limit,
        ..Default::default()
    };
    match format {
        L1InfoFormat::Bedrock => {
            config.overhead = B256::from(l1.l1_fee_overhead.to_be_bytes::<32>());
            config.scalar = B256::from(l1.l1_fee_scalar.to_be_bytes::<32>());
        }
        L1InfoFormat::Ecotone | L1InfoFormat::Isthmus | L1InfoFormat::Jovian => {
            config.scalar = ecotone_scalar_word(l1.base_fee_scalar, l1.blob_base_fee_scalar);
        }
    }
    if format == L1InfoFormat::Jovian {
        config.da_footprint_gas_scalar = l1.da_footprint_gas_scalar;
    }
    if rollup.is_holocene_active(header.timestamp) {
        // Holocene's version 0 with the EIP-1559 parameters; from Jovian version 1, which adds
        // the minimum base fee
        let extra = header.extra_data.as_ref();
        let (version, len) =
            if rollup.is_jovian_active(header.timestamp) { (1, 17) } else { (0, 9) };
        if extra.len() != len || extra[0] != version {
            return Err(format!(
                "extra data 0x{} is malformed: not version {version} in {len} bytes",
                alloy_primitives::hex::encode(extra)
            ));
        }
        config.eip1559_params.copy_from_slice(&extra[1..9]);
        if version == 1 {
            let mut min_base_fee = [0u8; 8];
            min_base_fee.copy_from_slice(&extra[9..17]);
            config.min_base_fee = u64::from_be_bytes(min_base_fee);
        }
    }
    if rollup.is_isthmus_active(header.timestamp) {
        config.operator_fee_params =
            operator_fee_word(l1.operator_fee_scalar, l1.operator_fee_constant);
    }
    Ok((info, config))
}

/// What a deriver reads of its chain's L2 blocks: summaries, system configs and the
/// transactions of blocks a span batch overlaps.
pub trait L2Source {
    /// The summary of block `number`.
    fn info(&self, number: u64) -> Result<L2BlockInfo, DeriveError>;
    /// The system config block `number` was built with.
    fn system_config(&self, number: u64) -> Result<SystemConfig, DeriveError>;
    /// The transactions of block `number`, each as its EIP-2718 encoding.
    fn transactions(&self, number: u64) -> Result<Vec<alloy_primitives::Bytes>, DeriveError>;
}
