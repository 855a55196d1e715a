//! Reading a channel: its compressed data decompressed (zlib, or from Fjord brotli) up to the
//! fork's size limit, then cut into batch items (RLP byte strings), as op-node's channel reader
//! does. A zlib stream that is not terminated is read as far as it goes, which OP Mainnet's
//! batchers rely on.

use std::io::Read;

/// The most bytes a channel's RLP stream may hold before Fjord.
pub const MAX_RLP_BYTES_PER_CHANNEL: usize = 10_000_000;
/// The most bytes a channel's RLP stream may hold from Fjord.
pub const MAX_RLP_BYTES_PER_CHANNEL_FJORD: usize = 100_000_000;
/// The channel version byte of a brotli channel (Fjord).
pub const CHANNEL_VERSION_BROTLI: u8 = 1;

/// How a channel is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// RFC 1950 zlib.
    Zlib,
    /// Brotli, after the version byte `1` (from Fjord).
    Brotli,
}

impl Compression {
    /// Its name in reports.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Zlib => "zlib",
            Self::Brotli => "brotli",
        }
    }
}

/// A decompressed channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelData {
    /// How it was compressed.
    pub compression: Compression,
    /// The decompressed bytes, at most the limit.
    pub bytes: Vec<u8>,
    /// Whether the compressed stream ended properly.
    pub terminated: bool,
    /// Why reading stopped early, if it did (corrupt data, or the size limit).
    pub error: Option<String>,
}

/// The compression a channel's first byte names, if any: zlib's CM nibble 8 (or 15), or
/// brotli's version byte when `brotli_allowed` (Fjord is active at the L1 origin).
pub fn compression_of(data: &[u8], brotli_allowed: bool) -> Option<Compression> {
    match data.first() {
        Some(b) if b & 0x0f == 8 || b & 0x0f == 15 => Some(Compression::Zlib),
        Some(&CHANNEL_VERSION_BROTLI) if brotli_allowed => Some(Compression::Brotli),
        _ => None,
    }
}

/// Decompresses a channel, reading at most `limit` bytes. `None` when the first byte names no
/// compression this fork allows.
pub fn decompress(data: &[u8], brotli_allowed: bool, limit: usize) -> Option<ChannelData> {
    let compression = compression_of(data, brotli_allowed)?;
    let (bytes, terminated, error) = match compression {
        Compression::Zlib => read_limited(flate2::read::ZlibDecoder::new(data), limit),
        Compression::Brotli => read_limited(brotli::Decompressor::new(&data[1..], 4096), limit),
    };
    Some(ChannelData { compression, bytes, terminated, error })
}

/// Reads `reader` to its end or to `limit` bytes, keeping what it gave before an error.
fn read_limited(mut reader: impl Read, limit: usize) -> (Vec<u8>, bool, Option<String>) {
    let mut out = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        match reader.read(&mut chunk) {
            Ok(0) => return (out, true, None),
            Ok(n) => {
                out.extend_from_slice(&chunk[..n]);
                if out.len() > limit {
                    out.truncate(limit);
                    return (out, false, Some(format!("over the {limit}-byte channel limit")));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            // an unterminated stream: what came before it stands
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return (out, false, None),
            Err(e) => return (out, false, Some(format!("corrupt stream: {e}"))),
        }
    }
}

/// The batch items of a decompressed channel: each an RLP byte string, in order. A malformed
/// or truncated item ends the channel there (the items before it stand), with the reason.
pub fn batch_items(mut bytes: &[u8]) -> (Vec<&[u8]>, Option<String>) {
    let mut items = Vec::new();
    while !bytes.is_empty() {
        match alloy_rlp::Header::decode_bytes(&mut bytes, false) {
            Ok(item) => items.push(item),
            Err(e) => {
                let reason = format!("batch {} is not an RLP string: {e}", items.len());
                return (items, Some(reason));
            }
        }
    }
    (items, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn zlib(data: &[u8]) -> Vec<u8> {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(data).unwrap();
        z.finish().unwrap()
    }

    #[test]
    fn zlib_read_whole_cut_short_and_capped() {
        let mut stream = Vec::new();
        for i in 0..50u8 {
            alloy_rlp::Encodable::encode(&vec![i; 300].as_slice(), &mut stream);
        }
        let compressed = zlib(&stream);
        let whole = decompress(&compressed, false, MAX_RLP_BYTES_PER_CHANNEL).unwrap();
        assert!(whole.terminated && whole.error.is_none());
        assert_eq!(whole.bytes, stream);
        assert_eq!(batch_items(&whole.bytes).0.len(), 50);
        // unterminated: the items that came out before the end are kept
        let cut = decompress(&compressed[..compressed.len() / 2], false, usize::MAX).unwrap();
        assert!(!cut.terminated);
        let (items, error) = batch_items(&cut.bytes);
        assert!(!items.is_empty() && items.len() < 50);
        assert!(error.is_some() || cut.bytes.len().is_multiple_of(303));
        // the size limit stops reading
        let capped = decompress(&compressed, false, 1000).unwrap();
        assert_eq!(capped.bytes.len(), 1000);
        assert!(capped.error.unwrap().contains("limit"));
    }

    #[test]
    fn brotli_only_from_fjord_and_unknown_bytes_refused() {
        let mut compressed = vec![CHANNEL_VERSION_BROTLI];
        let mut w = brotli::CompressorWriter::new(&mut compressed, 4096, 5, 22);
        w.write_all(b"\x83abc").unwrap();
        drop(w);
        assert!(decompress(&compressed, false, 100).is_none());
        let read = decompress(&compressed, true, 100).unwrap();
        assert_eq!(read.compression, Compression::Brotli);
        assert_eq!(batch_items(&read.bytes).0, vec![b"abc".as_slice()]);
        assert!(decompress(&[0x02, 1, 2], true, 100).is_none());
        assert!(decompress(&[], true, 100).is_none());
    }
}
