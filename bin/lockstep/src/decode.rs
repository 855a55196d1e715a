//! `lockstep decode`: frames, channels and batches in a piece of batcher data.

use clap::{Args, ValueEnum};
use eyre::WrapErr;
use lockstep_derive::decode::{decode, detect, read_input, InputKind};
use std::{io::Read, path::PathBuf};

#[derive(Debug, Clone, Copy, ValueEnum)]
enum KindArg {
    /// Guess: a blob by its size, a transaction by its type byte, calldata by its version byte.
    Auto,
    /// A raw signed L1 transaction (EIP-2718).
    Transaction,
    /// Batcher calldata: version byte 0, then frames.
    Calldata,
    /// One 131,072-byte blob in the OP blob encoding.
    Blob,
    /// A compressed channel (zlib or brotli).
    Channel,
}

/// Flags of `lockstep decode`.
#[derive(Debug, Args)]
pub(crate) struct DecodeArgs {
    /// The input file, binary or hex text; `.gz` files are gunzipped; `-` reads stdin.
    input: PathBuf,
    /// What the input is.
    #[arg(long, value_enum, default_value_t = KindArg::Auto)]
    kind: KindArg,
    /// The chain's rollup.json (or superchain-registry TOML), to turn span batch timestamps
    /// absolute.
    #[arg(long = "rollup-config", value_name = "FILE")]
    rollup_config: Option<PathBuf>,
}

pub(crate) fn run(args: &DecodeArgs) -> eyre::Result<()> {
    let mut raw = Vec::new();
    if args.input.as_os_str() == "-" {
        std::io::stdin().read_to_end(&mut raw)?;
    } else {
        let file = std::fs::File::open(&args.input)
            .wrap_err_with(|| format!("opening {}", args.input.display()))?;
        if args.input.extension().is_some_and(|e| e == "gz") {
            flate2::read::GzDecoder::new(file)
                .read_to_end(&mut raw)
                .wrap_err_with(|| format!("gunzipping {}", args.input.display()))?;
        } else {
            std::io::BufReader::new(file).read_to_end(&mut raw)?;
        }
    }
    let data = read_input(&raw);
    let rollup = match &args.rollup_config {
        Some(path) => Some(lockstep_chainspec::load_rollup(path)?),
        None => None,
    };
    let kind = match args.kind {
        KindArg::Auto => detect(&data),
        KindArg::Transaction => InputKind::Transaction,
        KindArg::Calldata => InputKind::Calldata,
        KindArg::Blob => InputKind::Blob,
        KindArg::Channel => InputKind::Channel,
    };
    let report = decode(&data, kind, rollup.as_ref())
        .wrap_err_with(|| format!("decoding {} as {kind:?}", args.input.display()))?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
