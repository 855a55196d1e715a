//! The sequencer's JSON-RPC intake over real HTTP, driven by curl with transactions signed by
//! alloy's signer.

#![allow(clippy::unwrap_used, clippy::needless_pass_by_value)]

use alloy_consensus::{Header, SignableTransaction, TxEip1559};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{hex, Address, TxKind, B256, U256};
use alloy_signer::SignerSync;
use lockstep_devnet::{dev_key, DevnetConfig, BRIDGE};
use lockstep_sequencer::{rpc, L1Origin, SharedSequencer};
use serde_json::{json, Value};
use std::{
    collections::BTreeMap,
    net::SocketAddr,
    process::Command,
    sync::{Arc, Mutex},
};

fn call(addr: SocketAddr, method: &str, params: Value) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string();
    let out = Command::new("curl")
        .args(["-s", "-X", "POST", "-H", "Content-Type: application/json", "--data", &body])
        .arg(format!("http://{addr}"))
        .output()
        .expect("curl must be installed");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A shared sequencer of the devnet's chains in a temporary directory, with 901's and 902's
/// endpoints (HTTP and WebSocket) on free loopback ports, for as long as it lives.
struct Served {
    handle: Arc<Mutex<SharedSequencer>>,
    op: SocketAddr,
    base: SocketAddr,
    // dropped in this order: the servers, their runtime, then the database's directory
    _servers: Vec<Box<dyn std::any::Any>>,
    _runtime: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

fn serve_both_chains() -> Served {
    let config = DevnetConfig::default();
    let chains = config.sequenced_chains();
    let dir = tempfile::tempdir().unwrap();
    let sequencer = SharedSequencer::open(dir.path(), &chains, BRIDGE, dev_key(8), 6, &[]).unwrap();
    let handle = Arc::new(Mutex::new(sequencer));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let pool = lockstep_rpc::CallPool::default();
    let local = "127.0.0.1:0".parse().unwrap();
    let (op, op_server) = runtime.block_on(rpc::serve(handle.clone(), 901, &pool, local)).unwrap();
    let (base, base_server) =
        runtime.block_on(rpc::serve(handle.clone(), 902, &pool, local)).unwrap();
    Served {
        handle,
        op,
        base,
        _servers: vec![Box::new(op_server), Box::new(base_server)],
        _runtime: runtime,
        _dir: dir,
    }
}

fn transfer(chain_id: u64, nonce: u64, max_fee: u128) -> String {
    let tx = TxEip1559 {
        chain_id,
        nonce,
        gas_limit: 21_000,
        max_fee_per_gas: max_fee,
        max_priority_fee_per_gas: 1,
        to: TxKind::Call(Address::with_last_byte(0x77)),
        value: U256::from(12345),
        access_list: Default::default(),
        input: Default::default(),
    };
    let sig = dev_key(3).sign_hash_sync(&tx.signature_hash()).unwrap();
    hex::encode_prefixed(tx.into_signed(sig).encoded_2718())
}

#[test]
fn wallet_transactions_over_http_are_sequenced_and_bad_ones_refused() {
    let config = DevnetConfig::default();
    let chains = config.sequenced_chains();
    let dir = tempfile::tempdir().unwrap();
    let sequencer = SharedSequencer::open(dir.path(), &chains, BRIDGE, dev_key(8), 6, &[]).unwrap();
    let handle = Arc::new(Mutex::new(sequencer));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (op, _op_server) = runtime
        .block_on(rpc::serve(
            handle.clone(),
            901,
            &lockstep_rpc::CallPool::default(),
            "127.0.0.1:0".parse().unwrap(),
        ))
        .unwrap();
    let (base, _base_server) = runtime
        .block_on(rpc::serve(
            handle.clone(),
            902,
            &lockstep_rpc::CallPool::default(),
            "127.0.0.1:0".parse().unwrap(),
        ))
        .unwrap();

    assert_eq!(call(op, "eth_chainId", json!([]))["result"], "0x385");
    assert_eq!(call(base, "eth_chainId", json!([]))["result"], "0x386");
    assert_eq!(call(op, "eth_blockNumber", json!([]))["result"], "0x0");

    let sent = call(op, "eth_sendRawTransaction", json!([transfer(901, 0, 10_000_000_000)]));
    let hash: B256 = serde_json::from_value(sent["result"].clone()).unwrap();
    assert_eq!(call(op, "eth_getTransactionReceipt", json!([hash]))["result"], Value::Null);

    // refusals are JSON-RPC errors that say why, and change nothing
    let cases = [
        (op, json!(["0xzz"]), -32602, "not hex"),
        (op, json!([]), -32602, "invalid"),
        (op, json!(["0x02ff00"]), -32000, "does not decode"),
        (op, json!([transfer(902, 1, 10_000_000_000)]), -32000, "wrong chain id"),
        (op, json!([transfer(901, 1, 1)]), -32000, "underpriced"),
        (op, json!([transfer(901, 0, 10_000_000_000)]), -32000, "nonce too low"),
        (op, json!([transfer(901, 7, 10_000_000_000)]), -32000, "nonce too high"),
    ];
    for (addr, params, code, text) in cases {
        let reply = call(addr, "eth_sendRawTransaction", params.clone());
        assert_eq!(reply["error"]["code"], code, "{params}: {reply}");
        let message = reply["error"]["message"].as_str().unwrap().to_lowercase();
        assert!(message.contains(text), "{params}: {message}");
    }
    assert_eq!(call(op, "eth_nonexistent", json!([]))["error"]["code"], -32601);

    let origin = L1Origin {
        header: Header {
            number: 1,
            parent_beacon_block_root: Some(B256::ZERO),
            ..Default::default()
        },
        sequence_number: 0,
    };
    handle.lock().unwrap().build(&origin, &BTreeMap::new()).unwrap();
    assert_eq!(call(op, "eth_blockNumber", json!([]))["result"], "0x1");
    let receipt = call(op, "eth_getTransactionReceipt", json!([hash]))["result"].clone();
    assert_eq!(receipt["status"], "0x1");
    assert_eq!(receipt["blockNumber"], "0x1");
    assert_eq!(receipt["transactionIndex"], "0x1", "after the L1 info deposit");
    assert_eq!(receipt["gasUsed"], "0x5208");
    assert_eq!(
        receipt["from"].as_str().unwrap().to_lowercase(),
        dev_key(3).address().to_string().to_lowercase()
    );
    assert_eq!(call(base, "eth_getTransactionReceipt", json!([hash]))["result"], Value::Null);
}

/// `cast`, an ordinary wallet client from the npm registry, signs offline and publishes.
#[test]
fn cast_publishes_to_the_sequencer_and_reads_the_receipt() {
    let cast =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../node_modules/.bin/cast");
    assert!(cast.exists(), "cast is not installed: run scripts/setup.sh");
    let config = DevnetConfig::default();
    let chains = config.sequenced_chains();
    let dir = tempfile::tempdir().unwrap();
    let sequencer = SharedSequencer::open(dir.path(), &chains, BRIDGE, dev_key(8), 6, &[]).unwrap();
    let handle = Arc::new(Mutex::new(sequencer));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (addr, _server) = runtime
        .block_on(rpc::serve(
            handle.clone(),
            902,
            &lockstep_rpc::CallPool::default(),
            "127.0.0.1:0".parse().unwrap(),
        ))
        .unwrap();
    let url = format!("http://{addr}");
    let key = hex::encode_prefixed(dev_key(5).credential().to_bytes());
    let run = |args: &[&str]| {
        let out = Command::new(&cast).args(args).output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).trim().to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let (ok, raw, err) = run(&[
        "mktx",
        "--private-key",
        &key,
        "--chain",
        "902",
        "--nonce",
        "0",
        "--gas-limit",
        "21000",
        "--gas-price",
        "10000000000",
        "--legacy",
        "0x0000000000000000000000000000000000000077",
        "--value",
        "1000",
    ]);
    assert!(ok, "{err}");
    let (ok, published, err) = run(&["publish", "--async", "--rpc-url", &url, &raw]);
    assert!(ok, "{err}");
    let hash = published.lines().last().unwrap().trim().to_string();

    // a replay is refused with a message cast shows the user
    let (ok, _, err) = run(&["publish", "--async", "--rpc-url", &url, &raw]);
    assert!(!ok);
    assert!(err.contains("nonce too low"), "{err}");

    let origin = L1Origin {
        header: Header {
            number: 1,
            parent_beacon_block_root: Some(B256::ZERO),
            ..Default::default()
        },
        sequence_number: 0,
    };
    handle.lock().unwrap().build(&origin, &BTreeMap::new()).unwrap();
    let (ok, receipt, err) = run(&["receipt", "--rpc-url", &url, "--json", &hash]);
    assert!(ok, "{err}");
    let receipt: Value = serde_json::from_str(&receipt).unwrap();
    assert_eq!(receipt["status"], "0x1", "{receipt}");
    assert_eq!(receipt["blockNumber"], "0x1");
}

/// `cast send` as a new user runs it: no nonce, gas or fee given. cast asks the sequencer's
/// endpoint for the nonce, a gas estimate and the fees, signs and publishes; `pending` counts
/// the transactions waiting in the pool. A bridge burn on 901 is estimated, sent with that
/// estimate and succeeds, and its mint credits the recipient on 902 in the same block.
#[test]
fn cast_send_with_no_gas_or_fee_flags_is_sequenced_and_the_burn_minted() {
    let cast =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../node_modules/.bin/cast");
    assert!(cast.exists(), "cast is not installed: run scripts/setup.sh");
    let served = serve_both_chains();
    let (handle, op, base) = (served.handle.clone(), served.op, served.base);
    let (op, base) = (format!("http://{op}"), format!("http://{base}"));
    let key = hex::encode_prefixed(dev_key(6).credential().to_bytes());
    let run = |args: &[&str]| {
        let out = Command::new(&cast).args(args).output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).trim().to_string();
        assert!(out.status.success(), "cast {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        stdout
    };
    let send = |args: &[&str]| {
        let sent = run(
            &[&["send", "--async", "--private-key", &key, "--rpc-url", &op][..], args].concat()
        );
        sent.lines().last().unwrap().trim().to_string()
    };
    let from = dev_key(6).address().to_string();
    let first = send(&["0x0000000000000000000000000000000000000077", "--value", "1000"]);
    // the pool's transactions count at `pending`, not at `latest` (cast, like op-reth's
    // clients, asks `latest` by default, so a second send before a block names its nonce)
    assert_eq!(run(&["nonce", "--rpc-url", &op, "--block", "pending", &from]), "1");
    assert_eq!(run(&["nonce", "--rpc-url", &op, &from]), "0");
    let second =
        send(&["0x0000000000000000000000000000000000000077", "--value", "2000", "--nonce", "1"]);
    let recipient = "0x00000000000000000000000000000000000000a1";
    let bridge = BRIDGE.to_string();
    let burn = [
        bridge.as_str(),
        "burn(uint256,address,address,uint256)",
        "902",
        "0x0000000000000000000000000000000000000000",
        recipient,
        "1000000000000000000",
        "--value",
        "1ether",
    ];
    let estimate: u64 =
        run(&[&["estimate", "--rpc-url", &op, "--from", &from][..], &burn[..]].concat())
            .parse()
            .unwrap();
    assert!(estimate > 21_000, "{estimate}");
    let burned = send(&[&burn[..], &["--nonce", "2"]].concat());
    assert_eq!(handle.lock().unwrap().pending(901), 3);

    let origin = L1Origin {
        header: Header {
            number: 1,
            parent_beacon_block_root: Some(B256::ZERO),
            ..Default::default()
        },
        sequence_number: 0,
    };
    handle.lock().unwrap().build(&origin, &BTreeMap::new()).unwrap();
    let receipt = |hash: &str| -> Value {
        serde_json::from_str(&run(&["receipt", "--rpc-url", &op, "--json", hash])).unwrap()
    };
    let transaction = |hash: &str| -> Value {
        serde_json::from_str(&run(&["tx", "--rpc-url", &op, "--json", hash])).unwrap()
    };
    for (i, hash) in [&first, &second, &burned].into_iter().enumerate() {
        assert_eq!(receipt(hash)["status"], "0x1", "{hash}");
        assert_eq!(transaction(hash)["nonce"], format!("0x{i:x}"), "{hash}");
    }
    // cast signed the burn with the estimate as its gas limit, and it sufficed
    let sent = transaction(&burned);
    assert_eq!(sent["gas"], format!("0x{estimate:x}"));
    let used = u64::from_str_radix(
        receipt(&burned)["gasUsed"].as_str().unwrap().trim_start_matches("0x"),
        16,
    )
    .unwrap();
    assert!(used <= estimate, "{used} > {estimate}");
    // the fees cast chose cover the block's base fee
    let block: Value =
        serde_json::from_str(&run(&["block", "1", "--json", "--rpc-url", &op])).unwrap();
    let hex = |v: &Value| u128::from_str_radix(v.as_str().unwrap().trim_start_matches("0x"), 16);
    assert!(hex(&sent["maxFeePerGas"]).unwrap() >= hex(&block["baseFeePerGas"]).unwrap());
    // the mint of the burn, on 902 in the same block
    assert_eq!(run(&["balance", "--rpc-url", &base, recipient]), "1000000000000000000");
}

fn hex_number(value: &Value) -> u128 {
    u128::from_str_radix(value.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
}

/// The answers shaped as op-reth gives them, each expected value from outside the RPC code:
/// the block's size is the length of the block as alloy encodes it (decoded back from
/// `debug_getRawBlock`, whose header hashes to the block's hash); the fee history's next base
/// fee is the one the sequencer then builds with; keccak of "hello" is the well-known digest.
#[test]
fn answers_are_shaped_as_op_reth_gives_them() {
    use alloy_eips::eip2718::Decodable2718;
    let config = DevnetConfig::default();
    let chains = config.sequenced_chains();
    let dir = tempfile::tempdir().unwrap();
    let sequencer = SharedSequencer::open(dir.path(), &chains, BRIDGE, dev_key(8), 6, &[]).unwrap();
    let handle = Arc::new(Mutex::new(sequencer));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (op, _server) = runtime
        .block_on(rpc::serve(
            handle.clone(),
            901,
            &lockstep_rpc::CallPool::default(),
            "127.0.0.1:0".parse().unwrap(),
        ))
        .unwrap();
    let sent = call(op, "eth_sendRawTransaction", json!([transfer(901, 0, 10_000_000_000)]));
    let hash = sent["result"].as_str().unwrap().to_string();
    // an L1 origin with a base fee, so that L1 data costs something
    let origin = |number| L1Origin {
        header: Header {
            number,
            parent_beacon_block_root: Some(B256::ZERO),
            base_fee_per_gas: Some(30_000_000_000),
            excess_blob_gas: Some(0),
            blob_gas_used: Some(0),
            ..Default::default()
        },
        sequence_number: 0,
    };
    handle.lock().unwrap().build(&origin(1), &BTreeMap::new()).unwrap();
    let result = |method: &str, params: Value| call(op, method, params)["result"].clone();

    // size: the whole block's RLP, as alloy encodes it
    let block = result("eth_getBlockByNumber", json!(["0x1", true]));
    let raw = result("debug_getRawBlock", json!(["0x1"]));
    let raw = hex::decode(raw.as_str().unwrap()).unwrap();
    let decoded: alloy_consensus::Block<op_alloy_consensus::OpTxEnvelope> =
        alloy_rlp::Decodable::decode(&mut raw.as_slice()).unwrap();
    assert_eq!(json!(decoded.header.hash_slow()), block["hash"]);
    assert_eq!(hex_number(&block["size"]), raw.len() as u128);
    assert_eq!(decoded.body.transactions.len(), 2, "the L1 info deposit and the transfer");

    // transaction objects: blockTimestamp on each, depositReceiptVersion on the deposit
    let txs = block["transactions"].as_array().unwrap();
    for tx in txs {
        assert_eq!(tx["blockTimestamp"], block["timestamp"], "{tx}");
    }
    let deposit_receipt = result("eth_getTransactionReceipt", json!([txs[0]["hash"]]));
    assert_eq!(txs[0]["type"], "0x7e");
    assert_eq!(txs[0]["depositReceiptVersion"], deposit_receipt["depositReceiptVersion"]);
    assert_eq!(txs[0]["depositReceiptVersion"], "0x1", "Canyon's receipt version");
    assert!(txs[1].get("depositReceiptVersion").is_none());

    // a block past the head: -32001, as op-reth
    let future = call(op, "eth_getBalance", json!([Address::ZERO, "0x9"]));
    assert_eq!(future["error"]["code"], -32001, "{future}");
    // a bare block hash names the block
    let by_hash = result("eth_getBlockReceipts", json!([block["hash"]]));
    assert_eq!(by_hash, result("eth_getBlockReceipts", json!(["0x1"])));
    assert_eq!(by_hash.as_array().unwrap().len(), 2);

    // counts and lookups by index
    assert_eq!(result("eth_getBlockTransactionCountByNumber", json!(["0x1"])), "0x2");
    assert_eq!(result("eth_getBlockTransactionCountByHash", json!([block["hash"]])), "0x2");
    assert_eq!(result("eth_getBlockTransactionCountByHash", json!([B256::ZERO])), Value::Null);
    assert_eq!(
        result("eth_getTransactionByBlockNumberAndIndex", json!(["0x1", "0x1"])),
        result("eth_getTransactionByHash", json!([hash]))
    );
    assert_eq!(
        result("eth_getTransactionByBlockHashAndIndex", json!([block["hash"], "0x0"]))["hash"],
        txs[0]["hash"]
    );
    assert_eq!(
        result("eth_getTransactionByBlockNumberAndIndex", json!(["0x1", "0x9"])),
        Value::Null
    );
    assert_eq!(result("eth_getUncleCountByBlockNumber", json!(["0x1"])), "0x0");
    let raw_tx = result("eth_getRawTransactionByHash", json!([hash]));
    let decoded_tx = op_alloy_consensus::OpTxEnvelope::decode_2718_exact(
        &hex::decode(raw_tx.as_str().unwrap()).unwrap(),
    )
    .unwrap();
    assert_eq!(json!(decoded_tx.tx_hash()), json!(hash));
    assert_eq!(result("eth_syncing", json!([])), false);
    assert_eq!(result("eth_accounts", json!([])), json!([]));
    assert_eq!(
        result("web3_sha3", json!(["0x68656c6c6f"])),
        "0x1c8aff950685c2ed4bc3174f3472287b56d9517b9c948127319a09a7a36deac8"
    );

    // the OP fee fields: the transfer paid an L1 fee, the deposit none, and the L1 fee vault
    // received exactly what the receipts say (a balance the executor moved, not the RPC)
    let vault = "0x420000000000000000000000000000000000001a";
    let receipts = result("eth_getBlockReceipts", json!(["0x1"]));
    let transfer = &receipts[1];
    assert_eq!(hex_number(&transfer["l1GasPrice"]), 30_000_000_000, "{transfer}");
    assert!(hex_number(&transfer["l1Fee"]) > 0, "{transfer}");
    for field in ["l1GasUsed", "l1BaseFeeScalar", "l1BlobBaseFee", "l1BlobBaseFeeScalar"] {
        assert!(transfer.get(field).is_some(), "{field}: {transfer}");
    }
    assert!(receipts[0].get("l1Fee").is_none(), "a deposit pays no L1 fee");
    let paid: u128 =
        receipts.as_array().unwrap().iter().filter_map(|r| r.get("l1Fee")).map(hex_number).sum();
    let vault_at = |block: &str| hex_number(&result("eth_getBalance", json!([vault, block])));
    assert_eq!(vault_at("0x1") - vault_at("0x0"), paid);
    assert_eq!(result("eth_getTransactionReceipt", json!([hash]))["l1Fee"], transfer["l1Fee"]);

    // eth_call's state overrides: code that returns storage slot 1 put on the L1Block
    // contract reads the slot the L1 info deposit wrote; `stateDiff` changes that slot alone,
    // `state` replaces the whole storage (so slot 1 reads zero)
    let l1_block = "0x4200000000000000000000000000000000000015";
    let slot = format!("0x{:064x}", 1);
    // PUSH1 1, SLOAD, PUSH1 0, MSTORE, PUSH1 32, PUSH1 0, RETURN
    let returner = "0x60015460005260206000f3";
    let call_with = |overrides: Value| {
        result("eth_call", json!([{"to": l1_block, "data": "0x"}, "latest", overrides]))
    };
    let stored = result("eth_getStorageAt", json!([l1_block, slot, "latest"]));
    assert_ne!(stored, json!(B256::ZERO), "the deposit wrote slot 1");
    assert_eq!(call_with(json!({l1_block: {"code": returner}})), stored);
    let seven = format!("0x{:064x}", 7);
    assert_eq!(
        call_with(json!({l1_block: {"code": returner, "stateDiff": {&slot: &seven}}})),
        json!(seven)
    );
    let other = format!("0x{:064x}", 2);
    assert_eq!(
        call_with(json!({l1_block: {"code": returner, "state": {&other: &seven}}})),
        json!(B256::ZERO)
    );
    // and nothing was written
    assert_eq!(result("eth_getStorageAt", json!([l1_block, slot, "latest"])), stored);
    let both = call(
        op,
        "eth_call",
        json!([{"to": l1_block}, "latest", {l1_block: {"state": {}, "stateDiff": {}}}]),
    );
    assert_eq!(both["error"]["code"], -32602, "{both}");

    // fees: the block is far from full, so the tip suggested is the minimum
    let base_fee = hex_number(&block["baseFeePerGas"]);
    assert_eq!(hex_number(&result("eth_maxPriorityFeePerGas", json!([]))), 1_000_000);
    assert_eq!(hex_number(&result("eth_gasPrice", json!([]))), base_fee + 1_000_000);
    let history = result("eth_feeHistory", json!(["0x2", "latest", [50, 95]]));
    assert_eq!(history["oldestBlock"], "0x0");
    let fees = history["baseFeePerGas"].as_array().unwrap();
    assert_eq!(fees.len(), 3, "{history}");
    assert_eq!(hex_number(&fees[1]), base_fee);
    let gas_used = hex_number(&block["gasUsed"]) as f64;
    let gas_limit = hex_number(&block["gasLimit"]) as f64;
    assert_eq!(history["gasUsedRatio"][1].as_f64().unwrap(), gas_used / gas_limit);
    // block 1's rewards: the deposit (tip 0) used more than half the gas and less than 95%, so
    // the 50th percentile is its tip and the 95th the transfer's (1 wei, its max priority fee)
    let deposit_gas = hex_number(&deposit_receipt["gasUsed"]) as f64;
    assert!(deposit_gas / gas_used > 0.5 && deposit_gas / gas_used < 0.95, "{deposit_gas}");
    assert_eq!(history["reward"][1], json!(["0x0", "0x1"]));
    // the next block's base fee, as the sequencer then builds it
    handle.lock().unwrap().build(&origin(1), &BTreeMap::new()).unwrap();
    let next = result("eth_getBlockByNumber", json!(["0x2", false]));
    assert_eq!(fees[2], next["baseFeePerGas"]);
    // bad percentiles are refused
    let bad = call(op, "eth_feeHistory", json!(["0x2", "latest", [75, 25]]));
    assert_eq!(bad["error"]["code"], -32602, "{bad}");
}

#[test]
fn viem_burns_a_token_on_901_with_no_gas_or_fee_given_and_watches_its_mint_on_902() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    assert!(root.join("node_modules/viem").exists(), "viem is not installed: run scripts/setup.sh");
    let served = serve_both_chains();
    let (handle, op, base) = (served.handle.clone(), served.op, served.base);
    let sender = dev_key(5);
    let recipient = Address::with_last_byte(0xb2);
    let amount = U256::from(7u64) * U256::from(10u64).pow(U256::from(18u64));
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/viem/burn.mjs");
    let mut child = Command::new("node")
        .arg(&script)
        .env("SOURCE_URL", format!("http://{op}"))
        .env("DESTINATION_URL", format!("http://{base}"))
        .env("TOKEN", lockstep_devnet::TOKEN.to_string())
        .env("BRIDGE", BRIDGE.to_string())
        .env("RECIPIENT", recipient.to_string())
        .env("AMOUNT", amount.to_string())
        .env("KEY", hex::encode_prefixed(sender.credential().to_bytes()))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("node must be installed: run scripts/setup.sh");
    // the burn reaches the pool; then the sequencer builds the block that holds it and its mint
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(180);
    while handle.lock().unwrap().pending(901) == 0 {
        if let Some(status) = child.try_wait().unwrap() {
            let out = child.wait_with_output().unwrap();
            panic!(
                "viem exited ({status}) before sending: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        assert!(std::time::Instant::now() < deadline, "viem sent nothing in time");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let origin = L1Origin {
        header: Header {
            number: 1,
            parent_beacon_block_root: Some(B256::ZERO),
            ..Default::default()
        },
        sequence_number: 0,
    };
    handle.lock().unwrap().build(&origin, &BTreeMap::new()).unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "viem: {}\n{stdout}", String::from_utf8_lossy(&out.stderr));
    let done: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    let big = |v: &Value| U256::from_str_radix(v.as_str().unwrap(), 10).unwrap();

    assert_eq!(done["event"], "done", "{stdout}");
    assert_eq!(done["status"], "success", "{done}");
    assert_eq!(done["blockNumber"], "1", "{done}");
    assert_eq!(done["nonce"], 0, "viem asked the nonce: {done}");
    assert!(big(&done["gasUsed"]) <= big(&done["gas"]), "viem's gas estimate sufficed: {done}");
    assert!(
        done["seen"].as_array().unwrap().contains(&json!("1")),
        "watchBlocks reported 902's block 1: {done}"
    );
    // the token moved: out of the sender on 901, into the recipient on 902, in the same block
    let genesis_balance = U256::from(1_000_000u64) * U256::from(10u64).pow(U256::from(18u64));
    assert_eq!(big(&done["before"]["sender"]), genesis_balance, "{done}");
    assert_eq!(big(&done["after"]["sender"]), genesis_balance - amount, "{done}");
    assert_eq!(big(&done["before"]["recipient"]), U256::ZERO, "{done}");
    assert_eq!(big(&done["after"]["recipient"]), amount, "{done}");
}

#[test]
fn viem_over_websocket_is_pushed_each_new_head_and_the_bridges_logs() {
    use alloy_primitives::keccak256;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    assert!(root.join("node_modules/viem").exists(), "viem is not installed: run scripts/setup.sh");
    let served = serve_both_chains();
    let (handle, op, base) = (served.handle.clone(), served.op, served.base);
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/viem/subscribe.mjs");
    let mut child = Command::new("node")
        .arg(&script)
        .env("DESTINATION_WS", format!("ws://{base}"))
        .env("BRIDGE", BRIDGE.to_string())
        .env("COUNT", "3")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("node must be installed: run scripts/setup.sh");
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(child.stdout.take().unwrap()));
    let ready = lines.next().expect("viem printed nothing").unwrap();
    assert!(ready.contains("ready"), "{ready}");

    // a native burn on 901 towards 902, then three rounds: its mint is in 902's first block
    let amount = U256::from(5u64) * U256::from(10u64).pow(U256::from(17u64));
    let mut input = keccak256("burn(uint256,address,address,uint256)")[..4].to_vec();
    for word in [
        U256::from(902u64).to_be_bytes::<32>(),
        Address::ZERO.into_word().0,
        Address::with_last_byte(0xc3).into_word().0,
        amount.to_be_bytes::<32>(),
    ] {
        input.extend_from_slice(&word);
    }
    let burn = TxEip1559 {
        chain_id: 901,
        nonce: 0,
        gas_limit: 200_000,
        max_fee_per_gas: 10_000_000_000,
        max_priority_fee_per_gas: 1,
        to: TxKind::Call(BRIDGE),
        value: amount,
        access_list: Default::default(),
        input: input.into(),
    };
    let sig = dev_key(4).sign_hash_sync(&burn.signature_hash()).unwrap();
    let raw = hex::encode_prefixed(burn.into_signed(sig).encoded_2718());
    let sent = call(op, "eth_sendRawTransaction", json!([raw]));
    assert!(sent.get("result").is_some(), "{sent}");
    for round in 0..3 {
        let origin = L1Origin {
            header: Header {
                number: 1,
                parent_beacon_block_root: Some(B256::ZERO),
                ..Default::default()
            },
            sequence_number: round,
        };
        handle.lock().unwrap().build(&origin, &BTreeMap::new()).unwrap();
    }
    let done = lines.next().expect("viem ended without a result").unwrap();
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(status.success(), "viem: {stderr}\n{done}");
    let done: Value = serde_json::from_str(&done).unwrap();
    assert_eq!(done["errors"], json!([]), "{done}");
    assert!(done["refused"].as_str().is_some_and(|m| m.contains("newHeads")), "{done}");

    // what was pushed is what the sequencer stored: every new head of 902, and the bridge's logs
    let sequencer = handle.lock().unwrap();
    let tx = sequencer.database().tx().unwrap();
    let provider = lockstep_storage::ChainProvider::new(&tx, 902);
    let heads: Vec<Value> = (1..=3u64)
        .map(|n| json!({"number": n.to_string(), "hash": provider.block_hash(n).unwrap().unwrap()}))
        .collect();
    assert_eq!(done["heads"], json!(heads), "{done}");
    let mut logs = Vec::new();
    for number in 1..=3u64 {
        let all = provider.receipts(number).unwrap().into_iter().flat_map(|r| r.logs().to_vec());
        for (index, log) in all.enumerate() {
            if log.address == BRIDGE {
                logs.push(json!({"block": number.to_string(), "logIndex": index,
                    "address": BRIDGE.to_checksum(None)}));
            }
        }
    }
    assert!(!logs.is_empty(), "the mint's Mint log is on 902");
    assert_eq!(done["logs"], json!(logs), "{done}");
}
