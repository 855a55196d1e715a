//! `lockstep evidence export`: a flagged batch's evidence as versioned JSON; `lockstep evidence
//! block`: one block with its execution witness, for `lockstep stateless` anywhere.

use clap::{Args, Subcommand};
use eyre::{bail, WrapErr};
use lockstep_storage::{DatabaseEnv, DatabaseMode};
use std::{io::Write, path::PathBuf};

/// `lockstep evidence …`
#[derive(Debug, Subcommand)]
pub(crate) enum EvidenceCommand {
    /// Write a flagged batch's evidence (DESIGN.md 5.5) as versioned JSON: the L1 block that
    /// closed it, every chain's range and output root with its parts, both roots of every pair,
    /// and for every difference the transfer, transaction, block, log position and Merkle proof.
    /// The README documents the schema. Fails if the batch was not checked or matches.
    Export(ExportArgs),
    /// Write one stored block of one chain as a file for `lockstep stateless`: the rollup
    /// config, the parent header, the block's payload attributes, its execution witness (as
    /// `debug_executionWitness` gives it) and, as `expected`, its hash and header. Anyone can
    /// then re-execute the block without this node, with its own build.
    Block(BlockArgs),
}

/// Flags of `lockstep evidence block`.
#[derive(Debug, Args)]
pub(crate) struct BlockArgs {
    /// The node's database directory.
    #[arg(long, env = "LOCKSTEP_DATADIR", value_name = "DIR")]
    datadir: PathBuf,
    /// The chain's op-node rollup config (`rollup.json`, or the chain's superchain-registry
    /// TOML with its `superchain.toml` beside it); it names the chain.
    #[arg(long = "rollup-config", env = "LOCKSTEP_ROLLUP_CONFIG", value_name = "FILE")]
    rollup_config: PathBuf,
    /// The block number.
    #[arg(long, value_name = "N")]
    block: u64,
    /// Write here instead of stdout (written whole, then renamed into place).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

/// Flags of `lockstep evidence export`.
#[derive(Debug, Args)]
pub(crate) struct ExportArgs {
    /// The node's database directory.
    #[arg(long, env = "LOCKSTEP_DATADIR", value_name = "DIR")]
    datadir: PathBuf,
    /// The superchain batch index.
    #[arg(long, value_name = "N")]
    batch: u64,
    /// Write here instead of stdout (written whole, then renamed into place).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

pub(crate) fn run(command: &EvidenceCommand) -> eyre::Result<()> {
    let args = match command {
        EvidenceCommand::Export(args) => args,
        EvidenceCommand::Block(args) => return block(args),
    };
    let env = DatabaseEnv::open(&args.datadir, DatabaseMode::ReadOnly)
        .wrap_err_with(|| format!("opening {}", args.datadir.display()))?;
    let tx = env.tx()?;
    let Some(verdict) = lockstep_crosschain::verdict(&tx, args.batch)? else {
        let checked = lockstep_crosschain::verdicts_checked(&tx)?;
        bail!("batch {} has not been checked (this database has checked {checked})", args.batch);
    };
    if verdict.matches {
        bail!(
            "batch {} matches (L1 block {}): every pair's roots agree, so there is no evidence",
            args.batch,
            verdict.l1_block
        );
    }
    let mut json = serde_json::to_string_pretty(&verdict)?;
    json.push('\n');
    write_out(args.out.as_ref(), &json)?;
    if let Some(path) = &args.out {
        tracing::info!(batch = args.batch, out = %path.display(), "evidence written");
    }
    Ok(())
}

fn block(args: &BlockArgs) -> eyre::Result<()> {
    let rollup = lockstep_chainspec::load_rollup(&args.rollup_config)?;
    let chain = rollup.l2_chain_id.id();
    let env = DatabaseEnv::open(&args.datadir, DatabaseMode::ReadOnly)
        .wrap_err_with(|| format!("opening {}", args.datadir.display()))?;
    let tx = env.tx()?;
    let witness = lockstep_execution::execution_witness(&rollup, &tx, chain, args.block)
        .wrap_err_with(|| format!("chain {chain} block {}", args.block))?;
    let header = lockstep_storage::ChainProvider::new(&tx, chain)
        .header(args.block)?
        .ok_or_else(|| eyre::eyre!("chain {chain}: block {} is not stored", args.block))?;
    let file = lockstep_execution::StatelessBlock {
        chain_id: Some(chain),
        parent_hash: Some(witness.parent.hash_slow()),
        rollup_config: rollup,
        parent_header: witness.parent,
        payload_attributes: witness.attributes,
        witness: witness.witness,
        expected: Some(lockstep_execution::ExpectedBlock {
            block_hash: witness.hash,
            header: Some(header),
        }),
    };
    let mut json = serde_json::to_string_pretty(&file)?;
    json.push('\n');
    write_out(args.out.as_ref(), &json)
}

/// Writes `json` to stdout, or whole to `out` and then renamed into place.
fn write_out(out: Option<&PathBuf>, json: &str) -> eyre::Result<()> {
    match out {
        None => std::io::stdout().write_all(json.as_bytes())?,
        Some(path) => {
            let tmp = path.with_extension("tmp");
            std::fs::write(&tmp, json).wrap_err_with(|| format!("writing {}", tmp.display()))?;
            std::fs::rename(&tmp, path)
                .wrap_err_with(|| format!("moving {} to {}", tmp.display(), path.display()))?;
        }
    }
    Ok(())
}
