use crate::ChainSpecError;
use crate::RollupConfig;
use alloy_consensus::{Header, EMPTY_OMMER_ROOT_HASH};
use alloy_eips::{eip1559::INITIAL_BASE_FEE, eip7685::EMPTY_REQUESTS_HASH};
use alloy_genesis::Genesis;
use alloy_primitives::{address, Address, B256, B64};
use alloy_trie::EMPTY_ROOT_HASH;
use serde::de::DeserializeOwned;
use std::{
    io::Read,
    path::{Path, PathBuf},
};

/// The L2-to-L1 message passer predeploy, whose storage root goes into output roots and, from
/// Isthmus, into the header's withdrawals root.
pub const L2_TO_L1_MESSAGE_PASSER: Address = address!("0x4200000000000000000000000000000000000016");

/// Activates every OP hardfork up to and including Isthmus at genesis (time 0), the rules the
/// devnet runs.
pub fn activate_through_isthmus(rollup: &mut RollupConfig) {
    let forks = &mut rollup.hardforks;
    for fork in [
        &mut forks.regolith_time,
        &mut forks.canyon_time,
        &mut forks.delta_time,
        &mut forks.ecotone_time,
        &mut forks.fjord_time,
        &mut forks.granite_time,
        &mut forks.holocene_time,
        &mut forks.pectra_blob_schedule_time,
        &mut forks.isthmus_time,
    ] {
        *fork = Some(0);
    }
}

/// Refuses a rollup config that lockstep cannot follow: one that schedules a hardfork lockstep
/// does not implement (Lagoon, Interop), or has no block time.
pub fn check_rollup(rollup: &RollupConfig) -> Result<(), String> {
    let forks = &rollup.hardforks;
    let unsupported = [("lagoon_time", forks.lagoon_time), ("interop_time", forks.interop_time)];
    let scheduled: Vec<&str> =
        unsupported.iter().filter(|(_, t)| t.is_some()).map(|(n, _)| *n).collect();
    if !scheduled.is_empty() {
        return Err(format!(
            "hardforks lockstep does not implement are scheduled: {}; lockstep follows chains \
             through Karst",
            scheduled.join(", ")
        ));
    }
    if rollup.block_time == 0 {
        return Err("block_time must be positive".into());
    }
    Ok(())
}

/// One L2 chain: its rollup config and its genesis.
#[derive(Debug, Clone)]
pub struct ChainSpec {
    /// The rollup config (op-node `rollup.json`).
    pub rollup: RollupConfig,
    /// The genesis (geth `genesis.json`).
    pub genesis: Genesis,
}

fn read_file(path: &Path) -> Result<Vec<u8>, ChainSpecError> {
    let io = |source| ChainSpecError::Io { path: path.to_path_buf(), source };
    let raw = std::fs::read(path).map_err(io)?;
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::with_capacity(raw.len() * 4);
        flate2::read::GzDecoder::new(raw.as_slice()).read_to_end(&mut out).map_err(io)?;
        return Ok(out);
    }
    Ok(raw)
}

/// Parses JSON, reporting the path of the field that failed.
pub(crate) fn parse_json<T: DeserializeOwned>(
    path: &Path,
    value: serde_json::Value,
) -> Result<T, ChainSpecError> {
    serde_path_to_error::deserialize(value).map_err(|err| ChainSpecError::Field {
        path: path.to_path_buf(),
        field: field_name(err.path().to_string()),
        message: err.into_inner().to_string(),
    })
}

pub(crate) fn field_name(path: String) -> String {
    if path == "." || path.is_empty() {
        "(top level)".into()
    } else {
        path
    }
}

fn read_json(path: &Path) -> Result<serde_json::Value, ChainSpecError> {
    json_value(path, &read_file(path)?)
}

fn read_rollup(path: &Path) -> Result<serde_json::Value, ChainSpecError> {
    if path.extension().is_some_and(|e| e == "toml") {
        read_registry(path)
    } else {
        read_json(path)
    }
}

/// Reads a rollup config alone, from a `rollup.json` or a registry chain TOML (see
/// [`ChainSpec::load`]), with the checks [`ChainSpec::load`] makes of it.
pub fn load_rollup(path: &Path) -> Result<RollupConfig, ChainSpecError> {
    let rollup: RollupConfig = parse_json(path, read_rollup(path)?)?;
    check_rollup(&rollup)
        .map_err(|reason| ChainSpecError::Invalid { path: path.to_path_buf(), reason })?;
    Ok(rollup)
}

/// A rollup config from the text of a registry chain TOML and of its `superchain.toml`, checked
/// as [`load_rollup`] checks it; the paths only name the files in errors.
pub fn parse_registry(
    chain: &str,
    chain_path: &Path,
    superchain: &str,
    superchain_path: &Path,
) -> Result<RollupConfig, ChainSpecError> {
    let json = crate::registry::rollup_json(chain_path, chain, superchain_path, superchain)?;
    let rollup: RollupConfig = parse_json(chain_path, json)?;
    check_rollup(&rollup)
        .map_err(|reason| ChainSpecError::Invalid { path: chain_path.to_path_buf(), reason })?;
    Ok(rollup)
}

fn read_registry(path: &Path) -> Result<serde_json::Value, ChainSpecError> {
    let text = |path: &Path| {
        String::from_utf8(read_file(path)?).map_err(|e| ChainSpecError::Invalid {
            path: path.to_path_buf(),
            reason: format!("not UTF-8: {e}"),
        })
    };
    let superchain = path.with_file_name(crate::registry::SUPERCHAIN_TOML);
    if !superchain.exists() {
        return Err(ChainSpecError::Invalid {
            path: path.to_path_buf(),
            reason: format!(
                "a registry chain config needs its superchain's {} beside it",
                crate::registry::SUPERCHAIN_TOML
            ),
        });
    }
    crate::registry::rollup_json(path, &text(path)?, &superchain, &text(&superchain)?)
}

fn json_value(path: &Path, raw: &[u8]) -> Result<serde_json::Value, ChainSpecError> {
    serde_json::from_slice(raw).map_err(|err| ChainSpecError::Invalid {
        path: path.to_path_buf(),
        reason: format!("not valid JSON: {err}"),
    })
}

impl ChainSpec {
    /// Reads a chain from its `rollup.json` and `genesis.json` (optionally gzipped).
    ///
    /// The rollup config may instead be a chain's TOML as the superchain registry writes it
    /// (a `.toml` file, read with the registry's `superchain.toml` beside it).
    pub fn load(rollup_path: &Path, genesis_path: &Path) -> Result<Self, ChainSpecError> {
        let rollup = read_rollup(rollup_path)?;
        Self::from_json(rollup, rollup_path, read_json(genesis_path)?, genesis_path)
    }

    /// A chain from the bytes of its `rollup.json` and `genesis.json` (not gzipped), checked as
    /// [`Self::load`] checks them; the paths only name the files in errors.
    pub fn parse(
        rollup: &[u8],
        rollup_path: &Path,
        genesis: &[u8],
        genesis_path: &Path,
    ) -> Result<Self, ChainSpecError> {
        let rollup = json_value(rollup_path, rollup)?;
        Self::from_json(rollup, rollup_path, json_value(genesis_path, genesis)?, genesis_path)
    }

    fn from_json(
        rollup: serde_json::Value,
        rollup_path: &Path,
        mut genesis_json: serde_json::Value,
        genesis_path: &Path,
    ) -> Result<Self, ChainSpecError> {
        let rollup: RollupConfig = parse_json(rollup_path, rollup)?;
        // The superchain registry ships genesis files with `"config": null`: the chain's rules
        // come from rollup.json instead.
        if let Some(map) = genesis_json.as_object_mut() {
            if map.get("config").is_some_and(|c| c.is_null()) {
                map.remove("config");
            }
        }
        let config_chain_id =
            genesis_json.pointer("/config/chainId").and_then(serde_json::Value::as_u64);
        let genesis: Genesis = parse_json(genesis_path, genesis_json)?;
        let spec = Self { rollup, genesis };
        spec.validate(rollup_path, genesis_path, config_chain_id)?;
        Ok(spec)
    }

    fn validate(
        &self,
        rollup_path: &Path,
        genesis_path: &Path,
        config_chain_id: Option<u64>,
    ) -> Result<(), ChainSpecError> {
        let invalid = |path: &Path, reason: String| ChainSpecError::Invalid {
            path: PathBuf::from(path),
            reason,
        };
        check_rollup(&self.rollup).map_err(|reason| invalid(rollup_path, reason))?;
        if self.genesis.timestamp != self.rollup.genesis.l2_time {
            return Err(invalid(
                genesis_path,
                format!(
                    "timestamp {} differs from rollup.json genesis.l2_time {}",
                    self.genesis.timestamp, self.rollup.genesis.l2_time
                ),
            ));
        }
        let number = self.genesis.number.unwrap_or_default();
        if number != self.rollup.genesis.l2.number {
            return Err(invalid(
                genesis_path,
                format!(
                    "number {number} differs from rollup.json genesis.l2.number {}",
                    self.rollup.genesis.l2.number
                ),
            ));
        }
        if let Some(config_chain) = config_chain_id.filter(|id| *id != self.chain_id()) {
            return Err(invalid(
                genesis_path,
                format!(
                    "config.chainId {config_chain} differs from rollup.json l2_chain_id {}",
                    self.chain_id()
                ),
            ));
        }
        Ok(())
    }

    /// The L2 chain id.
    pub fn chain_id(&self) -> u64 {
        self.rollup.l2_chain_id.id()
    }

    /// The genesis block number.
    pub fn genesis_number(&self) -> u64 {
        self.genesis.number.unwrap_or_default()
    }

    /// The block hash the rollup config expects for genesis.
    pub fn expected_genesis_hash(&self) -> B256 {
        self.rollup.genesis.l2.hash
    }

    /// The genesis header, as op-geth and op-reth build it for the hardforks active at genesis.
    ///
    /// `state_root` is the root of the alloc, and `message_passer_root` the storage root of the
    /// L2-to-L1 message passer (the withdrawals root from Isthmus).
    pub fn genesis_header(&self, state_root: B256, message_passer_root: B256) -> Header {
        let g = &self.genesis;
        let t = g.timestamp;
        let r = &self.rollup;
        Header {
            parent_hash: g.parent_hash.unwrap_or_default(),
            ommers_hash: EMPTY_OMMER_ROOT_HASH,
            beneficiary: g.coinbase,
            state_root,
            transactions_root: EMPTY_ROOT_HASH,
            receipts_root: EMPTY_ROOT_HASH,
            logs_bloom: Default::default(),
            difficulty: g.difficulty,
            number: self.genesis_number(),
            gas_limit: g.gas_limit,
            gas_used: 0,
            timestamp: t,
            extra_data: g.extra_data.clone(),
            mix_hash: g.mix_hash,
            nonce: B64::from(g.nonce),
            base_fee_per_gas: Some(g.base_fee_per_gas.map_or(INITIAL_BASE_FEE, |fee| fee as u64)),
            withdrawals_root: r.is_canyon_active(t).then(|| {
                if r.is_isthmus_active(t) {
                    message_passer_root
                } else {
                    EMPTY_ROOT_HASH
                }
            }),
            blob_gas_used: r.is_ecotone_active(t).then(|| g.blob_gas_used.unwrap_or_default()),
            excess_blob_gas: r.is_ecotone_active(t).then(|| g.excess_blob_gas.unwrap_or_default()),
            parent_beacon_block_root: r.is_ecotone_active(t).then_some(B256::ZERO),
            requests_hash: r.is_isthmus_active(t).then_some(EMPTY_REQUESTS_HASH),
            // Amsterdam's fields; no OP fork has them
            block_access_list_hash: None,
            slot_number: None,
        }
    }
}
