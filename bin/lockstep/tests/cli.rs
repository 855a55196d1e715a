//! The `lockstep` binary as a user runs it, on real chain data.

#![allow(clippy::unwrap_used)]

mod common;

use common::{lockstep, stderr};

use serde_json::Value;
use std::{
    io::Read,
    path::{Path, PathBuf},
    process::Output,
};

fn testdata(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata").join(rel)
}

fn init(datadir: &Path, rollup: &Path, genesis: &Path) -> Output {
    lockstep(&[
        "init",
        "--datadir",
        datadir.to_str().unwrap(),
        "--rollup-config",
        rollup.to_str().unwrap(),
        "--genesis",
        genesis.to_str().unwrap(),
    ])
}

fn base_genesis_json() -> Value {
    let mut raw = Vec::new();
    let file = std::fs::File::open(testdata("base-mainnet/genesis.json.gz")).unwrap();
    flate2::read::GzDecoder::new(file).read_to_end(&mut raw).unwrap();
    serde_json::from_slice(&raw).unwrap()
}

#[test]
fn init_base_mainnet_reproduces_the_registry_genesis() {
    let dir = tempfile::tempdir().unwrap();
    let datadir = dir.path().join("db");
    let rollup = testdata("base-mainnet/rollup.json");
    let genesis = testdata("base-mainnet/genesis.json.gz");
    let out = init(&datadir, &rollup, &genesis);
    assert!(out.status.success(), "{}", stderr(&out));
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    // expected values from the superchain registry (testdata/README.md)
    assert_eq!(
        printed["stateRoot"],
        "0xb2afcb88cd1d0ab228f0415d99b0fb90a18e8515daf5eb31f55b5c4697e18328"
    );
    assert_eq!(
        printed["blockHash"],
        "0xf712aa9241cc24369b143cf6dce85f0902a9731e70d66818a3a5845b296c73dd"
    );
    assert_eq!(printed["written"], true);

    // idempotent: the same files again change nothing
    let before = std::fs::read(datadir.join("mdbx.dat")).unwrap();
    let again = init(&datadir, &rollup, &genesis);
    assert!(again.status.success(), "{}", stderr(&again));
    let printed_again: Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(printed_again["blockHash"], printed["blockHash"]);
    assert_eq!(printed_again["written"], false);
    assert_eq!(std::fs::read(datadir.join("mdbx.dat")).unwrap(), before);

    // a different genesis for the same chain id is refused, and nothing changes
    let mut other = base_genesis_json();
    other["alloc"]["4200000000000000000000000000000000000000"]["balance"] = "0x1".into();
    let other_path = dir.path().join("other-genesis.json");
    std::fs::write(&other_path, other.to_string()).unwrap();
    let refused = init(&datadir, &rollup, &other_path);
    assert!(!refused.status.success());
    assert!(stderr(&refused).contains("refusing to overwrite"), "{}", stderr(&refused));
    assert_eq!(std::fs::read(datadir.join("mdbx.dat")).unwrap(), before);

    let stats = lockstep(&["db", "stats", "--datadir", datadir.to_str().unwrap()]);
    assert!(stats.status.success(), "{}", stderr(&stats));
    let text = String::from_utf8_lossy(&stats.stdout);
    let accounts_line = text.lines().find(|l| l.starts_with("PlainAccounts")).unwrap();
    assert!(accounts_line.contains(" 2064 "), "{accounts_line}");
}

#[test]
fn init_base_mainnet_with_jovian_and_karst_scheduled_still_reproduces_the_registry_genesis() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(testdata("base-mainnet/rollup.json")).unwrap();
    let mut rollup: Value = serde_json::from_str(&text).unwrap();
    // Base mainnet's Jovian and Karst, as the registry schedules them (with OP Mainnet's)
    rollup["jovian_time"] = 1_764_691_201u64.into();
    rollup["karst_time"] = 1_783_526_401u64.into();
    let path = dir.path().join("rollup.json");
    std::fs::write(&path, rollup.to_string()).unwrap();
    let out = init(&dir.path().join("db"), &path, &testdata("base-mainnet/genesis.json.gz"));
    assert!(out.status.success(), "{}", stderr(&out));
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        printed["blockHash"],
        "0xf712aa9241cc24369b143cf6dce85f0902a9731e70d66818a3a5845b296c73dd"
    );
    // a fork lockstep does not implement is refused at start, by name
    rollup["lagoon_time"] = 1_900_000_000u64.into();
    std::fs::write(&path, rollup.to_string()).unwrap();
    let out = init(&dir.path().join("db2"), &path, &testdata("base-mainnet/genesis.json.gz"));
    assert!(!out.status.success());
    assert!(stderr(&out).contains("lagoon_time"), "{}", stderr(&out));
}

#[test]
fn malformed_config_files_name_the_field_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let datadir = dir.path().join("db");
    let rollup_text = std::fs::read_to_string(testdata("base-mainnet/rollup.json")).unwrap();
    let mut rollup: Value = serde_json::from_str(&rollup_text).unwrap();
    rollup["genesis"]["l2"]["hash"] = "0x1234".into();
    let bad_rollup = dir.path().join("rollup.json");
    std::fs::write(&bad_rollup, rollup.to_string()).unwrap();
    let out = init(&datadir, &bad_rollup, &testdata("base-mainnet/genesis.json.gz"));
    assert!(!out.status.success());
    assert!(stderr(&out).contains("genesis.l2.hash"), "{}", stderr(&out));
    assert!(!datadir.exists(), "a failed init must not create the database");

    let mut genesis = base_genesis_json();
    genesis["gasLimit"] = "lots".into();
    let bad_genesis = dir.path().join("genesis.json");
    std::fs::write(&bad_genesis, genesis.to_string()).unwrap();
    let out = init(&datadir, &testdata("base-mainnet/rollup.json"), &bad_genesis);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("gasLimit"), "{}", stderr(&out));

    std::fs::write(&bad_genesis, "{ not json").unwrap();
    let out = init(&datadir, &testdata("base-mainnet/rollup.json"), &bad_genesis);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("not valid JSON"), "{}", stderr(&out));
    assert!(!datadir.exists());

    let out = lockstep(&["db", "stats", "--datadir", datadir.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("no lockstep database"), "{}", stderr(&out));
}

#[test]
fn init_both_devnet_chains_into_one_datadir() {
    let dir = tempfile::tempdir().unwrap();
    let datadir = dir.path().join("db");
    let devnet = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../etc/devnet");
    for (name, chain_id) in [("op", 901), ("base", 902)] {
        let rollup = devnet.join(name).join("rollup.json");
        let out = init(&datadir, &rollup, &devnet.join(name).join("genesis.json"));
        assert!(out.status.success(), "{}", stderr(&out));
        let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
        let rollup: Value =
            serde_json::from_str(&std::fs::read_to_string(rollup).unwrap()).unwrap();
        assert_eq!(printed["chainId"], chain_id);
        // the MDBX trie path agrees with the in-memory computation that wrote rollup.json
        assert_eq!(printed["blockHash"], rollup["genesis"]["l2"]["hash"]);
    }
    let stats = lockstep(&["db", "stats", "--datadir", datadir.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&stats.stdout);
    let line = text.lines().find(|l| l.starts_with("ChainGenesis")).unwrap();
    assert!(line.contains(" 2 "), "{line}");
}

#[test]
fn bounded_devnet_flags_the_injected_fault_and_exits_3() {
    let out =
        lockstep(&["devnet", "--batches", "3", "--fault", "drop-mint@1", "--txs-per-block", "4"]);
    assert_eq!(out.status.code(), Some(3), "a flagged run exits 3: {}", stderr(&out));
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["batchesChecked"], 3);
    let flagged: Vec<u64> = summary["flagged"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["batch"].as_u64().unwrap())
        .collect();
    assert_eq!(flagged, vec![1], "only the faulty batch is flagged");
    assert_eq!(summary["flagged"][0]["classifications"], serde_json::json!({"MissingMint": 1}));
    let burns = summary["transfers"]["burns"].as_u64().unwrap();
    assert_eq!(summary["transfers"]["mints"].as_u64().unwrap(), burns - 1);

    let bad = lockstep(&["devnet", "--batches", "1", "--blocks-per-batch", "4"]);
    assert!(!bad.status.success());
    assert!(stderr(&bad).contains("multiple of 6"), "{}", stderr(&bad));
    let bad = lockstep(&["devnet", "--fault", "drop-mint"]);
    assert!(!bad.status.success());
    assert!(stderr(&bad).contains("KIND@BATCH"), "{}", stderr(&bad));
}

/// Reads a testdata file, gunzipping and hex-decoding as the name says.
fn testdata_bytes(rel: &str) -> Vec<u8> {
    let mut raw = Vec::new();
    let file = std::fs::File::open(testdata(rel)).unwrap();
    if rel.ends_with(".gz") {
        flate2::read::GzDecoder::new(file).read_to_end(&mut raw).unwrap();
    } else {
        std::io::BufReader::new(file).read_to_end(&mut raw).unwrap();
    }
    if rel.contains(".hex") {
        let text = String::from_utf8(raw).unwrap();
        raw = alloy_primitives::hex::decode(text.trim()).unwrap();
    }
    raw
}

/// Every batch in `channel` (zlib), as `(blocks, txs)`: decompressed here with flate2's
/// streaming reader (keeping what an unterminated stream yields, as op-node does), then decoded
/// with kona's batch decoder for OP Mainnet's chain id, block time and L2 genesis time.
fn kona_span_batches(channel: &[u8]) -> Vec<(usize, usize)> {
    let rollup = kona_genesis::RollupConfig {
        l2_chain_id: 10.into(),
        block_time: 2,
        genesis: kona_genesis::ChainGenesis { l2_time: 1_686_068_903, ..Default::default() },
        ..Default::default()
    };
    let mut decompressed = Vec::new();
    let mut reader = flate2::read::ZlibDecoder::new(channel);
    let mut chunk = [0u8; 4096];
    loop {
        match reader.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => decompressed.extend_from_slice(&chunk[..n]),
        }
    }
    let mut rest = decompressed.as_slice();
    let mut found = Vec::new();
    while let Ok(item) = <alloy_primitives::Bytes as alloy_rlp::Decodable>::decode(&mut rest) {
        let batch = kona_protocol::Batch::decode(&mut item.as_ref(), &rollup).unwrap();
        let kona_protocol::Batch::Span(span) = batch else { panic!("a span batch") };
        let txs: Vec<_> = span.batches.iter().flat_map(|b| b.transactions.iter()).collect();
        // every transaction is a real signed one of chain 10
        for raw in &txs {
            let tx = <op_alloy_consensus::OpTxEnvelope as alloy_eips::eip2718::Decodable2718>::decode_2718(&mut raw.as_ref()).unwrap();
            if !tx.is_deposit() {
                assert!(
                    alloy_consensus::transaction::SignerRecoverable::recover_signer(&tx).is_ok()
                );
            }
        }
        found.push((span.batches.len(), txs.len()));
    }
    found
}

#[test]
fn decode_reads_op_mainnet_batcher_data() {
    // the batcher transaction: one frame of one zlib channel that is not terminated
    let out = lockstep(&["decode", testdata("op-mainnet/batcher-tx.bin").to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["input"], "transaction");
    let tx = &report["transaction"];
    assert_eq!(tx["chainId"], 1);
    assert_eq!(tx["to"], "0xff00000000000000000000000000000000000010", "OP Mainnet's inbox");
    // OP Mainnet's batcher
    assert_eq!(tx["from"], "0x6887246668a3b87f54deb3b94ba47a6f63f32985");
    let frames = report["frames"].as_array().unwrap();
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0]["channelId"], "0xac329933f5efdcc35ccd284232a376d3");
    assert_eq!(frames[0]["number"], 0);
    assert_eq!(frames[0]["isLast"], true);
    let channel = &report["channels"][0];
    assert_eq!(channel["compression"], "zlib");
    assert_eq!(channel["streamTerminated"], false);
    assert_eq!(channel["complete"], true);
    let batches = channel["batches"].as_array().unwrap();
    assert_eq!(batches.len(), 1, "one span batch");
    // kona's own reader, from the frame's bytes, finds the same span batch
    let raw = testdata_bytes("op-mainnet/batcher-tx.bin");
    let tx = <alloy_consensus::TxEnvelope as alloy_eips::eip2718::Decodable2718>::decode_2718(
        &mut raw.as_slice(),
    )
    .unwrap();
    let frame_data = kona_protocol::Frame::parse_frames(alloy_consensus::Transaction::input(&tx))
        .unwrap()[0]
        .data
        .clone();
    let expected = kona_span_batches(&frame_data);
    assert_eq!(expected.len(), 1);
    assert_eq!(batches[0]["type"], "span");
    assert_eq!(batches[0]["blockCount"], expected[0].0);
    assert_eq!(batches[0]["transactions"], expected[0].1);
    let (first, last) = (
        batches[0]["firstL1Origin"].as_u64().unwrap(),
        batches[0]["lastL1Origin"].as_u64().unwrap(),
    );
    assert!(first <= last && last - first < expected[0].0 as u64);

    // the channel file (hex, gzipped), with absolute timestamps from a rollup config
    let dir = tempfile::tempdir().unwrap();
    let rollup = dir.path().join("rollup.json");
    std::fs::write(&rollup, r#"{"genesis":{"l1":{"hash":"0x438335a20d98863a4c0c97999eb2481921ccd28553eac6f913af7c12aec04108","number":17422590},"l2":{"hash":"0xdbf6a80fef073de06add9b0d14026d6e5a86c85f6d102c36d3d8e9cf89c2afd3","number":105235063},"l2_time":1686068903,"system_config":{"batcherAddr":"0x6887246668a3b87f54deb3b94ba47a6f63f32985","overhead":"0x00000000000000000000000000000000000000000000000000000000000000bc","scalar":"0x00000000000000000000000000000000000000000000000000000000000a6fe0","gasLimit":30000000}},"block_time":2,"max_sequencer_drift":600,"seq_window_size":3600,"channel_timeout":300,"l1_chain_id":1,"l2_chain_id":10,"batch_inbox_address":"0xff00000000000000000000000000000000000010","deposit_contract_address":"0xbeb5fc579115071764c7423a4f12edde41f106ed","l1_system_config_address":"0x229047fed2591dbec1ef1118d64f7af3db9eb290","protocol_versions_address":"0x8062abc286f5e7d9428a0ccb9abd71e50d93b935"}"#).unwrap();
    let out = lockstep(&[
        "decode",
        testdata("op-mainnet/span-batch-channel.hex.gz").to_str().unwrap(),
        "--rollup-config",
        rollup.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["input"], "channel");
    let channel = &report["channels"][0];
    assert_eq!(channel["compression"], "zlib");
    let batches = channel["batches"].as_array().unwrap();
    let expected = kona_span_batches(&testdata_bytes("op-mainnet/span-batch-channel.hex.gz"));
    assert_eq!(batches.len(), expected.len());
    assert_eq!(batches.len(), 1, "one span batch");
    let span = &batches[0];
    assert_eq!(span["blockCount"], expected[0].0);
    assert_eq!(span["transactions"], expected[0].1);
    let first = span["firstTimestamp"].as_u64().unwrap();
    assert_eq!(first, 1_686_068_903 + span["relTimestamp"].as_u64().unwrap());
    assert_eq!(span["lastTimestamp"].as_u64().unwrap(), first + 2 * (expected[0].0 as u64 - 1));

    // malformed input: a clear error, no panic
    let junk = dir.path().join("junk.bin");
    std::fs::write(&junk, [0u8, 1, 2, 3]).unwrap();
    let out = lockstep(&["decode", "--kind", "calldata", junk.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("frames"), "{}", stderr(&out));
    let out = lockstep(&["decode", "--kind", "blob", junk.to_str().unwrap()]);
    assert!(stderr(&out).contains("131072"), "{}", stderr(&out));
}

fn sepolia_json(number: u64) -> Value {
    let mut raw = Vec::new();
    let file =
        std::fs::File::open(testdata(&format!("op-sepolia/block-{number}.json.gz"))).unwrap();
    flate2::read::GzDecoder::new(file).read_to_end(&mut raw).unwrap();
    serde_json::from_slice(&raw).unwrap()
}

#[test]
fn stateless_reexecutes_a_real_op_sepolia_block_to_its_real_hash() {
    let path = testdata("op-sepolia/block-26207962.json.gz");
    let out = lockstep(&["stateless", path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    let file = sepolia_json(26207962);
    assert_eq!(printed["matches"], true);
    assert_eq!(printed["blockHash"], file["expected"]["blockHash"]);
    assert_eq!(printed["header"]["hash"], file["expected"]["blockHash"]);
    for field in ["stateRoot", "receiptsRoot", "transactionsRoot", "logsBloom", "gasUsed", "number"]
    {
        assert_eq!(printed["header"][field], file["expected"]["header"][field], "{field}");
    }
    assert_eq!(printed["number"], 26207962);
}

#[test]
fn stateless_reports_each_differing_field_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let mut file = sepolia_json(26207960);
    let real_root = file["expected"]["header"]["stateRoot"].clone();
    file["expected"]["header"]["stateRoot"] = Value::String(format!("0x{}", "11".repeat(32)));
    file["expected"]["blockHash"] = Value::String(format!("0x{}", "22".repeat(32)));
    let path = dir.path().join("block.json");
    std::fs::write(&path, serde_json::to_vec(&file).unwrap()).unwrap();
    let out = lockstep(&["stateless", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed["matches"], false);
    let mismatches = printed["mismatches"].as_array().unwrap();
    assert_eq!(mismatches.len(), 1, "{mismatches:?}");
    assert_eq!(mismatches[0]["field"], "stateRoot");
    assert_eq!(mismatches[0]["computed"], real_root);
}

#[test]
fn stateless_bad_input_exits_2_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = sepolia_json(26207960);
    let text = serde_json::to_vec(&file).unwrap();
    let case = |name: &str, bytes: &[u8], expect: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let out = lockstep(&["stateless", path.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "{name}: {}", stderr(&out));
        assert!(stderr(&out).contains(expect), "{name}: {}", stderr(&out));
        assert!(!stderr(&out).contains("panicked"), "{name}: {}", stderr(&out));
    };
    case("truncated.json", &text[..text.len() / 3], "not valid JSON");
    let mut no_attrs = file.clone();
    no_attrs.as_object_mut().unwrap().remove("payloadAttributes");
    case("no-attrs.json", &serde_json::to_vec(&no_attrs).unwrap(), "payloadAttributes");
    // the witness without its root node: the error names the node's hash and path
    let root = file["parentHeader"]["stateRoot"].as_str().unwrap().to_owned();
    let mut lacking = file.clone();
    let state = lacking["witness"]["state"].as_array_mut().unwrap();
    let before = state.len();
    state.retain(|node| {
        let bytes = alloy_primitives::hex::decode(node.as_str().unwrap()).unwrap();
        alloy_primitives::keccak256(bytes).to_string() != root
    });
    assert_eq!(state.len(), before - 1);
    case(
        "lacking.json",
        &serde_json::to_vec(&lacking).unwrap(),
        &format!("trie node {root} at path 0x"),
    );
    let mut zero_gas = file;
    zero_gas["payloadAttributes"]["gasLimit"] = "0x0".into();
    case("zero-gas.json", &serde_json::to_vec(&zero_gas).unwrap(), "gasLimit 0");
    let out = lockstep(&["stateless", dir.path().join("absent.json").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("absent.json"), "{}", stderr(&out));
}

#[test]
fn init_op_sepolia_from_its_registry_toml_reproduces_its_genesis_hash() {
    let dir = tempfile::tempdir().unwrap();
    let toml = testdata("specs/superchain-registry/sepolia/op.toml");
    let out = init(&dir.path().join("db"), &toml, &testdata("op-sepolia/genesis.json.gz"));
    assert!(out.status.success(), "{}", stderr(&out));
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    // the hash op-node's rollup.json and the registry give for OP Sepolia's genesis
    let rollup: Value =
        serde_json::from_str(&std::fs::read_to_string(testdata("op-sepolia/rollup.json")).unwrap())
            .unwrap();
    assert_eq!(printed["blockHash"], rollup["genesis"]["l2"]["hash"]);
    assert_eq!(
        printed["blockHash"],
        "0x102de6ffb001480cc9b8b548fd05c34cd4f46ae4aa91759393db90ea0409887d"
    );
}
