//! A chain's config as the superchain registry writes it (`superchain/configs/<superchain>/
//! <chain>.toml`, with the `superchain.toml` beside it), read into op-node's `rollup.json`
//! shape and from there into [`RollupConfig`](crate::RollupConfig) by the same checks.
//!
//! The mapping is op-node's registry loader's: Regolith at genesis, the Bedrock channel timeout
//! of 300, the L1 chain id from the superchain's `[l1]`, the portal and system config from
//! `[addresses]`, and every key of `[hardforks]` as written. A fork the chain's file does not
//! name is inherited from the superchain's `[hardforks]` by the registry's rules (the chain sets
//! `superchain_time`, the superchain's time is at or after it, and a time at or before the
//! chain's genesis becomes 0). Since registry 2.0 those times are already written into each
//! chain's file, so for today's files this changes nothing.

use crate::{spec::field_name, ChainSpecError};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::{collections::BTreeMap, path::Path};

/// The registry's file name of a superchain's own config.
pub(crate) const SUPERCHAIN_TOML: &str = "superchain.toml";

/// What lockstep reads of a chain's registry TOML; descriptive keys (name, RPCs, roles) are
/// left alone.
#[derive(Deserialize)]
struct RegistryChain {
    chain_id: u64,
    batch_inbox_addr: alloy_primitives::Address,
    block_time: u64,
    seq_window_size: u64,
    max_sequencer_drift: u64,
    #[serde(default)]
    superchain_time: Option<u64>,
    #[serde(default)]
    data_availability_type: Option<String>,
    #[serde(default)]
    hardforks: BTreeMap<String, toml::Value>,
    #[serde(default)]
    optimism: Option<toml::Value>,
    genesis: toml::Value,
    #[serde(default)]
    addresses: BTreeMap<String, alloy_primitives::Address>,
    #[serde(default)]
    alt_da: Option<toml::Value>,
}

#[derive(Deserialize)]
struct RegistrySuperchain {
    l1: RegistryL1,
    #[serde(default)]
    hardforks: BTreeMap<String, toml::Value>,
    #[serde(default)]
    protocol_versions_addr: Option<alloy_primitives::Address>,
}

#[derive(Deserialize)]
struct RegistryL1 {
    chain_id: u64,
}

fn parse_toml<T: serde::de::DeserializeOwned>(
    path: &Path,
    text: &str,
) -> Result<T, ChainSpecError> {
    let de = toml::Deserializer::parse(text).map_err(|e| ChainSpecError::Invalid {
        path: path.to_path_buf(),
        reason: format!("not valid TOML: {e}"),
    })?;
    serde_path_to_error::deserialize(de).map_err(|err| ChainSpecError::Field {
        path: path.to_path_buf(),
        field: field_name(err.path().to_string()),
        message: err.into_inner().to_string(),
    })
}

fn to_json(value: toml::Value) -> Value {
    match value {
        toml::Value::String(s) => Value::String(s),
        toml::Value::Integer(i) => json!(i),
        toml::Value::Float(f) => json!(f),
        toml::Value::Boolean(b) => Value::Bool(b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(a) => Value::Array(a.into_iter().map(to_json).collect()),
        toml::Value::Table(t) => {
            Value::Object(t.into_iter().map(|(k, v)| (k, to_json(v))).collect())
        }
    }
}

/// `chain` (a registry chain TOML at `path`) with its `superchain` TOML (at `superchain_path`),
/// as the JSON of the `rollup.json` op-node would load for it.
pub(crate) fn rollup_json(
    path: &Path,
    chain: &str,
    superchain_path: &Path,
    superchain: &str,
) -> Result<Value, ChainSpecError> {
    let chain: RegistryChain = parse_toml(path, chain)?;
    let superchain: RegistrySuperchain = parse_toml(superchain_path, superchain)?;
    let invalid = |reason: String| ChainSpecError::Invalid { path: path.to_path_buf(), reason };
    if let Some(kind) = chain.data_availability_type.as_deref().filter(|k| *k != "eth-da") {
        if chain.alt_da.is_none() {
            return Err(invalid(format!("data_availability_type {kind} with no [alt_da] table")));
        }
    }
    let address = |name: &str| {
        chain
            .addresses
            .get(name)
            .copied()
            .ok_or_else(|| invalid(format!("[addresses] has no {name}")))
    };
    let genesis_time = chain.genesis.get("l2_time").and_then(toml::Value::as_integer);
    let mut out = Map::new();
    out.insert("genesis".into(), to_json(chain.genesis));
    out.insert("block_time".into(), json!(chain.block_time));
    out.insert("max_sequencer_drift".into(), json!(chain.max_sequencer_drift));
    out.insert("seq_window_size".into(), json!(chain.seq_window_size));
    out.insert("channel_timeout".into(), json!(300));
    out.insert("l1_chain_id".into(), json!(superchain.l1.chain_id));
    out.insert("l2_chain_id".into(), json!(chain.chain_id));
    out.insert("regolith_time".into(), json!(0));
    let mut hardforks = chain.hardforks;
    if let Some(from) = chain.superchain_time {
        for (key, value) in superchain.hardforks {
            let Some(time) = value.as_integer() else { continue };
            if !key.ends_with("_time") || hardforks.contains_key(&key) || time < from as i64 {
                continue;
            }
            let inherited = if genesis_time.is_some_and(|g| time <= g) { 0 } else { time };
            hardforks.insert(key, toml::Value::Integer(inherited));
        }
    }
    for (key, value) in hardforks {
        // a key the rollup config does not know (a fork lockstep has never heard of) is an
        // error there, named
        out.insert(key, to_json(value));
    }
    out.insert("batch_inbox_address".into(), json!(chain.batch_inbox_addr));
    out.insert("deposit_contract_address".into(), json!(address("OptimismPortalProxy")?));
    out.insert("l1_system_config_address".into(), json!(address("SystemConfigProxy")?));
    out.insert(
        "protocol_versions_address".into(),
        json!(superchain.protocol_versions_addr.unwrap_or_default()),
    );
    if let Some(optimism) = chain.optimism {
        out.insert("chain_op_config".into(), to_json(optimism));
    }
    if let Some(alt_da) = chain.alt_da {
        out.insert("alt_da".into(), to_json(alt_da));
    }
    Ok(Value::Object(out))
}
