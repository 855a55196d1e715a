//! What a load run measured: latency percentiles per kind of call and the answers by outcome.

use crate::Call;
use serde::Serialize;
use serde_json::Value;
use std::{collections::BTreeMap, time::Duration};

/// How one request ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A result (for a batch: a result for every call).
    Result,
    /// A JSON-RPC error, by code (for a batch: the first error among its answers).
    RpcError(i64),
    /// The answer was not the JSON-RPC it should be.
    Malformed,
    /// No answer: the connection failed.
    Transport(String),
}

impl Outcome {
    /// Classifies the answer `body` to a call (a batch of `batch` calls, if it is one).
    pub fn of(body: &[u8], batch: Option<usize>) -> Self {
        let Ok(value) = serde_json::from_slice::<Value>(body) else { return Self::Malformed };
        match (batch, value) {
            (Some(n), Value::Array(answers)) if answers.len() == n => answers
                .iter()
                .map(Self::of_one)
                .find(|o| *o != Self::Result)
                .unwrap_or(Self::Result),
            (Some(_), one) => Self::of_one(&one),
            (None, one) => Self::of_one(&one),
        }
    }

    fn of_one(answer: &Value) -> Self {
        if answer.get("result").is_some() {
            Self::Result
        } else if let Some(code) = answer.pointer("/error/code").and_then(Value::as_i64) {
            Self::RpcError(code)
        } else {
            Self::Malformed
        }
    }

    fn label(&self) -> String {
        match self {
            Self::Result => "result".into(),
            Self::RpcError(code) => format!("error {code}"),
            Self::Malformed => "malformed".into(),
            Self::Transport(_) => "no answer".into(),
        }
    }
}

/// The block number an `eth_blockNumber` answer gives.
pub(crate) fn block_number(call: &Call, body: &[u8]) -> Option<u64> {
    if call.kind != "eth_blockNumber" {
        return None;
    }
    let value: Value = serde_json::from_slice(body).ok()?;
    u64::from_str_radix(value.get("result")?.as_str()?.trim_start_matches("0x"), 16).ok()
}

/// The raw measurements.
#[derive(Debug, Default)]
pub(crate) struct Samples {
    latencies: BTreeMap<&'static str, Vec<u32>>,
    outcomes: BTreeMap<String, u64>,
    transport: Vec<String>,
}

impl Samples {
    pub(crate) fn push(&mut self, kind: &'static str, took: Duration, outcome: Outcome) {
        let micros = u32::try_from(took.as_micros()).unwrap_or(u32::MAX);
        self.latencies.entry(kind).or_default().push(micros);
        *self.outcomes.entry(outcome.label()).or_default() += 1;
        if let Outcome::Transport(why) = outcome {
            if self.transport.len() < 5 {
                self.transport.push(why);
            }
        }
    }

    pub(crate) fn merge(&mut self, other: Self) {
        for (kind, mut list) in other.latencies {
            self.latencies.entry(kind).or_default().append(&mut list);
        }
        for (label, n) in other.outcomes {
            *self.outcomes.entry(label).or_default() += n;
        }
        for why in other.transport {
            if self.transport.len() < 5 {
                self.transport.push(why);
            }
        }
    }

    pub(crate) fn report(self, connections: usize, elapsed: Duration) -> LoadReport {
        let seconds = elapsed.as_secs_f64();
        let mut all: Vec<u32> = self.latencies.values().flatten().copied().collect();
        let kinds = self
            .latencies
            .into_iter()
            .map(|(kind, mut list)| (kind.to_string(), Latency::of(&mut list, seconds)))
            .collect();
        LoadReport {
            connections,
            seconds,
            total: Latency::of(&mut all, seconds),
            kinds,
            outcomes: self.outcomes,
            transport_errors: self.transport,
        }
    }
}

/// Requests, rate and latency percentiles of one kind of call.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Latency {
    /// Requests sent.
    pub requests: u64,
    /// Requests per second.
    pub per_second: f64,
    /// Median latency in milliseconds.
    pub p50_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// The slowest.
    pub max_ms: f64,
}

impl Latency {
    fn of(list: &mut [u32], seconds: f64) -> Self {
        list.sort_unstable();
        let at = |q: f64| {
            if list.is_empty() {
                return 0.0;
            }
            let i = ((list.len() as f64 * q) as usize).min(list.len() - 1);
            f64::from(list[i]) / 1e3
        };
        Self {
            requests: list.len() as u64,
            per_second: list.len() as f64 / seconds.max(1e-9),
            p50_ms: at(0.5),
            p90_ms: at(0.9),
            p99_ms: at(0.99),
            max_ms: at(1.0),
        }
    }
}

/// What a load run measured.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoadReport {
    /// Concurrent connections.
    pub connections: usize,
    /// How long it ran.
    pub seconds: f64,
    /// Every request together.
    pub total: Latency,
    /// By kind of call.
    pub kinds: BTreeMap<String, Latency>,
    /// Answers by outcome (`result`, `error <code>`, `malformed`, `no answer`).
    pub outcomes: BTreeMap<String, u64>,
    /// The first few reasons a request got no answer.
    pub transport_errors: Vec<String>,
}

impl LoadReport {
    /// Requests that got a JSON-RPC answer (a result or an error).
    pub fn answered(&self) -> u64 {
        self.outcomes
            .iter()
            .filter(|(label, _)| label.as_str() == "result" || label.starts_with("error"))
            .map(|(_, n)| n)
            .sum()
    }
}

impl std::fmt::Display for LoadReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "{} requests in {:.1} s over {} connections: {:.0} req/s",
            self.total.requests, self.seconds, self.connections, self.total.per_second
        )?;
        writeln!(
            f,
            "{:<22} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
            "call", "requests", "req/s", "p50 ms", "p90 ms", "p99 ms", "max ms"
        )?;
        let all = "all".to_string();
        let rows = self.kinds.iter().chain(std::iter::once((&all, &self.total)));
        for (kind, l) in rows {
            writeln!(
                f,
                "{kind:<22} {:>9} {:>9.0} {:>9.2} {:>9.2} {:>9.2} {:>9.1}",
                l.requests, l.per_second, l.p50_ms, l.p90_ms, l.p99_ms, l.max_ms
            )?;
        }
        let outcomes: Vec<String> =
            self.outcomes.iter().map(|(k, n)| format!("{k}: {n}")).collect();
        write!(f, "answers: {}", outcomes.join(", "))?;
        for why in &self.transport_errors {
            write!(f, "\n  no answer: {why}")?;
        }
        Ok(())
    }
}
