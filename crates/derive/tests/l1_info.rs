//! The L1 info deposit and deposit source hashes: the Isthmus upgrade deposits' source hashes as
//! the spec gives them, and the L1 info deposits of real OP Sepolia blocks rebuilt byte for byte
//! from what they say (their source hashes included).

#![allow(clippy::unwrap_used)]

use alloy_eips::eip2718::{Decodable2718, Encodable2718};
use alloy_primitives::{b256, keccak256, B256};
use lockstep_derive::l1_block_info::{
    l1_info_source_hash, upgrade_source_hash, user_deposit_source_hash, L1BlockInfo, L1InfoFormat,
};
use op_alloy_consensus::OpTxEnvelope;
use std::io::Read;

#[test]
fn isthmus_upgrade_source_hashes_are_the_specs() {
    // shared/specs/specs/protocol/isthmus/derivation.md
    for (intent, expected) in [
        (
            "Isthmus: L1 Block Deployment",
            b256!("0x3b2d0821ca2411ad5cd3595804d1213d15737188ae4cbd58aa19c821a6c211bf"),
        ),
        (
            "Isthmus: Gas Price Oracle Deployment",
            b256!("0xfc70b48424763fa3fab9844253b4f8d508f91eb1f7cb11a247c9baec0afb8035"),
        ),
        (
            "Isthmus: Operator Fee Vault Deployment",
            b256!("0x107a570d3db75e6110817eb024f09f3172657e920634111ce9875d08a16daa96"),
        ),
        (
            "Isthmus: L1 Block Proxy Update",
            b256!("0xebe8b5cb10ca47e0d8bda8f5355f2d66711a54ddeb0ef1d30e29418c9bf17a0e"),
        ),
        (
            "Isthmus: Gas Price Oracle Proxy Update",
            b256!("0xecf2d9161d26c54eda6b7bfdd9142719b1e1199a6e5641468d1bf705bc531ab0"),
        ),
        (
            "Isthmus: Operator Fee Vault Proxy Update",
            b256!("0xad74e1adb877ccbe176b8fa1cc559388a16e090ddbe8b512f5b37d07d887a927"),
        ),
        (
            "Isthmus: Gas Price Oracle Set Isthmus",
            b256!("0x3ddf4b1302548dd92939826e970f260ba36167f4c25f18390a5e8b194b295319"),
        ),
        (
            "Isthmus: EIP-2935 Contract Deployment",
            b256!("0xbfb734dae514c5974ddf803e54c1bc43d5cdb4a48ae27e1d9b875a5a150b553a"),
        ),
    ] {
        assert_eq!(upgrade_source_hash(intent), expected, "{intent}");
    }
}

#[test]
fn source_hash_domains_differ() {
    let hash = B256::repeat_byte(3);
    assert_ne!(user_deposit_source_hash(hash, 0), l1_info_source_hash(hash, 0));
    // domain 0: keccak256(bytes32(0) ++ keccak256(l1BlockHash ++ bytes32(logIndex)))
    let mut inner = [0u8; 64];
    inner[..32].copy_from_slice(hash.as_slice());
    inner[63] = 5;
    let mut outer = [0u8; 64];
    outer[32..].copy_from_slice(keccak256(inner).as_slice());
    assert_eq!(user_deposit_source_hash(hash, 5), keccak256(outer));
}

#[test]
fn real_op_sepolia_l1_info_deposits_are_rebuilt_byte_for_byte() {
    for number in [26207960u64, 26207961, 26207962, 26207963, 26208858] {
        let path = format!(
            "{}/../../testdata/op-sepolia/block-{number}.json.gz",
            env!("CARGO_MANIFEST_DIR")
        );
        let mut raw = Vec::new();
        flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
            .read_to_end(&mut raw)
            .unwrap();
        let file: serde_json::Value = serde_json::from_slice(&raw).unwrap();
        let first = file["payloadAttributes"]["transactions"][0].as_str().unwrap();
        let bytes = alloy_primitives::hex::decode(first).unwrap();
        let OpTxEnvelope::Deposit(deposit) = OpTxEnvelope::decode_2718_exact(&bytes).unwrap()
        else {
            panic!("block {number}: the first transaction is not a deposit");
        };
        let (format, info) = L1BlockInfo::decode(&deposit.input).unwrap();
        // Holocene on OP Sepolia, before its Isthmus
        assert_eq!(format, L1InfoFormat::Ecotone, "block {number}");
        assert_eq!(info.encode(format), deposit.input, "block {number}");
        let rebuilt =
            OpTxEnvelope::Deposit(alloy_consensus::Sealed::new(info.deposit(format, true)));
        assert_eq!(rebuilt.encoded_2718(), bytes, "block {number}");
        // the format the block's time calls for
        let rollup: lockstep_chainspec::RollupConfig =
            serde_json::from_value(file["rollupConfig"].clone()).unwrap();
        let timestamp = u64::from_str_radix(
            file["payloadAttributes"]["timestamp"].as_str().unwrap().trim_start_matches("0x"),
            16,
        )
        .unwrap();
        assert_eq!(L1InfoFormat::at(&rollup, timestamp), L1InfoFormat::Ecotone);
        assert_eq!(
            L1InfoFormat::at(&rollup, rollup.hardforks.isthmus_time.unwrap()),
            L1InfoFormat::Ecotone
        );
        assert_eq!(
            L1InfoFormat::at(&rollup, rollup.hardforks.isthmus_time.unwrap() + rollup.block_time),
            L1InfoFormat::Isthmus
        );
    }
}

#[test]
fn every_format_roundtrips_and_bad_calldata_is_refused() {
    let info = L1BlockInfo {
        number: 123,
        timestamp: 456,
        base_fee: alloy_primitives::U256::from(7),
        block_hash: B256::repeat_byte(1),
        sequence_number: 3,
        batcher_hash: B256::left_padding_from(&[0xba; 20]),
        blob_base_fee: alloy_primitives::U256::from(9),
        base_fee_scalar: 11,
        blob_base_fee_scalar: 12,
        operator_fee_scalar: 13,
        operator_fee_constant: 14,
        ..Default::default()
    };
    for format in [L1InfoFormat::Ecotone, L1InfoFormat::Isthmus] {
        let encoded = info.encode(format);
        let (read_format, read) = L1BlockInfo::decode(&encoded).unwrap();
        assert_eq!(read_format, format);
        let expected = if format == L1InfoFormat::Isthmus {
            info
        } else {
            L1BlockInfo { operator_fee_scalar: 0, operator_fee_constant: 0, ..info }
        };
        assert_eq!(read, expected);
        assert!(L1BlockInfo::decode(&encoded[..encoded.len() - 1]).is_err());
        // kona's reader, as an oracle, agrees
        let kona = kona_protocol::L1BlockInfoTx::decode_calldata(&encoded).unwrap();
        assert_eq!(kona.block_hash(), info.block_hash);
        assert_eq!(kona.sequence_number(), info.sequence_number);
    }
    let bedrock = L1BlockInfo {
        l1_fee_overhead: alloy_primitives::U256::from(188),
        l1_fee_scalar: alloy_primitives::U256::from(684_000),
        blob_base_fee: alloy_primitives::U256::ZERO,
        base_fee_scalar: 0,
        blob_base_fee_scalar: 0,
        operator_fee_scalar: 0,
        operator_fee_constant: 0,
        ..info
    };
    let encoded = bedrock.encode(L1InfoFormat::Bedrock);
    assert_eq!(encoded.len(), 260);
    assert_eq!(L1BlockInfo::decode(&encoded).unwrap(), (L1InfoFormat::Bedrock, bedrock));
    assert!(L1BlockInfo::decode(&[1, 2, 3]).is_err());
    assert!(L1BlockInfo::decode(&[0xde, 0xad, 0xbe, 0xef, 0]).is_err());
}
