//! Targets for the bytes a batcher (or anyone) puts on L1: frames, channels and their
//! decompression, batches, the `lockstep decode` input, L1 info deposits, blobs, and the
//! deposit and system-config logs of L1 receipts.

use crate::fixture::configs;
use alloy_primitives::{Address, Bytes, Log, LogData, B256};
use lockstep_derive::{
    batch::Batch,
    blob::{decode_blob, encode_blob},
    channel::{batch_items, decompress},
    channel_assembler::{Assembled, ChannelAssembler},
    channel_bank::{BankRead, ChannelBank},
    decode::{decode, detect, read_input, InputKind},
    deposits::{decode_deposit_log, DEPOSIT_EVENT_TOPIC},
    frame::{Frame, DERIVATION_VERSION_0},
    l1_block_info::L1BlockInfo,
    system_config::{SystemConfig, CONFIG_UPDATE_TOPIC},
    BlockInfo,
};

/// Batcher data: the version byte and frames. What parses encodes back to the same frames.
pub fn frames(data: &[u8]) {
    if let Ok(frames) = Frame::parse_all(data) {
        let mut again = vec![DERIVATION_VERSION_0];
        for frame in &frames {
            again.extend(frame.encode());
        }
        assert_eq!(Frame::parse_all(&again).ok(), Some(frames), "frames re-encode to themselves");
    }
    if let Ok((frame, used)) = Frame::parse(data) {
        assert!(used <= data.len(), "a frame read past its input");
        let again = Frame::parse(&frame.encode()).ok().map(|(f, _)| f);
        assert_eq!(again, Some(frame), "a frame re-encodes to itself");
    }
}

/// Frames in any order, from any channels, read over a few L1 blocks into the channel bank
/// (before Holocene) and the channel assembler (after): every channel either comes out whole
/// (and is then decompressed and decoded) or is dropped.
pub fn channel_bank(data: &[u8]) {
    let rollup = &configs().rollup;
    let mut bank = ChannelBank::default();
    let mut assembler = ChannelAssembler::default();
    let mut rest = data;
    let mut index = 0u64;
    while !rest.is_empty() {
        let Ok((frame, used)) = Frame::parse(rest) else {
            rest = &rest[1..];
            continue;
        };
        rest = &rest[used.max(1)..];
        // three frames to an L1 block, the blocks far enough apart that channels time out
        let number = 1 + index / 3 * 20;
        index += 1;
        let origin = BlockInfo {
            hash: B256::with_last_byte(number as u8),
            number,
            parent_hash: B256::ZERO,
            timestamp: rollup.genesis.l2_time + number * 12,
        };
        let max = rollup.max_rlp_bytes_per_channel(origin.timestamp) as usize;
        if let Assembled::Ready(_, channel) =
            assembler.add(&frame, number, rollup.channel_timeout(origin.timestamp), max)
        {
            read_channel(&channel, max);
        }
        let _ = bank.ingest(frame, &origin, rollup);
        loop {
            match bank.read(&origin, rollup) {
                BankRead::Channel(_, channel) => read_channel(&channel, max),
                BankRead::TimedOut(_) => {}
                BankRead::Empty => break,
            }
        }
    }
}

/// A channel's compressed bytes, zlib or brotli: decompressed within the limit, split into
/// batch items, each decoded.
pub fn channel(data: &[u8]) {
    read_channel(data, 10_000_000);
}

fn read_channel(data: &[u8], limit: usize) {
    for brotli in [true, false] {
        if let Some(channel) = decompress(data, brotli, limit) {
            assert!(channel.bytes.len() <= limit, "read past the channel limit");
            batches_of(&channel.bytes);
        }
    }
}

/// Decompressed channel bytes: RLP strings, each a batch item.
fn batches_of(bytes: &[u8]) {
    let (items, _) = batch_items(bytes);
    for item in items {
        batch(item);
    }
}

/// One batch item, singular or span. What decodes encodes to bytes that decode to it again, and
/// a span batch's blocks are made absolute against the devnet's chain.
pub fn batch(data: &[u8]) {
    let Ok(decoded) = Batch::decode(data) else { return };
    let again = Batch::decode(&decoded.encode());
    assert_eq!(again.as_ref().ok(), Some(&decoded), "a batch re-encodes to itself");
    if let Batch::Span(span) = decoded {
        let rollup = &configs().rollup;
        let _ = span.blocks(rollup.genesis.l2_time, rollup.block_time, rollup.l2_chain_id.id());
    }
}

/// What `lockstep decode` reads: hex or binary; a transaction, calldata, a blob or a channel,
/// guessed or as each kind.
pub fn decode_input(data: &[u8]) {
    let rollup = &configs().rollup;
    let input = read_input(data);
    let _ = decode(&input, detect(&input), Some(rollup));
    for kind in [InputKind::Transaction, InputKind::Calldata, InputKind::Channel] {
        let _ = decode(data, kind, None);
    }
    let _ = decode(&as_blob(data), InputKind::Blob, Some(rollup));
}

/// An L1 info deposit's calldata, of any format; what decodes encodes to calldata that
/// decodes to it again.
pub fn l1_info(data: &[u8]) {
    let Ok((format, info)) = L1BlockInfo::decode(data) else { return };
    let again = L1BlockInfo::decode(&info.encode(format));
    assert_eq!(again.ok(), Some((format, info)), "an L1 info deposit re-encodes to itself");
}

/// A blob: the input at the start of an otherwise zero blob, decoded; and the input encoded
/// into a blob, which decodes back to it.
pub fn blob(data: &[u8]) {
    let _ = decode_blob(&as_blob(data));
    let _ = decode_blob(data);
    if let Ok(encoded) = encode_blob(data) {
        let decoded = decode_blob(encoded.as_slice());
        assert_eq!(decoded.ok().as_deref(), Some(data), "a blob decodes to what was encoded");
    }
}

fn as_blob(data: &[u8]) -> Vec<u8> {
    let mut blob = vec![0u8; alloy_eips::eip4844::BYTES_PER_BLOB];
    let n = data.len().min(blob.len());
    blob[..n].copy_from_slice(&data[..n]);
    blob
}

/// A log of an L1 receipt as the portal, the system config contract and the commitment
/// contract would emit it: the first byte picks the event, the next says how many topics follow, then the topics and the
/// data. Read as a deposit, as a batch commitment and as a config update,
/// before and after Ecotone.
pub fn l1_logs(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else { return };
    let Some((&count, mut rest)) = rest.split_first() else { return };
    let event = match selector % 3 {
        0 => DEPOSIT_EVENT_TOPIC,
        1 => CONFIG_UPDATE_TOPIC,
        _ => lockstep_crosschain::COMMITMENT_TOPIC,
    };
    let mut topics = vec![event];
    for _ in 0..count % 5 {
        let n = rest.len().min(32);
        let mut topic = [0u8; 32];
        // short topics are the small numbers the events carry, right-aligned
        topic[32 - n..].copy_from_slice(&rest[..n]);
        topics.push(B256::from(topic));
        rest = &rest[n..];
    }
    let log = Log {
        address: Address::repeat_byte(selector),
        data: LogData::new_unchecked(topics, Bytes::copy_from_slice(rest)),
    };
    let _ = decode_deposit_log(B256::ZERO, 0, &log);
    let _ = lockstep_crosschain::decode_commitment(1, B256::ZERO, &log);
    for ecotone in [false, true] {
        let mut config = SystemConfig::default();
        let _ = config.apply_log(&log, ecotone);
    }
}
