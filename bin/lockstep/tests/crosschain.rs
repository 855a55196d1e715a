//! The cross-chain check end to end, as node runners, challengers and CI use it:
//! `lockstep devnet --fault KIND@BATCH` exits 3 with exactly the faulty batches flagged,
//! `lockstep evidence export` writes evidence that a verifier written here (its own keccak,
//! ABI encoding and Merkle folding; nothing from the tree builder) accepts, a long clean run
//! exits 0, and `superchain_*` answers curl over HTTP.

#![allow(clippy::unwrap_used)]

use lockstep_storage::{ChainProvider, DatabaseEnv, DatabaseMode};
use serde_json::{json, Value};
use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};

mod common;

use common::{curl, devnet_anvil, lockstep, spawn_node_http, stderr};

/// A verifier of exported evidence that trusts nothing of lockstep's tree code: keccak from
/// RustCrypto's `sha3`, the leaf's ABI encoding and the proof folding written out here again
/// from DESIGN.md 5.2-5.5.
mod standalone {
    use serde_json::Value;
    use sha3::{Digest, Keccak256};

    pub(crate) fn keccak(data: &[u8]) -> [u8; 32] {
        Keccak256::digest(data).into()
    }

    pub(crate) fn bytes32(v: &Value) -> [u8; 32] {
        let s = v.as_str().unwrap_or_else(|| panic!("not a hash: {v}"));
        let raw = hex(s.trim_start_matches("0x"));
        assert_eq!(raw.len(), 32, "{s}");
        raw.try_into().unwrap()
    }

    fn hex(s: &str) -> Vec<u8> {
        let s = if s.len() % 2 == 1 { format!("0{s}") } else { s.to_string() };
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    /// A JSON number or 0x string as a big-endian 32-byte word.
    fn word(v: &Value) -> [u8; 32] {
        let raw = match v {
            Value::Number(n) => n.as_u64().unwrap().to_be_bytes().to_vec(),
            Value::String(s) => hex(s.trim_start_matches("0x")),
            other => panic!("not a number: {other}"),
        };
        let mut out = [0u8; 32];
        out[32 - raw.len()..].copy_from_slice(&raw);
        out
    }

    /// `keccak256(abi.encode(source, destination, nonce, token, from, to, amount))`.
    pub(crate) fn leaf(t: &Value) -> [u8; 32] {
        let mut encoded = Vec::with_capacity(224);
        for field in ["source", "destination", "nonce", "token", "from", "to", "amount"] {
            encoded.extend_from_slice(&word(&t[field]));
        }
        keccak(&encoded)
    }

    fn hash_pair(a: &[u8; 32], b: &[u8; 32]) -> [u8; 32] {
        let mut buf = [0u8; 64];
        buf[..32].copy_from_slice(a);
        buf[32..].copy_from_slice(b);
        keccak(&buf)
    }

    /// The committed root a proof leads to from `leaf`.
    pub(crate) fn fold(leaf: [u8; 32], proof: &Value) -> [u8; 32] {
        let mut index = proof["index"].as_u64().unwrap();
        let count = proof["count"].as_u64().unwrap();
        assert!(index < count);
        let siblings = proof["siblings"].as_array().unwrap();
        assert_eq!(1u64 << siblings.len(), count.next_power_of_two().max(1), "proof height");
        let mut node = leaf;
        for sibling in siblings {
            let sibling = bytes32(sibling);
            node = if index.is_multiple_of(2) {
                hash_pair(&node, &sibling)
            } else {
                hash_pair(&sibling, &node)
            };
            index /= 2;
        }
        hash_pair(&node, &word(&Value::from(count)))
    }

    /// `keccak256(bytes32(0) ‖ stateRoot ‖ messagePasserStorageRoot ‖ blockHash)`.
    pub(crate) fn output_root(state_root: [u8; 32], passer: [u8; 32], hash: [u8; 32]) -> [u8; 32] {
        let mut buf = [0u8; 128];
        buf[32..64].copy_from_slice(&state_root);
        buf[64..96].copy_from_slice(&passer);
        buf[96..].copy_from_slice(&hash);
        keccak(&buf)
    }
}

/// Checks exported evidence on its own terms and against the sequencer's database: every proof
/// rebuilds its pair's root, every output root is the chain's block, and the roots differ
/// exactly at the pairs the differences name. Returns the classifications.
fn verify_evidence(evidence: &Value, sequencer: &DatabaseEnv) -> Vec<String> {
    assert_eq!(evidence["version"], 2);
    assert_eq!(evidence["matches"], false);
    let tx = sequencer.tx().unwrap();
    for chain in evidence["chains"].as_array().unwrap() {
        let id = chain["chainId"].as_u64().unwrap();
        let last = chain["last"].as_u64().unwrap();
        let built = ChainProvider::new(&tx, id);
        let header = built.header(last).unwrap().unwrap();
        assert_eq!(
            standalone::bytes32(&chain["blockHash"]),
            built.block_hash(last).unwrap().unwrap().0
        );
        assert_eq!(standalone::bytes32(&chain["stateRoot"]), header.state_root.0);
        assert_eq!(
            standalone::bytes32(&chain["messagePasserStorageRoot"]),
            header.withdrawals_root.unwrap().0,
            "Isthmus: the header's withdrawals root is the message passer's storage root"
        );
        let recomputed = standalone::output_root(
            standalone::bytes32(&chain["stateRoot"]),
            standalone::bytes32(&chain["messagePasserStorageRoot"]),
            standalone::bytes32(&chain["blockHash"]),
        );
        assert_eq!(standalone::bytes32(&chain["outputRoot"]), recomputed);
    }
    let mut roots = BTreeMap::new();
    for pair in evidence["pairs"].as_array().unwrap() {
        let key = (pair["source"].as_u64().unwrap(), pair["destination"].as_u64().unwrap());
        roots.insert(
            key,
            (standalone::bytes32(&pair["burnRoot"]), standalone::bytes32(&pair["mintRoot"])),
        );
    }
    let mut classes = Vec::new();
    let mut pairs_named = std::collections::BTreeSet::new();
    for d in evidence["differences"].as_array().unwrap() {
        let class = d["classification"].as_str().unwrap().to_string();
        let key = (d["source"].as_u64().unwrap(), d["destination"].as_u64().unwrap());
        if class == "InvalidOutputRoot" {
            let chain = evidence["chains"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["chainId"].as_u64() == Some(key.0))
                .unwrap();
            assert_eq!(d["computed"], chain["outputRoot"]);
            assert_ne!(d["committed"], d["computed"]);
        } else if class == "MissingCommitment" {
            // the batch's own roots stand; only the sequencer's word is missing
            assert!(d["committed"].is_null() && d["burn"].is_null() && d["mint"].is_null());
            assert_eq!(evidence["commitment"]["status"], "missing");
            assert!(d["detail"].as_str().unwrap().contains("no commitment"));
        } else if class == "InvalidCommitment" {
            let (burn, mint) = roots[&key];
            let computed = standalone::bytes32(&d["computed"]);
            assert!(computed == burn || computed == mint);
            assert_ne!(d["committed"], d["computed"]);
        } else {
            pairs_named.insert(key);
            let (burn_root, mint_root) = roots[&key];
            for (side, root) in [("burn", burn_root), ("mint", mint_root)] {
                let event = &d[side];
                if event.is_null() {
                    continue;
                }
                let leaf = standalone::leaf(&event["transfer"]);
                assert_eq!(standalone::bytes32(&event["leaf"]), leaf, "{class} {side} leaf");
                match &event["proof"] {
                    Value::Null => {
                        // only a burn of an earlier batch has no proof here
                        assert_eq!(side, "burn");
                        assert!(event["location"]["batch"].as_u64() < evidence["batch"].as_u64());
                    }
                    proof => {
                        assert_eq!(standalone::fold(leaf, proof), root, "{class} {side} proof")
                    }
                }
                assert!(event["location"]["txHash"].is_string());
                assert!(event["location"]["logIndex"].is_u64());
            }
        }
        classes.push(class);
    }
    for (key, (burn, mint)) in &roots {
        assert_eq!(burn != mint, pairs_named.contains(key), "pair {key:?}: roots differ iff named");
    }
    classes
}

/// `censor`: the burns of the batch that came in as L1 deposits have no mint. Each names the L1
/// log that sent it, and the sequencer's own block shows the deposit with the source hash that
/// log makes (recomputed here); the transfer stays `missing`.
fn censored_burn_names_its_l1_deposit(
    evidence: &Value,
    sequencer: &DatabaseEnv,
    node: &std::path::Path,
) {
    let tx = sequencer.tx().unwrap();
    let differences = evidence["differences"].as_array().unwrap();
    assert!(!differences.is_empty());
    for d in differences {
        let location = &d["burn"]["location"];
        let deposit = &location["l1Deposit"];
        assert!(deposit.is_object(), "a censored burn names its L1 deposit: {d}");
        assert!(deposit["l1TxHash"].is_string());
        let mut preimage = standalone::bytes32(&deposit["l1BlockHash"]).to_vec();
        let mut index = [0u8; 32];
        index[24..].copy_from_slice(&deposit["logIndex"].as_u64().unwrap().to_be_bytes());
        preimage.extend_from_slice(&index);
        let mut outer = [0u8; 32].to_vec();
        outer.extend_from_slice(&standalone::keccak(&preimage));
        let source = standalone::keccak(&outer);
        assert_eq!(standalone::bytes32(&deposit["sourceHash"]), source);
        let chain = location["chainId"].as_u64().unwrap();
        let block = location["block"].as_u64().unwrap();
        let txs = ChainProvider::new(&tx, chain).transactions(block).unwrap();
        let l2 = &txs[location["txIndex"].as_u64().unwrap() as usize];
        assert_eq!(l2.as_deposit().map(|t| t.source_hash.0), Some(source), "the L2 deposit");
        let env = DatabaseEnv::open(node, DatabaseMode::ReadOnly).unwrap();
        let nonce: alloy_primitives::U256 =
            d["burn"]["transfer"]["nonce"].as_str().unwrap().parse().unwrap();
        let record = lockstep_crosschain::transfer(
            &env.tx().unwrap(),
            chain,
            d["burn"]["transfer"]["destination"].as_u64().unwrap(),
            nonce,
        )
        .unwrap()
        .unwrap();
        assert_eq!(record.status, lockstep_crosschain::TransferStatus::Missing);
    }
}

#[test]
fn after_jovian_and_karst_the_seven_faults_are_still_flagged_at_their_batches() {
    // with a 24 s fork gap Karst activates at block 84, the last of batch 13
    let expected: BTreeMap<u64, &str> = [
        (15, "MissingMint"),
        (16, "MissingMint"),
        (17, "LateMint"),
        (18, "UnbackedMint"),
        (19, "AlteredMint"),
        (20, "OrderMismatch"),
        (21, "InvalidOutputRoot"),
        (22, "InvalidCommitment"),
    ]
    .into();
    let started = Instant::now();
    let out = lockstep(&[
        "devnet",
        "--fork-gap",
        "24",
        "--batches",
        "24",
        "--txs-per-block",
        "6",
        "--fault",
        "drop-mint@15",
        "--fault",
        "delay-mint@16",
        "--fault",
        "forge-mint@18",
        "--fault",
        "alter-amount@19",
        "--fault",
        "reorder-mints@20",
        "--fault",
        "bad-output-root@21",
        "--fault",
        "bad-commitment@22",
    ]);
    eprintln!("24-batch fork-gap devnet with 7 faults: {:.1} s", started.elapsed().as_secs_f64());
    assert_eq!(out.status.code(), Some(3), "flagged batches exit 3: {}", stderr(&out));
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["batchesChecked"], 24);
    let flagged: BTreeMap<u64, Vec<String>> = summary["flagged"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let kinds = f["classifications"].as_object().unwrap().keys().cloned().collect();
            (f["batch"].as_u64().unwrap(), kinds)
        })
        .collect();
    let want: BTreeMap<u64, Vec<String>> =
        expected.iter().map(|(b, k)| (*b, vec![k.to_string()])).collect();
    assert_eq!(flagged, want, "exactly the faulty batches, each with its classification");
    assert!(summary["verifier"].as_array().unwrap().iter().all(|v| v["matchesSequencer"] == true));
}

#[test]
fn every_fault_is_flagged_at_its_batch_and_its_evidence_stands_alone() {
    let dir = tempfile::tempdir().unwrap();
    let datadir = dir.path().join("devnet");
    let expected: BTreeMap<u64, &str> = [
        (1, "MissingMint"),
        (3, "MissingMint"),
        (4, "LateMint"),
        (5, "MissingMint"),
        (6, "UnbackedMint"),
        (8, "AlteredMint"),
        (10, "OrderMismatch"),
        (12, "InvalidOutputRoot"),
        (14, "InvalidCommitment"),
        (15, "MissingCommitment"),
    ]
    .into();
    let started = Instant::now();
    let out = lockstep(&[
        "devnet",
        "--batches",
        "16",
        "--txs-per-block",
        "6",
        "--datadir",
        datadir.to_str().unwrap(),
        "--fault",
        "drop-mint@1",
        "--fault",
        "delay-mint@3",
        "--fault",
        "censor@5",
        "--fault",
        "forge-mint@6",
        "--fault",
        "alter-amount@8",
        "--fault",
        "reorder-mints@10",
        "--fault",
        "bad-output-root@12",
        "--fault",
        "bad-commitment@14",
        "--fault",
        "withhold-commitment@15",
    ]);
    eprintln!("16-batch devnet with 9 faults: {:.1} s", started.elapsed().as_secs_f64());
    assert_eq!(out.status.code(), Some(3), "flagged batches exit 3: {}", stderr(&out));
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["batchesChecked"], 16);
    let flagged: BTreeMap<u64, Vec<String>> = summary["flagged"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let kinds = f["classifications"].as_object().unwrap().keys().cloned().collect();
            (f["batch"].as_u64().unwrap(), kinds)
        })
        .collect();
    let want: BTreeMap<u64, Vec<String>> =
        expected.iter().map(|(b, k)| (*b, vec![k.to_string()])).collect();
    assert_eq!(flagged, want, "exactly the faulty batches, each with its classification");
    assert!(summary["verifier"].as_array().unwrap().iter().all(|v| v["matchesSequencer"] == true));
    let log = stderr(&out);
    assert!(log.contains("superchain batch FLAGGED"), "a WARN per flagged batch");

    let node = datadir.join("node");
    let sequencer = DatabaseEnv::open(&datadir.join("sequencer"), DatabaseMode::ReadOnly).unwrap();
    for (batch, kind) in &expected {
        let file = dir.path().join(format!("evidence-{batch}.json"));
        let out = lockstep(&[
            "evidence",
            "export",
            "--datadir",
            node.to_str().unwrap(),
            "--batch",
            &batch.to_string(),
            "--out",
            file.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        let evidence: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        assert_eq!(evidence["batch"], *batch);
        let classes = verify_evidence(&evidence, &sequencer);
        assert!(
            !classes.is_empty() && classes.iter().all(|c| c == kind),
            "batch {batch}: {classes:?}"
        );
        if *kind == "LateMint" {
            let d = &evidence["differences"][0];
            assert_eq!(d["burn"]["location"]["batch"], 3, "the late mint pays batch 3's burn");
        }
        if *batch == 5 {
            censored_burn_names_its_l1_deposit(&evidence, &sequencer, &node);
        }
    }
    // a clean batch has no evidence; an unchecked one is not guessed at
    for (batch, needle) in [("2", "matches"), ("99", "has not been checked")] {
        let out = lockstep(&[
            "evidence",
            "export",
            "--datadir",
            node.to_str().unwrap(),
            "--batch",
            batch,
        ]);
        assert_eq!(out.status.code(), Some(1));
        assert!(stderr(&out).contains(needle), "{}", stderr(&out));
    }
}

#[test]
fn a_long_clean_run_flags_nothing_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let out = lockstep(&[
        "devnet",
        "--batches",
        "40",
        "--txs-per-block",
        "4",
        "--seed",
        "7",
        "--datadir",
        dir.path().join("devnet").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["batchesChecked"], 40);
    assert_eq!(summary["flagged"], json!([]));
    assert!(summary["transfers"]["burns"].as_u64().unwrap() > 100, "{summary}");
    assert_eq!(summary["transfers"], summary["sequencerTransfers"]);
    // every batch's commitment was seen and agrees
    let env = DatabaseEnv::open(&dir.path().join("devnet/node"), DatabaseMode::ReadOnly).unwrap();
    let tx = env.tx().unwrap();
    // burns forced in through L1 deposits (one per L1 block) were all paid in their batch
    let mut forced = 0;
    lockstep_storage::TableRead::for_each_prefix::<lockstep_storage::tables::Transfers>(
        &tx,
        &[],
        |_, raw| {
            let record: Value = serde_json::from_slice(&raw).unwrap();
            if record["burn"]["location"]["l1Deposit"].is_object() {
                assert_eq!(record["status"], "settled", "{record}");
                forced += 1;
            }
            Ok(true)
        },
    )
    .unwrap();
    assert!(forced >= 30, "{forced} burns came in as L1 deposits");
    for index in 0..40 {
        let verdict = lockstep_crosschain::verdict(&tx, index).unwrap().unwrap();
        assert!(verdict.matches);
        assert!(
            matches!(verdict.commitment, lockstep_crosschain::CommitmentCheck::Matches { .. }),
            "batch {index}: {:?}",
            verdict.commitment
        );
    }
}

#[test]
fn superchain_rpc_answers_curl_over_http() {
    let anvil = devnet_anvil();
    let dir = tempfile::tempdir().unwrap();
    let devnet = dir.path().join("devnet");
    let out = lockstep(&[
        "devnet",
        "--l1.rpc",
        &anvil.url,
        "--batches",
        "4",
        "--txs-per-block",
        "6",
        "--fault",
        "drop-mint@1",
        "--datadir",
        devnet.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));

    let node = spawn_node_http(&devnet, &anvil.url, &dir.path().join("node"), &[]);
    let url = node.superchain.clone();
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        assert!(Instant::now() < deadline, "the node did not sync in time");
        std::thread::sleep(Duration::from_millis(200));
        let status = curl(&url, "superchain_syncStatus", &json!([]))["result"].clone();
        if status["synced"] == true && status["batchesChecked"].as_u64() >= Some(4) {
            break status;
        }
    };
    assert_eq!(status["flagged"], 1);
    assert_eq!(status["chains"].as_array().unwrap().len(), 2);

    let batch = curl(&url, "superchain_getBatch", &json!([1]))["result"].clone();
    assert_eq!(batch["status"], "flagged");
    assert_eq!(batch["classifications"], json!({"MissingMint": 1}));
    let by_l1 =
        curl(&url, "superchain_getBatchByL1Block", &json!([batch["l1Block"]]))["result"].clone();
    assert_eq!(by_l1, batch);
    let clean = curl(&url, "superchain_getBatch", &json!(["0x2"]))["result"].clone();
    assert_eq!(clean["status"], "matches");
    assert_eq!(curl(&url, "superchain_getBatch", &json!([1000]))["result"], Value::Null);

    let list =
        curl(&url, "superchain_listFlagged", &json!({"from": 0, "limit": 10}))["result"].clone();
    assert_eq!(list["flagged"].as_array().unwrap().len(), 1);
    assert_eq!(list["flagged"][0]["batch"], 1);
    assert_eq!(list["next"], Value::Null);

    let evidence = curl(&url, "superchain_getEvidence", &json!([1]))["result"].clone();
    let d = &evidence["differences"][0];
    assert_eq!(d["classification"], "MissingMint");
    let burn = &d["burn"]["transfer"];
    let transfer = curl(
        &url,
        "superchain_getTransfer",
        &json!([burn["source"], burn["destination"], burn["nonce"]]),
    )["result"]
        .clone();
    assert_eq!(transfer["status"], "missing");
    assert_eq!(transfer["burn"]["location"]["batch"], 1);
    assert_eq!(transfer["mints"], json!([]));
    assert_eq!(curl(&url, "superchain_getEvidence", &json!([2]))["result"], Value::Null);

    // a settled transfer: the first mint of batch 0 on either pair
    let batch0 = curl(&url, "superchain_getBatch", &json!([0]))["result"].clone();
    let pair = batch0["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["burns"].as_u64() > Some(0))
        .unwrap()
        .clone();
    let settled =
        curl(&url, "superchain_getTransfer", &json!([pair["source"], pair["destination"], "0"]))
            ["result"]
            .clone();
    assert_eq!(settled["status"], "settled");

    // bad parameters: JSON-RPC errors that say what is wrong, and the node keeps serving
    for (method, params, needle) in [
        ("superchain_getBatch", json!([]), "missing param `index`"),
        ("superchain_getBatch", json!(["ten"]), "`index` must be a non-negative integer"),
        ("superchain_getBatch", json!([-1]), "`index`"),
        ("superchain_listFlagged", json!({"limit": 100000}), "`limit` must be 1 to 1000"),
        ("superchain_listFlagged", json!({"bogus": 1}), "unknown param `bogus`"),
        ("superchain_getTransfer", json!([901, 902]), "missing param `nonce`"),
        ("superchain_getBatchByL1Block", json!(["0x10000000000000000"]), "too large"),
    ] {
        let answer = curl(&url, method, &params);
        let err = &answer["error"];
        assert_eq!(err["code"], -32602, "{method} {params}: {answer}");
        assert!(err["message"].as_str().unwrap().contains(needle), "{method} {params}: {answer}");
    }
    let unknown = curl(&url, "superchain_nope", &json!([]));
    assert_eq!(unknown["error"]["code"], -32601);
    assert_eq!(curl(&url, "superchain_syncStatus", &json!([]))["result"]["flagged"], 1);
    drop(node);
}
