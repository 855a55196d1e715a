//! The `eth_` namespace of one chain, and `optimism_outputAtBlock`, over the node's database.

use crate::{
    pool::{CallPool, Handler},
    superchain::{invalid_params, params_by_name, required, server_error, to_u64, LiveStatus},
    RpcError,
};
use alloy_consensus::{Transaction, TxReceipt};
use alloy_primitives::{Address, Bytes, B256};
use jsonrpsee::{
    server::{Server, ServerConfig, ServerHandle},
    types::{ErrorObjectOwned, Params},
    RpcModule,
};
use lockstep_chainspec::RollupConfig;
use lockstep_execution::{CallOutcome, CallRequest, GasEstimate};
use lockstep_storage::{tables::L1Blocks, ChainProvider, DatabaseEnv, DbTx, RO};
use op_alloy_consensus::{OpReceiptEnvelope, OpTxEnvelope};
use serde_json::{json, Value};
use std::{net::SocketAddr, sync::Arc};

/// Limits that keep one client from exhausting the node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EthLimits {
    /// The widest block range one `eth_getLogs` may ask for.
    pub max_log_range: u64,
    /// The most logs one `eth_getLogs` may return.
    pub max_logs: usize,
    /// How far back (in blocks) historical state may be read: the changeset window.
    pub max_history: u64,
    /// The largest request body in bytes.
    pub max_request_bytes: u32,
    /// The most calls in one batch request.
    pub max_batch: u32,
    /// The most gas one `eth_call` may use (`--rpc.gascap`); also what a call without `gas`
    /// gets.
    pub gas_cap: u64,
    /// How long one `eth_call` may execute before it is stopped (`--rpc.evmtimeout`).
    pub evm_timeout: std::time::Duration,
}

/// The default `eth_call` gas cap, as geth's and reth's.
pub const DEFAULT_GAS_CAP: u64 = 50_000_000;

/// The default `eth_call` execution timeout, as geth's and reth's.
pub const DEFAULT_EVM_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

impl EthLimits {
    /// The defaults, as a constant.
    pub const DEFAULT: Self = Self {
        max_log_range: 10_000,
        max_logs: 20_000,
        max_history: 8_192,
        max_request_bytes: 1 << 20,
        max_batch: 100,
        gas_cap: DEFAULT_GAS_CAP,
        evm_timeout: DEFAULT_EVM_TIMEOUT,
    };
}

impl Default for EthLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// What a sequencer's pool knows and its database does not: the nonce a sender's next
/// transaction must carry, counting those still waiting for a block (`eth_getTransactionCount`
/// at `pending`). `None` if the pool cannot tell (the chain's nonce in state is used).
pub trait PendingNonces: Send + Sync {
    /// The next nonce of `sender` on `chain_id`.
    fn next_nonce(&self, chain_id: u64, sender: Address) -> Option<u64>;
}

pub(crate) struct Chain {
    env: Arc<DatabaseEnv>,
    pending: Option<Arc<dyn PendingNonces>>,
    live: Arc<LiveStatus>,
    pub(crate) chain_id: u64,
    pub(crate) rollup: Arc<RollupConfig>,
    pub(crate) limits: EthLimits,
    pub(crate) filters: crate::filters::Filters,
}

pub(crate) fn hex_u64(n: u64) -> String {
    format!("0x{n:x}")
}

/// `-32001`, as geth says "resource not found"; `-32005` when a limit is exceeded.
fn limit_exceeded(message: impl Into<String>) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(-32005, message.into(), None::<()>)
}

/// `-32001` "block not found", as op-reth answers a block it does not have.
fn block_not_found(message: impl std::fmt::Display) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(-32001, format!("block not found: {message}"), None::<()>)
}

/// The length of the whole RLP-encoded block (header, transactions, no ommers, and the empty
/// withdrawals list from Canyon): what `size` reports, as op-reth computes it.
fn block_rlp_length(block: &BlockData) -> usize {
    let body = alloy_consensus::BlockBody {
        transactions: block.transactions.clone(),
        ommers: Vec::new(),
        withdrawals: block.header.withdrawals_root.map(|_| Default::default()),
    };
    alloy_rlp::Encodable::length(&alloy_consensus::Block::new(block.header.clone(), body))
}

/// The error code for history this node pruned, as geth and reth answer it (EIP-4444).
pub const PRUNED_CODE: i32 = 4444;

fn pruned(message: &str) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(
        PRUNED_CODE,
        format!("pruned history unavailable: {message}"),
        None::<()>,
    )
}

/// Refuses a read of block `number`'s receipts when pruning removed them.
pub(crate) fn refuse_pruned_receipts(
    provider: &Provider<'_>,
    number: u64,
) -> Result<(), ErrorObjectOwned> {
    let start = provider.history_start().map_err(server_error)?;
    if number < start {
        return Err(pruned(&format!(
            "the receipts of block {number} were pruned; this node keeps them from block {start} \
             on (--history.blocks)"
        )));
    }
    Ok(())
}

/// The state a call runs on: a block's state with the call's overrides over it.
type CallState<'a> = revm::database::CacheDB<lockstep_storage::StateProviderDb<'a, DbTx<'a, RO>>>;

pub(crate) type Provider<'a> = ChainProvider<'a, DbTx<'a, RO>>;

impl Chain {
    pub(crate) fn tx(&self) -> Result<DbTx<'_, RO>, ErrorObjectOwned> {
        self.env.tx().map_err(server_error)
    }

    pub(crate) fn head(&self, provider: &Provider<'_>) -> Result<u64, ErrorObjectOwned> {
        Ok(provider.head().map_err(server_error)?.map_or(0, |h| h.number))
    }

    /// The chain's head recorded with the newest L1 block at or below `l1`.
    fn head_at_l1(&self, tx: &DbTx<'_, RO>, l1: u64) -> Result<Option<u64>, ErrorObjectOwned> {
        head_at_l1(tx, self.chain_id, l1).map_err(server_error)
    }

    /// The chain's finalized block: its head derived from the L1's finalized block (genesis
    /// until the L1 reports finality).
    fn finalized(&self, tx: &DbTx<'_, RO>) -> Result<u64, ErrorObjectOwned> {
        let genesis = self.rollup.genesis.l2.number;
        match self.live.l1_finalized() {
            Some(l1) => Ok(self.head_at_l1(tx, l1)?.unwrap_or(genesis)),
            None => Ok(genesis),
        }
    }

    /// A block tag or number (or an EIP-1898 object) as a block number, refusing one beyond the
    /// head. `latest` and `safe` are the head (every block this node has is derived from L1, so
    /// safe); `finalized` is the head derived from finalized L1; `pending` is `latest`;
    /// `earliest` is genesis.
    pub(crate) fn resolve(
        &self,
        tx: &DbTx<'_, RO>,
        provider: &Provider<'_>,
        value: Option<&Value>,
    ) -> Result<u64, ErrorObjectOwned> {
        let head = self.head(provider)?;
        let number = self.block_number(tx, provider, head, value)?;
        if number > head {
            return Err(block_not_found(format!("block {number} is beyond the head {head}")));
        }
        Ok(number)
    }

    /// What a block parameter names, which may be beyond `head` (see [`Self::resolve`]).
    fn block_number(
        &self,
        tx: &DbTx<'_, RO>,
        provider: &Provider<'_>,
        head: u64,
        value: Option<&Value>,
    ) -> Result<u64, ErrorObjectOwned> {
        let Some(value) = value else { return Ok(head) };
        let number = match value {
            // a bare 32-byte hash names a block as `{"blockHash": ...}` does (geth's
            // BlockNumberOrHash)
            Value::String(s) if s.len() == 66 && s.starts_with("0x") => {
                return self.block_number(tx, provider, head, Some(&json!({"blockHash": s})))
            }
            Value::String(s) => match s.as_str() {
                "latest" | "safe" | "pending" => head,
                "earliest" => self.rollup.genesis.l2.number,
                "finalized" => self.finalized(tx)?,
                _ => to_u64("block", value)?,
            },
            Value::Object(map) => {
                if let Some(hash) = map.get("blockHash") {
                    let hash: B256 = serde_json::from_value(hash.clone())
                        .map_err(|e| invalid_params(format!("`blockHash`: {e}")))?;
                    provider
                        .block_number(hash)
                        .map_err(server_error)?
                        .ok_or_else(|| block_not_found(format!("no block {hash}")))?
                } else if let Some(number) = map.get("blockNumber") {
                    return self.block_number(tx, provider, head, Some(number));
                } else {
                    return Err(invalid_params(
                        "a block object needs `blockHash` or `blockNumber`",
                    ));
                }
            }
            Value::Number(_) => to_u64("block", value)?,
            other => return Err(invalid_params(format!("not a block tag or number: {other}"))),
        };
        Ok(number)
    }

    /// A block parameter as a number, for reads that answer `null` beyond the head.
    pub(crate) fn lookup(
        &self,
        tx: &DbTx<'_, RO>,
        provider: &Provider<'_>,
        value: &Value,
    ) -> Result<u64, ErrorObjectOwned> {
        let head = self.head(provider)?;
        self.block_number(tx, provider, head, Some(value))
    }

    /// Checks that state after `number` can still be read.
    pub(crate) fn check_history(
        &self,
        provider: &Provider<'_>,
        number: u64,
    ) -> Result<(), ErrorObjectOwned> {
        let head = self.head(provider)?;
        let start = provider.history_start().map_err(server_error)?;
        if number.saturating_add(1) < start {
            return Err(pruned(&format!(
                "the state after block {number} was pruned; this node keeps the state after \
                 block {} on (--history.blocks)",
                start - 1
            )));
        }
        if head - number > self.limits.max_history {
            return Err(limit_exceeded(format!(
                "block {number} is {} blocks behind the head; historical state is kept for {}",
                head - number,
                self.limits.max_history
            )));
        }
        Ok(())
    }

    fn block_by_number(&self, params: &Params<'_>) -> Result<Value, ErrorObjectOwned> {
        let p = params_by_name(params, &["block", "full"])?;
        let tx = self.tx()?;
        let provider = ChainProvider::new(&tx, self.chain_id);
        let number = self.lookup(&tx, &provider, required("block", &p[0])?)?;
        block_json(&provider, number, full_flag(&p[1])?)
    }

    fn block_by_hash(&self, params: &Params<'_>) -> Result<Value, ErrorObjectOwned> {
        let p = params_by_name(params, &["hash", "full"])?;
        let hash = hash_param("hash", required("hash", &p[0])?)?;
        let tx = self.tx()?;
        let provider = ChainProvider::new(&tx, self.chain_id);
        match provider.block_number(hash).map_err(server_error)? {
            Some(number) => block_json(&provider, number, full_flag(&p[1])?),
            None => Ok(Value::Null),
        }
    }

    fn transaction_by_hash(&self, params: &Params<'_>) -> Result<Value, ErrorObjectOwned> {
        let p = params_by_name(params, &["hash"])?;
        let hash = hash_param("hash", required("hash", &p[0])?)?;
        let tx = self.tx()?;
        let provider = ChainProvider::new(&tx, self.chain_id);
        let Some(location) = provider.transaction_location(hash).map_err(server_error)? else {
            return Ok(Value::Null);
        };
        let block = BlockData::load(&provider, location.block)?;
        Ok(block.map_or(Value::Null, |b| b.transaction(location.index as usize)))
    }

    fn receipt(&self, params: &Params<'_>) -> Result<Value, ErrorObjectOwned> {
        let p = params_by_name(params, &["hash"])?;
        let hash = hash_param("hash", required("hash", &p[0])?)?;
        let tx = self.tx()?;
        let provider = ChainProvider::new(&tx, self.chain_id);
        receipt_json(&provider, &self.rollup, hash)
    }

    fn block_receipts(&self, params: &Params<'_>) -> Result<Value, ErrorObjectOwned> {
        let p = params_by_name(params, &["block"])?;
        let tx = self.tx()?;
        let provider = ChainProvider::new(&tx, self.chain_id);
        let number = self.lookup(&tx, &provider, required("block", &p[0])?)?;
        refuse_pruned_receipts(&provider, number)?;
        let Some(block) = BlockData::load(&provider, number)? else { return Ok(Value::Null) };
        let block = block.with_l1_fees(&provider, &self.rollup)?;
        Ok(Value::Array((0..block.transactions.len()).map(|i| block.receipt(i)).collect()))
    }

    fn get_logs(&self, params: &Params<'_>) -> Result<Value, ErrorObjectOwned> {
        let p = params_by_name(params, &["filter"])?;
        let filter = log_filter_object(required("filter", &p[0])?)?;
        let tx = self.tx()?;
        let provider = ChainProvider::new(&tx, self.chain_id);
        let (from, to) = if let Some(hash) = filter.get("blockHash") {
            if filter.contains_key("fromBlock") || filter.contains_key("toBlock") {
                return Err(invalid_params("`blockHash` excludes `fromBlock` and `toBlock`"));
            }
            let hash = hash_param("blockHash", hash)?;
            let number = provider
                .block_number(hash)
                .map_err(server_error)?
                .ok_or_else(|| block_not_found(format!("no block {hash}")))?;
            (number, number)
        } else {
            let from = self.resolve(&tx, &provider, filter.get("fromBlock"))?;
            let to = self.resolve(&tx, &provider, filter.get("toBlock"))?;
            (from, to)
        };
        let matcher = LogMatcher::parse(filter)?;
        let (logs, _) = self.logs_in(&provider, from, to, &matcher, false)?;
        Ok(Value::Array(logs))
    }

    /// Block `number` of a log filter's `fromBlock` or `toBlock`, which may lie past the head;
    /// `None` for `latest` (or none given): the head at each poll.
    pub(crate) fn filter_bound(
        &self,
        tx: &DbTx<'_, RO>,
        provider: &Provider<'_>,
        value: Option<&Value>,
    ) -> Result<Option<u64>, ErrorObjectOwned> {
        match value {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(tag)) if tag == "latest" || tag == "pending" => Ok(None),
            Some(value) => {
                let head = self.head(provider)?;
                self.block_number(tx, provider, head, Some(value)).map(Some)
            }
        }
    }

    /// The logs of blocks `from..=to` that `matcher` selects, within the range and count limits.
    /// Past `max_logs`, a `partial` read stops before the block that went over (unless it is
    /// the first) and returns the last block it covered; otherwise it is an error.
    pub(crate) fn logs_in(
        &self,
        provider: &Provider<'_>,
        from: u64,
        to: u64,
        matcher: &LogMatcher,
        partial: bool,
    ) -> Result<(Vec<Value>, u64), ErrorObjectOwned> {
        if from > to {
            return Err(invalid_params(format!("fromBlock {from} is after toBlock {to}")));
        }
        if to - from + 1 > self.limits.max_log_range {
            return Err(limit_exceeded(format!(
                "block range {from}..={to} is {} blocks; the limit is {}",
                to - from + 1,
                self.limits.max_log_range
            )));
        }
        let (addresses, topics) = (&matcher.addresses, &matcher.topics);
        refuse_pruned_receipts(provider, from)?;
        let mut out = Vec::new();
        for number in from..=to {
            // the header's bloom says for certain when no log of the block can match
            let header = provider.header(number).map_err(server_error)?;
            if header.is_some_and(|h| !bloom_may_match(&h.logs_bloom, addresses, topics)) {
                continue;
            }
            let receipts = provider.receipts(number).map_err(server_error)?;
            let matches_any = receipts
                .iter()
                .flat_map(|r| r.logs())
                .any(|log| log_matches(log, addresses, topics));
            if !matches_any {
                continue;
            }
            let Some(block) = BlockData::with_receipts(provider, number, receipts)? else {
                continue;
            };
            let before = out.len();
            for (tx_index, log_index, log) in block.logs() {
                if log_matches(log, addresses, topics) {
                    out.push(block.log_json(tx_index, log_index, log));
                }
            }
            if out.len() > self.limits.max_logs {
                if !partial {
                    return Err(limit_exceeded(format!(
                        "more than {} logs match; narrow the block range or the filter",
                        self.limits.max_logs
                    )));
                }
                if before > 0 {
                    out.truncate(before);
                    return Ok((out, number - 1));
                }
                // one block alone: all of it, so that the next read moves on
                return Ok((out, number));
            }
        }
        Ok((out, to))
    }

    fn account_field(
        &self,
        params: &Params<'_>,
        field: AccountField,
    ) -> Result<Value, ErrorObjectOwned> {
        let names: &[&str] = if field == AccountField::Storage {
            &["address", "slot", "block"]
        } else {
            &["address", "block"]
        };
        let p = params_by_name(params, names)?;
        let address = address_param("address", required("address", &p[0])?)?;
        let tx = self.tx()?;
        let provider = ChainProvider::new(&tx, self.chain_id);
        let block_param = p.last().and_then(Option::as_ref);
        if let (AccountField::Nonce, Some(Value::String(tag)), Some(pool)) =
            (field, block_param, &self.pending)
        {
            if tag == "pending" {
                if let Some(nonce) = pool.next_nonce(self.chain_id, address) {
                    return Ok(json!(hex_u64(nonce)));
                }
            }
        }
        let number = self.resolve(&tx, &provider, block_param)?;
        self.check_history(&provider, number)?;
        if field == AccountField::Storage {
            let slot = crate::superchain::to_u256("slot", required("slot", &p[1])?)?;
            let value =
                provider.storage_at(address, B256::from(slot), number).map_err(server_error)?;
            return Ok(json!(B256::from(value)));
        }
        let account =
            provider.account_at(address, number).map_err(server_error)?.unwrap_or_default();
        Ok(match field {
            AccountField::Balance => json!(format!("0x{:x}", account.balance)),
            AccountField::Nonce => json!(hex_u64(account.nonce)),
            AccountField::Code => {
                if !account.has_code() {
                    json!("0x")
                } else {
                    let code = tx
                        .get::<lockstep_storage::tables::Bytecodes>(&account.code_hash)
                        .map_err(server_error)?
                        .unwrap_or_default();
                    json!(Bytes::from(code))
                }
            }
            AccountField::Storage => Value::Null,
        })
    }

    /// The header of the block a call names (`block`, default `latest`, within the history
    /// window) and the state after it with `overrides` applied: what `eth_call` and
    /// `eth_estimateGas` run on.
    fn call_state<'a>(
        &self,
        tx: &DbTx<'_, RO>,
        provider: &Provider<'a>,
        block: Option<&Value>,
        overrides: Option<&Value>,
    ) -> Result<(alloy_consensus::Header, CallState<'a>), ErrorObjectOwned> {
        let number = self.resolve(tx, provider, block)?;
        self.check_history(provider, number)?;
        let header = provider
            .header(number)
            .map_err(server_error)?
            .ok_or_else(|| server_error(format!("block {number} is not stored")))?;
        let head = self.head(provider)?;
        let state = if number == head { provider.state() } else { provider.state_at(number) };
        Ok((header, crate::overrides::apply(state, overrides)?))
    }

    fn call(&self, params: &Params<'_>) -> Result<Value, ErrorObjectOwned> {
        let p = params_by_name(params, &["transaction", "block", "stateOverrides"])?;
        let mut request = call_request(required("transaction", &p[0])?)?;
        let cap = self.limits.gas_cap.max(21_000);
        request.gas = Some(request.gas.unwrap_or(cap).min(cap));
        let tx = self.tx()?;
        let provider = ChainProvider::new(&tx, self.chain_id);
        let (header, state) = self.call_state(&tx, &provider, p[1].as_ref(), p[2].as_ref())?;
        let deadline = std::time::Instant::now() + self.limits.evm_timeout;
        match lockstep_execution::call_until(&self.rollup, &header, state, &request, deadline) {
            Ok(CallOutcome::Success(data)) => Ok(json!(data)),
            Ok(CallOutcome::Revert(data)) => {
                Err(ErrorObjectOwned::owned(3, "execution reverted", Some(json!(data))))
            }
            Ok(CallOutcome::Halt(reason)) => {
                Err(server_error(format!("execution halted: {reason}")))
            }
            Ok(CallOutcome::TimedOut) => Err(server_error(format!(
                "execution aborted (timeout = {:.1} s)",
                self.limits.evm_timeout.as_secs_f64()
            ))),
            Err(e) => Err(server_error(e)),
        }
    }

    /// `eth_estimateGas(transaction, block?, stateOverrides?)`: the least gas with which the transaction
    /// succeeds on the state after `block` (default `latest`), within the gas cap and the EVM
    /// timeout; a revert answers code 3 with its data, as `eth_call` does.
    fn estimate_gas(&self, params: &Params<'_>) -> Result<Value, ErrorObjectOwned> {
        let p = params_by_name(params, &["transaction", "block", "stateOverrides"])?;
        let request = call_request(required("transaction", &p[0])?)?;
        let tx = self.tx()?;
        let provider = ChainProvider::new(&tx, self.chain_id);
        let (header, state) = self.call_state(&tx, &provider, p[1].as_ref(), p[2].as_ref())?;
        let deadline = std::time::Instant::now() + self.limits.evm_timeout;
        let cap = self.limits.gas_cap.max(21_000);
        match lockstep_execution::estimate_gas(
            &self.rollup,
            &header,
            &state,
            &request,
            cap,
            deadline,
        ) {
            Ok(GasEstimate::Gas(gas)) => Ok(json!(hex_u64(gas))),
            Ok(GasEstimate::Revert(data)) => {
                Err(ErrorObjectOwned::owned(3, "execution reverted", Some(json!(data))))
            }
            Ok(GasEstimate::Halt { reason, gas }) => Err(server_error(format!(
                "gas required exceeds allowance ({gas}): execution halted: {reason}"
            ))),
            Ok(GasEstimate::TimedOut) => Err(server_error(format!(
                "execution aborted (timeout = {:.1} s)",
                self.limits.evm_timeout.as_secs_f64()
            ))),
            Err(e) => Err(server_error(e)),
        }
    }

    /// The block a `(block, ...)` param names, by number/tag (`by_hash` false) or by hash.
    fn block_at(
        &self,
        provider: &Provider<'_>,
        tx: &DbTx<'_, RO>,
        value: &Value,
        by_hash: bool,
    ) -> Result<Option<BlockData>, ErrorObjectOwned> {
        let number = if by_hash {
            match provider.block_number(hash_param("hash", value)?).map_err(server_error)? {
                Some(number) => number,
                None => return Ok(None),
            }
        } else {
            self.lookup(tx, provider, value)?
        };
        BlockData::load(provider, number)
    }

    /// `eth_getBlockTransactionCountBy{Number,Hash}(block)`: `null` for an unknown block.
    fn transaction_count(
        &self,
        params: &Params<'_>,
        by_hash: bool,
    ) -> Result<Value, ErrorObjectOwned> {
        let p = params_by_name(params, &["block"])?;
        let tx = self.tx()?;
        let provider = ChainProvider::new(&tx, self.chain_id);
        let block = self.block_at(&provider, &tx, required("block", &p[0])?, by_hash)?;
        Ok(block.map_or(Value::Null, |b| json!(hex_u64(b.transactions.len() as u64))))
    }

    /// `eth_getUncleCountBy{Number,Hash}(block)`: an OP block has no ommers; `null` for an
    /// unknown block.
    fn uncle_count(&self, params: &Params<'_>, by_hash: bool) -> Result<Value, ErrorObjectOwned> {
        let p = params_by_name(params, &["block"])?;
        let tx = self.tx()?;
        let provider = ChainProvider::new(&tx, self.chain_id);
        let block = self.block_at(&provider, &tx, required("block", &p[0])?, by_hash)?;
        Ok(block.map_or(Value::Null, |_| json!("0x0")))
    }

    /// `eth_getTransactionByBlock{Number,Hash}AndIndex(block, index)`: `null` if either is
    /// unknown.
    fn transaction_by_index(
        &self,
        params: &Params<'_>,
        by_hash: bool,
    ) -> Result<Value, ErrorObjectOwned> {
        let p = params_by_name(params, &["block", "index"])?;
        let index = to_u64("index", required("index", &p[1])?)?;
        let tx = self.tx()?;
        let provider = ChainProvider::new(&tx, self.chain_id);
        let block = self.block_at(&provider, &tx, required("block", &p[0])?, by_hash)?;
        Ok(block.map_or(Value::Null, |b| {
            usize::try_from(index).map_or(Value::Null, |i| b.transaction(i))
        }))
    }

    fn output_at_block(&self, params: &Params<'_>) -> Result<Value, ErrorObjectOwned> {
        let p = params_by_name(params, &["block"])?;
        let tx = self.tx()?;
        let provider = ChainProvider::new(&tx, self.chain_id);
        let number = self.resolve(&tx, &provider, Some(required("block", &p[0])?))?;
        let header = provider
            .header(number)
            .map_err(server_error)?
            .ok_or_else(|| server_error(format!("block {number} is not stored")))?;
        let hash = provider.block_hash(number).map_err(server_error)?.unwrap_or_default();
        let passer =
            provider.message_passer_root(number).map_err(server_error)?.ok_or_else(|| {
                server_error(format!("no message passer storage root for block {number}"))
            })?;
        let output = lockstep_execution::output_root(header.state_root, passer, hash);
        let origin = l1_origin(&provider, number)?;
        let head = self.head(&provider)?;
        let finalized = self.finalized(&tx)?;
        let block_ref = |n: u64| -> Result<Value, ErrorObjectOwned> {
            let h = provider.header(n).map_err(server_error)?.unwrap_or_default();
            let hash = provider.block_hash(n).map_err(server_error)?.unwrap_or_default();
            let (origin, seq) = l1_origin(&provider, n)?;
            Ok(json!({
                "hash": hash, "number": n, "parentHash": h.parent_hash, "timestamp": h.timestamp,
                "l1origin": origin, "sequenceNumber": seq,
            }))
        };
        let l1_cursor = tx.cursor::<L1Blocks>().and_then(|mut c| c.last()).map_err(server_error)?;
        let l1_ref = |entry: &Option<(u64, lockstep_storage::L1BlockRecord)>| {
            entry.as_ref().map_or(Value::Null, |(n, r)| {
                json!({"hash": r.hash, "number": n, "parentHash": r.parent_hash, "timestamp": r.timestamp})
            })
        };
        Ok(json!({
            "version": B256::ZERO,
            "outputRoot": output,
            "blockRef": {
                "hash": hash, "number": number, "parentHash": header.parent_hash,
                "timestamp": header.timestamp, "l1origin": origin.0, "sequenceNumber": origin.1,
            },
            "withdrawalStorageRoot": passer,
            "stateRoot": header.state_root,
            "syncStatus": {
                "current_l1": l1_ref(&l1_cursor),
                "head_l1": l1_ref(&l1_cursor),
                "safe_l2": block_ref(head)?,
                "unsafe_l2": block_ref(head)?,
                "finalized_l2": block_ref(finalized)?,
            },
        }))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AccountField {
    Balance,
    Nonce,
    Code,
    Storage,
}

/// Chain `chain`'s head recorded with the newest processed L1 block at or below `l1`: what the
/// node had derived from L1 up to that block (`finalized` for a finalized `l1`).
pub(crate) fn head_at_l1(
    tx: &DbTx<'_, RO>,
    chain: u64,
    l1: u64,
) -> lockstep_storage::DbResult<Option<u64>> {
    let mut cursor = tx.cursor::<L1Blocks>()?;
    let mut entry = cursor.seek(&l1)?;
    if entry.as_ref().is_none_or(|(n, _)| *n > l1) {
        entry = match entry {
            Some(_) => cursor.prev()?,
            None => cursor.last()?,
        };
    }
    Ok(entry.and_then(|(_, r)| r.heads.iter().find(|h| h.chain_id == chain).map(|h| h.number)))
}

/// A block's L1 origin `{hash, number}` and sequence number, from its L1 info deposit.
fn l1_origin(provider: &Provider<'_>, number: u64) -> Result<(Value, u64), ErrorObjectOwned> {
    let txs = provider.transactions(number).map_err(server_error)?;
    let Some(OpTxEnvelope::Deposit(deposit)) = txs.first() else {
        return Ok((Value::Null, 0));
    };
    match lockstep_derive::l1_block_info::L1BlockInfo::decode(deposit.input.as_ref()) {
        Ok((_, info)) => {
            Ok((json!({"hash": info.block_hash, "number": info.number}), info.sequence_number))
        }
        Err(_) => Ok((Value::Null, 0)),
    }
}

/// `web3_sha3(data)`: keccak-256 of the bytes.
fn web3_sha3(params: &Params<'_>) -> Result<Value, ErrorObjectOwned> {
    let p = params_by_name(params, &["data"])?;
    let data: Bytes = serde_json::from_value(required("data", &p[0])?.clone())
        .map_err(|_| invalid_params("`data` must be 0x hex bytes"))?;
    Ok(json!(alloy_primitives::keccak256(&data)))
}

/// The most addresses, and the most topics at one position, a log filter may list (geth's
/// limit): an installed filter or subscription keeps its lists for as long as it lives.
pub const MAX_FILTER_ALTERNATIVES: usize = 1000;

/// A log filter's object, with no field a filter does not have.
pub(crate) fn log_filter_object(
    filter: &Value,
) -> Result<&serde_json::Map<String, Value>, ErrorObjectOwned> {
    let Value::Object(filter) = filter else {
        return Err(invalid_params("the filter must be an object"));
    };
    if let Some(unknown) = filter
        .keys()
        .find(|k| !["fromBlock", "toBlock", "address", "topics", "blockHash"].contains(&k.as_str()))
    {
        return Err(invalid_params(format!("unknown filter field `{unknown}`")));
    }
    Ok(filter)
}

/// What a log filter selects: any of `addresses` (all if empty), and at each topic position
/// any of its topics (any topic if empty).
#[derive(Debug, Clone, Default)]
pub(crate) struct LogMatcher {
    addresses: Vec<Address>,
    topics: Vec<Vec<B256>>,
}

impl LogMatcher {
    /// The `address` and `topics` of a filter object.
    pub(crate) fn parse(filter: &serde_json::Map<String, Value>) -> Result<Self, ErrorObjectOwned> {
        let addresses: Vec<Address> = match filter.get("address") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(list)) => {
                list.iter().map(|a| address_param("address", a)).collect::<Result<_, _>>()?
            }
            Some(one) => vec![address_param("address", one)?],
        };
        if addresses.len() > MAX_FILTER_ALTERNATIVES {
            return Err(invalid_params(format!(
                "`address` lists {} addresses; at most {MAX_FILTER_ALTERNATIVES}",
                addresses.len()
            )));
        }
        let topics: Vec<Vec<B256>> = match filter.get("topics") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(list)) => {
                if list.len() > 4 {
                    return Err(invalid_params("at most 4 topic positions"));
                }
                list.iter()
                    .map(|t| match t {
                        Value::Null => Ok(Vec::new()),
                        Value::Array(any) if any.len() > MAX_FILTER_ALTERNATIVES => {
                            Err(invalid_params(format!(
                                "a topic position lists {} topics; at most \
                                 {MAX_FILTER_ALTERNATIVES}",
                                any.len()
                            )))
                        }
                        Value::Array(any) => any.iter().map(|h| hash_param("topics", h)).collect(),
                        one => Ok(vec![hash_param("topics", one)?]),
                    })
                    .collect::<Result<_, _>>()?
            }
            Some(_) => return Err(invalid_params("`topics` must be a list")),
        };
        Ok(Self { addresses, topics })
    }
}

fn log_matches(log: &alloy_primitives::Log, addresses: &[Address], topics: &[Vec<B256>]) -> bool {
    if !addresses.is_empty() && !addresses.contains(&log.address) {
        return false;
    }
    topics.iter().enumerate().all(|(i, wanted)| {
        wanted.is_empty() || log.topics().get(i).is_some_and(|t| wanted.contains(t))
    })
}

fn full_flag(value: &Option<Value>) -> Result<bool, ErrorObjectOwned> {
    match value {
        None => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => Err(invalid_params(format!("`full` must be true or false, got {other}"))),
    }
}

fn hash_param(name: &str, value: &Value) -> Result<B256, ErrorObjectOwned> {
    serde_json::from_value(value.clone())
        .map_err(|_| invalid_params(format!("`{name}` must be a 32-byte 0x hash, got {value}")))
}

pub(crate) fn address_param(name: &str, value: &Value) -> Result<Address, ErrorObjectOwned> {
    serde_json::from_value(value.clone())
        .map_err(|_| invalid_params(format!("`{name}` must be a 20-byte 0x address, got {value}")))
}

fn call_request(value: &Value) -> Result<CallRequest, ErrorObjectOwned> {
    let Value::Object(map) = value else {
        return Err(invalid_params("the call must be an object"));
    };
    let mut request = CallRequest::default();
    for (key, v) in map {
        match key.as_str() {
            "from" => request.from = address_param("from", v)?,
            "to" if v.is_null() => request.to = None,
            "to" => request.to = Some(address_param("to", v)?),
            "value" => request.value = crate::superchain::to_u256("value", v)?,
            "gas" => request.gas = Some(to_u64("gas", v)?),
            "data" | "input" => {
                request.input = serde_json::from_value(v.clone())
                    .map_err(|_| invalid_params(format!("`{key}` must be 0x hex bytes")))?;
            }
            "gasPrice"
            | "maxFeePerGas"
            | "maxPriorityFeePerGas"
            | "nonce"
            | "type"
            | "chainId"
            | "accessList" => {}
            other => return Err(invalid_params(format!("unknown call field `{other}`"))),
        }
    }
    Ok(request)
}

/// One block's header, transactions and receipts, for the JSON shapes.
struct BlockData {
    number: u64,
    hash: B256,
    header: alloy_consensus::Header,
    transactions: Vec<OpTxEnvelope>,
    receipts: Vec<OpReceiptEnvelope>,
    /// The block's L1 fee parameters, loaded for receipts ([`Self::with_l1_fees`]).
    l1_fees: Option<crate::l1_fee::L1Fees>,
}

impl BlockData {
    fn load(provider: &Provider<'_>, number: u64) -> Result<Option<Self>, ErrorObjectOwned> {
        let receipts = provider.receipts(number).map_err(server_error)?;
        Self::with_receipts(provider, number, receipts)
    }

    /// The block, with its `receipts` already read.
    fn with_receipts(
        provider: &Provider<'_>,
        number: u64,
        receipts: Vec<OpReceiptEnvelope>,
    ) -> Result<Option<Self>, ErrorObjectOwned> {
        let Some(header) = provider.header(number).map_err(server_error)? else { return Ok(None) };
        let hash = provider.block_hash(number).map_err(server_error)?.unwrap_or_default();
        Ok(Some(Self {
            number,
            hash,
            header,
            transactions: provider.transactions(number).map_err(server_error)?,
            receipts,
            l1_fees: None,
        }))
    }

    /// The block with its L1 fee parameters, for receipts with the OP fee fields.
    fn with_l1_fees(
        mut self,
        provider: &Provider<'_>,
        rollup: &RollupConfig,
    ) -> Result<Self, ErrorObjectOwned> {
        let fees =
            crate::l1_fee::L1Fees::load(provider, rollup, self.number, self.header.timestamp)?;
        self.l1_fees = Some(fees);
        Ok(self)
    }

    fn sender(tx: &OpTxEnvelope) -> Address {
        match tx {
            OpTxEnvelope::Deposit(d) => d.from,
            other => alloy_consensus::transaction::SignerRecoverable::recover_signer(other)
                .unwrap_or_default(),
        }
    }

    fn transaction(&self, index: usize) -> Value {
        let Some(tx) = self.transactions.get(index) else { return Value::Null };
        let mut value = serde_json::to_value(tx).unwrap_or(Value::Null);
        if let Value::Object(map) = &mut value {
            map.insert("hash".into(), json!(tx.tx_hash()));
            map.insert("blockHash".into(), json!(self.hash));
            map.insert("blockNumber".into(), json!(hex_u64(self.number)));
            map.insert("transactionIndex".into(), json!(hex_u64(index as u64)));
            map.insert("blockTimestamp".into(), json!(hex_u64(self.header.timestamp)));
            map.insert("from".into(), json!(Self::sender(tx)));
            let base_fee = self.header.base_fee_per_gas;
            map.insert(
                "gasPrice".into(),
                json!(format!("0x{:x}", tx.effective_gas_price(base_fee))),
            );
            if let (OpTxEnvelope::Deposit(_), Some(receipt)) = (tx, self.receipts.get(index)) {
                let deposit = receipt.as_deposit_receipt();
                if let Some(nonce) = deposit.and_then(|r| r.deposit_nonce) {
                    map.insert("nonce".into(), json!(hex_u64(nonce)));
                }
                if let Some(version) = deposit.and_then(|r| r.deposit_receipt_version) {
                    map.insert("depositReceiptVersion".into(), json!(hex_u64(version)));
                }
            }
        }
        value
    }

    /// Every log of the block: `(transaction index, index in the block, log)`.
    fn logs(&self) -> impl Iterator<Item = (usize, usize, &alloy_primitives::Log)> {
        self.receipts
            .iter()
            .enumerate()
            .flat_map(|(tx_index, r)| r.logs().iter().map(move |log| (tx_index, log)))
            .enumerate()
            .map(|(log_index, (tx_index, log))| (tx_index, log_index, log))
    }

    fn log_json(&self, tx_index: usize, log_index: usize, log: &alloy_primitives::Log) -> Value {
        let tx_hash = self.transactions.get(tx_index).map(|t| t.tx_hash()).unwrap_or_default();
        json!({
            "address": log.address,
            "topics": log.topics(),
            "data": log.data.data,
            "blockNumber": hex_u64(self.number),
            "blockHash": self.hash,
            "blockTimestamp": hex_u64(self.header.timestamp),
            "transactionHash": tx_hash,
            "transactionIndex": hex_u64(tx_index as u64),
            "logIndex": hex_u64(log_index as u64),
            "removed": false,
        })
    }

    fn receipt(&self, index: usize) -> Value {
        let (Some(tx), Some(receipt)) = (self.transactions.get(index), self.receipts.get(index))
        else {
            return Value::Null;
        };
        let previous = index
            .checked_sub(1)
            .and_then(|i| self.receipts.get(i))
            .map_or(0, |r| r.cumulative_gas_used());
        let first_log: usize = self.receipts[..index].iter().map(|r| r.logs().len()).sum();
        let from = Self::sender(tx);
        let logs: Vec<Value> = receipt
            .logs()
            .iter()
            .enumerate()
            .map(|(i, log)| self.log_json(index, first_log + i, log))
            .collect();
        let base_fee = self.header.base_fee_per_gas;
        let contract = tx.to().is_none().then(|| from.create(tx.nonce()));
        let mut out = json!({
            "transactionHash": tx.tx_hash(),
            "transactionIndex": hex_u64(index as u64),
            "blockHash": self.hash,
            "blockNumber": hex_u64(self.number),
            "from": from,
            "to": tx.to(),
            "cumulativeGasUsed": hex_u64(receipt.cumulative_gas_used()),
            "gasUsed": hex_u64(receipt.cumulative_gas_used() - previous),
            "effectiveGasPrice": format!("0x{:x}", tx.effective_gas_price(base_fee)),
            "contractAddress": contract,
            "logs": logs,
            "logsBloom": receipt.bloom(),
            "status": if receipt.status() { "0x1" } else { "0x0" },
            "type": hex_u64(u8::from(receipt.tx_type()).into()),
        });
        if let (Value::Object(map), Some(fees)) = (&mut out, &self.l1_fees) {
            fees.add_fields(tx, map);
        }
        if let (Value::Object(map), Some(deposit)) = (&mut out, receipt.as_deposit_receipt()) {
            if let Some(nonce) = deposit.deposit_nonce {
                map.insert("depositNonce".into(), json!(hex_u64(nonce)));
            }
            if let Some(version) = deposit.deposit_receipt_version {
                map.insert("depositReceiptVersion".into(), json!(hex_u64(version)));
            }
        }
        out
    }
}

/// Whether a block with `bloom` may hold a log that `addresses` and `topics` match: any of the
/// addresses (when some are given) and, at each topic position with alternatives, any of them.
/// `false` is certain; `true` may be a false positive.
pub(crate) fn bloom_may_match(
    bloom: &alloy_primitives::Bloom,
    addresses: &[Address],
    topics: &[Vec<B256>],
) -> bool {
    use alloy_primitives::BloomInput;
    if bloom.is_zero() {
        // no log at all
        return false;
    }
    let address_ok = addresses.is_empty()
        || addresses.iter().any(|a| bloom.contains_input(BloomInput::Raw(a.as_slice())));
    address_ok
        && topics.iter().all(|alternatives| {
            alternatives.is_empty()
                || alternatives.iter().any(|t| bloom.contains_input(BloomInput::Raw(t.as_slice())))
        })
}

/// Block `number` as `eth_getBlockByNumber` returns it (`null` if absent).
pub(crate) fn block_json(
    provider: &Provider<'_>,
    number: u64,
    full: bool,
) -> Result<Value, ErrorObjectOwned> {
    let Some(block) = BlockData::load(provider, number)? else { return Ok(Value::Null) };
    let mut value = serde_json::to_value(&block.header).map_err(server_error)?;
    let transactions: Vec<Value> = if full {
        (0..block.transactions.len()).map(|i| block.transaction(i)).collect()
    } else {
        block.transactions.iter().map(|t| json!(t.tx_hash())).collect()
    };
    let size = block_rlp_length(&block);
    if let Value::Object(map) = &mut value {
        map.insert("hash".into(), json!(block.hash));
        map.insert("transactions".into(), Value::Array(transactions));
        map.insert("uncles".into(), json!([]));
        map.insert("size".into(), json!(hex_u64(size as u64)));
        if block.header.withdrawals_root.is_some() {
            map.insert("withdrawals".into(), json!([]));
        }
    }
    Ok(value)
}

/// The receipt of transaction `hash` as `eth_getTransactionReceipt` returns it (`null` if the
/// chain has no such transaction).
fn receipt_json(
    provider: &Provider<'_>,
    rollup: &RollupConfig,
    hash: B256,
) -> Result<Value, ErrorObjectOwned> {
    let Some(location) = provider.transaction_location(hash).map_err(server_error)? else {
        return Ok(Value::Null);
    };
    refuse_pruned_receipts(provider, location.block)?;
    let Some(block) = BlockData::load(provider, location.block)? else { return Ok(Value::Null) };
    Ok(block.with_l1_fees(provider, rollup)?.receipt(location.index as usize))
}

/// Serves chain `chain_id`'s `eth_` namespace (and `optimism_outputAtBlock`) on `addr`.
pub async fn serve_chain(
    env: Arc<DatabaseEnv>,
    live: Arc<LiveStatus>,
    chain_id: u64,
    rollup: Arc<RollupConfig>,
    limits: EthLimits,
    pool: &CallPool,
    addr: SocketAddr,
) -> Result<(SocketAddr, ServerHandle), RpcError> {
    let bind = |source| RpcError::Bind { addr, source };
    let server =
        Server::builder().set_config(server_config(&limits)).build(addr).await.map_err(bind)?;
    let local = server.local_addr().map_err(bind)?;
    let module = eth_module(env, live, chain_id, rollup, limits, pool)?;
    Ok((local, server.start(module)))
}

/// The server settings that enforce `limits`.
pub fn server_config(limits: &EthLimits) -> ServerConfig {
    ServerConfig::builder()
        .max_request_body_size(limits.max_request_bytes)
        .max_response_body_size(64 << 20)
        .max_connections(256)
        .max_subscriptions_per_connection(crate::subscribe::MAX_SUBSCRIPTIONS_PER_CONNECTION)
        .set_id_provider(crate::subscribe::HexIds)
        .set_batch_request_config(jsonrpsee::server::BatchRequestConfig::Limit(limits.max_batch))
        .build()
}

/// Chain `chain_id`'s `eth_` read methods over `env`, to serve alone or merged with others
/// (the sequencer adds `eth_sendRawTransaction`).
pub fn eth_module(
    env: Arc<DatabaseEnv>,
    live: Arc<LiveStatus>,
    chain_id: u64,
    rollup: Arc<RollupConfig>,
    limits: EthLimits,
    pool: &CallPool,
) -> Result<RpcModule<()>, RpcError> {
    eth_module_with_pool(env, live, chain_id, rollup, limits, pool, None)
}

/// [`eth_module`] for a sequencer: `eth_getTransactionCount` at `pending` asks `pending`.
pub fn eth_module_with_pool(
    env: Arc<DatabaseEnv>,
    live: Arc<LiveStatus>,
    chain_id: u64,
    rollup: Arc<RollupConfig>,
    limits: EthLimits,
    pool: &CallPool,
    pending: Option<Arc<dyn PendingNonces>>,
) -> Result<RpcModule<()>, RpcError> {
    let mut module = RpcModule::new(Chain {
        env,
        pending,
        live,
        chain_id,
        rollup,
        limits,
        filters: Default::default(),
    });
    let methods: [(&'static str, Handler<Chain>); 47] = [
        ("eth_chainId", |c, _| Ok(json!(hex_u64(c.chain_id)))),
        ("eth_blockNumber", |c, _| {
            let tx = c.tx()?;
            Ok(json!(hex_u64(c.head(&ChainProvider::new(&tx, c.chain_id))?)))
        }),
        ("eth_getBlockByNumber", |c, p| c.block_by_number(p)),
        ("eth_getBlockByHash", |c, p| c.block_by_hash(p)),
        ("eth_getTransactionByHash", |c, p| c.transaction_by_hash(p)),
        ("eth_getTransactionReceipt", |c, p| c.receipt(p)),
        ("eth_getBlockReceipts", |c, p| c.block_receipts(p)),
        ("eth_getLogs", |c, p| c.get_logs(p)),
        ("eth_getBalance", |c, p| c.account_field(p, AccountField::Balance)),
        ("eth_getTransactionCount", |c, p| c.account_field(p, AccountField::Nonce)),
        ("eth_getCode", |c, p| c.account_field(p, AccountField::Code)),
        ("eth_getProof", |c, p| c.get_proof(p)),
        ("eth_newBlockFilter", |c, _| c.new_block_filter()),
        ("eth_newFilter", |c, p| c.new_log_filter(p)),
        ("eth_getFilterChanges", |c, p| c.filter_changes(p)),
        ("eth_getFilterLogs", |c, p| c.filter_logs(p)),
        ("eth_uninstallFilter", |c, p| c.uninstall_filter(p)),
        ("eth_getStorageAt", |c, p| c.account_field(p, AccountField::Storage)),
        ("eth_call", |c, p| c.call(p)),
        ("eth_estimateGas", |c, p| c.estimate_gas(p)),
        ("eth_gasPrice", |c, p| c.gas_price(p)),
        ("eth_maxPriorityFeePerGas", |c, p| c.max_priority_fee(p)),
        ("eth_feeHistory", |c, p| c.fee_history(p)),
        ("eth_blobBaseFee", |c, p| c.blob_base_fee(p)),
        ("eth_getBlockTransactionCountByNumber", |c, p| c.transaction_count(p, false)),
        ("eth_getBlockTransactionCountByHash", |c, p| c.transaction_count(p, true)),
        ("eth_getUncleCountByBlockNumber", |c, p| c.uncle_count(p, false)),
        ("eth_getUncleCountByBlockHash", |c, p| c.uncle_count(p, true)),
        ("eth_getTransactionByBlockNumberAndIndex", |c, p| c.transaction_by_index(p, false)),
        ("eth_getTransactionByBlockHashAndIndex", |c, p| c.transaction_by_index(p, true)),
        ("eth_getRawTransactionByHash", |c, p| c.raw_transaction(p)),
        // a node that follows L1 has nothing to sync from peers: never syncing in that sense
        ("eth_syncing", |_, _| Ok(json!(false))),
        // the node holds no keys
        ("eth_accounts", |_, _| Ok(json!([]))),
        // eth/68, the wire protocol op-reth reports
        ("eth_protocolVersion", |_, _| Ok(json!("0x44"))),
        // no peer-to-peer listener: blocks come from L1
        ("net_listening", |_, _| Ok(json!(false))),
        ("net_peerCount", |_, _| Ok(json!("0x0"))),
        ("web3_sha3", |_, p| web3_sha3(p)),
        ("net_version", |c, _| Ok(json!(c.chain_id.to_string()))),
        ("web3_clientVersion", |_, _| Ok(json!(format!("lockstep/{}", env!("CARGO_PKG_VERSION"))))),
        ("optimism_outputAtBlock", |c, p| c.output_at_block(p)),
        ("debug_executionWitness", |c, p| c.execution_witness(p)),
        ("debug_getRawHeader", |c, p| c.raw_header(p)),
        ("debug_getRawBlock", |c, p| c.raw_block(p)),
        ("debug_getRawTransaction", |c, p| c.raw_transaction(p)),
        ("debug_getRawReceipts", |c, p| c.raw_receipts(p)),
        ("eth_getUncleByBlockNumberAndIndex", |_, _| Ok(Value::Null)),
        ("eth_getUncleByBlockHashAndIndex", |_, _| Ok(Value::Null)),
    ];
    for (name, handler) in methods {
        pool.register(&mut module, name, handler)?;
    }
    let subscriptions = pool.clone();
    module
        .register_subscription(
            "eth_subscribe",
            "eth_subscription",
            "eth_unsubscribe",
            move |params, pending, chain, _| {
                crate::subscribe::run(params, pending, chain, subscriptions.clone())
            },
        )
        .map_err(RpcError::Register)?;
    let register = RpcError::Register;
    let mut plain = RpcModule::new(());
    plain.merge(module).map_err(register)?;
    Ok(plain)
}

#[cfg(test)]
mod bloom_tests {
    use super::*;
    use alloy_primitives::{Bloom, BloomInput};

    #[test]
    fn the_bloom_rules_out_blocks_and_never_a_matching_one() {
        let (address, topic) = (Address::repeat_byte(7), B256::repeat_byte(9));
        let mut bloom = Bloom::ZERO;
        bloom.accrue(BloomInput::Raw(address.as_slice()));
        bloom.accrue(BloomInput::Raw(topic.as_slice()));
        let other = B256::repeat_byte(1);
        assert!(bloom_may_match(&bloom, &[], &[]));
        assert!(bloom_may_match(&bloom, &[address], &[vec![topic]]));
        assert!(bloom_may_match(&bloom, &[Address::ZERO, address], &[vec![], vec![other, topic]]));
        assert!(!bloom_may_match(&bloom, &[Address::repeat_byte(8)], &[]));
        assert!(!bloom_may_match(&bloom, &[address], &[vec![other]]));
        // a block without logs has an empty bloom: nothing to read, whatever the filter
        assert!(!bloom_may_match(&Bloom::ZERO, &[], &[]));
    }
}
