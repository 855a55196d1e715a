//! The `superchain_` namespace.

use alloy_primitives::U256;
use jsonrpsee::{
    server::{Server, ServerConfig, ServerHandle},
    types::{ErrorObjectOwned, Params},
    RpcModule,
};
use lockstep_crosschain::{BatchVerdict, Classification, TransferStatus};
use lockstep_storage::{
    tables::{BatchByL1Block, ChainHeads, L1Blocks, SuperchainBatches},
    DatabaseEnv, DbTx, RO,
};
use serde_json::{json, Value};
use std::{
    net::SocketAddr,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
};

/// The most flagged batches one `superchain_listFlagged` call returns.
pub const LIST_LIMIT: u64 = 1000;

/// What the node knows that is not in the database: the L1 head it last saw.
#[derive(Debug, Default)]
pub struct LiveStatus {
    l1_head: AtomicU64,
    l1_finalized: AtomicU64,
}

impl LiveStatus {
    /// Records the L1 head.
    pub fn set_l1_head(&self, number: u64) {
        self.l1_head.store(number.saturating_add(1), Ordering::Relaxed);
    }

    /// The L1 head, if one was recorded.
    pub fn l1_head(&self) -> Option<u64> {
        self.l1_head.load(Ordering::Relaxed).checked_sub(1)
    }

    /// Records the L1's finalized block.
    pub fn set_l1_finalized(&self, number: u64) {
        self.l1_finalized.store(number.saturating_add(1), Ordering::Relaxed);
    }

    /// The L1's finalized block, if one was recorded.
    pub fn l1_finalized(&self) -> Option<u64> {
        self.l1_finalized.load(Ordering::Relaxed).checked_sub(1)
    }
}

struct Context {
    env: Arc<DatabaseEnv>,
    live: Arc<LiveStatus>,
}

pub(crate) fn invalid_params(message: impl Into<String>) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(-32602, message.into(), None::<()>)
}

pub(crate) fn server_error(message: impl std::fmt::Display) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(-32000, message.to_string(), None::<()>)
}

/// The params as a list (positional) of at most `names.len()` entries, or an object keyed by
/// `names`; returned in `names` order, `None` where absent.
pub(crate) fn params_by_name(
    params: &Params<'_>,
    names: &[&str],
) -> Result<Vec<Option<Value>>, ErrorObjectOwned> {
    let value: Value = if params.as_str().is_none() {
        Value::Array(Vec::new())
    } else {
        params.parse().map_err(|e| invalid_params(format!("params are not JSON: {e}")))?
    };
    match value {
        Value::Array(list) => {
            if list.len() > names.len() {
                return Err(invalid_params(format!(
                    "expected at most {} params ({}), got {}",
                    names.len(),
                    names.join(", "),
                    list.len()
                )));
            }
            let mut out: Vec<Option<Value>> = list.into_iter().map(Some).collect();
            out.resize(names.len(), None);
            Ok(out.into_iter().map(|v| v.filter(|v| !v.is_null())).collect())
        }
        Value::Object(mut map) => {
            if let Some(unknown) = map.keys().find(|k| !names.contains(&k.as_str())) {
                return Err(invalid_params(format!(
                    "unknown param `{unknown}`; expected {}",
                    names.join(", ")
                )));
            }
            Ok(names.iter().map(|n| map.remove(*n).filter(|v| !v.is_null())).collect())
        }
        _ => Err(invalid_params("params must be a list or an object")),
    }
}

pub(crate) fn to_u256(name: &str, value: &Value) -> Result<U256, ErrorObjectOwned> {
    let bad = || {
        invalid_params(format!(
            "`{name}` must be a non-negative integer (a JSON number, 0x hex or decimal string), \
             got {value}"
        ))
    };
    match value {
        Value::Number(n) => n.as_u64().map(U256::from).ok_or_else(bad),
        Value::String(s) => {
            let s = s.trim();
            if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
                if hex.is_empty() {
                    return Err(bad());
                }
                U256::from_str_radix(hex, 16).map_err(|_| bad())
            } else {
                U256::from_str_radix(s, 10).map_err(|_| bad())
            }
        }
        _ => Err(bad()),
    }
}

pub(crate) fn to_u64(name: &str, value: &Value) -> Result<u64, ErrorObjectOwned> {
    let n = to_u256(name, value)?;
    u64::try_from(n).map_err(|_| invalid_params(format!("`{name}` is too large: {n}")))
}

pub(crate) fn required<'a>(
    name: &str,
    value: &'a Option<Value>,
) -> Result<&'a Value, ErrorObjectOwned> {
    value.as_ref().ok_or_else(|| invalid_params(format!("missing param `{name}`")))
}

/// A batch's summary as `superchain_getBatch` returns it: everything in the verdict but the
/// differences' evidence, which `superchain_getEvidence` serves.
pub fn batch_summary(verdict: &BatchVerdict) -> Value {
    let counts: serde_json::Map<String, Value> =
        verdict.counts().iter().map(|(k, n)| (k.to_string(), json!(n))).collect();
    json!({
        "batch": verdict.batch,
        "l1Block": verdict.l1_block,
        "l1Hash": verdict.l1_hash,
        "fromTimestamp": verdict.from_timestamp,
        "toTimestamp": verdict.to_timestamp,
        "status": if verdict.matches { "matches" } else { "flagged" },
        "chains": verdict.chains,
        "pairs": verdict.pairs,
        "commitment": verdict.commitment,
        "classifications": counts,
        "differences": verdict.differences.len(),
        "foreign": verdict.foreign,
    })
}

impl Context {
    fn tx(&self) -> Result<DbTx<'_, RO>, ErrorObjectOwned> {
        self.env.tx().map_err(server_error)
    }

    fn sync_status(&self) -> Result<Value, ErrorObjectOwned> {
        let tx = self.tx()?;
        let l1 = tx.cursor::<L1Blocks>().and_then(|mut c| c.last()).map_err(server_error)?;
        let mut chains = Vec::new();
        let mut heads = tx.cursor::<ChainHeads>().map_err(server_error)?;
        let mut entry = heads.first().map_err(server_error)?;
        while let Some((chain_id, head)) = entry {
            chains.push(
                json!({"chainId": chain_id, "head": {"number": head.number, "hash": head.hash}}),
            );
            entry = heads.next().map_err(server_error)?;
        }
        let last_batch =
            tx.cursor::<SuperchainBatches>().and_then(|mut c| c.last()).map_err(server_error)?;
        let checked = last_batch.as_ref().map_or(0, |(i, _)| i + 1);
        let flagged = lockstep_crosschain::flagged_count(&tx).map_err(server_error)?;
        let latest = match &last_batch {
            Some((index, _)) => lockstep_crosschain::verdict(&tx, *index)
                .map_err(server_error)?
                .map(|v| json!({"batch": v.batch, "l1Block": v.l1_block, "matches": v.matches})),
            None => None,
        };
        let l1_head = self.live.l1_head();
        let cursor = l1.as_ref().map(|(n, _)| *n);
        Ok(json!({
            "l1Head": l1_head,
            "l1Cursor": l1.map(|(n, r)| json!({"number": n, "hash": r.hash, "timestamp": r.timestamp})),
            "synced": matches!((l1_head, cursor), (Some(h), Some(c)) if c >= h),
            "chains": chains,
            "batchesChecked": checked,
            "flagged": flagged,
            "latestBatch": latest,
        }))
    }

    fn verdict(&self, index: u64) -> Result<Option<BatchVerdict>, ErrorObjectOwned> {
        lockstep_crosschain::verdict(&self.tx()?, index).map_err(server_error)
    }

    fn get_batch(&self, params: &Params<'_>) -> Result<Value, ErrorObjectOwned> {
        let p = params_by_name(params, &["index"])?;
        let index = to_u64("index", required("index", &p[0])?)?;
        Ok(self.verdict(index)?.map_or(Value::Null, |v| batch_summary(&v)))
    }

    fn get_batch_by_l1_block(&self, params: &Params<'_>) -> Result<Value, ErrorObjectOwned> {
        let p = params_by_name(params, &["l1Number"])?;
        let number = to_u64("l1Number", required("l1Number", &p[0])?)?;
        let index = self.tx()?.get::<BatchByL1Block>(&number).map_err(server_error)?;
        match index {
            Some(index) => Ok(self.verdict(index)?.map_or(Value::Null, |v| batch_summary(&v))),
            None => Ok(Value::Null),
        }
    }

    fn list_flagged(&self, params: &Params<'_>) -> Result<Value, ErrorObjectOwned> {
        let p =
            params_by_name(params, &["from", "limit", "classification", "source", "destination"])?;
        let from = p[0].as_ref().map(|v| to_u64("from", v)).transpose()?.unwrap_or(0);
        let limit = p[1].as_ref().map(|v| to_u64("limit", v)).transpose()?.unwrap_or(100);
        if limit == 0 || limit > LIST_LIMIT {
            return Err(invalid_params(format!("`limit` must be 1 to {LIST_LIMIT}, got {limit}")));
        }
        let classification = p[2].as_ref().map(classification_param).transpose()?;
        let source = p[3].as_ref().map(|v| to_u64("source", v)).transpose()?;
        let destination = p[4].as_ref().map(|v| to_u64("destination", v)).transpose()?;
        let filtered = classification.is_some() || source.is_some() || destination.is_some();
        let tx = self.tx()?;
        // without a filter every flagged batch is on the page; with one, at most LIST_SCAN
        // flagged batches are read per call, and `next` says where the scan stopped
        let scan = if filtered { LIST_SCAN } else { limit as usize };
        // one more than scanned, to know where the next page starts
        let candidates = lockstep_crosschain::flagged(&tx, from, scan + 1).map_err(server_error)?;
        let mut flagged = Vec::new();
        let mut next = None;
        for (scanned, (index, l1_block)) in candidates.into_iter().enumerate() {
            if scanned == scan || flagged.len() as u64 == limit {
                next = Some(index);
                break;
            }
            let Some(verdict) = lockstep_crosschain::verdict(&tx, index).map_err(server_error)?
            else {
                continue;
            };
            let wanted = verdict.differences.iter().any(|d| {
                classification.is_none_or(|c| d.classification == c)
                    && source.is_none_or(|s| d.source == s)
                    && destination.is_none_or(|t| d.destination == t)
            });
            if filtered && !wanted {
                continue;
            }
            let counts: serde_json::Map<String, Value> =
                verdict.counts().iter().map(|(k, n)| (k.to_string(), json!(n))).collect();
            flagged.push(json!({"batch": index, "l1Block": l1_block, "classifications": counts}));
        }
        Ok(json!({"flagged": flagged, "next": next}))
    }

    fn get_transfer(&self, params: &Params<'_>) -> Result<Value, ErrorObjectOwned> {
        let p = params_by_name(params, &["source", "destination", "nonce"])?;
        let source = to_u64("source", required("source", &p[0])?)?;
        let destination = to_u64("destination", required("destination", &p[1])?)?;
        let nonce = to_u256("nonce", required("nonce", &p[2])?)?;
        let tx = self.tx()?;
        let Some(record) =
            lockstep_crosschain::transfer(&tx, source, destination, nonce).map_err(server_error)?
        else {
            return Ok(Value::Null);
        };
        let mut out = serde_json::to_value(&record).map_err(server_error)?;
        // how long the transfer has waited for its mint, in L1 blocks: from the L1 block that
        // closed the burn's batch to the newest L1 block derived (missing), or to the one that
        // closed the mint's batch (late)
        let closed_at = |batch: u64| -> Result<Option<u64>, ErrorObjectOwned> {
            Ok(lockstep_crosschain::verdict(&tx, batch).map_err(server_error)?.map(|v| v.l1_block))
        };
        let burn_l1 = match &record.burn {
            Some(burn) => closed_at(burn.location.batch)?,
            None => None,
        };
        if let Some(burn_l1) = burn_l1 {
            out["burnL1Block"] = json!(burn_l1);
            let waited_until = match record.status {
                TransferStatus::Missing => tx
                    .cursor::<L1Blocks>()
                    .and_then(|mut c| c.last())
                    .map_err(server_error)?
                    .map(|(number, _)| number),
                TransferStatus::Late => match record.mints.first() {
                    Some(mint) => closed_at(mint.location.batch)?,
                    None => None,
                },
                _ => None,
            };
            if let Some(until) = waited_until {
                out["waitedL1Blocks"] = json!(until.saturating_sub(burn_l1));
            }
        }
        Ok(out)
    }

    fn get_evidence(&self, params: &Params<'_>) -> Result<Value, ErrorObjectOwned> {
        let p = params_by_name(params, &["index"])?;
        let index = to_u64("index", required("index", &p[0])?)?;
        match self.verdict(index)? {
            Some(verdict) if !verdict.matches => {
                serde_json::to_value(verdict).map_err(server_error)
            }
            _ => Ok(Value::Null),
        }
    }
}

/// The most calls in one batch request to the `superchain_` server.
pub const SUPERCHAIN_MAX_BATCH: u32 = 100;

/// With a filter, the most flagged batches `superchain_listFlagged` reads in one call.
pub const LIST_SCAN: usize = 10_000;

fn classification_param(value: &Value) -> Result<Classification, ErrorObjectOwned> {
    let names = || Classification::ALL.map(Classification::name).join(", ");
    value
        .as_str()
        .and_then(|name| Classification::ALL.into_iter().find(|c| c.name() == name))
        .ok_or_else(|| {
            invalid_params(format!("`classification` must be one of {}, got {value}", names()))
        })
}

/// Serves the `superchain_` namespace on `addr` over `env`, its calls run on `pool`. Returns
/// the bound address (for port 0) and the server's handle; the server stops when the handle is
/// stopped or dropped with the runtime.
pub async fn serve(
    env: Arc<DatabaseEnv>,
    live: Arc<LiveStatus>,
    pool: &crate::CallPool,
    addr: SocketAddr,
) -> Result<(SocketAddr, ServerHandle), crate::RpcError> {
    let bind = |source| crate::RpcError::Bind { addr, source };
    let config = ServerConfig::builder()
        .max_request_body_size(1 << 20)
        .max_response_body_size(64 << 20)
        .max_connections(256)
        .set_batch_request_config(jsonrpsee::server::BatchRequestConfig::Limit(
            SUPERCHAIN_MAX_BATCH,
        ))
        .build();
    let server = Server::builder().set_config(config).build(addr).await.map_err(bind)?;
    let local = server.local_addr().map_err(bind)?;
    Ok((local, server.start(superchain_module(env, live, pool)?)))
}

/// The `superchain_` methods over `env`, their calls run on `pool`: what [`serve`] serves, to
/// serve alone or call in-process.
pub fn superchain_module(
    env: Arc<DatabaseEnv>,
    live: Arc<LiveStatus>,
    pool: &crate::CallPool,
) -> Result<RpcModule<()>, crate::RpcError> {
    let mut module = RpcModule::new(Context { env, live });
    let methods: [(&'static str, crate::pool::Handler<Context>); 6] = [
        ("superchain_syncStatus", |c, _| c.sync_status()),
        ("superchain_getBatch", |c, p| c.get_batch(p)),
        ("superchain_getBatchByL1Block", |c, p| c.get_batch_by_l1_block(p)),
        ("superchain_listFlagged", |c, p| c.list_flagged(p)),
        ("superchain_getTransfer", |c, p| c.get_transfer(p)),
        ("superchain_getEvidence", |c, p| c.get_evidence(p)),
    ];
    for (name, handler) in methods {
        pool.register(&mut module, name, handler)?;
    }
    let mut plain = RpcModule::new(());
    plain.merge(module).map_err(crate::RpcError::Register)?;
    Ok(plain)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(raw: &str) -> Params<'_> {
        Params::new(Some(raw))
    }

    #[test]
    fn numbers_parse_in_every_form_and_bad_ones_name_the_param() {
        assert_eq!(to_u64("index", &json!(7)).unwrap(), 7);
        assert_eq!(to_u64("index", &json!("0x10")).unwrap(), 16);
        assert_eq!(to_u64("index", &json!("12")).unwrap(), 12);
        for bad in [json!(-1), json!(1.5), json!("0x"), json!("ten"), json!(true), json!([1])] {
            let err = to_u64("index", &bad).unwrap_err();
            assert_eq!(err.code(), -32602);
            assert!(err.message().contains("`index`"), "{}", err.message());
        }
        let err = to_u64("index", &json!("0x10000000000000000")).unwrap_err();
        assert!(err.message().contains("too large"));
        assert_eq!(
            to_u256(
                "nonce",
                &json!("0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff")
            )
            .unwrap(),
            U256::MAX
        );
    }

    #[test]
    fn params_by_position_or_name() {
        let p = params_by_name(&params("[1, 2]"), &["from", "limit"]).unwrap();
        assert_eq!(p, [Some(json!(1)), Some(json!(2))]);
        let p = params_by_name(&params(r#"{"limit": 5}"#), &["from", "limit"]).unwrap();
        assert_eq!(p, [None, Some(json!(5))]);
        let p = params_by_name(&params("[]"), &["from", "limit"]).unwrap();
        assert_eq!(p, [None, None]);
        assert!(params_by_name(&params("[1, 2, 3]"), &["from", "limit"]).is_err());
        let err = params_by_name(&params(r#"{"bogus": 1}"#), &["index"]).unwrap_err();
        assert!(err.message().contains("unknown param `bogus`"));
        assert!(params_by_name(&params("7"), &["index"]).is_err());
    }

    #[test]
    fn live_status_knows_when_it_has_no_l1_head() {
        let live = LiveStatus::default();
        assert_eq!(live.l1_head(), None);
        live.set_l1_head(0);
        assert_eq!(live.l1_head(), Some(0));
        live.set_l1_head(41);
        assert_eq!(live.l1_head(), Some(41));
    }
}
