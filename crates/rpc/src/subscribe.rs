//! `eth_subscribe` over WebSocket (the same port as HTTP): `newHeads` and `logs`, as geth and
//! reth push them, and `eth_unsubscribe`.
//!
//! Each subscription polls the database every [`SUBSCRIPTION_POLL`] through the endpoint's
//! [`CallPool`], like any other call: a subscription takes a reader slot and a worker only for
//! the moment of a read, so subscribers can slow each other but never the sync loop. One poll
//! pushes at most [`MAX_PUSHED_HEADS`] headers, or `eth_getLogs`'s block range and (cut at a
//! block boundary) its log count; the rest follows at the next poll. A connection holds at most
//! [`MAX_SUBSCRIPTIONS_PER_CONNECTION`]. After an L1 reorg unwinds blocks, a subscription goes
//! on from the new head; no `removed` logs are sent.

use crate::{
    eth::{block_json, log_filter_object, Chain, LogMatcher},
    pool::CallPool,
    superchain::{invalid_params, server_error},
};
use jsonrpsee::{
    core::SubscriptionResult,
    types::{ErrorObjectOwned, Params},
    PendingSubscriptionSink, SubscriptionMessage,
};
use lockstep_storage::ChainProvider;
use serde_json::{json, Value};
use std::{sync::Arc, time::Duration};

/// How often a subscription looks for new blocks.
pub const SUBSCRIPTION_POLL: Duration = Duration::from_millis(250);

/// The most headers one poll of a `newHeads` subscription pushes.
pub const MAX_PUSHED_HEADS: u64 = 100;

/// The most subscriptions one WebSocket connection may hold.
pub const MAX_SUBSCRIPTIONS_PER_CONNECTION: u32 = 16;

/// Subscription ids as geth and reth give them, and as viem requires: `0x` and 32 random hex
/// digits (jsonrpsee's default is a JSON number).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct HexIds;

impl jsonrpsee::core::traits::IdProvider for HexIds {
    fn next_id(&self) -> jsonrpsee::types::SubscriptionId<'static> {
        jsonrpsee::types::SubscriptionId::Str(format!("0x{:032x}", rand::random::<u128>()).into())
    }
}

/// What a subscription asks for, checked before it is accepted.
fn parse(params: &Params<'_>) -> Result<Value, ErrorObjectOwned> {
    let list: Vec<Value> = params
        .parse()
        .map_err(|_| invalid_params("eth_subscribe takes [\"newHeads\"] or [\"logs\", filter]"))?;
    match list.first().and_then(Value::as_str) {
        Some("newHeads") if list.len() == 1 => Ok(json!({"kind": "newHeads"})),
        Some("logs") if list.len() <= 2 => {
            let filter = list.get(1).cloned().unwrap_or_else(|| json!({}));
            let object = log_filter_object(&filter)?;
            if let Some(range) =
                ["fromBlock", "toBlock", "blockHash"].into_iter().find(|k| object.contains_key(*k))
            {
                return Err(invalid_params(format!(
                    "a logs subscription pushes new blocks' logs: `{range}` is not taken \
                     (use eth_getLogs for past blocks)"
                )));
            }
            LogMatcher::parse(object)?;
            Ok(json!({"kind": "logs", "filter": filter}))
        }
        Some(kind @ ("newHeads" | "logs")) => {
            Err(invalid_params(format!("wrong number of parameters for `{kind}`")))
        }
        Some(other) => Err(invalid_params(format!(
            "unsupported subscription `{other}`: this node pushes `newHeads` and `logs`"
        ))),
        None => Err(invalid_params("the first parameter names the subscription")),
    }
}

/// The header as `newHeads` pushes it: the block without its body fields.
fn header_json(block: Value) -> Value {
    let mut block = block;
    if let Value::Object(map) = &mut block {
        for body in ["transactions", "uncles", "size", "withdrawals"] {
            map.remove(body);
        }
    }
    block
}

impl Chain {
    /// One poll of a subscription: `params` is `{kind, filter?, next}` (`next` null on the first
    /// poll, which starts after the head); answers `{items, next}`.
    pub(crate) fn poll_subscription(&self, params: &Params<'_>) -> Result<Value, ErrorObjectOwned> {
        let state: Value = params.parse().map_err(|e| server_error(format!("poll: {e}")))?;
        let tx = self.tx()?;
        let provider = ChainProvider::new(&tx, self.chain_id);
        let head = self.head(&provider)?;
        let Some(next) = state["next"].as_u64() else {
            return Ok(json!({"items": [], "next": head + 1}));
        };
        // blocks were unwound under the subscription: go on from the new head
        let next = next.min(head + 1);
        if next > head {
            return Ok(json!({"items": [], "next": next}));
        }
        if state["kind"] == "newHeads" {
            let last = head.min(next + MAX_PUSHED_HEADS - 1);
            let items = (next..=last)
                .map(|number| block_json(&provider, number, false).map(header_json))
                .collect::<Result<Vec<_>, _>>()?;
            return Ok(json!({"items": items, "next": last + 1}));
        }
        let object = log_filter_object(&state["filter"])?;
        let matcher = LogMatcher::parse(object)?;
        let last = head.min(next + self.limits.max_log_range - 1);
        let (items, covered) = self.logs_in(&provider, next, last, &matcher, true)?;
        Ok(json!({"items": items, "next": covered + 1}))
    }
}

/// Runs one subscription until its client unsubscribes or goes away.
pub(crate) async fn run(
    params: Params<'static>,
    pending: PendingSubscriptionSink,
    chain: Arc<Chain>,
    pool: CallPool,
) -> SubscriptionResult {
    let mut state = match parse(&params) {
        Ok(state) => state,
        Err(error) => {
            pending.reject(error).await;
            return Ok(());
        }
    };
    let sink = pending.accept().await?;
    state["next"] = Value::Null;
    loop {
        let poll = Params::new(Some(&state.to_string())).into_owned();
        match pool.run(Arc::clone(&chain), poll, |c, p| c.poll_subscription(p)).await {
            Ok(answer) => {
                for item in answer["items"].as_array().into_iter().flatten() {
                    let raw = serde_json::value::to_raw_value(item)?;
                    if sink.send(SubscriptionMessage::from(raw)).await.is_err() {
                        return Ok(());
                    }
                }
                state["next"] = answer["next"].clone();
            }
            // a busy pool or a failed read: try again at the next poll
            Err(error) => tracing::debug!(
                target: "lockstep::rpc",
                chain = chain.chain_id,
                error = %error.message(),
                "subscription poll failed"
            ),
        }
        tokio::select! {
            () = sink.closed() => return Ok(()),
            () = tokio::time::sleep(SUBSCRIPTION_POLL) => {}
        }
    }
}
