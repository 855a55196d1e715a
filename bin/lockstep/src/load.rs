//! `lockstep load`: drives `eth_` endpoints with a mix of heavy reads and reports what they
//! answered and how fast (see `lockstep_load`).

use clap::Args;
use eyre::WrapErr;
use std::time::Duration;

/// Flags of `lockstep load`.
#[derive(Debug, Args)]
pub(crate) struct LoadArgs {
    /// An `eth_` endpoint to load (`http://HOST:PORT`); repeat it to spread the connections
    /// over several (a node's chains).
    #[arg(long = "url", required = true, value_name = "URL")]
    urls: Vec<String>,
    /// Concurrent keep-alive connections; each sends its next request once the last is
    /// answered.
    #[arg(long, default_value_t = 256)]
    connections: usize,
    /// Seconds to run.
    #[arg(long, default_value_t = 30.0)]
    duration: f64,
    /// The account whose balance and logs are read (default: the devnet's bridge).
    #[arg(long, value_name = "ADDRESS")]
    contract: Option<String>,
    /// Seed of the request mix.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Print the report as JSON instead of a table.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(args: &LoadArgs) -> eyre::Result<()> {
    let mut targets = Vec::new();
    for url in &args.urls {
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| eyre::eyre!("--url {url}: only http:// endpoints are loaded"))?;
        let host = rest.trim_end_matches('/');
        let addr = std::net::ToSocketAddrs::to_socket_addrs(host)
            .wrap_err_with(|| format!("--url {url}"))?
            .next()
            .ok_or_else(|| eyre::eyre!("--url {url}: no address"))?;
        targets.push(addr);
    }
    let duration = Duration::try_from_secs_f64(args.duration)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| eyre::eyre!("--duration must be a positive number of seconds"))?;
    let options = lockstep_load::LoadOptions {
        targets,
        connections: args.connections,
        duration,
        contract: args.contract.clone().unwrap_or_else(|| lockstep_devnet::BRIDGE.to_string()),
        seed: args.seed,
    };
    tracing::info!(
        connections = options.connections,
        seconds = args.duration,
        endpoints = options.targets.len(),
        "load: running"
    );
    let report = lockstep_load::run(&options)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("{report}");
    }
    Ok(())
}
