//! The command line.

use clap::{Args, Parser, Subcommand, ValueEnum};
use eyre::WrapErr;
use lockstep_chainspec::ChainSpec;
use lockstep_execution::ChainExecutor;
use lockstep_storage::{DatabaseEnv, DatabaseMode};
use std::{path::PathBuf, sync::Arc};

/// lockstep: one node for every chain of an OP Stack superchain.
#[derive(Debug, Parser)]
#[command(version, about, long_about = None)]
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write a chain's genesis into the database and print its state root and block hash.
    ///
    /// Idempotent: running it again with the same files changes nothing. A datadir that holds a
    /// different genesis for the same chain id is refused.
    Init(InitArgs),
    /// Inspect the database.
    #[command(subcommand)]
    Db(DbCommand),
    /// Follow every chain of a superchain set from L1: derive each chain's blocks from its
    /// batches (kona-derive), execute them, check every superchain batch's burns against its
    /// mints, and commit all chains and the check together per L1 block.
    ///
    /// Safe to kill at any moment: it resumes from the last committed L1 block. On an L1 reorg it
    /// unwinds every chain to the common ancestor and derives again.
    Node(crate::node::NodeArgs),
    /// Decode batcher data: a raw batcher transaction, calldata, a blob or a channel. Prints its
    /// frames, the channel's compression, and every batch in it (singular or span) as JSON.
    Decode(crate::decode::DecodeArgs),
    /// Run the devnet in one process: an embedded L1, the shared sequencer of two chains
    /// (901 "op" and 902 "base") with cross-chain burns and mints, a traffic generator, the
    /// batcher posting every chain's batches and the commitments to L1, and the verifier node
    /// deriving both chains back from L1 alone and checking every batch's burns and mints.
    ///
    /// With --batches N it exits 0 when nothing was flagged and 3 when something was.
    Devnet(crate::devnet::DevnetArgs),
    /// Re-execute one block from an execution witness, with no database, and print the header
    /// it computed as JSON.
    ///
    /// The file holds the chain's rollup config, the parent header, the block's payload
    /// attributes and the witness (the format of `debug_executionWitness`, which `lockstep node
    /// --http` serves). When it also holds `expected`, the output says whether the block hash
    /// and every header field match. Exit status: 0 when they match (or nothing is expected),
    /// 1 on a mismatch, 2 on bad input (malformed JSON, a missing key, a witness lacking a node).
    Stateless(crate::stateless::StatelessArgs),
    /// Evidence of flagged batches, for challengers.
    #[command(subcommand)]
    Evidence(crate::evidence::EvidenceCommand),
    /// Load `eth_` endpoints: many connections sending `eth_call`, `eth_getLogs` over wide
    /// ranges, `eth_getBalance` at old blocks, blocks with full transactions and batches of
    /// 100, for a bounded time; prints requests per second, latency percentiles and the
    /// answers by kind (scripts/load.sh runs it against a syncing node).
    Load(crate::load::LoadArgs),
}

#[derive(Debug, Args)]
struct DatadirArgs {
    /// The database directory, shared by every chain.
    #[arg(long, env = "LOCKSTEP_DATADIR", value_name = "DIR")]
    datadir: PathBuf,
}

#[derive(Debug, Args)]
struct InitArgs {
    #[command(flatten)]
    datadir: DatadirArgs,
    /// The chain's op-node rollup config (`rollup.json`), or the chain's TOML as the
    /// superchain registry writes it (`superchain/configs/<superchain>/<chain>.toml`, read
    /// with the `superchain.toml` beside it).
    #[arg(long = "rollup-config", env = "LOCKSTEP_ROLLUP_CONFIG", value_name = "FILE")]
    rollup_config: PathBuf,
    /// The chain's geth genesis (`genesis.json`, plain or gzipped).
    #[arg(long, env = "LOCKSTEP_GENESIS", value_name = "FILE")]
    genesis: PathBuf,
}

#[derive(Debug, Subcommand)]
enum DbCommand {
    /// Print every table's entry count and size.
    Stats(DatadirArgs),
    /// Print where a node's database stands, as JSON: the L1 cursor, every chain's head and
    /// derivation cursor, and the batches closed, checked and flagged. Exits with status 2 if
    /// the chains are not at one L1 cursor or a closed batch has no verdict.
    Status(DatadirArgs),
    /// Print the cross-chain check's records as stored, one per line in key order: every
    /// verdict, flagged batch, transfer record and commitment. Two nodes that checked the same
    /// L1 print the same bytes (`cmp` them).
    Records(DatadirArgs),
}

impl Cli {
    /// Runs the chosen command. `Ok(true)`: it found something to report by exit status 3
    /// (a flagged batch).
    pub(crate) fn run(self) -> eyre::Result<bool> {
        match self.command {
            Command::Devnet(args) => crate::devnet::run(&args),
            command => Self { command }.run_plain().map(|()| false),
        }
    }

    fn run_plain(self) -> eyre::Result<()> {
        match self.command {
            Command::Init(args) => init(&args),
            Command::Db(DbCommand::Stats(args)) => db_stats(&args),
            Command::Db(DbCommand::Status(args)) => db_status(&args),
            Command::Db(DbCommand::Records(args)) => db_records(&args),
            Command::Node(args) => crate::node::run(&args),
            Command::Decode(args) => crate::decode::run(&args),
            Command::Devnet(args) => crate::devnet::run(&args).map(drop),
            Command::Evidence(command) => crate::evidence::run(&command),
            Command::Stateless(args) => crate::stateless::run(&args),
            Command::Load(args) => crate::load::run(&args),
        }
    }
}

fn init(args: &InitArgs) -> eyre::Result<()> {
    let spec = ChainSpec::load(&args.rollup_config, &args.genesis)?;
    let env = DatabaseEnv::open(&args.datadir.datadir, DatabaseMode::ReadWrite)
        .wrap_err_with(|| format!("opening {}", args.datadir.datadir.display()))?;
    let executor = ChainExecutor::new(Arc::new(spec));
    let tx = env.tx_mut()?;
    let info = executor.init_genesis(&tx)?;
    if info.newly_written {
        tx.commit()?;
    }
    let expected = executor.spec().expected_genesis_hash();
    if info.hash != expected {
        tracing::warn!(
            computed = %info.hash, %expected,
            "the genesis hash differs from genesis.l2.hash in rollup.json"
        );
    }
    let out = serde_json::json!({
        "chainId": executor.chain_id(),
        "stateRoot": info.state_root,
        "blockHash": info.hash,
        "written": info.newly_written,
    });
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}

fn db_stats(args: &DatadirArgs) -> eyre::Result<()> {
    let env = DatabaseEnv::open(&args.datadir, DatabaseMode::ReadOnly)
        .wrap_err_with(|| format!("opening {}", args.datadir.display()))?;
    let stats = env.table_stats()?;
    println!("{:<20} {:>12} {:>14}", "table", "entries", "size");
    let (mut entries, mut size) = (0, 0);
    for table in &stats {
        println!("{:<20} {:>12} {:>14}", table.name, table.entries, human_bytes(table.size));
        entries += table.entries;
        size += table.size;
    }
    println!("{:<20} {:>12} {:>14}", "total", entries, human_bytes(size));
    Ok(())
}

fn db_status(args: &DatadirArgs) -> eyre::Result<()> {
    let env = DatabaseEnv::open(&args.datadir, DatabaseMode::ReadOnly)
        .wrap_err_with(|| format!("opening {}", args.datadir.display()))?;
    let report = lockstep_node::cursor_report(&env)?;
    let chains: Vec<_> = report
        .chains
        .iter()
        .map(|c| {
            serde_json::json!({
                "chainId": c.chain_id,
                "head": {"number": c.head.0, "hash": c.head.1},
                "l1Cursor": c.cursor.map(|d| serde_json::json!({"number": d.l1_number, "hash": d.l1_hash})),
            })
        })
        .collect();
    // every closed batch was checked in the transaction that closed it
    let tx = env.tx()?;
    let batches = tx.entries::<lockstep_storage::tables::SuperchainBatches>()? as u64;
    let checked = lockstep_crosschain::verdicts_checked(&tx)?;
    let flagged = lockstep_crosschain::flagged_count(&tx)?;
    let consistent = report.consistent() && batches == checked;
    let out = serde_json::json!({
        "l1": report.l1.map(|(n, h)| serde_json::json!({"number": n, "hash": h})),
        "consistent": consistent,
        "chains": chains,
        "batches": batches,
        "batchesChecked": checked,
        "flagged": flagged,
    });
    println!("{}", serde_json::to_string_pretty(&out)?);
    if !consistent {
        std::process::exit(2);
    }
    Ok(())
}

fn db_records(args: &DatadirArgs) -> eyre::Result<()> {
    use lockstep_storage::tables;
    use std::io::Write;
    let env = DatabaseEnv::open(&args.datadir, DatabaseMode::ReadOnly)
        .wrap_err_with(|| format!("opening {}", args.datadir.display()))?;
    let tx = env.tx()?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut failed = None;
    let mut line = |table: &str, key: String, value: &[u8]| {
        let written = writeln!(out, "{table} {key} {}", String::from_utf8_lossy(value));
        if let Err(e) = written {
            failed.get_or_insert(e);
        }
    };
    tx.for_each_prefix::<tables::BatchVerdicts>(&[], |k, v| {
        line("verdict", k.to_string(), &v);
        Ok(true)
    })?;
    tx.for_each_prefix::<tables::FlaggedBatches>(&[], |k, v| {
        line("flagged", k.to_string(), v.to_string().as_bytes());
        Ok(true)
    })?;
    tx.for_each_prefix::<tables::Transfers>(&[], |(s, d, n), v| {
        line("transfer", format!("{s}/{d}/{n}"), &v);
        Ok(true)
    })?;
    tx.for_each_prefix::<tables::BatchCommitments>(&[], |k, v| {
        line("commitments", k.to_string(), &v);
        Ok(true)
    })?;
    if let Some(e) = failed {
        return Err(e.into());
    }
    out.flush()?;
    Ok(())
}

fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// `--atomicity`: what "at the same time" means for a burn and its mint (DESIGN.md 5.6).
#[derive(Debug, Clone, Copy, Default, ValueEnum)]
pub(crate) enum AtomicityArg {
    /// The mint is in its burn's superchain batch.
    #[default]
    Batch,
    /// The mint is at its burn's L2 timestamp; otherwise the batch is flagged
    /// `TimestampMismatch`.
    Timestamp,
}

impl From<AtomicityArg> for lockstep_crosschain::Atomicity {
    fn from(arg: AtomicityArg) -> Self {
        match arg {
            AtomicityArg::Batch => Self::Batch,
            AtomicityArg::Timestamp => Self::Timestamp,
        }
    }
}
