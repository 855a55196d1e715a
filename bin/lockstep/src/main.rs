//! `lockstep`: a full node that follows every chain of an OP Stack superchain from L1 and checks
//! their cross-chain transfers. This binary only parses flags and calls into the crates.

use clap::Parser;

mod cli;
mod decode;
mod devnet;
mod evidence;
mod load;
mod node;
mod stateless;

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
        // colours only for a person at a terminal, never in a file or a pipe
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match cli::Cli::parse().run() {
        Ok(false) => {}
        // DESIGN.md 7: something was flagged, so that a run can serve as a check in CI
        Ok(true) => std::process::exit(3),
        Err(err) => {
            eprintln!("Error: {err:?}");
            std::process::exit(1);
        }
    }
}
