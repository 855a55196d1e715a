//! A load generator for the `eth_` endpoints, to show that serving cannot stop syncing: many
//! keep-alive connections, each sending one request after another from a mix of the heaviest
//! reads (`eth_call`, `eth_getLogs` over wide ranges, `eth_getBalance` at old blocks,
//! `eth_getBlockByNumber` with full transactions, batches of 100), for a bounded time. It
//! reports requests per second, latency percentiles and the answers by kind.
//!
//! The client is a plain HTTP/1.1 one over tokio's TCP (one connection per worker, reopened if
//! the server closes it), so that the connection count is exactly what was asked for.
//!
//! Good starting point: [`run`].

mod client;
mod error;
mod mix;
mod report;

pub use client::Connection;
pub use error::LoadError;
pub use mix::{Call, Mix};
pub use report::{LoadReport, Outcome};

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

/// What to run.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// The `eth_` endpoints (host:port), requests spread over them.
    pub targets: Vec<SocketAddr>,
    /// Concurrent connections (each sends its next request when the last is answered).
    pub connections: usize,
    /// How long to run.
    pub duration: Duration,
    /// The address calls and balance reads are made against (a contract with state).
    pub contract: String,
    /// The seed of the request mix.
    pub seed: u64,
}

/// Runs the load on a runtime of its own and reports.
pub fn run(options: &LoadOptions) -> Result<LoadReport, LoadError> {
    if options.targets.is_empty() {
        return Err(LoadError::Options("no target endpoint".into()));
    }
    if options.connections == 0 {
        return Err(LoadError::Options("at least one connection".into()));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(LoadError::Runtime)?;
    runtime.block_on(drive(options))
}

async fn drive(options: &LoadOptions) -> Result<LoadReport, LoadError> {
    let started = Instant::now();
    let deadline = started + options.duration;
    let head = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let samples = Arc::new(Mutex::new(report::Samples::default()));
    let mut workers = Vec::with_capacity(options.connections);
    for i in 0..options.connections {
        let target = options.targets[i % options.targets.len()];
        let mut mix = Mix::new(options.seed.wrapping_add(i as u64), &options.contract);
        let (head, samples) = (head.clone(), samples.clone());
        workers.push(tokio::spawn(async move {
            let mut connection = Connection::new(target);
            let mut local = report::Samples::default();
            while Instant::now() < deadline {
                let call = mix.next(head.load(std::sync::atomic::Ordering::Relaxed));
                let sent = Instant::now();
                let outcome = match connection.post(&call.body).await {
                    Ok(body) => {
                        let outcome = Outcome::of(&body, call.batch);
                        if let Some(number) = report::block_number(&call, &body) {
                            head.fetch_max(number, std::sync::atomic::Ordering::Relaxed);
                        }
                        outcome
                    }
                    Err(err) => {
                        // a refused or reset connection: wait a little before the next try
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        Outcome::Transport(err.to_string())
                    }
                };
                local.push(call.kind, sent.elapsed(), outcome);
            }
            if let Ok(mut all) = samples.lock() {
                all.merge(local);
            }
        }));
    }
    for worker in workers {
        worker.await.map_err(|e| LoadError::Worker(e.to_string()))?;
    }
    let samples = std::mem::take(
        &mut *samples.lock().map_err(|_| LoadError::Worker("a worker panicked".into()))?,
    );
    Ok(samples.report(options.connections, started.elapsed()))
}
