//! `lockstep node`: follow every chain of a superchain set from L1.

use clap::Args;
use eyre::WrapErr;
use lockstep_chainspec::SuperchainSet;
use lockstep_l1::{Backoff, JsonRpcL1, L1Source, Retrying};
use lockstep_node::{CheckSettings, Node, Progress};
use lockstep_rpc::{LiveStatus, NodeMetrics};
use std::{path::PathBuf, sync::Arc, time::Duration};

/// Flags of `lockstep node`.
#[derive(Debug, Args)]
pub(crate) struct NodeArgs {
    /// The superchain-set TOML: each chain's rollup.json and genesis.json, the bridge and the
    /// sequencer's system address (see etc/devnet/superchain.toml).
    #[arg(long, env = "LOCKSTEP_SUPERCHAIN", value_name = "FILE")]
    superchain: PathBuf,
    /// The L1's Ethereum JSON-RPC endpoint.
    #[arg(long = "l1.rpc", env = "LOCKSTEP_L1_RPC", value_name = "URL")]
    l1_rpc: String,
    /// The L1 beacon API, for blob batcher data: an L1 block's slot comes from the beacon
    /// genesis time and seconds per slot (`/eth/v1/beacon/genesis`, `/eth/v1/config/spec`),
    /// and the batcher's blobs from `/eth/v1/beacon/blobs/{slot}?versioned_hashes=...`.
    /// Default: the --l1.rpc URL, which is where anvil serves it. Every blob used is checked
    /// against its versioned hash (KZG commitment).
    #[arg(long = "l1.beacon", env = "LOCKSTEP_L1_BEACON", value_name = "URL")]
    l1_beacon: Option<String>,
    /// The database directory, shared by every chain.
    #[arg(long, env = "LOCKSTEP_DATADIR", value_name = "DIR")]
    datadir: PathBuf,
    /// How often to poll the L1 for a new block once at its head, in seconds.
    #[arg(long = "l1.poll-interval", env = "LOCKSTEP_L1_POLL_INTERVAL", default_value_t = 2.0)]
    poll_interval: f64,
    /// Seconds between progress lines.
    #[arg(long, env = "LOCKSTEP_LOG_INTERVAL", default_value_t = 5.0)]
    log_interval: f64,
    /// Serve the `superchain_` JSON-RPC namespace over HTTP (see the README).
    #[arg(long, env = "LOCKSTEP_HTTP")]
    http: bool,
    /// Address of the JSON-RPC server; loopback by default.
    #[arg(long = "http.addr", env = "LOCKSTEP_HTTP_ADDR", default_value = "127.0.0.1")]
    http_addr: std::net::IpAddr,
    /// Port of the `superchain_` namespace; chain number i of the set (from 0) serves its
    /// `eth_` namespace on the port after it plus i (8546 for the first chain, 8547 for the
    /// second, …). 0: free ports, logged at start.
    #[arg(long = "http.port", env = "LOCKSTEP_HTTP_PORT", default_value_t = 8545)]
    http_port: u16,
    /// Serve Prometheus metrics at `/metrics` and the status page at `/` on this address
    /// (for example 127.0.0.1:9001).
    #[arg(long, env = "LOCKSTEP_METRICS", value_name = "ADDR")]
    metrics: Option<std::net::SocketAddr>,
    /// The widest block range one `eth_getLogs` may ask for.
    #[arg(
        long = "rpc.max-logs-range",
        env = "LOCKSTEP_RPC_MAX_LOGS_RANGE",
        default_value_t = 10_000
    )]
    max_logs_range: u64,
    /// The most calls one JSON-RPC batch request may hold.
    #[arg(long = "rpc.max-batch", env = "LOCKSTEP_RPC_MAX_BATCH", default_value_t = 100)]
    max_batch: u32,
    /// The most gas one `eth_call` may use, and what a call that names no gas gets (as geth's
    /// and reth's `--rpc.gascap`).
    #[arg(long = "rpc.gascap", env = "LOCKSTEP_RPC_GASCAP", default_value_t = lockstep_rpc::DEFAULT_GAS_CAP)]
    gas_cap: u64,
    /// Seconds one `eth_call` may execute before it is stopped with an error.
    #[arg(long = "rpc.evmtimeout", env = "LOCKSTEP_RPC_EVMTIMEOUT", default_value_t = 5.0)]
    evm_timeout: f64,
    /// Seconds any JSON-RPC call may take, its wait for a worker included; past it the call
    /// gets error -32002.
    #[arg(long = "rpc.timeout", env = "LOCKSTEP_RPC_TIMEOUT", default_value_t = 10.0)]
    call_timeout: f64,
    /// The most JSON-RPC calls that run at once, over every server (each holds one database
    /// read while it runs; the rest wait their turn).
    #[arg(long = "rpc.workers", env = "LOCKSTEP_RPC_WORKERS", default_value_t = lockstep_rpc::DEFAULT_WORKERS)]
    workers: usize,
    /// How much lower the threads that serve JSON-RPC run than the sync loop, as a nice value
    /// (0 to 19; 0: the same priority). Under load the kernel gives the sync loop the CPU first.
    #[arg(
        long = "rpc.niceness",
        env = "LOCKSTEP_RPC_NICENESS",
        default_value_t = lockstep_rpc::SERVING_NICENESS,
        value_parser = clap::value_parser!(i32).range(0..=19)
    )]
    niceness: i32,
    /// How many recent blocks of each chain keep their history: the state after each of them
    /// (for `eth_getBalance`, `eth_call`, … at a past block) and their receipts (for receipts
    /// and `eth_getLogs`). Older changesets, receipts and L1 block records are pruned a little
    /// after each L1 block, and the RPC answers error 4444 for them. At least 1,024 (an L1
    /// reorg may unwind that far).
    #[arg(
        long = "history.blocks",
        env = "LOCKSTEP_HISTORY_BLOCKS",
        default_value_t = lockstep_node::DEFAULT_HISTORY_BLOCKS,
        value_parser = clap::value_parser!(u64).range(lockstep_node::MIN_HISTORY_BLOCKS..),
        conflicts_with = "archive"
    )]
    history_blocks: u64,
    /// Keep all history (an archive node): never prune.
    #[arg(long = "history.archive", env = "LOCKSTEP_HISTORY_ARCHIVE")]
    archive: bool,
    /// What "at the same time" means for a burn and its mint: in the same superchain batch, or
    /// at the same L2 timestamp (stricter: a mint one block after its burn is flagged
    /// `TimestampMismatch`). Applies to the batches checked from this start on.
    #[arg(long, env = "LOCKSTEP_ATOMICITY", value_enum, default_value_t = crate::cli::AtomicityArg::Batch)]
    atomicity: crate::cli::AtomicityArg,
    /// Exit once the node has reached the L1 head, printing a JSON status (heads, roots, L1
    /// cursor, batches) to stdout.
    #[arg(long)]
    exit_when_synced: bool,
}

pub(crate) fn run(args: &NodeArgs) -> eyre::Result<()> {
    let set = SuperchainSet::load(&args.superchain)
        .wrap_err_with(|| format!("loading {}", args.superchain.display()))?;
    let addresses = CheckSettings::from_set(&set);
    if addresses.commitments.is_none() {
        tracing::warn!("the superchain set names no `commitments` contract: the sequencer's L1 commitments are not checked");
    }
    let specs: Vec<_> = set.chains.into_iter().map(|(_, spec)| spec).collect();
    let rollups: Vec<_> =
        specs.iter().map(|s| (s.chain_id(), Arc::new(s.rollup.clone()))).collect();
    let mut l1 = JsonRpcL1::connect(&args.l1_rpc)
        .wrap_err_with(|| format!("connecting to the L1 at {}", args.l1_rpc))?;
    if let Some(beacon) = &args.l1_beacon {
        l1 = l1.with_beacon(beacon);
    }
    for spec in &specs {
        if spec.rollup.l1_chain_id != l1.chain_id() {
            eyre::bail!(
                "chain {} expects L1 chain {}, but --l1.rpc {} is chain {}",
                spec.chain_id(),
                spec.rollup.l1_chain_id,
                args.l1_rpc,
                l1.chain_id()
            );
        }
    }
    let mut node = Node::open(&args.datadir, specs, addresses)
        .wrap_err_with(|| format!("opening the node in {}", args.datadir.display()))?;
    let history = (!args.archive).then_some(args.history_blocks);
    node.set_history_blocks(history).wrap_err("--history.blocks")?;
    node.set_atomicity(args.atomicity.into());
    let l1 = Retrying::new(l1, Backoff::default());
    let live = Arc::new(LiveStatus::default());
    // the serving threads run below the sync loop's priority (--rpc.niceness)
    let niceness = args.niceness;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .on_thread_start(move || lockstep_rpc::lower_thread_priority(niceness))
        .build()
        .wrap_err("starting the async runtime")?;
    let seconds = |name: &str, value: f64| -> eyre::Result<Duration> {
        Duration::try_from_secs_f64(value)
            .ok()
            .filter(|d| !d.is_zero())
            .ok_or_else(|| eyre::eyre!("{name} must be a positive number of seconds, got {value}"))
    };
    let pool =
        lockstep_rpc::CallPool::new(args.workers, seconds("--rpc.timeout", args.call_timeout)?);
    let evm_timeout = seconds("--rpc.evmtimeout", args.evm_timeout)?;
    let _server = if args.http {
        let addr = std::net::SocketAddr::new(args.http_addr, args.http_port);
        let (bound, handle) = runtime
            .block_on(lockstep_rpc::serve(node.shared_database(), live.clone(), &pool, addr))
            .wrap_err_with(|| format!("serving JSON-RPC on {addr}"))?;
        tracing::info!(url = %format!("http://{bound}"), "superchain_ JSON-RPC");
        let mut handles = vec![handle];
        let limits = lockstep_rpc::EthLimits {
            max_log_range: args.max_logs_range.max(1),
            max_batch: args.max_batch.max(1),
            gas_cap: args.gas_cap,
            evm_timeout,
            max_history: history.unwrap_or(u64::MAX),
            ..Default::default()
        };
        for (i, (chain, rollup)) in rollups.iter().enumerate() {
            let port = if args.http_port == 0 {
                0
            } else {
                args.http_port.checked_add(1 + i as u16).ok_or_else(|| {
                    eyre::eyre!("--http.port too high for {} chains", rollups.len())
                })?
            };
            let addr = std::net::SocketAddr::new(args.http_addr, port);
            let (bound, handle) = runtime
                .block_on(lockstep_rpc::serve_chain(
                    node.shared_database(),
                    live.clone(),
                    *chain,
                    rollup.clone(),
                    limits,
                    &pool,
                    addr,
                ))
                .wrap_err_with(|| format!("serving chain {chain}'s eth_ JSON-RPC on {addr}"))?;
            tracing::info!(chain, url = %format!("http://{bound}"), "eth_ JSON-RPC");
            handles.push(handle);
        }
        Some(handles)
    } else {
        None
    };
    tracing::info!(
        datadir = %args.datadir.display(),
        chains = ?node.chain_ids(),
        l1_cursor = ?node.l1_cursor()?.map(|c| c.0),
        "node started"
    );
    let metrics = Arc::new(NodeMetrics::new(&node.chain_ids()));
    if let Some(addr) = args.metrics {
        let bound =
            lockstep_rpc::serve_status(node.shared_database(), live.clone(), metrics.clone(), addr)
                .wrap_err_with(|| format!("serving metrics on {addr}"))?;
        tracing::info!(url = %format!("http://{bound}/"), "status page and /metrics");
    }
    let mut progress = Progress::new(Duration::from_secs_f64(args.log_interval.max(0.1)));
    progress.flagged = node.flagged_count()?;
    let poll = Duration::from_secs_f64(args.poll_interval.max(0.05));
    let mut steps = 0u64;
    loop {
        let mut head = l1.head_number()?;
        live.set_l1_head(head);
        if steps.is_multiple_of(64) {
            if let Some(finalized) = l1.finalized_number()? {
                live.set_l1_finalized(finalized);
            }
        }
        steps += 1;
        match node.step(&l1)? {
            Some(outcome) => {
                record_metrics(&metrics, &outcome);
                progress.record(&outcome);
                progress.flagged = node.flagged_count()?;
                progress.maybe_report(head, false);
            }
            None => {
                steps = 0;
                progress.maybe_report(head, false);
                if args.exit_when_synced {
                    head = l1.head_number()?;
                    if node.l1_cursor()?.is_some_and(|(n, _)| n >= head) {
                        progress.maybe_report(head, true);
                        println!("{}", serde_json::to_string_pretty(&status(&node)?)?);
                        return Ok(());
                    }
                }
                std::thread::sleep(poll);
            }
        }
    }
}

/// The node's status: L1 cursor, batches, and every chain's head with its state root.
pub(crate) fn status(node: &Node) -> eyre::Result<serde_json::Value> {
    let tx = node.database().tx()?;
    let mut heads = Vec::new();
    for (chain, number, hash) in node.heads() {
        let provider = lockstep_storage::ChainProvider::new(&tx, chain);
        heads.push(serde_json::json!({
            "chainId": chain,
            "number": number,
            "hash": hash,
            "stateRoot": provider.state_root()?,
        }));
    }
    let cursor = node.l1_cursor()?;
    Ok(serde_json::json!({
        "l1": cursor.map(|(n, h)| serde_json::json!({"number": n, "hash": h})),
        "batches": node.batches()?,
        "flagged": node.flagged_count()?,
        "heads": heads,
    }))
}

/// Counts a step's blocks, gas and reorgs for `/metrics`.
pub(crate) fn record_metrics(metrics: &NodeMetrics, outcome: &lockstep_node::StepOutcome) {
    match outcome {
        lockstep_node::StepOutcome::Processed { chains, .. } => {
            for chain in chains {
                metrics.record_blocks(chain.chain_id, chain.blocks, chain.gas);
            }
        }
        lockstep_node::StepOutcome::Reorged { .. } => metrics.record_reorg(),
    }
}
