//! The rollup config: op-node's `rollup.json`, the parameters of a chain's derivation and of
//! its forks. Field names and JSON layout are op-node's (`rollup.Config`); a fork that is
//! active implies every fork before it.

use alloy_eips::{eip1559::BaseFeeParams, BlockNumHash};
use alloy_primitives::{Address, U256};
use serde::{Deserialize, Serialize};

/// The maximum sequencer drift from Fjord, in seconds.
pub const FJORD_MAX_SEQUENCER_DRIFT: u64 = 1800;
/// The channel timeout from Granite, in L1 blocks (the default of `granite_channel_timeout`).
pub const GRANITE_CHANNEL_TIMEOUT: u64 = 50;
/// A channel's decompressed size limit before Fjord.
pub(crate) const MAX_RLP_BYTES_PER_CHANNEL: u64 = 10_000_000;
/// A channel's decompressed size limit from Fjord.
pub(crate) const MAX_RLP_BYTES_PER_CHANNEL_FJORD: u64 = 100_000_000;

/// A 32-byte word as op-node writes it: `0x` and 64 hex digits.
fn word<S: serde::Serializer>(value: &U256, serializer: S) -> Result<S::Ok, S::Error> {
    serializer
        .serialize_str(&format!("0x{}", alloy_primitives::hex::encode(value.to_be_bytes::<32>())))
}

const fn default_granite_channel_timeout() -> u64 {
    GRANITE_CHANNEL_TIMEOUT
}

const fn default_interop_message_expiry_window() -> u64 {
    3600
}

/// An L2 chain id, as `rollup.json` writes it (a number).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct L2ChainId(pub u64);

impl L2ChainId {
    /// The id.
    pub const fn id(&self) -> u64 {
        self.0
    }
}

impl From<u64> for L2ChainId {
    fn from(id: u64) -> Self {
        Self(id)
    }
}

/// The system config at genesis, as `rollup.json`'s `genesis.system_config` holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GenesisSystemConfig {
    /// The batcher address.
    #[serde(rename = "batcherAddr", alias = "batcherAddress")]
    pub batcher_address: Address,
    /// Bedrock's L1 fee overhead.
    #[serde(serialize_with = "word")]
    pub overhead: U256,
    /// The L1 fee scalar (from Ecotone a versioned encoding of two scalars).
    #[serde(serialize_with = "word")]
    pub scalar: U256,
    /// The L2 block gas limit.
    pub gas_limit: u64,
    /// Ecotone's base fee scalar, when given apart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_fee_scalar: Option<u64>,
    /// Ecotone's blob base fee scalar, when given apart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blob_base_fee_scalar: Option<u64>,
    /// Holocene's EIP-1559 denominator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eip1559_denominator: Option<u32>,
    /// Holocene's EIP-1559 elasticity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eip1559_elasticity: Option<u32>,
    /// Isthmus's operator fee scalar.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator_fee_scalar: Option<u32>,
    /// Isthmus's operator fee constant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator_fee_constant: Option<u64>,
    /// Jovian's minimum base fee (wei).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_base_fee: Option<u64>,
    /// Jovian's DA footprint gas scalar.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub da_footprint_gas_scalar: Option<u16>,
}

/// Where the chain starts: its first L1 block, its genesis L2 block and time, and the system
/// config then.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainGenesis {
    /// The L1 block derivation starts at.
    pub l1: BlockNumHash,
    /// The L2 genesis block.
    pub l2: BlockNumHash,
    /// The L2 genesis time.
    pub l2_time: u64,
    /// The system config at genesis.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_config: Option<GenesisSystemConfig>,
}

/// The fork activation times (L2 timestamps).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct HardForks {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regolith_time: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canyon_time: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delta_time: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ecotone_time: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fjord_time: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub granite_time: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holocene_time: Option<u64>,
    /// OP Sepolia's fix of the Pectra blob fee schedule (L1 time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pectra_blob_schedule_time: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub isthmus_time: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jovian_time: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub karst_time: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lagoon_time: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interop_time: Option<u64>,
}

/// The chain's EIP-1559 parameters before Holocene puts them in the system config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaseFeeConfig {
    /// The elasticity multiplier.
    #[serde(rename = "eip1559Elasticity", alias = "eip1559_elasticity")]
    pub eip1559_elasticity: u64,
    /// The max change denominator before Canyon.
    #[serde(rename = "eip1559Denominator", alias = "eip1559_denominator")]
    pub eip1559_denominator: u64,
    /// The max change denominator from Canyon.
    #[serde(rename = "eip1559DenominatorCanyon", alias = "eip1559_denominator_canyon")]
    pub eip1559_denominator_canyon: u64,
}

impl BaseFeeConfig {
    /// OP Mainnet's: elasticity 6, denominator 50, and 250 from Canyon.
    pub const fn optimism() -> Self {
        Self { eip1559_elasticity: 6, eip1559_denominator: 50, eip1559_denominator_canyon: 250 }
    }

    /// The parameters before Canyon.
    pub const fn as_base_fee_params(&self) -> BaseFeeParams {
        BaseFeeParams {
            max_change_denominator: self.eip1559_denominator as u128,
            elasticity_multiplier: self.eip1559_elasticity as u128,
        }
    }

    /// The parameters from Canyon.
    pub const fn as_canyon_base_fee_params(&self) -> BaseFeeParams {
        BaseFeeParams {
            max_change_denominator: self.eip1559_denominator_canyon as u128,
            elasticity_multiplier: self.eip1559_elasticity as u128,
        }
    }
}

impl Default for BaseFeeConfig {
    fn default() -> Self {
        Self::optimism()
    }
}

/// op-node's rollup config.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RollupConfig {
    /// Where the chain starts.
    pub genesis: ChainGenesis,
    /// Seconds between L2 blocks.
    pub block_time: u64,
    /// How far (seconds) an L2 block may run ahead of its L1 origin before Fjord.
    pub max_sequencer_drift: u64,
    /// L1 blocks in which an epoch's batches must land.
    pub seq_window_size: u64,
    /// L1 blocks a channel stays open before Granite.
    pub channel_timeout: u64,
    /// L1 blocks a channel stays open from Granite.
    #[serde(default = "default_granite_channel_timeout")]
    pub granite_channel_timeout: u64,
    /// The L1 chain id.
    pub l1_chain_id: u64,
    /// The L2 chain id.
    pub l2_chain_id: L2ChainId,
    /// The forks.
    #[serde(flatten)]
    pub hardforks: HardForks,
    /// Whether the Karst activation block's extra gas stays in the gas limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_karst_upgrade_gas: Option<bool>,
    /// The batch inbox.
    pub batch_inbox_address: Address,
    /// The deposit contract (OptimismPortal).
    pub deposit_contract_address: Address,
    /// The L1 SystemConfig contract.
    pub l1_system_config_address: Address,
    /// The L1 ProtocolVersions contract.
    #[serde(default)]
    pub protocol_versions_address: Address,
    /// The L1 SuperchainConfig contract.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub superchain_config_address: Option<Address>,
    /// The L1 time from which blobs are read (op-node's `blobs_data`).
    #[serde(default, rename = "blobs_data", skip_serializing_if = "Option::is_none")]
    pub blobs_enabled_l1_timestamp: Option<u64>,
    /// Alt-DA's challenge contract.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub da_challenge_address: Option<Address>,
    /// Interop's message expiry window.
    #[serde(default = "default_interop_message_expiry_window")]
    pub interop_message_expiry_window: u64,
    /// Alt-DA's settings, kept as written.
    #[serde(default, rename = "alt_da", skip_serializing_if = "Option::is_none")]
    pub alt_da_config: Option<serde_json::Value>,
    /// The EIP-1559 parameters before Holocene.
    #[serde(default)]
    pub chain_op_config: BaseFeeConfig,
}

impl Default for RollupConfig {
    fn default() -> Self {
        Self {
            genesis: ChainGenesis::default(),
            block_time: 2,
            max_sequencer_drift: 600,
            seq_window_size: 3600,
            channel_timeout: 300,
            granite_channel_timeout: GRANITE_CHANNEL_TIMEOUT,
            l1_chain_id: 0,
            l2_chain_id: L2ChainId(0),
            hardforks: HardForks::default(),
            keep_karst_upgrade_gas: None,
            batch_inbox_address: Address::ZERO,
            deposit_contract_address: Address::ZERO,
            l1_system_config_address: Address::ZERO,
            protocol_versions_address: Address::ZERO,
            superchain_config_address: None,
            blobs_enabled_l1_timestamp: None,
            da_challenge_address: None,
            interop_message_expiry_window: default_interop_message_expiry_window(),
            alt_da_config: None,
            chain_op_config: BaseFeeConfig::optimism(),
        }
    }
}

fn at(time: Option<u64>, timestamp: u64) -> bool {
    time.is_some_and(|t| timestamp >= t)
}

impl RollupConfig {
    /// Whether Regolith is active at `timestamp` (or any later fork is).
    pub fn is_regolith_active(&self, timestamp: u64) -> bool {
        at(self.hardforks.regolith_time, timestamp) || self.is_canyon_active(timestamp)
    }

    /// Whether Canyon is active.
    pub fn is_canyon_active(&self, timestamp: u64) -> bool {
        at(self.hardforks.canyon_time, timestamp) || self.is_delta_active(timestamp)
    }

    /// Whether Delta is active.
    pub fn is_delta_active(&self, timestamp: u64) -> bool {
        at(self.hardforks.delta_time, timestamp) || self.is_ecotone_active(timestamp)
    }

    /// Whether Ecotone is active.
    pub fn is_ecotone_active(&self, timestamp: u64) -> bool {
        at(self.hardforks.ecotone_time, timestamp) || self.is_fjord_active(timestamp)
    }

    /// Whether Fjord is active.
    pub fn is_fjord_active(&self, timestamp: u64) -> bool {
        at(self.hardforks.fjord_time, timestamp) || self.is_granite_active(timestamp)
    }

    /// Whether Granite is active.
    pub fn is_granite_active(&self, timestamp: u64) -> bool {
        at(self.hardforks.granite_time, timestamp) || self.is_holocene_active(timestamp)
    }

    /// Whether Holocene is active.
    pub fn is_holocene_active(&self, timestamp: u64) -> bool {
        at(self.hardforks.holocene_time, timestamp) || self.is_isthmus_active(timestamp)
    }

    /// Whether Isthmus is active.
    pub fn is_isthmus_active(&self, timestamp: u64) -> bool {
        at(self.hardforks.isthmus_time, timestamp) || self.is_jovian_active(timestamp)
    }

    /// Whether Jovian is active.
    pub fn is_jovian_active(&self, timestamp: u64) -> bool {
        at(self.hardforks.jovian_time, timestamp) || self.is_karst_active(timestamp)
    }

    /// Whether Karst is active.
    pub fn is_karst_active(&self, timestamp: u64) -> bool {
        at(self.hardforks.karst_time, timestamp)
    }

    /// Whether the L2 block at `timestamp` is the first of a fork that `active` tells: active at
    /// `timestamp` but not one block earlier (op-node's `IsXActivationBlock`; a block in the
    /// chain's first block time has no earlier one and is never an activation block).
    pub fn is_activation_block(&self, timestamp: u64, active: impl Fn(u64) -> bool) -> bool {
        active(timestamp) && timestamp >= self.block_time && !active(timestamp - self.block_time)
    }

    /// Whether the L2 block at `timestamp` is Jovian's activation block.
    pub fn is_jovian_activation_block(&self, timestamp: u64) -> bool {
        self.is_activation_block(timestamp, |t| self.is_jovian_active(t))
    }

    /// Whether the L2 block at `timestamp` is Karst's activation block.
    pub fn is_karst_activation_block(&self, timestamp: u64) -> bool {
        self.is_activation_block(timestamp, |t| self.is_karst_active(t))
    }

    /// Whether the L2 block at `timestamp` may hold no transactions but deposits: Jovian's and
    /// Karst's activation blocks (op-node's sequencer sets `noTxPool` there, and derivation drops
    /// a batch that gives them transactions).
    pub fn forbids_user_transactions(&self, timestamp: u64) -> bool {
        self.is_jovian_activation_block(timestamp) || self.is_karst_activation_block(timestamp)
    }

    /// Whether OP Sepolia's Pectra blob schedule fix is active at L1 time `timestamp`.
    pub fn is_pectra_blob_schedule_active(&self, timestamp: u64) -> bool {
        at(self.hardforks.pectra_blob_schedule_time, timestamp)
    }

    /// How far an L2 block may run ahead of its L1 origin `timestamp`.
    pub fn max_sequencer_drift(&self, timestamp: u64) -> u64 {
        if self.is_fjord_active(timestamp) {
            FJORD_MAX_SEQUENCER_DRIFT
        } else {
            self.max_sequencer_drift
        }
    }

    /// A channel's decompressed size limit at L1 time `timestamp`.
    pub fn max_rlp_bytes_per_channel(&self, timestamp: u64) -> u64 {
        if self.is_fjord_active(timestamp) {
            MAX_RLP_BYTES_PER_CHANNEL_FJORD
        } else {
            MAX_RLP_BYTES_PER_CHANNEL
        }
    }

    /// How many L1 blocks a channel stays open, at L1 time `timestamp`.
    pub fn channel_timeout(&self, timestamp: u64) -> u64 {
        if self.is_granite_active(timestamp) {
            self.granite_channel_timeout
        } else {
            self.channel_timeout
        }
    }
}
