//! `lockstep`: a full node that follows every chain of an OP Stack superchain from L1 and checks
//! their cross-chain transfers. This binary only parses flags and calls into the crates.

use clap::Parser;

mod cli;
mod decode;
mod devnet;
mod node;

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                // lockstep at INFO; the libraries (kona's pipeline stages log every batch at
                // INFO) at WARN
                .unwrap_or_else(|_| {
                    tracing_subscriber::EnvFilter::new(
                        "warn,lockstep=info,lockstep_node=info,lockstep_devnet=info,\
                         lockstep_sequencer=info,lockstep_l1=info",
                    )
                }),
        )
        .with_writer(std::io::stderr)
        .init();
    if let Err(err) = cli::Cli::parse().run() {
        eprintln!("Error: {err:?}");
        std::process::exit(1);
    }
}
