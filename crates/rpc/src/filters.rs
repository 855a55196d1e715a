//! Polled filters, as geth and reth keep them: `eth_newBlockFilter`, `eth_newFilter`,
//! `eth_getFilterChanges`, `eth_getFilterLogs` and `eth_uninstallFilter`.
//!
//! A filter remembers the first block its next poll reports. Filters live in memory, one set
//! per endpoint: a restart forgets them (as in geth), and a filter not polled for
//! [`FILTER_TIMEOUT`] is dropped. At most [`MAX_FILTERS`] exist at once, and one poll reports at
//! most the log range and log count of `eth_getLogs`; what is left comes at the next poll.
//! When the node unwinds blocks (an L1 reorg), a filter goes on from the new head and reports
//! no removed logs.

use crate::{
    eth::{log_filter_object, Chain, LogMatcher, Provider},
    superchain::{invalid_params, params_by_name, required, server_error},
};
use jsonrpsee::types::{ErrorObjectOwned, Params};
use lockstep_storage::ChainProvider;
use serde_json::{json, Value};
use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

/// The most filters one endpoint keeps at once.
pub const MAX_FILTERS: usize = 1024;

/// A filter not polled for this long is dropped (geth's deadline).
pub const FILTER_TIMEOUT: Duration = Duration::from_secs(300);

/// The most block hashes one poll of a block filter returns.
pub const MAX_FILTER_BLOCKS: u64 = 10_000;

#[derive(Debug, Clone)]
enum Kind {
    Blocks,
    Logs {
        /// `None`: from the head when the filter was made.
        from: Option<u64>,
        /// `None`: up to the head at each poll.
        to: Option<u64>,
        matcher: LogMatcher,
    },
}

#[derive(Debug)]
struct Installed {
    kind: Kind,
    /// The first block the next poll reports.
    next: u64,
    /// The head at the last poll (or when the filter was made).
    seen: u64,
    polled: Instant,
}

/// One endpoint's filters.
#[derive(Debug, Default)]
pub(crate) struct Filters {
    installed: Mutex<HashMap<u128, Installed>>,
}

fn parse_id(params: &Params<'_>) -> Result<u128, ErrorObjectOwned> {
    let p = params_by_name(params, &["id"])?;
    let value = required("id", &p[0])?;
    value
        .as_str()
        .and_then(|s| s.strip_prefix("0x"))
        .filter(|hex| !hex.is_empty() && hex.len() <= 32)
        .and_then(|hex| u128::from_str_radix(hex, 16).ok())
        .ok_or_else(|| invalid_params(format!("`id` must be a filter id (0x hex), got {value}")))
}

fn not_found() -> ErrorObjectOwned {
    // geth's answer for an unknown, expired or uninstalled filter
    server_error("filter not found")
}

impl Filters {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u128, Installed>> {
        // a handler that panicked while holding the lock left nothing half-written
        self.installed.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn install(&self, kind: Kind, next: u64, seen: u64) -> Result<Value, ErrorObjectOwned> {
        let mut installed = self.lock();
        installed.retain(|_, f| f.polled.elapsed() < FILTER_TIMEOUT);
        if installed.len() >= MAX_FILTERS {
            return Err(ErrorObjectOwned::owned(
                -32005,
                format!("{MAX_FILTERS} filters are installed; uninstall one first"),
                None::<()>,
            ));
        }
        let id = loop {
            let id = rand::random::<u128>();
            if id != 0 && !installed.contains_key(&id) {
                break id;
            }
        };
        installed.insert(id, Installed { kind, next, seen, polled: Instant::now() });
        Ok(json!(format!("0x{id:032x}")))
    }

    /// The filter `id`'s kind, next block and head last seen, marking it polled.
    fn poll(&self, id: u128) -> Result<(Kind, u64, u64), ErrorObjectOwned> {
        let mut installed = self.lock();
        installed.retain(|_, f| f.polled.elapsed() < FILTER_TIMEOUT);
        let filter = installed.get_mut(&id).ok_or_else(not_found)?;
        filter.polled = Instant::now();
        Ok((filter.kind.clone(), filter.next, filter.seen))
    }

    fn advance(&self, id: u128, next: u64, seen: u64) {
        if let Some(filter) = self.lock().get_mut(&id) {
            filter.next = next;
            filter.seen = seen;
        }
    }
}

impl Chain {
    /// `eth_newBlockFilter()`: reports the hash of each block after the current head.
    pub(crate) fn new_block_filter(&self) -> Result<Value, ErrorObjectOwned> {
        let tx = self.tx()?;
        let head = self.head(&ChainProvider::new(&tx, self.chain_id))?;
        self.filters.install(Kind::Blocks, head + 1, head)
    }

    /// `eth_newFilter(filter)`: reports the logs `filter` selects in each block after the
    /// current head (or from its `fromBlock`), up to its `toBlock`.
    pub(crate) fn new_log_filter(&self, params: &Params<'_>) -> Result<Value, ErrorObjectOwned> {
        let p = params_by_name(params, &["filter"])?;
        let filter = log_filter_object(required("filter", &p[0])?)?;
        if filter.contains_key("blockHash") {
            return Err(invalid_params("a filter follows new blocks: `blockHash` is not taken"));
        }
        let matcher = LogMatcher::parse(filter)?;
        let tx = self.tx()?;
        let provider = ChainProvider::new(&tx, self.chain_id);
        let from = self.filter_bound(&tx, &provider, filter.get("fromBlock"))?;
        let to = self.filter_bound(&tx, &provider, filter.get("toBlock"))?;
        if let (Some(from), Some(to)) = (from, to) {
            if from > to {
                return Err(invalid_params(format!("fromBlock {from} is after toBlock {to}")));
            }
        }
        let head = self.head(&provider)?;
        let next = from.unwrap_or(head + 1);
        self.filters.install(Kind::Logs { from, to, matcher }, next, head)
    }

    /// `eth_getFilterChanges(id)`: what the filter selects since its last poll.
    pub(crate) fn filter_changes(&self, params: &Params<'_>) -> Result<Value, ErrorObjectOwned> {
        let id = parse_id(params)?;
        let (kind, next, seen) = self.filters.poll(id)?;
        let tx = self.tx()?;
        let provider = ChainProvider::new(&tx, self.chain_id);
        let head = self.head(&provider)?;
        // blocks were unwound under the filter: go on from the new head
        let next = if head < seen { next.min(head + 1) } else { next };
        match kind {
            Kind::Blocks => {
                let last = head.min(next.saturating_add(MAX_FILTER_BLOCKS - 1));
                let mut hashes = Vec::new();
                for number in next..=last {
                    if let Some(hash) = provider.block_hash(number).map_err(server_error)? {
                        hashes.push(json!(hash));
                    }
                }
                self.filters.advance(id, last.max(next - 1) + 1, head);
                Ok(Value::Array(hashes))
            }
            Kind::Logs { to, matcher, .. } => {
                let end = to.map_or(head, |to| to.min(head));
                if next > end {
                    self.filters.advance(id, next, head);
                    return Ok(json!([]));
                }
                let end = end.min(next + self.limits.max_log_range - 1);
                let (logs, covered) = self.logs_in(&provider, next, end, &matcher, true)?;
                self.filters.advance(id, covered + 1, head);
                Ok(Value::Array(logs))
            }
        }
    }

    /// `eth_getFilterLogs(id)`: every log the filter selects from its `fromBlock` to its
    /// `toBlock` (the head for `latest`), within `eth_getLogs`'s limits.
    pub(crate) fn filter_logs(&self, params: &Params<'_>) -> Result<Value, ErrorObjectOwned> {
        let id = parse_id(params)?;
        let (kind, _, _) = self.filters.poll(id)?;
        let Kind::Logs { from, to, matcher } = kind else {
            return Err(invalid_params("filter is a block filter, not a log filter"));
        };
        let tx = self.tx()?;
        let provider: Provider<'_> = ChainProvider::new(&tx, self.chain_id);
        let head = self.head(&provider)?;
        let to = to.map_or(head, |to| to.min(head));
        let from = from.unwrap_or(head);
        if from > to {
            return Ok(json!([]));
        }
        let (logs, _) = self.logs_in(&provider, from, to, &matcher, false)?;
        Ok(Value::Array(logs))
    }

    /// `eth_uninstallFilter(id)`: whether there was such a filter.
    pub(crate) fn uninstall_filter(&self, params: &Params<'_>) -> Result<Value, ErrorObjectOwned> {
        let id = parse_id(params)?;
        Ok(json!(self.filters.lock().remove(&id).is_some()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_distinct_and_the_store_is_bounded() {
        let filters = Filters::default();
        let mut ids = std::collections::HashSet::new();
        for _ in 0..MAX_FILTERS {
            let id = filters.install(Kind::Blocks, 1, 0).unwrap();
            assert!(ids.insert(id.as_str().unwrap().to_string()));
        }
        let full = filters.install(Kind::Blocks, 1, 0).unwrap_err();
        assert_eq!(full.code(), -32005);
        let some = ids.iter().next().unwrap();
        let id = u128::from_str_radix(some.trim_start_matches("0x"), 16).unwrap();
        assert!(filters.poll(id).is_ok());
        assert!(filters.lock().remove(&id).is_some());
        assert!(filters.install(Kind::Blocks, 1, 0).is_ok(), "room again after an uninstall");
        assert_eq!(filters.poll(7).unwrap_err().message(), "filter not found");
    }
}
