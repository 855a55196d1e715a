//! Progress reporting at a steady pace.

use crate::StepOutcome;
use std::time::{Duration, Instant};

/// Accumulates what the node did and reports it at most once per interval: the L1 head and
/// cursor, every chain's head, batches closed and flagged, blocks/s, Mgas/s and the ETA to the L1 tip.
#[derive(Debug)]
pub struct Progress {
    interval: Duration,
    started: Instant,
    last_report: Instant,
    window_l1: u64,
    window_blocks: u64,
    window_gas: u64,
    /// L1 blocks processed in all.
    pub l1_blocks: u64,
    /// L2 blocks derived and executed in all, every chain together.
    pub l2_blocks: u64,
    /// Gas executed in all.
    pub gas: u64,
    /// Superchain batches closed.
    pub batches: u64,
    /// Batches flagged in the database (set by the caller from [`crate::Node::flagged_count`]).
    pub flagged: u64,
    /// L1 reorgs handled.
    pub reorgs: u64,
    /// The last L1 block processed.
    pub l1_cursor: Option<u64>,
    /// Each chain's head: `(chain id, number)`.
    pub heads: Vec<(u64, u64)>,
}

impl Progress {
    /// A meter that reports at most every `interval`.
    pub fn new(interval: Duration) -> Self {
        let now = Instant::now();
        Self {
            interval,
            started: now,
            last_report: now,
            window_l1: 0,
            window_blocks: 0,
            window_gas: 0,
            l1_blocks: 0,
            l2_blocks: 0,
            gas: 0,
            batches: 0,
            flagged: 0,
            reorgs: 0,
            l1_cursor: None,
            heads: Vec::new(),
        }
    }

    /// Counts one step's outcome.
    pub fn record(&mut self, outcome: &StepOutcome) {
        match outcome {
            StepOutcome::Processed { l1_number, chains, batch, .. } => {
                self.l1_blocks += 1;
                self.window_l1 += 1;
                self.l1_cursor = Some(*l1_number);
                self.heads = chains.iter().map(|c| (c.chain_id, c.head)).collect();
                for chain in chains {
                    self.l2_blocks += chain.blocks;
                    self.window_blocks += chain.blocks;
                    self.gas += chain.gas;
                    self.window_gas += chain.gas;
                }
                self.batches += u64::from(batch.is_some());
            }
            StepOutcome::Reorged { ancestor, .. } => {
                self.reorgs += 1;
                self.l1_cursor = *ancestor;
            }
        }
    }

    /// Time since the meter started.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Logs a progress line if the interval has passed (or `force`), given the L1 head.
    pub fn maybe_report(&mut self, l1_head: u64, force: bool) {
        let elapsed = self.last_report.elapsed();
        if !force && elapsed < self.interval {
            return;
        }
        let secs = elapsed.as_secs_f64().max(1e-9);
        let l1_rate = self.window_l1 as f64 / secs;
        let behind = l1_head.saturating_sub(self.l1_cursor.unwrap_or_default());
        let eta = if behind == 0 {
            "synced".to_string()
        } else if l1_rate > 0.0 {
            format!("{:.0}s", behind as f64 / l1_rate)
        } else {
            "unknown".to_string()
        };
        let heads: Vec<String> = self.heads.iter().map(|(c, n)| format!("{c}:{n}")).collect();
        tracing::info!(
            target: "lockstep::node",
            l1_head,
            l1_cursor = self.l1_cursor,
            heads = %heads.join(" "),
            batches = self.batches,
            flagged = self.flagged,
            blocks_per_s = format_args!("{:.1}", self.window_blocks as f64 / secs),
            mgas_per_s = format_args!("{:.1}", self.window_gas as f64 / secs / 1e6),
            eta = %eta,
            "sync progress"
        );
        self.last_report = std::time::Instant::now();
        self.window_l1 = 0;
        self.window_blocks = 0;
        self.window_gas = 0;
    }
}
