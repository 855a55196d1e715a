//! `lockstep devnet`: the embedded L1, the shared sequencer and a traffic generator.

use clap::{Args, ValueEnum};
use eyre::{bail, WrapErr};
use lockstep_devnet::{Devnet, DevnetOptions, PostedBatch};
use lockstep_l1::{JsonRpcL1, L1Node};
use lockstep_node::{CheckSettings, Node, Progress};
use lockstep_sequencer::{batcher::Compression, Fault};
use std::{collections::BTreeMap, path::PathBuf, time::Instant};

#[derive(Debug, Clone, Copy, ValueEnum)]
enum DataAvailability {
    /// Frames in transaction calldata.
    Calldata,
    /// Frames in EIP-4844 blobs (one frame per blob, with KZG commitments and proofs).
    Blobs,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum CompressionArg {
    Zlib,
    Brotli,
}

/// Flags of `lockstep devnet`.
#[derive(Debug, Args)]
pub(crate) struct DevnetArgs {
    /// The devnet's directory; must be empty or absent. It gets `sequencer/` (the sequencer's
    /// database), `node/` (the verifier's database) and `config/` (this run's superchain set,
    /// with the L1 genesis filled in, for `lockstep node --superchain config/superchain.toml`).
    /// Default: a temporary directory, removed on exit.
    #[arg(long, env = "LOCKSTEP_DATADIR", value_name = "DIR")]
    datadir: Option<PathBuf>,
    /// Stop once the verifier has checked this many superchain batches, and print a JSON
    /// summary (batches checked, transfers, flagged batches with their classifications).
    /// Exits 0 when nothing was flagged and 3 when something was.
    #[arg(long, env = "LOCKSTEP_DEVNET_BATCHES", value_name = "N")]
    batches: Option<u64>,
    /// Misbehave on purpose: KIND@BATCH, KIND one of drop-mint, delay-mint, shift-mint (one
    /// mint one L2 block after its burn, inside the batch), forge-mint,
    /// alter-amount, reorder-mints, bad-output-root, bad-commitment, withhold-commitment,
    /// censor (no mints for the batch's burns sent as L1 deposits), invalid-tx (a transaction
    /// the engine refuses in chain 901's batch), bad-batch (chain 901's span batch breaks a
    /// batch rule), offline (nothing built or posted for the sequencer window). Repeatable. Once --batches are checked the run idles on L1 until every commitment
    /// window has passed, so that a withheld commitment is flagged.
    #[arg(long = "fault", value_name = "KIND@BATCH", value_parser = parse_fault)]
    faults: Vec<Fault>,
    /// L2 blocks per superchain batch: a multiple of 6, the L2 blocks per 12-second L1 block.
    #[arg(long, default_value_t = 6, value_parser = clap::value_parser!(u64).range(1..=6000))]
    blocks_per_batch: u64,
    /// User transactions per chain per L2 block.
    #[arg(long, default_value_t = 8)]
    txs_per_block: usize,
    /// Channel compression of the batches.
    #[arg(long, value_enum, default_value_t = CompressionArg::Brotli)]
    compression: CompressionArg,
    /// Seed of the traffic generator.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Where the batcher puts the frames on L1 (blobs once Ecotone is active; calldata before).
    #[arg(long, value_enum, default_value_t = DataAvailability::Calldata)]
    da: DataAvailability,
    /// Start the chains at Delta and activate Ecotone, Fjord, Granite, Holocene, Isthmus and
    /// Jovian SECONDS apart after genesis (a multiple of the 2 s block time), so that one run crosses
    /// every activation block and its upgrade transactions. Before Fjord the batcher compresses
    /// with zlib whatever --compression says. Default: every fork through Isthmus at genesis.
    #[arg(long, value_name = "SECONDS")]
    fork_gap: Option<u64>,
    /// The chains' sequencer window in L1 blocks (OP Mainnet's 3,600 by default): past it
    /// without a batch, derivation fills an epoch with deposit-only blocks. A small window lets
    /// a run reach it in seconds.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    seq_window_size: Option<u64>,
    /// Run on this Ethereum JSON-RPC L1 (such as anvil started with `--no-mining --timestamp`
    /// one L1 block before the L2 genesis and the test mnemonic's accounts) instead of the
    /// embedded L1.
    #[arg(long = "l1.rpc", env = "LOCKSTEP_L1_RPC", value_name = "URL")]
    l1_rpc: Option<String>,
    /// Pace L1 blocks at the wall clock (12 s) instead of as fast as the machine allows.
    #[arg(long)]
    wall_clock: bool,
    /// Serve the sequencer's JSON-RPC (eth_sendRawTransaction, eth_chainId, eth_blockNumber,
    /// eth_getTransactionReceipt): the first chain on --http.port, each next chain on the next
    /// port.
    #[arg(long, env = "LOCKSTEP_HTTP")]
    http: bool,
    /// Serve the verifier's Prometheus metrics at `/metrics` and its status page at `/` on this
    /// address (for example 127.0.0.1:9001; port 0 picks a free one, logged at start).
    #[arg(long, env = "LOCKSTEP_METRICS", value_name = "ADDR")]
    metrics: Option<std::net::SocketAddr>,
    /// Address of the JSON-RPC endpoints.
    #[arg(long = "http.addr", env = "LOCKSTEP_HTTP_ADDR", default_value = "127.0.0.1")]
    http_addr: std::net::IpAddr,
    /// Port of the first chain's endpoint. 0: free ports, logged at start.
    #[arg(long = "http.port", env = "LOCKSTEP_HTTP_PORT", default_value_t = 8545)]
    http_port: u16,
    /// What the verifier holds a mint to: its burn's batch, or its burn's L2 timestamp (see
    /// `lockstep node --help`).
    #[arg(long, env = "LOCKSTEP_ATOMICITY", value_enum, default_value_t = crate::cli::AtomicityArg::Batch)]
    atomicity: crate::cli::AtomicityArg,
}

fn parse_fault(s: &str) -> Result<Fault, String> {
    s.parse()
}

/// Runs the devnet; returns whether the verifier flagged a batch.
pub(crate) fn run(args: &DevnetArgs) -> eyre::Result<bool> {
    let temp;
    let datadir = match &args.datadir {
        Some(dir) => {
            if dir.exists() && dir.read_dir().map(|mut d| d.next().is_some()).unwrap_or(true) {
                bail!(
                    "devnet datadir {} is not empty: the devnet starts from genesis",
                    dir.display()
                );
            }
            dir.clone()
        }
        None => {
            temp = tempfile::tempdir().wrap_err("creating a temporary datadir")?;
            temp.path().to_path_buf()
        }
    };
    let options = DevnetOptions {
        blocks_per_batch: args.blocks_per_batch,
        txs_per_block: args.txs_per_block,
        compression: match args.compression {
            CompressionArg::Zlib => Compression::Zlib,
            CompressionArg::Brotli => Compression::Brotli,
        },
        faults: args.faults.clone(),
        seed: args.seed,
        blobs: matches!(args.da, DataAvailability::Blobs),
        fork_gap: args.fork_gap,
        seq_window_size: args.seq_window_size,
    };
    match &args.l1_rpc {
        Some(url) => {
            let l1 = JsonRpcL1::connect(url)
                .wrap_err_with(|| format!("connecting to the L1 at {url}"))?;
            drive(args, Devnet::start_on(l1, &datadir.join("sequencer"), options)?, &datadir)
        }
        None => drive(args, Devnet::start(&datadir.join("sequencer"), options)?, &datadir),
    }
}

fn drive<L: L1Node>(
    args: &DevnetArgs,
    mut devnet: Devnet<L>,
    datadir: &std::path::Path,
) -> eyre::Result<bool> {
    tracing::info!(
        datadir = %datadir.display(),
        chains = ?devnet.config().chains.iter().map(|c| c.chain_id).collect::<Vec<_>>(),
        "devnet started: embedded L1, shared sequencer, traffic"
    );
    let config_dir = datadir.join("config");
    devnet.config().write(&config_dir).wrap_err("writing the devnet's config")?;
    let specs =
        devnet.config().chains.iter().map(|c| devnet.config().chain_spec(c.chain_id)).collect();
    let mut node = Node::open(
        &datadir.join("node"),
        specs,
        CheckSettings {
            bridge: lockstep_devnet::BRIDGE,
            sequencer: devnet.config().sequencer(),
            commitments: Some(devnet.config().commitments()),
            commitment_window: devnet.config().commitment_window,
        },
    )
    .wrap_err("opening the verifier")?;
    node.set_atomicity(args.atomicity.into());
    let mut progress = Progress::new(std::time::Duration::from_secs(5));
    let live = std::sync::Arc::new(lockstep_rpc::LiveStatus::default());
    let metrics = std::sync::Arc::new(lockstep_rpc::NodeMetrics::new(&node.chain_ids()));
    if let Some(addr) = args.metrics {
        let bound =
            lockstep_rpc::serve_status(node.shared_database(), live.clone(), metrics.clone(), addr)
                .wrap_err_with(|| format!("serving metrics on {addr}"))?;
        tracing::info!(url = %format!("http://{bound}/"), "verifier status page and /metrics");
    }
    // the serving threads run below the sync loop's priority (lockstep_rpc::SERVING_NICENESS)
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .on_thread_start(lockstep_rpc::deprioritize_current_thread)
        .build()
        .wrap_err("starting the async runtime")?;
    let mut servers = Vec::new();
    let pool = lockstep_rpc::CallPool::default();
    if args.http {
        let ids: Vec<u64> = devnet.config().chains.iter().map(|c| c.chain_id).collect();
        for (i, chain) in ids.into_iter().enumerate() {
            // 0: every chain on a free port of its own, logged below
            let port = if args.http_port == 0 {
                0
            } else {
                args.http_port
                    .checked_add(i as u16)
                    .ok_or_else(|| eyre::eyre!("--http.port too high"))?
            };
            let addr = std::net::SocketAddr::new(args.http_addr, port);
            let (bound, handle) = runtime
                .block_on(lockstep_sequencer::rpc::serve(devnet.sequencer(), chain, &pool, addr))
                .wrap_err_with(|| format!("serving chain {chain}'s JSON-RPC on {addr}"))?;
            tracing::info!(chain, url = %format!("http://{bound}"), "sequencer JSON-RPC");
            servers.push(handle);
        }
    }
    let started = Instant::now();
    let mut last_log = Instant::now();
    loop {
        let step_started = Instant::now();
        let posted = devnet.step()?;
        // the verifier reads only the L1
        for outcome in node.sync(&devnet.l1).wrap_err("the verifier stopped")? {
            crate::node::record_metrics(&metrics, &outcome);
            progress.record(&outcome);
        }
        if let Some((l1, _)) = node.l1_cursor()? {
            live.set_l1_head(l1);
        }
        if let Some(finalized) = lockstep_l1::L1Source::finalized_number(&devnet.l1)? {
            live.set_l1_finalized(finalized);
        }
        progress.flagged = node.flagged_count()?;
        if let Some(batch) = &posted {
            if last_log.elapsed().as_secs_f64() >= 1.0 || args.batches.is_some_and(|n| n <= 20) {
                let (burned, minted) = totals(&devnet.posted);
                tracing::info!(
                    l1 = batch.l1_block,
                    heads = ?batch.l2_heads,
                    batches = devnet.posted.len(),
                    verified = progress.batches,
                    flagged = progress.flagged,
                    burned,
                    minted,
                    "progress"
                );
                last_log = Instant::now();
            }
        }
        if args.batches.is_some_and(|n| progress.batches >= n) {
            // the verdicts are final once every commitment window has run out
            let mut idle = 0;
            while node.commitments_pending()? > 0 && idle <= devnet.config().commitment_window {
                devnet.idle()?;
                node.sync(&devnet.l1).wrap_err("the verifier stopped")?;
                idle += 1;
            }
            break;
        }
        if args.wall_clock {
            let pace = std::time::Duration::from_secs(lockstep_devnet::l1::L1_BLOCK_TIME);
            std::thread::sleep(pace.saturating_sub(step_started.elapsed()));
        }
    }
    let (summary, flagged) = summary(&devnet, &node, started.elapsed().as_secs_f64())?;
    println!("{}", serde_json::to_string_pretty(&summary)?);
    Ok(flagged)
}

fn totals(posted: &[PostedBatch]) -> (usize, usize) {
    posted.iter().fold((0, 0), |(b, m), p| (b + p.burns.len(), m + p.mints.len()))
}

/// The JSON summary of DESIGN.md 7, from the verifier's own verdicts: batches checked,
/// transfers, and the flagged batches with their classifications. Returns it with whether
/// anything was flagged.
fn summary<L: L1Node>(
    devnet: &Devnet<L>,
    node: &Node,
    seconds: f64,
) -> eyre::Result<(serde_json::Value, bool)> {
    let checked = node.batches()?;
    let (mut burns, mut mints) = (0u64, 0u64);
    let mut flagged = Vec::new();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for index in 0..checked {
        let Some(verdict) = node.verdict(index)? else { continue };
        burns += verdict.pairs.iter().map(|p| p.burns).sum::<u64>();
        mints += verdict.pairs.iter().map(|p| p.mints).sum::<u64>();
        if verdict.matches {
            continue;
        }
        let by_kind = verdict.counts();
        for (kind, n) in &by_kind {
            *counts.entry(kind.to_string()).or_default() += n;
        }
        flagged.push(serde_json::json!({
            "batch": verdict.batch,
            "l1Block": verdict.l1_block,
            "classifications": by_kind
                .iter()
                .map(|(k, n)| (k.to_string(), serde_json::json!(n)))
                .collect::<serde_json::Map<_, _>>(),
            "pairsDiffering": verdict
                .pairs
                .iter()
                .filter(|p| !p.matches())
                .map(|p| serde_json::json!({"source": p.source, "destination": p.destination}))
                .collect::<Vec<_>>(),
        }));
    }
    // the verifier's heads against the sequencer's blocks
    let handle = devnet.sequencer();
    let sequencer = handle.lock().map_err(|_| eyre::eyre!("the sequencer's lock is poisoned"))?;
    let built = sequencer.database().tx()?;
    let mut verified = Vec::new();
    for (chain, number, hash) in node.heads() {
        let theirs = lockstep_storage::ChainProvider::new(&built, chain).block_hash(number)?;
        verified.push(serde_json::json!({
            "chainId": chain,
            "head": number,
            "hash": hash,
            "matchesSequencer": theirs == Some(hash),
        }));
    }
    let (posted_burns, posted_mints) = totals(&devnet.posted);
    let any = !flagged.is_empty();
    let out = serde_json::json!({
        "batchesChecked": checked,
        "batchesPosted": devnet.posted.len(),
        "faults": devnet_faults(devnet),
        "transfers": { "burns": burns, "mints": mints },
        "sequencerTransfers": { "burns": posted_burns, "mints": posted_mints },
        "flagged": flagged,
        "flaggedCount": flagged.len(),
        "classifications": counts,
        "l1Head": devnet.posted.last().map_or(0, |p| p.l1_block),
        "verifier": verified,
        "seconds": (seconds * 100.0).round() / 100.0,
    });
    Ok((out, any))
}

fn devnet_faults<L: L1Node>(devnet: &Devnet<L>) -> Vec<String> {
    devnet.options().faults.iter().map(ToString::to_string).collect()
}
