//! `lockstep evidence export`: a flagged batch's evidence as versioned JSON.

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
    let EvidenceCommand::Export(args) = command;
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
    match &args.out {
        None => std::io::stdout().write_all(json.as_bytes())?,
        Some(path) => {
            let tmp = path.with_extension("tmp");
            std::fs::write(&tmp, &json).wrap_err_with(|| format!("writing {}", tmp.display()))?;
            std::fs::rename(&tmp, path)
                .wrap_err_with(|| format!("moving {} to {}", tmp.display(), path.display()))?;
            tracing::info!(batch = args.batch, out = %path.display(), "evidence written");
        }
    }
    Ok(())
}
