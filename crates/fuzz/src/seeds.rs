//! Each target's seeds: real chain data from `testdata/` where there is some (OP Mainnet's
//! batcher transaction and span batch channel, OP Sepolia's and Base's configs, a real OP
//! Sepolia block's stateless evidence), and small inputs made with lockstep's own encoders
//! and the devnet where there is not. `scripts/fuzz.sh` writes them to `fuzz/seeds/<target>/`
//! for libFuzzer to start from; the regression test runs every target over them.

use crate::{fixture, rpc};
use alloy_primitives::{Bytes, B256};
use lockstep_derive::{
    batch::{Batch, SingleBatch},
    channel::{batch_items, decompress},
    l1_block_info::{L1BlockInfo, L1InfoFormat},
};
use lockstep_sequencer::batcher::{self, Compression};
use std::{io::Read, path::PathBuf};

fn testdata(rel: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata").join(rel);
    let raw = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(raw.as_slice())
            .read_to_end(&mut out)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        return out;
    }
    raw
}

/// OP Mainnet's batcher transaction's calldata: the version byte and frames.
fn mainnet_calldata() -> Vec<u8> {
    use alloy_consensus::Transaction;
    use alloy_eips::Decodable2718;
    let raw = testdata("op-mainnet/batcher-tx.bin");
    let tx = alloy_consensus::TxEnvelope::decode_2718_exact(&raw).expect("a real transaction");
    tx.input().to_vec()
}

/// OP Mainnet's span batch channel, zlib-compressed.
fn mainnet_channel() -> Vec<u8> {
    let text = testdata("op-mainnet/span-batch-channel.hex.gz");
    let text: Vec<u8> = text.into_iter().filter(|b| !b.is_ascii_whitespace()).collect();
    let body = text.strip_prefix(b"0x").unwrap_or(&text);
    alloy_primitives::hex::decode(body).expect("hex")
}

/// A small channel of two singular batches, one with a transaction, compressed both ways.
fn small_channels() -> Vec<Vec<u8>> {
    let batches = [
        Batch::Single(SingleBatch {
            parent_hash: B256::repeat_byte(1),
            epoch_num: 1,
            epoch_hash: B256::repeat_byte(2),
            timestamp: 2,
            transactions: vec![],
        }),
        Batch::Single(SingleBatch {
            parent_hash: B256::repeat_byte(3),
            epoch_num: 1,
            epoch_hash: B256::repeat_byte(2),
            timestamp: 4,
            transactions: vec![Bytes::from_static(&[2, 0xc0])],
        }),
    ];
    let rlp = batcher::channel_rlp(&batches).expect("channel content");
    [Compression::Zlib, Compression::Brotli]
        .into_iter()
        .map(|c| batcher::compress(&rlp, c).expect("compressed"))
        .collect()
}

fn small_frames() -> Vec<Vec<u8>> {
    small_channels()
        .iter()
        .enumerate()
        .map(|(i, channel)| {
            let frames =
                batcher::frames(batcher::channel_id(901, i as u64), channel, 60).expect("frames");
            batcher::calldata(&frames).to_vec()
        })
        .collect()
}

/// Each target's seeds. `rpc` and `evidence` run a short devnet the first time.
pub fn seeds(target: &str) -> Vec<Vec<u8>> {
    match target {
        "frames" => [vec![mainnet_calldata()], small_frames()].concat(),
        // the frames without the version byte, as the target reads them
        "channel_bank" => [vec![mainnet_calldata()], small_frames()]
            .concat()
            .into_iter()
            .map(|c| c[1..].to_vec())
            .collect(),
        "channel" => [vec![mainnet_channel()], small_channels()].concat(),
        "batch" => {
            let mut items = Vec::new();
            for channel in [vec![mainnet_channel()], small_channels()].concat() {
                if let Some(data) = decompress(&channel, true, 10_000_000) {
                    let (found, _) = batch_items(&data.bytes);
                    items.extend(found.into_iter().map(<[u8]>::to_vec));
                }
            }
            items
        }
        "decode" => {
            let mut inputs = vec![testdata("op-mainnet/batcher-tx.bin"), mainnet_calldata()];
            inputs.push(alloy_primitives::hex::encode_prefixed(&small_frames()[0]).into_bytes());
            inputs.extend(small_channels());
            inputs
        }
        "l1_info" => {
            let info = L1BlockInfo {
                number: 7,
                timestamp: 1_700_000_000,
                sequence_number: 2,
                ..L1BlockInfo::default()
            };
            [
                L1InfoFormat::Bedrock,
                L1InfoFormat::Ecotone,
                L1InfoFormat::Isthmus,
                L1InfoFormat::Jovian,
            ]
            .into_iter()
            .map(|f| info.encode(f).to_vec())
            .collect()
        }
        "blob" => [small_frames(), vec![mainnet_calldata()[..4096].to_vec()]].concat(),
        "l1_logs" => vec![vec![0, 3, 1, 2, 3], vec![1, 2, 0, 1], vec![2, 2, 5]],
        "config" => {
            let configs = fixture::configs();
            let with = |which: u8, file: &[u8]| [&[which][..], file].concat();
            let superchain = std::fs::read(configs.dir.join("superchain.toml")).expect("written");
            vec![
                with(0, &configs.rollup_json),
                with(0, &testdata("op-sepolia/rollup.json")),
                with(0, &testdata("base-mainnet/rollup.json")),
                with(1, &configs.genesis_json),
                with(2, &superchain),
                with(3, &testdata("specs/superchain-registry/sepolia/op.toml")),
                with(3, &testdata("specs/superchain-registry/mainnet/op.toml")),
            ]
        }
        "evidence" => {
            let servers = fixture::servers();
            let request =
                r#"{"jsonrpc":"2.0","id":1,"method":"superchain_getEvidence","params":[2]}"#;
            let (answer, _) = servers
                .runtime
                .block_on(servers.superchain.raw_json_request(request, 1))
                .expect("an answer");
            let answer: serde_json::Value = serde_json::from_str(answer.get()).expect("JSON");
            let verdict = serde_json::to_vec(&answer["result"]).expect("JSON");
            vec![testdata("op-sepolia/block-26207960.json.gz"), verdict]
        }
        "rpc" => rpc_seeds(),
        _ => Vec::new(),
    }
}

fn rpc_seeds() -> Vec<Vec<u8>> {
    use rpc::Endpoint::{Eth, Sequencer, Superchain};
    let address = format!("{:?}", lockstep_devnet::BRIDGE);
    let logs = format!(r#"[{{"fromBlock":"0x0","toBlock":"latest","address":"{address}"}}]"#);
    let call = format!(r#"[{{"to":"{address}","data":"0x"}},"latest"]"#);
    let account = format!(r#"["{address}","0x1"]"#);
    let slot = format!(r#"["{address}","0x0","latest"]"#);
    let hash = format!(r#"["{:?}"]"#, B256::repeat_byte(7));
    let mut seeds = vec![
        rpc::encode(Eth, "eth_blockNumber", "[]"),
        rpc::encode(Eth, "eth_getBlockByNumber", r#"["0x3",true]"#),
        rpc::encode(Eth, "eth_getBlockByHash", &format!(r#"["{:?}",false]"#, B256::ZERO)),
        rpc::encode(Eth, "eth_getTransactionByHash", &hash),
        rpc::encode(Eth, "eth_getTransactionReceipt", &hash),
        rpc::encode(Eth, "eth_getBlockReceipts", r#"["0x2"]"#),
        rpc::encode(Eth, "eth_getLogs", &logs),
        rpc::encode(Eth, "eth_getBalance", &account),
        rpc::encode(Eth, "eth_getTransactionCount", &account),
        rpc::encode(Eth, "eth_getCode", &account),
        rpc::encode(Eth, "eth_getStorageAt", &slot),
        rpc::encode(Eth, "eth_call", &call),
        rpc::encode(Eth, "eth_estimateGas", &call),
        rpc::encode(
            Eth,
            "eth_call",
            &format!(
                r#"[{{"to":"{address}"}},"latest",{{"{address}":{{"code":"0x60015460005260206000f3","stateDiff":{{"0x{:064x}":"0x{:064x}"}},"balance":"0x1"}}}}]"#,
                1, 7
            ),
        ),
        rpc::encode(
            Eth,
            "eth_getProof",
            &format!(r#"["{address}",["0x0","0x{:064x}"],"latest"]"#, 1),
        ),
        rpc::encode(Eth, "eth_getProof", &format!(r#"["{address}",[],"0x1"]"#)),
        rpc::encode(
            Eth,
            "eth_newFilter",
            &format!(r#"[{{"address":"{address}","fromBlock":"0x1"}}]"#),
        ),
        rpc::encode(Eth, "eth_newBlockFilter", "[]"),
        rpc::encode(Eth, "eth_getFilterChanges", r#"["0x00000000000000000000000000000001"]"#),
        rpc::encode(Eth, "eth_getFilterLogs", r#"["0x1"]"#),
        rpc::encode(Eth, "eth_uninstallFilter", r#"["0x1"]"#),
        rpc::encode(Eth, "eth_gasPrice", "[]"),
        rpc::encode(Eth, "eth_maxPriorityFeePerGas", "[]"),
        rpc::encode(Eth, "eth_feeHistory", r#"["0x4","latest",[10,50,90]]"#),
        rpc::encode(Eth, "eth_blobBaseFee", "[]"),
        rpc::encode(Eth, "eth_getBlockTransactionCountByNumber", r#"["0x2"]"#),
        rpc::encode(Eth, "eth_getTransactionByBlockNumberAndIndex", r#"["0x2","0x1"]"#),
        rpc::encode(
            Eth,
            "eth_getTransactionByBlockHashAndIndex",
            &format!(r#"["{:?}","0x0"]"#, B256::ZERO),
        ),
        rpc::encode(Eth, "eth_getRawTransactionByHash", &hash),
        rpc::encode(Eth, "web3_sha3", r#"["0x68656c6c6f"]"#),
        rpc::encode(Eth, "optimism_outputAtBlock", r#"["0x4"]"#),
        rpc::encode(Eth, "debug_executionWitness", r#"["0x2"]"#),
        rpc::encode(Eth, "debug_getRawHeader", r#"["0x1"]"#),
        rpc::encode(Eth, "debug_getRawBlock", r#"["latest"]"#),
        rpc::encode(Eth, "debug_getRawTransaction", &hash),
        rpc::encode(Eth, "debug_getRawReceipts", r#"["0x1"]"#),
        rpc::encode(Superchain, "superchain_syncStatus", "[]"),
        rpc::encode(Superchain, "superchain_getBatch", "[2]"),
        rpc::encode(Superchain, "superchain_getBatchByL1Block", r#"["0x3"]"#),
        rpc::encode(Superchain, "superchain_listFlagged", r#"[{"from":0,"limit":5}]"#),
        rpc::encode(
            Superchain,
            "superchain_listFlagged",
            r#"{"classification":"MissingMint","source":901,"destination":"0x386","limit":2}"#,
        ),
        rpc::encode(Superchain, "superchain_getTransfer", r#"[901,902,"0x1"]"#),
        rpc::encode(Superchain, "superchain_getEvidence", "[2]"),
        rpc::encode(Sequencer, "eth_sendRawTransaction", r#"["0x02c0"]"#),
        rpc::encode(Sequencer, "eth_getBlockByNumber", r#"["latest",false]"#),
    ];
    // a batch request
    let batch = r#"[{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]},{"jsonrpc":"2.0","id":2,"method":"eth_getBalance","params":["0x4200000000000000000000000000000000000042","latest"]}]"#;
    seeds.push([&[u8::MAX][..], batch.as_bytes()].concat());
    seeds
}
