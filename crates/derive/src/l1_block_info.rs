//! The L1 info deposit: the first transaction of every L2 block, which sets the L1Block
//! predeploy's view of the block's L1 origin (derivation spec, "L1 Attributes Deposited
//! Transaction"; Ecotone and Isthmus l1-attributes), and the source hashes of every deposit.
//!
//! Four calldata formats exist: Bedrock's ABI-encoded `setL1BlockValues`, Ecotone's packed
//! `setL1BlockValuesEcotone`, Isthmus's `setL1BlockValuesIsthmus`, which adds the operator fee,
//! and Jovian's `setL1BlockValuesJovian`, which adds the DA footprint gas scalar. A fork's
//! activation block still uses the previous format: the L1Block contract is only upgraded by
//! that block's upgrade transactions.

use crate::{system_config::SystemConfig, DeriveError};
use alloy_consensus::Header;
use alloy_eips::eip7840::BlobParams;
use alloy_hardforks::EthereumHardfork;
use alloy_primitives::{address, keccak256, Address, Bytes, B256, U256};
use lockstep_chainspec::RollupConfig;
use op_alloy_consensus::TxDeposit;

/// The account that sends the L1 info deposit.
pub const L1_INFO_DEPOSITOR: Address = address!("0xdeaddeaddeaddeaddeaddeaddeaddeaddead0001");
/// The L1Block predeploy.
pub const L1_BLOCK: Address = address!("0x4200000000000000000000000000000000000015");

/// `setL1BlockValues(uint64,uint64,uint256,bytes32,uint64,bytes32,uint256,uint256)`.
const SELECTOR_BEDROCK: [u8; 4] = [0x01, 0x5d, 0x8e, 0xb9];
/// `setL1BlockValuesEcotone()`.
const SELECTOR_ECOTONE: [u8; 4] = [0x44, 0x0a, 0x5e, 0x20];
/// `setL1BlockValuesIsthmus()`.
const SELECTOR_ISTHMUS: [u8; 4] = [0x09, 0x89, 0x99, 0xbe];
/// `setL1BlockValuesJovian()`.
const SELECTOR_JOVIAN: [u8; 4] = [0x3d, 0xb6, 0xbe, 0x2b];

const LEN_BEDROCK: usize = 4 + 8 * 32;
const LEN_ECOTONE: usize = 164;
const LEN_ISTHMUS: usize = 176;
const LEN_JOVIAN: usize = 178;

/// The DA footprint gas scalar the Jovian L1 info deposit carries when the system config's is
/// 0.
pub const DEFAULT_DA_FOOTPRINT_GAS_SCALAR: u16 = 400;

/// Which calldata format an L1 info deposit uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum L1InfoFormat {
    /// `setL1BlockValues`, ABI-encoded.
    Bedrock,
    /// `setL1BlockValuesEcotone`, packed.
    Ecotone,
    /// `setL1BlockValuesIsthmus`, packed, with the operator fee.
    Isthmus,
    /// `setL1BlockValuesJovian`, packed, with the operator fee and the DA footprint gas scalar.
    Jovian,
}

impl L1InfoFormat {
    /// The format of the L2 block at `timestamp`: a fork's own activation block keeps the
    /// previous one.
    pub fn at(rollup: &RollupConfig, timestamp: u64) -> Self {
        // op-node's `IsXActivationBlock`: active now, not one block earlier (and not the
        // chain's very first block time)
        let past_activation = |active: &dyn Fn(u64) -> bool| {
            active(timestamp)
                && (timestamp < rollup.block_time || active(timestamp - rollup.block_time))
        };
        if past_activation(&|t| rollup.is_jovian_active(t)) {
            Self::Jovian
        } else if past_activation(&|t| rollup.is_isthmus_active(t)) {
            Self::Isthmus
        } else if past_activation(&|t| rollup.is_ecotone_active(t)) {
            Self::Ecotone
        } else {
            Self::Bedrock
        }
    }
}

/// What the L1 info deposit tells the L1Block predeploy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct L1BlockInfo {
    /// The L1 origin's number.
    pub number: u64,
    /// The L1 origin's timestamp.
    pub timestamp: u64,
    /// The L1 origin's base fee.
    pub base_fee: U256,
    /// The L1 origin's hash.
    pub block_hash: B256,
    /// The L2 block's position in its epoch.
    pub sequence_number: u64,
    /// The batcher address, left-padded to 32 bytes.
    pub batcher_hash: B256,
    /// Bedrock's L1 fee overhead.
    pub l1_fee_overhead: U256,
    /// Bedrock's L1 fee scalar.
    pub l1_fee_scalar: U256,
    /// The L1 origin's blob base fee (from Ecotone).
    pub blob_base_fee: U256,
    /// The base fee scalar (from Ecotone).
    pub base_fee_scalar: u32,
    /// The blob base fee scalar (from Ecotone).
    pub blob_base_fee_scalar: u32,
    /// The operator fee scalar (from Isthmus).
    pub operator_fee_scalar: u32,
    /// The operator fee constant (from Isthmus).
    pub operator_fee_constant: u64,
    /// The DA footprint gas scalar (from Jovian).
    pub da_footprint_gas_scalar: u16,
}

fn word_u64(value: u64) -> [u8; 32] {
    U256::from(value).to_be_bytes()
}

fn bad(what: impl Into<String>) -> DeriveError {
    DeriveError::BadInput(format!("L1 info deposit: {}", what.into()))
}

impl L1BlockInfo {
    /// What the L2 block at `l2_time`, number `sequence_number` of its epoch, tells of its L1
    /// origin `header` (whose hash is `hash`) under `config`, and in which format.
    ///
    /// The blob base fee follows the L1's schedule ([`l1_blob_params`]); 1 when the header has
    /// no excess blob gas.
    pub fn for_block(
        rollup: &RollupConfig,
        config: &SystemConfig,
        sequence_number: u64,
        header: &Header,
        hash: B256,
        l2_time: u64,
    ) -> (L1InfoFormat, Self) {
        let format = L1InfoFormat::at(rollup, l2_time);
        let mut info = Self {
            number: header.number,
            timestamp: header.timestamp,
            base_fee: U256::from(header.base_fee_per_gas.unwrap_or(0)),
            block_hash: hash,
            sequence_number,
            batcher_hash: config.batcher.into_word(),
            ..Default::default()
        };
        if format == L1InfoFormat::Bedrock {
            info.l1_fee_overhead = U256::from_be_bytes(config.overhead.0);
            info.l1_fee_scalar = U256::from_be_bytes(config.scalar.0);
            return (format, info);
        }
        info.blob_base_fee =
            U256::from(header.blob_fee(l1_blob_params(rollup, header)).unwrap_or(1));
        (info.base_fee_scalar, info.blob_base_fee_scalar) = config.ecotone_scalars();
        if matches!(format, L1InfoFormat::Isthmus | L1InfoFormat::Jovian) {
            (info.operator_fee_scalar, info.operator_fee_constant) = config.operator_fee();
        }
        if format == L1InfoFormat::Jovian {
            info.da_footprint_gas_scalar = match config.da_footprint_gas_scalar {
                0 => DEFAULT_DA_FOOTPRINT_GAS_SCALAR,
                scalar => scalar,
            };
        }
        (format, info)
    }

    /// The deposit's calldata in `format`.
    pub fn encode(&self, format: L1InfoFormat) -> Bytes {
        let mut out = Vec::with_capacity(LEN_BEDROCK);
        match format {
            L1InfoFormat::Bedrock => {
                out.extend_from_slice(&SELECTOR_BEDROCK);
                out.extend_from_slice(&word_u64(self.number));
                out.extend_from_slice(&word_u64(self.timestamp));
                out.extend_from_slice(&self.base_fee.to_be_bytes::<32>());
                out.extend_from_slice(self.block_hash.as_slice());
                out.extend_from_slice(&word_u64(self.sequence_number));
                out.extend_from_slice(self.batcher_hash.as_slice());
                out.extend_from_slice(&self.l1_fee_overhead.to_be_bytes::<32>());
                out.extend_from_slice(&self.l1_fee_scalar.to_be_bytes::<32>());
            }
            L1InfoFormat::Ecotone | L1InfoFormat::Isthmus | L1InfoFormat::Jovian => {
                let selector = match format {
                    L1InfoFormat::Ecotone => SELECTOR_ECOTONE,
                    L1InfoFormat::Isthmus => SELECTOR_ISTHMUS,
                    _ => SELECTOR_JOVIAN,
                };
                out.extend_from_slice(&selector);
                out.extend_from_slice(&self.base_fee_scalar.to_be_bytes());
                out.extend_from_slice(&self.blob_base_fee_scalar.to_be_bytes());
                out.extend_from_slice(&self.sequence_number.to_be_bytes());
                out.extend_from_slice(&self.timestamp.to_be_bytes());
                out.extend_from_slice(&self.number.to_be_bytes());
                out.extend_from_slice(&self.base_fee.to_be_bytes::<32>());
                out.extend_from_slice(&self.blob_base_fee.to_be_bytes::<32>());
                out.extend_from_slice(self.block_hash.as_slice());
                out.extend_from_slice(self.batcher_hash.as_slice());
                if format != L1InfoFormat::Ecotone {
                    out.extend_from_slice(&self.operator_fee_scalar.to_be_bytes());
                    out.extend_from_slice(&self.operator_fee_constant.to_be_bytes());
                }
                if format == L1InfoFormat::Jovian {
                    out.extend_from_slice(&self.da_footprint_gas_scalar.to_be_bytes());
                }
            }
        }
        out.into()
    }

    /// Reads the calldata of an L1 info deposit, in whichever format it is.
    pub fn decode(data: &[u8]) -> Result<(L1InfoFormat, Self), DeriveError> {
        let u64_at = |at: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&data[at..at + 8]);
            u64::from_be_bytes(b)
        };
        let u32_at = |at: usize| {
            let mut b = [0u8; 4];
            b.copy_from_slice(&data[at..at + 4]);
            u32::from_be_bytes(b)
        };
        let word = |at: usize| U256::from_be_slice(&data[at..at + 32]);
        let b256 = |at: usize| B256::from_slice(&data[at..at + 32]);
        let selector = data.get(..4).ok_or_else(|| bad("shorter than a selector"))?;
        let (format, len) = match selector {
            s if s == SELECTOR_BEDROCK => (L1InfoFormat::Bedrock, LEN_BEDROCK),
            s if s == SELECTOR_ECOTONE => (L1InfoFormat::Ecotone, LEN_ECOTONE),
            s if s == SELECTOR_ISTHMUS => (L1InfoFormat::Isthmus, LEN_ISTHMUS),
            s if s == SELECTOR_JOVIAN => (L1InfoFormat::Jovian, LEN_JOVIAN),
            other => {
                return Err(bad(format!(
                    "unknown selector 0x{}",
                    alloy_primitives::hex::encode(other)
                )))
            }
        };
        if data.len() != len {
            return Err(bad(format!("{} bytes, not the {len} of its format", data.len())));
        }
        let info = match format {
            L1InfoFormat::Bedrock => {
                let small = |at: usize| -> Result<u64, DeriveError> {
                    u64::try_from(word(at)).map_err(|_| bad("a uint64 field does not fit"))
                };
                Self {
                    number: small(4)?,
                    timestamp: small(36)?,
                    base_fee: word(68),
                    block_hash: b256(100),
                    sequence_number: small(132)?,
                    batcher_hash: b256(164),
                    l1_fee_overhead: word(196),
                    l1_fee_scalar: word(228),
                    ..Default::default()
                }
            }
            L1InfoFormat::Ecotone | L1InfoFormat::Isthmus | L1InfoFormat::Jovian => Self {
                base_fee_scalar: u32_at(4),
                blob_base_fee_scalar: u32_at(8),
                sequence_number: u64_at(12),
                timestamp: u64_at(20),
                number: u64_at(28),
                base_fee: word(36),
                blob_base_fee: word(68),
                block_hash: b256(100),
                batcher_hash: b256(132),
                operator_fee_scalar: if format == L1InfoFormat::Ecotone { 0 } else { u32_at(164) },
                operator_fee_constant: if format == L1InfoFormat::Ecotone {
                    0
                } else {
                    u64_at(168)
                },
                da_footprint_gas_scalar: if format == L1InfoFormat::Jovian {
                    u16::from_be_bytes([data[176], data[177]])
                } else {
                    0
                },
                ..Default::default()
            },
        };
        Ok((format, info))
    }

    /// The whole deposit transaction in `format` (Regolith, `regolith`, gives it a gas limit of
    /// 1,000,000 and clears the system flag; before, 150,000,000 and a system transaction).
    pub fn deposit(&self, format: L1InfoFormat, regolith: bool) -> TxDeposit {
        TxDeposit {
            source_hash: l1_info_source_hash(self.block_hash, self.sequence_number),
            from: L1_INFO_DEPOSITOR,
            to: alloy_primitives::TxKind::Call(L1_BLOCK),
            mint: 0,
            value: U256::ZERO,
            gas_limit: if regolith { 1_000_000 } else { 150_000_000 },
            is_system_transaction: !regolith,
            input: self.encode(format),
        }
    }
}

/// The blob fee parameters of the L1 at its block `header`, as op-node takes them from the L1's
/// chain config: Cancun's until the header carries a requests hash (Prague), and on a chain with
/// a Pectra blob schedule fix (OP Sepolia) until that fix's time; then Prague's (Osaka keeps
/// them), and BPO1's and BPO2's from their times on the known L1s (Ethereum mainnet, Sepolia,
/// Holesky, Hoodi; alloy-hardforks has their schedules). An L1 lockstep does not know (a devnet)
/// stays at Prague's.
pub fn l1_blob_params(rollup: &RollupConfig, header: &Header) -> BlobParams {
    let prague = header.requests_hash.is_some()
        && (rollup.hardforks.pectra_blob_schedule_time.is_none()
            || rollup.is_pectra_blob_schedule_active(header.timestamp));
    if !prague {
        return BlobParams::cancun();
    }
    let reached = |fork: EthereumHardfork| {
        let time = match rollup.l1_chain_id {
            1 => fork.mainnet_activation_timestamp(),
            11_155_111 => fork.sepolia_activation_timestamp(),
            17_000 => fork.holesky_activation_timestamp(),
            560_048 => fork.hoodi_activation_timestamp(),
            _ => None,
        };
        time.is_some_and(|t| header.timestamp >= t)
    };
    if reached(EthereumHardfork::Bpo2) {
        BlobParams::bpo2()
    } else if reached(EthereumHardfork::Bpo1) {
        BlobParams::bpo1()
    } else {
        BlobParams::prague()
    }
}

fn source_hash(domain: u64, inner: B256) -> B256 {
    let mut preimage = [0u8; 64];
    preimage[..32].copy_from_slice(&word_u64(domain));
    preimage[32..].copy_from_slice(inner.as_slice());
    keccak256(preimage)
}

/// The source hash of a user deposit: domain 0 over the L1 block hash and the log index.
pub fn user_deposit_source_hash(l1_block_hash: B256, log_index: u64) -> B256 {
    source_hash(0, keccak256([l1_block_hash.0, word_u64(log_index)].concat()))
}

/// The source hash of an L1 info deposit: domain 1 over the L1 block hash and the sequence
/// number.
pub fn l1_info_source_hash(l1_block_hash: B256, sequence_number: u64) -> B256 {
    source_hash(1, keccak256([l1_block_hash.0, word_u64(sequence_number)].concat()))
}

/// The source hash of a network upgrade deposit: domain 2 over the hash of its intent
/// (`"Isthmus: L1 Block Deployment"`, say).
pub fn upgrade_source_hash(intent: &str) -> B256 {
    source_hash(2, keccak256(intent.as_bytes()))
}
