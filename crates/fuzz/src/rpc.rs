//! The target for what a client sends the JSON-RPC servers: any params to any method of the
//! node's `eth_` and `superchain_` namespaces and of the sequencer's endpoint, and any raw
//! request (batches included). Every answer is JSON-RPC, and no handler panics (a panic on the
//! pool's thread would come back as an error that says so).

use crate::fixture::servers;

/// The node's `eth_` methods (also served by the sequencer's endpoint).
pub const ETH_METHODS: &[&str] = &[
    "eth_chainId",
    "eth_blockNumber",
    "eth_getBlockByNumber",
    "eth_getBlockByHash",
    "eth_getTransactionByHash",
    "eth_getTransactionReceipt",
    "eth_getBlockReceipts",
    "eth_getLogs",
    "eth_getBalance",
    "eth_getTransactionCount",
    "eth_getCode",
    "eth_getStorageAt",
    "eth_call",
    "net_version",
    "web3_clientVersion",
    "optimism_outputAtBlock",
    "debug_executionWitness",
    "debug_getRawHeader",
    "debug_getRawBlock",
    "debug_getRawTransaction",
    "debug_getRawReceipts",
];

/// The `eth_` methods added for wallets after the first corpus was written, at selectors from
/// [`WALLET_SELECTOR`] on, so that the older inputs keep naming the methods they named.
pub const WALLET_METHODS: &[&str] = &[
    "eth_estimateGas",
    "eth_gasPrice",
    "eth_maxPriorityFeePerGas",
    "eth_feeHistory",
    "eth_blobBaseFee",
    "eth_getBlockTransactionCountByNumber",
    "eth_getBlockTransactionCountByHash",
    "eth_getUncleCountByBlockNumber",
    "eth_getUncleCountByBlockHash",
    "eth_getTransactionByBlockNumberAndIndex",
    "eth_getTransactionByBlockHashAndIndex",
    "eth_getRawTransactionByHash",
    "eth_syncing",
    "eth_accounts",
    "eth_protocolVersion",
    "net_listening",
    "net_peerCount",
    "web3_sha3",
    "eth_getUncleByBlockNumberAndIndex",
    "eth_getUncleByBlockHashAndIndex",
    "eth_getProof",
    "eth_newBlockFilter",
    "eth_newFilter",
    "eth_getFilterChanges",
    "eth_getFilterLogs",
    "eth_uninstallFilter",
];

/// The first selector of [`WALLET_METHODS`] (sent to the node's `eth_` server).
pub const WALLET_SELECTOR: u8 = 200;

/// The node's `superchain_` methods.
pub const SUPERCHAIN_METHODS: &[&str] = &[
    "superchain_syncStatus",
    "superchain_getBatch",
    "superchain_getBatchByL1Block",
    "superchain_listFlagged",
    "superchain_getTransfer",
    "superchain_getEvidence",
];

/// Which server a request goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// The node's chain 901 `eth_` server.
    Eth,
    /// The node's `superchain_` server.
    Superchain,
    /// The sequencer's chain 901 endpoint.
    Sequencer,
}

/// The request `data` stands for: the first byte picks the method (and server), the rest is
/// the `params` JSON; a first byte of 255 sends the rest as a whole request (or batch) to the
/// node's `eth_` server.
pub fn request(data: &[u8]) -> Option<(Endpoint, String)> {
    let (&selector, rest) = data.split_first()?;
    let rest = std::str::from_utf8(rest).ok()?;
    if selector == u8::MAX {
        return Some((Endpoint::Eth, rest.to_string()));
    }
    let index = usize::from(selector);
    let wallet = selector.checked_sub(WALLET_SELECTOR).map(usize::from);
    let (endpoint, method) = if let Some(i) = wallet {
        (Endpoint::Eth, *WALLET_METHODS.get(i % WALLET_METHODS.len())?)
    } else if let Some(m) = ETH_METHODS.get(index) {
        (Endpoint::Eth, *m)
    } else if let Some(m) = SUPERCHAIN_METHODS.get(index - ETH_METHODS.len()) {
        (Endpoint::Superchain, *m)
    } else {
        let index = index - ETH_METHODS.len() - SUPERCHAIN_METHODS.len();
        let methods = [&["eth_sendRawTransaction"], ETH_METHODS].concat();
        (Endpoint::Sequencer, *methods.get(index % methods.len())?)
    };
    let request = format!(r#"{{"jsonrpc":"2.0","id":1,"method":"{method}","params":{rest}}}"#);
    Some((endpoint, request))
}

/// The bytes that stand for `method` with `params` (the inverse of [`request`]).
pub fn encode(endpoint: Endpoint, method: &str, params: &str) -> Vec<u8> {
    let position = |list: &[&str]| list.iter().position(|m| *m == method);
    let selector = match endpoint {
        Endpoint::Eth => position(ETH_METHODS)
            .or_else(|| position(WALLET_METHODS).map(|i| i + usize::from(WALLET_SELECTOR))),
        Endpoint::Superchain => position(SUPERCHAIN_METHODS).map(|i| i + ETH_METHODS.len()),
        Endpoint::Sequencer => [&["eth_sendRawTransaction"], ETH_METHODS]
            .concat()
            .iter()
            .position(|m| *m == method)
            .map(|i| i + ETH_METHODS.len() + SUPERCHAIN_METHODS.len()),
    }
    .unwrap_or_else(|| panic!("{method} is not served by {endpoint:?}"));
    let mut out = vec![u8::try_from(selector).expect("fewer than 255 methods")];
    out.extend_from_slice(params.as_bytes());
    out
}

/// Sends the request `data` stands for to its server in-process and checks the answer.
pub fn rpc(data: &[u8]) {
    let Some((endpoint, request)) = request(data) else { return };
    let servers = servers();
    let module = match endpoint {
        Endpoint::Eth => &servers.eth,
        Endpoint::Superchain => &servers.superchain,
        Endpoint::Sequencer => &servers.sequencer,
    };
    let answer = servers.runtime.block_on(module.raw_json_request(&request, 1));
    // a request that is not JSON at all is refused before any handler runs
    let Ok((answer, _)) = answer else { return };
    let answer = answer.get();
    let value: serde_json::Value =
        serde_json::from_str(answer).unwrap_or_else(|e| panic!("not JSON ({e}): {answer}"));
    assert!(!answer.contains("panicked"), "a handler panicked: {answer}");
    let answers = value.as_array().cloned().unwrap_or_else(|| vec![value]);
    for one in answers {
        assert!(
            one.get("result").is_some() || one.get("error").is_some(),
            "neither a result nor an error: {one}"
        );
    }
}
