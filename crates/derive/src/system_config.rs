//! The system config as derivation tracks it, and its updates: the `ConfigUpdate` logs of the
//! chain's L1 `SystemConfig` contract in an L1 block's receipts (derivation spec, "System
//! Configuration"; Holocene's EIP-1559 parameters, Isthmus's operator fee, Jovian's minimum base
//! fee and DA footprint gas scalar), read as op-node
//! reads them.
//!
//! `ConfigUpdate(uint256 indexed version, uint8 indexed updateType, bytes data)`, version 0,
//! with the update ABI-encoded as one `bytes` whose content is one or two words.

use crate::DeriveError;
use alloy_consensus::TxReceipt;
use alloy_primitives::{b256, Address, Log, B256, U256};

/// `keccak256("ConfigUpdate(uint256,uint8,bytes)")`.
pub const CONFIG_UPDATE_TOPIC: B256 =
    b256!("0x1d2b0bda21d56b8bd12d4f94ebacffdfb35f5e226f84b461103bb8beab6353be");

/// The update types.
const BATCHER: u8 = 0;
const FEE_SCALARS: u8 = 1;
const GAS_LIMIT: u8 = 2;
const UNSAFE_BLOCK_SIGNER: u8 = 3;
const EIP_1559_PARAMS: u8 = 4;
const OPERATOR_FEE_PARAMS: u8 = 5;
const MIN_BASE_FEE: u8 = 6;
const DA_FOOTPRINT_GAS_SCALAR: u8 = 7;

/// What derivation keeps of a chain's L1 system config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SystemConfig {
    /// The batcher whose transactions to the inbox carry the chain's batches.
    pub batcher: Address,
    /// Bedrock's L1 fee overhead (zeroed by an update from Ecotone).
    pub overhead: B256,
    /// The L1 fee scalar word: before Ecotone the scalar itself; from Ecotone a versioned
    /// encoding of the base fee and blob base fee scalars.
    pub scalar: B256,
    /// The L2 block gas limit.
    pub gas_limit: u64,
    /// Holocene's EIP-1559 denominator and elasticity, 4 bytes each.
    pub eip1559_params: [u8; 8],
    /// Isthmus's operator fee word: the scalar in bytes 20..24, the constant in 24..32.
    pub operator_fee_params: B256,
    /// Jovian's minimum base fee (wei); 0 is no minimum.
    pub min_base_fee: u64,
    /// Jovian's DA footprint gas scalar; 0 means the default (400) in the L1 info deposit.
    pub da_footprint_gas_scalar: u16,
}

fn bad(what: impl Into<String>) -> DeriveError {
    DeriveError::BadInput(format!("system config update: {}", what.into()))
}

/// Reads ABI words: `uint64` and `address` must have their padding zero, as op-node's solabi.
struct Words<'a>(&'a [u8]);

impl Words<'_> {
    fn word(&mut self, what: &str) -> Result<B256, DeriveError> {
        if self.0.len() < 32 {
            return Err(bad(format!("{what}: short data")));
        }
        let (word, rest) = self.0.split_at(32);
        self.0 = rest;
        Ok(B256::from_slice(word))
    }

    fn uint64(&mut self, what: &str) -> Result<u64, DeriveError> {
        u64::try_from(U256::from_be_bytes(self.word(what)?.0))
            .map_err(|_| bad(format!("{what}: not a uint64")))
    }

    fn uint16(&mut self, what: &str) -> Result<u16, DeriveError> {
        u16::try_from(U256::from_be_bytes(self.word(what)?.0))
            .map_err(|_| bad(format!("{what}: not a uint16")))
    }

    fn address(&mut self, what: &str) -> Result<Address, DeriveError> {
        let word = self.word(what)?;
        if word[..12].iter().any(|b| *b != 0) {
            return Err(bad(format!("{what}: not an address")));
        }
        Ok(Address::from_slice(&word[12..]))
    }

    /// The `bytes` header: offset 32 and the given content length.
    fn bytes_of(&mut self, length: u64) -> Result<(), DeriveError> {
        if self.uint64("pointer")? != 32 {
            return Err(bad("invalid pointer field"));
        }
        if self.uint64("length")? != length {
            return Err(bad("invalid length field"));
        }
        Ok(())
    }

    fn end(&self) -> Result<(), DeriveError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(bad("too many bytes"))
        }
    }
}

/// Whether an Ecotone scalar word is well formed: version 0 with only its low 4 bytes set, or
/// version 1 with only its low 8 bytes set.
fn ecotone_scalar_ok(scalar: &B256) -> bool {
    match scalar[0] {
        0 => scalar[1..28].iter().all(|b| *b == 0),
        1 => scalar[1..24].iter().all(|b| *b == 0),
        _ => false,
    }
}

impl SystemConfig {
    /// The Ecotone base fee and blob base fee scalars the scalar word encodes.
    pub fn ecotone_scalars(&self) -> (u32, u32) {
        let u32_at = |at: usize| {
            u32::from_be_bytes([
                self.scalar[at],
                self.scalar[at + 1],
                self.scalar[at + 2],
                self.scalar[at + 3],
            ])
        };
        match self.scalar[0] {
            1 => (u32_at(28), u32_at(24)),
            _ => (u32_at(28), 0),
        }
    }

    /// The EIP-1559 denominator and elasticity.
    pub fn eip1559(&self) -> (u32, u32) {
        let p = &self.eip1559_params;
        (u32::from_be_bytes([p[0], p[1], p[2], p[3]]), u32::from_be_bytes([p[4], p[5], p[6], p[7]]))
    }

    /// The operator fee scalar and constant.
    pub fn operator_fee(&self) -> (u32, u64) {
        let w = &self.operator_fee_params;
        let mut constant = [0u8; 8];
        constant.copy_from_slice(&w[24..32]);
        (u32::from_be_bytes([w[20], w[21], w[22], w[23]]), u64::from_be_bytes(constant))
    }

    /// Applies one `ConfigUpdate` log. `ecotone` is whether Ecotone is active at the L1 block's
    /// time. An Ecotone scalar that is not well formed leaves the config as it was, as op-node
    /// does; any other malformed update is an error.
    pub fn apply_log(&mut self, log: &Log, ecotone: bool) -> Result<(), DeriveError> {
        let topics = log.topics();
        if topics.len() != 3 {
            return Err(bad(format!("{} topics, not 3", topics.len())));
        }
        if topics[0] != CONFIG_UPDATE_TOPIC {
            return Err(bad("not a ConfigUpdate event"));
        }
        if topics[1] != B256::ZERO {
            return Err(bad(format!("version {} is unknown", topics[1])));
        }
        let kind = U256::from_be_bytes(topics[2].0);
        let mut words = Words(log.data.data.as_ref());
        match u8::try_from(kind).unwrap_or(u8::MAX) {
            BATCHER => {
                words.bytes_of(32)?;
                let batcher = words.address("batcher")?;
                words.end()?;
                self.batcher = batcher;
            }
            FEE_SCALARS => {
                words.bytes_of(64)?;
                let overhead = words.word("overhead")?;
                let scalar = words.word("scalar")?;
                words.end()?;
                if ecotone {
                    if ecotone_scalar_ok(&scalar) {
                        self.scalar = scalar;
                        self.overhead = B256::ZERO;
                    }
                } else {
                    self.overhead = overhead;
                    self.scalar = scalar;
                }
            }
            GAS_LIMIT => {
                words.bytes_of(32)?;
                let gas_limit = words.uint64("gas limit")?;
                words.end()?;
                self.gas_limit = gas_limit;
            }
            EIP_1559_PARAMS => {
                words.bytes_of(32)?;
                let params = words.word("eip1559 params")?;
                words.end()?;
                // only the low 8 bytes count; a zero denominator needs a zero elasticity
                let zero = |r: std::ops::Range<usize>| params[r].iter().all(|b| *b == 0);
                if zero(24..28) && !zero(28..32) {
                    return Err(bad("a zero EIP-1559 denominator with a non-zero elasticity"));
                }
                self.eip1559_params.copy_from_slice(&params[24..32]);
            }
            OPERATOR_FEE_PARAMS => {
                words.bytes_of(32)?;
                let params = words.word("operator fee params")?;
                words.end()?;
                self.operator_fee_params = params;
            }
            MIN_BASE_FEE => {
                words.bytes_of(32)?;
                let min_base_fee = words.uint64("min base fee")?;
                words.end()?;
                self.min_base_fee = min_base_fee;
            }
            DA_FOOTPRINT_GAS_SCALAR => {
                words.bytes_of(32)?;
                let scalar = words.uint16("DA footprint gas scalar")?;
                words.end()?;
                self.da_footprint_gas_scalar = scalar;
            }
            // it configures the node's p2p, not derivation
            UNSAFE_BLOCK_SIGNER => {}
            _ => return Err(bad(format!("update type {kind} is unknown"))),
        }
        Ok(())
    }

    /// Applies every `ConfigUpdate` log that the contract at `address` emitted in the
    /// successful transactions of an L1 block; returns whether there was one.
    pub fn apply_receipts<R: TxReceipt<Log = Log>>(
        &mut self,
        receipts: &[R],
        address: Address,
        ecotone: bool,
    ) -> Result<bool, DeriveError> {
        let mut updated = false;
        for receipt in receipts.iter().filter(|r| r.status()) {
            for log in receipt.logs() {
                if log.address == address && log.topics().first() == Some(&CONFIG_UPDATE_TOPIC) {
                    self.apply_log(log, ecotone)?;
                    updated = true;
                }
            }
        }
        Ok(updated)
    }
}
