//! The operator's HTTP server (`--metrics ADDR`): Prometheus metrics at `/metrics`, a status
//! page at `/` that refreshes itself, and the JSON it reads at `/api/status`.
//!
//! A small HTTP/1.1 server of its own (GET only, one request per connection, bounded request
//! size and connections), so that it shares nothing with the JSON-RPC servers' limits.

use crate::superchain::LiveStatus;
use lockstep_storage::{
    tables::{ChainHeads, L1Blocks, SuperchainBatches},
    DatabaseEnv, DbTx, RO,
};
use serde_json::{json, Value};
use std::{
    fmt::Write as _,
    io::{Read, Write},
    net::{SocketAddr, TcpListener, TcpStream},
    sync::{
        atomic::{AtomicU64, AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

/// Connections served at once (each may hold a database reader); more get 503. A scraper and
/// a few browsers need no more.
pub(crate) const MAX_CONNECTIONS: usize = 8;
/// The largest request head read.
const MAX_REQUEST: usize = 8 * 1024;
/// Batches the status page shows.
const PAGE_BATCHES: u64 = 60;

/// Counters the node updates as it goes.
#[derive(Debug)]
pub struct NodeMetrics {
    chains: Vec<(u64, AtomicU64, AtomicU64)>,
    reorgs: AtomicU64,
    last_scrape: Mutex<(Instant, Vec<u64>)>,
}

impl NodeMetrics {
    /// Metrics for `chains`.
    pub fn new(chains: &[u64]) -> Self {
        Self {
            chains: chains.iter().map(|c| (*c, AtomicU64::new(0), AtomicU64::new(0))).collect(),
            reorgs: AtomicU64::new(0),
            last_scrape: Mutex::new((Instant::now(), vec![0; chains.len()])),
        }
    }

    /// Counts `blocks` blocks and `gas` gas executed on `chain`.
    pub fn record_blocks(&self, chain: u64, blocks: u64, gas: u64) {
        if let Some((_, b, g)) = self.chains.iter().find(|(c, _, _)| *c == chain) {
            b.fetch_add(blocks, Ordering::Relaxed);
            g.fetch_add(gas, Ordering::Relaxed);
        }
    }

    /// Counts an L1 reorg.
    pub fn record_reorg(&self) {
        self.reorgs.fetch_add(1, Ordering::Relaxed);
    }

    /// Mgas/s per chain since the previous call.
    fn rates(&self) -> Vec<f64> {
        let gas: Vec<u64> = self.chains.iter().map(|(_, _, g)| g.load(Ordering::Relaxed)).collect();
        let Ok(mut last) = self.last_scrape.lock() else { return vec![0.0; gas.len()] };
        let secs = last.0.elapsed().as_secs_f64().max(1e-3);
        let rates =
            gas.iter().zip(&last.1).map(|(now, then)| (now - then) as f64 / secs / 1e6).collect();
        *last = (Instant::now(), gas);
        rates
    }
}

struct State {
    env: Arc<DatabaseEnv>,
    live: Arc<LiveStatus>,
    metrics: Arc<NodeMetrics>,
}

/// Serves `/metrics`, `/` and `/api/status` on `addr` from a thread of its own; returns the
/// bound address.
pub fn serve_status(
    env: Arc<DatabaseEnv>,
    live: Arc<LiveStatus>,
    metrics: Arc<NodeMetrics>,
    addr: SocketAddr,
) -> std::result::Result<SocketAddr, crate::RpcError> {
    let bind = |source| crate::RpcError::Bind { addr, source };
    let listener = TcpListener::bind(addr).map_err(bind)?;
    let local = listener.local_addr().map_err(bind)?;
    let state = Arc::new(State { env, live, metrics });
    let busy = Arc::new(AtomicUsize::new(0));
    let server = std::thread::Builder::new().name("lockstep-status".into()).spawn(move || {
        crate::deprioritize_current_thread();
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            if busy.load(Ordering::Relaxed) >= MAX_CONNECTIONS {
                let _ = respond(stream, 503, "text/plain", b"busy\n");
                continue;
            }
            busy.fetch_add(1, Ordering::Relaxed);
            let (state, done) = (state.clone(), busy.clone());
            let spawned =
                std::thread::Builder::new().name("lockstep-status-conn".into()).spawn(move || {
                    crate::deprioritize_current_thread();
                    handle(&state, stream);
                    done.fetch_sub(1, Ordering::Relaxed);
                });
            if spawned.is_err() {
                busy.fetch_sub(1, Ordering::Relaxed);
            }
        }
    });
    spawned_server(server)?;
    Ok(local)
}

fn spawned_server(
    result: std::io::Result<std::thread::JoinHandle<()>>,
) -> std::result::Result<(), crate::RpcError> {
    result.map(drop).map_err(crate::RpcError::Thread)
}

fn respond(mut stream: TcpStream, code: u16, kind: &str, body: &[u8]) -> std::io::Result<()> {
    let reason = match code {
        200 => "OK",
        404 => "Not Found",
        405 => "Method Not Allowed",
        400 => "Bad Request",
        503 => "Service Unavailable",
        _ => "Internal Server Error",
    };
    let head = format!(
        "HTTP/1.1 {code} {reason}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    stream.flush()
}

fn handle(state: &State, mut stream: TcpStream) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        if buf.len() > MAX_REQUEST {
            let _ = respond(stream, 400, "text/plain", b"request too large\n");
            return;
        }
    }
    let line = String::from_utf8_lossy(&buf);
    let mut parts = line.lines().next().unwrap_or_default().split_whitespace();
    let (method, path) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
    if method != "GET" {
        let _ = respond(stream, 405, "text/plain", b"only GET\n");
        return;
    }
    let path = path.split('?').next().unwrap_or_default();
    let result = match path {
        "/metrics" => {
            metrics_text(state).map(|t| (200, "text/plain; version=0.0.4", t.into_bytes()))
        }
        "/api/status" => {
            status_json(state).map(|v| (200, "application/json", v.to_string().into_bytes()))
        }
        "/" | "/index.html" => {
            Ok((200, "text/html; charset=utf-8", STATUS_PAGE.as_bytes().to_vec()))
        }
        // for a load balancer: alive as long as it answers
        "/health" => Ok((200, "text/plain", b"ok\n".to_vec())),
        // and ready to serve once it has caught up with the L1
        "/ready" => readiness(state).map(|(ready, v)| {
            (if ready { 200 } else { 503 }, "application/json", v.to_string().into_bytes())
        }),
        _ => Ok((404, "text/plain", b"not found\n".to_vec())),
    };
    let _ = match result {
        Ok((code, kind, body)) => respond(stream, code, kind, &body),
        Err(e) => respond(stream, 500, "text/plain", format!("{e}\n").as_bytes()),
    };
}

type PageResult<T> = std::result::Result<T, String>;

/// How many L1 blocks behind the L1 head the node may be and still answer `/ready` with 200.
pub const READY_L1_LAG: u64 = 4;

/// Whether the node is within [`READY_L1_LAG`] L1 blocks of the L1 head, with the figures.
fn readiness(state: &State) -> PageResult<(bool, serde_json::Value)> {
    let tx = state.env.tx().map_err(err)?;
    let cursor = tx.cursor::<L1Blocks>().and_then(|mut c| c.last()).map_err(err)?.map(|(n, _)| n);
    let head = state.live.l1_head();
    let lag = match (head, cursor) {
        (Some(h), Some(c)) => Some(h.saturating_sub(c)),
        _ => None,
    };
    let ready = lag.is_some_and(|l| l <= READY_L1_LAG);
    let body = serde_json::json!({
        "ready": ready,
        "l1Head": head,
        "l1Cursor": cursor,
        "lagL1Blocks": lag,
        "maxLagL1Blocks": READY_L1_LAG,
    });
    Ok((ready, body))
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

fn head_at_l1(tx: &DbTx<'_, RO>, chain: u64, l1: u64) -> PageResult<Option<u64>> {
    crate::eth::head_at_l1(tx, chain, l1).map_err(err)
}

/// `(chain, head, safe, finalized)`.
type ChainRow = (u64, u64, u64, u64);

struct Snapshot {
    l1_head: Option<u64>,
    l1_cursor: Option<u64>,
    chains: Vec<ChainRow>,
    batches: u64,
    flagged: Vec<(u64, u64)>,
    by_class: std::collections::BTreeMap<String, u64>,
    batches_by_class: std::collections::BTreeMap<String, u64>,
    db_bytes: u64,
}

fn snapshot(state: &State) -> PageResult<Snapshot> {
    let tx = state.env.tx().map_err(err)?;
    let l1_cursor =
        tx.cursor::<L1Blocks>().and_then(|mut c| c.last()).map_err(err)?.map(|(n, _)| n);
    let mut chains = Vec::new();
    let mut heads = tx.cursor::<ChainHeads>().map_err(err)?;
    let mut entry = heads.first().map_err(err)?;
    while let Some((chain, head)) = entry {
        let finalized = match state.live.l1_finalized() {
            Some(l1) => head_at_l1(&tx, chain, l1)?.unwrap_or(0),
            None => 0,
        };
        chains.push((chain, head.number, head.number, finalized));
        entry = heads.next().map_err(err)?;
    }
    let batches = tx
        .cursor::<SuperchainBatches>()
        .and_then(|mut c| c.last())
        .map_err(err)?
        .map_or(0, |(i, _)| i + 1);
    let flagged = lockstep_crosschain::flagged(&tx, 0, usize::MAX).map_err(err)?;
    let mut by_class = std::collections::BTreeMap::new();
    let mut batches_by_class = std::collections::BTreeMap::new();
    for (index, _) in &flagged {
        if let Some(v) = lockstep_crosschain::verdict(&tx, *index).map_err(err)? {
            for (class, n) in v.counts() {
                *by_class.entry(class.to_string()).or_default() += n as u64;
                *batches_by_class.entry(class.to_string()).or_default() += 1;
            }
        }
    }
    drop(tx);
    let db_bytes = state.env.table_stats().map_err(err)?.iter().map(|t| t.size).sum();
    Ok(Snapshot {
        l1_head: state.live.l1_head(),
        l1_cursor,
        chains,
        batches,
        flagged,
        by_class,
        batches_by_class,
        db_bytes,
    })
}

fn metrics_text(state: &State) -> PageResult<String> {
    let s = snapshot(state)?;
    let rates = state.metrics.rates();
    let mut out = String::new();
    let mut metric = |name: &str, kind: &str, help: &str, samples: &[(String, f64)]| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for (labels, value) in samples {
            let _ = writeln!(out, "{name}{labels} {value}");
        }
    };
    let per_chain = |f: &dyn Fn(&ChainRow) -> f64| -> Vec<(String, f64)> {
        s.chains.iter().map(|c| (format!("{{chain_id=\"{}\"}}", c.0), f(c))).collect()
    };
    metric("lockstep_chain_head", "gauge", "The chain's head block.", &per_chain(&|c| c.1 as f64));
    metric(
        "lockstep_chain_safe",
        "gauge",
        "The chain's safe block (derived from L1).",
        &per_chain(&|c| c.2 as f64),
    );
    metric(
        "lockstep_chain_finalized",
        "gauge",
        "The chain's finalized block (derived from finalized L1).",
        &per_chain(&|c| c.3 as f64),
    );
    let lag = s.l1_head.unwrap_or(0).saturating_sub(s.l1_cursor.unwrap_or(0)) as f64;
    metric(
        "lockstep_chain_derivation_lag_l1_blocks",
        "gauge",
        "L1 blocks between the L1 head and the L1 block the chain is derived through.",
        &per_chain(&|_| lag),
    );
    let counters: Vec<_> = state.metrics.chains.iter().collect();
    metric(
        "lockstep_chain_blocks_total",
        "counter",
        "Blocks derived and executed since start.",
        &counters
            .iter()
            .map(|(c, b, _)| (format!("{{chain_id=\"{c}\"}}"), b.load(Ordering::Relaxed) as f64))
            .collect::<Vec<_>>(),
    );
    metric(
        "lockstep_chain_gas_total",
        "counter",
        "Gas executed since start.",
        &counters
            .iter()
            .map(|(c, _, g)| (format!("{{chain_id=\"{c}\"}}"), g.load(Ordering::Relaxed) as f64))
            .collect::<Vec<_>>(),
    );
    metric(
        "lockstep_chain_mgas_per_second",
        "gauge",
        "Mgas/s executed since the previous scrape.",
        &counters
            .iter()
            .zip(&rates)
            .map(|((c, _, _), r)| (format!("{{chain_id=\"{c}\"}}"), *r))
            .collect::<Vec<_>>(),
    );
    metric(
        "lockstep_l1_head",
        "gauge",
        "The L1 head.",
        &[(String::new(), s.l1_head.unwrap_or(0) as f64)],
    );
    metric(
        "lockstep_l1_cursor",
        "gauge",
        "The last L1 block processed.",
        &[(String::new(), s.l1_cursor.unwrap_or(0) as f64)],
    );
    metric(
        "lockstep_l1_lag_blocks",
        "gauge",
        "L1 blocks not processed yet.",
        &[(String::new(), lag)],
    );
    metric(
        "lockstep_batches_checked",
        "gauge",
        "Superchain batches checked.",
        &[(String::new(), s.batches as f64)],
    );
    metric(
        "lockstep_batches_flagged",
        "gauge",
        "Superchain batches flagged.",
        &[(String::new(), s.flagged.len() as f64)],
    );
    let classes: Vec<(String, f64)> = lockstep_crosschain::Classification::ALL
        .iter()
        .map(|c| {
            (format!("{{classification=\"{c}\"}}"), *s.by_class.get(c.name()).unwrap_or(&0) as f64)
        })
        .collect();
    let flagged_by: Vec<(String, f64)> = lockstep_crosschain::Classification::ALL
        .iter()
        .map(|c| {
            let n = *s.batches_by_class.get(c.name()).unwrap_or(&0) as f64;
            (format!("{{classification=\"{c}\"}}"), n)
        })
        .collect();
    metric(
        "lockstep_batches_flagged_by_classification",
        "gauge",
        "Flagged batches with at least one difference of each classification.",
        &flagged_by,
    );
    metric(
        "lockstep_differences",
        "gauge",
        "Differences in flagged batches, by classification.",
        &classes,
    );
    metric(
        "lockstep_l1_reorgs_total",
        "counter",
        "L1 reorgs handled since start.",
        &[(String::new(), state.metrics.reorgs.load(Ordering::Relaxed) as f64)],
    );
    metric(
        "lockstep_database_bytes",
        "gauge",
        "Size of the database's tables.",
        &[(String::new(), s.db_bytes as f64)],
    );
    Ok(out)
}

fn status_json(state: &State) -> PageResult<Value> {
    let s = snapshot(state)?;
    let tx = state.env.tx().map_err(err)?;
    let mut batches = Vec::new();
    for index in s.batches.saturating_sub(PAGE_BATCHES)..s.batches {
        if let Some(v) = lockstep_crosschain::verdict(&tx, index).map_err(err)? {
            let classes: serde_json::Map<String, Value> =
                v.counts().iter().map(|(k, n)| (k.to_string(), json!(n))).collect();
            batches.push(json!({
                "batch": v.batch, "l1Block": v.l1_block, "matches": v.matches,
                "classifications": classes,
                "pairs": v.pairs.iter().map(|p| json!({
                    "source": p.source, "destination": p.destination,
                    "burns": p.burns, "mints": p.mints, "matches": p.matches(),
                })).collect::<Vec<_>>(),
            }));
        }
    }
    let mut flagged = Vec::new();
    for (index, l1) in s.flagged.iter().rev().take(20) {
        let classes: serde_json::Map<String, Value> = lockstep_crosschain::verdict(&tx, *index)
            .map_err(err)?
            .map(|v| v.counts().iter().map(|(k, n)| (k.to_string(), json!(n))).collect())
            .unwrap_or_default();
        flagged.push(json!({"batch": index, "l1Block": l1, "classifications": classes}));
    }
    Ok(json!({
        "l1Head": s.l1_head,
        "l1Cursor": s.l1_cursor,
        "chains": s.chains.iter().map(|c| json!({"chainId": c.0, "head": c.1, "safe": c.2, "finalized": c.3})).collect::<Vec<_>>(),
        "batchesChecked": s.batches,
        "flaggedCount": s.flagged.len(),
        "batches": batches,
        "flagged": flagged,
    }))
}

/// The status page: plain HTML and a script that reads `/api/status` every two seconds.
const STATUS_PAGE: &str = include_str!("status.html");
