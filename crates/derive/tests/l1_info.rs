//! The L1 info deposit and deposit source hashes: the L1 info deposits of real OP Sepolia blocks
//! rebuilt byte for byte from what they say (their source hashes included). The upgrade
//! deposits' source hashes are checked against the specs in `pipeline.rs`.

#![allow(clippy::unwrap_used)]

use alloy_eips::eip2718::{Decodable2718, Encodable2718};
use alloy_primitives::{keccak256, B256};
use lockstep_derive::l1_block_info::{
    l1_info_source_hash, user_deposit_source_hash, L1BlockInfo, L1InfoFormat,
};
use op_alloy_consensus::OpTxEnvelope;
use std::io::Read;

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

/// EIP-4844's `fake_exponential(1, excess, fraction)`, written out from the EIP's pseudo-code.
fn blob_fee(excess: u64, fraction: u128) -> u128 {
    let (factor, numerator) = (1u128, u128::from(excess));
    let (mut i, mut output, mut accum) = (1u128, 0u128, factor * fraction);
    while accum > 0 {
        output += accum;
        accum = accum * numerator / (fraction * i);
        i += 1;
    }
    output / fraction
}

#[test]
fn the_blob_base_fee_follows_the_l1s_blob_schedule_through_bpo1_and_bpo2() {
    use alloy_consensus::Header;
    use lockstep_derive::{l1_block_info::L1BlockInfo, system_config::SystemConfig};
    // the update fractions of EIP-4844 (Cancun), EIP-7691 (Prague, kept by Osaka) and the
    // mainnet blob schedule of EIP-7892's BPO1 and BPO2
    let (cancun, prague, bpo1, bpo2) = (3_338_477, 5_007_716, 8_346_193, 11_684_671);
    let excess = 40_000_000;
    let fee = |l1_chain_id: u64, timestamp: u64, prague_header: bool| {
        let mut rollup = lockstep_chainspec::RollupConfig { l1_chain_id, ..Default::default() };
        rollup.hardforks.ecotone_time = Some(0);
        let header = Header {
            timestamp,
            excess_blob_gas: Some(excess),
            requests_hash: prague_header.then_some(B256::ZERO),
            ..Default::default()
        };
        let config = SystemConfig::default();
        let (_, info) = L1BlockInfo::for_block(&rollup, &config, 0, &header, B256::ZERO, 10);
        u128::try_from(info.blob_base_fee).unwrap()
    };
    // Ethereum mainnet: BPO1 at 1765290071, BPO2 at 1767747671
    assert_eq!(fee(1, 1_765_290_070, false), blob_fee(excess, cancun));
    assert_eq!(fee(1, 1_765_290_070, true), blob_fee(excess, prague));
    assert_eq!(fee(1, 1_765_290_071, true), blob_fee(excess, bpo1));
    assert_eq!(fee(1, 1_767_747_670, true), blob_fee(excess, bpo1));
    assert_eq!(fee(1, 1_767_747_671, true), blob_fee(excess, bpo2));
    // Sepolia has its own times (BPO2 long past by then); an unknown L1 stays at Prague's
    assert_eq!(fee(11_155_111, 1_767_747_671, true), blob_fee(excess, bpo2));
    assert_eq!(fee(900, 1_767_747_671, true), blob_fee(excess, prague));
    assert_ne!(blob_fee(excess, prague), blob_fee(excess, bpo1));
}
