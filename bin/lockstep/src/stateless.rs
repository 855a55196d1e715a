//! `lockstep stateless`: one block re-executed from an execution witness, with no database.

use clap::Args;
use lockstep_execution::{execute_stateless, header_mismatches, StatelessBlock};
use std::{io::Read, path::PathBuf};

/// Flags of `lockstep stateless`.
#[derive(Debug, Args)]
pub(crate) struct StatelessArgs {
    /// The block file (JSON, plain or gzipped; `-` reads stdin) with the keys `rollupConfig`
    /// (op-node's rollup.json), `parentHeader`, `payloadAttributes`, `witness` (`state`,
    /// `codes`, `keys`, `headers`, as `debug_executionWitness` returns it) and optionally
    /// `chainId`, `parentHash` and `expected` (`blockHash`, `header`).
    file: PathBuf,
}

/// Runs the command; exits 1 when the block differs from `expected`, 2 on bad input.
pub(crate) fn run(args: &StatelessArgs) -> eyre::Result<()> {
    match execute(args) {
        Ok(true) => Ok(()),
        Ok(false) => std::process::exit(1),
        Err(err) => {
            eprintln!("Error: {err:?}");
            std::process::exit(2);
        }
    }
}

/// Executes the file's block and prints the result; `Ok(false)` on a mismatch.
fn execute(args: &StatelessArgs) -> eyre::Result<bool> {
    let mut raw = Vec::new();
    let limit = lockstep_execution::MAX_FILE_BYTES;
    if args.file.as_os_str() == "-" {
        std::io::stdin().take(limit + 1).read_to_end(&mut raw)?;
    } else {
        let file = std::fs::File::open(&args.file)
            .map_err(|e| eyre::eyre!("reading {}: {e}", args.file.display()))?;
        file.take(limit + 1)
            .read_to_end(&mut raw)
            .map_err(|e| eyre::eyre!("reading {}: {e}", args.file.display()))?;
    }
    if raw.len() as u64 > limit {
        eyre::bail!("{}: larger than {limit} bytes", args.file.display());
    }
    let input = StatelessBlock::from_slice(&raw)
        .map_err(|e| eyre::eyre!("{}: {e}", args.file.display()))?;
    let block = execute_stateless(&input).map_err(|e| {
        eyre::eyre!("{}: block after {}: {e}", args.file.display(), input.parent_header.number)
    })?;
    let header = &block.header;
    let mut header_json = serde_json::to_value(header)?;
    if let Some(map) = header_json.as_object_mut() {
        map.insert("hash".into(), serde_json::to_value(block.hash)?);
    }
    let mut out = serde_json::json!({
        "blockHash": block.hash,
        "number": header.number,
        "stateRoot": header.state_root,
        "receiptsRoot": header.receipts_root,
        "transactionsRoot": header.transactions_root,
        "logsBloom": header.logs_bloom,
        "gasUsed": header.gas_used,
        "withdrawalsRoot": header.withdrawals_root,
        "transactions": block.transactions.len(),
        "header": header_json,
    });
    let mut matches = true;
    if let Some(expected) = &input.expected {
        matches = expected.block_hash == block.hash;
        let mismatches = match &expected.header {
            Some(real) => header_mismatches(header, real),
            None => Vec::new(),
        };
        matches &= mismatches.is_empty();
        out["expectedBlockHash"] = serde_json::to_value(expected.block_hash)?;
        out["matches"] = matches.into();
        if !matches {
            out["mismatches"] = serde_json::to_value(&mismatches)?;
        }
    }
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(matches)
}
