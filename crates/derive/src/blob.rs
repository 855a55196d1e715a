//! The OP Stack blob encoding (version 0): batcher data packed into an EIP-4844 blob so that
//! every field element stays below the BLS modulus.
//!
//! Each round packs 127 data bytes into 4 field elements: 31 bytes in the low bytes of each,
//! and 3 more bytes spread over the 6 free bits of each element's first byte. The first field
//! element carries the version at byte 1 and the data length (big-endian, 3 bytes) at bytes
//! 2..5, so round 0 holds 4 bytes fewer.

use crate::DeriveError;
use alloy_eips::eip4844::{Blob, BYTES_PER_BLOB};

/// The encoding version.
pub const BLOB_ENCODING_VERSION: u8 = 0;
/// Field elements per blob.
const FIELD_ELEMENTS: usize = BYTES_PER_BLOB / 32;
/// Rounds of 4 field elements.
const ROUNDS: usize = FIELD_ELEMENTS / 4;
/// The most data one blob holds: 127 bytes per round, less the 4-byte header.
pub const MAX_BLOB_DATA: usize = ROUNDS * 127 - 4;

/// Reads the data to encode, padding with zeros past its end.
struct Input<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Input<'_> {
    fn byte(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }

    fn fill(&mut self, out: &mut [u8]) {
        for byte in out {
            *byte = self.byte();
        }
    }
}

/// Encodes `data` into one blob.
pub fn encode_blob(data: &[u8]) -> Result<Box<Blob>, DeriveError> {
    if data.len() > MAX_BLOB_DATA {
        return Err(DeriveError::BlobTooLarge(data.len()));
    }
    let mut blob = Box::new(Blob::ZERO);
    let mut input = Input { data, pos: 0 };
    let len = data.len() as u32;
    let mut round = 0;
    while round < ROUNDS && input.pos < data.len() {
        let base = round * 128;
        // each field element: its first byte (6 free bits), then 31 bytes of data
        let element = |fe: usize| base + fe * 32;
        if round == 0 {
            let header = [BLOB_ENCODING_VERSION, (len >> 16) as u8, (len >> 8) as u8, len as u8];
            blob[1..5].copy_from_slice(&header);
            input.fill(&mut blob[5..32]);
        } else {
            input.fill(&mut blob[element(0) + 1..element(0) + 32]);
        }
        let x = input.byte();
        input.fill(&mut blob[element(1) + 1..element(1) + 32]);
        let y = input.byte();
        input.fill(&mut blob[element(2) + 1..element(2) + 32]);
        let z = input.byte();
        input.fill(&mut blob[element(3) + 1..element(3) + 32]);
        blob[element(0)] = x & 0b0011_1111;
        blob[element(1)] = (y & 0b0000_1111) | ((x & 0b1100_0000) >> 2);
        blob[element(2)] = z & 0b0011_1111;
        blob[element(3)] = ((z & 0b1100_0000) >> 2) | ((y & 0b1111_0000) >> 4);
        round += 1;
    }
    Ok(blob)
}

/// Decodes the data of one blob.
pub fn decode_blob(blob: &[u8]) -> Result<Vec<u8>, DeriveError> {
    if blob.len() != BYTES_PER_BLOB {
        return Err(DeriveError::BlobSize(blob.len()));
    }
    if blob[1] != BLOB_ENCODING_VERSION {
        return Err(DeriveError::BlobVersion(blob[1]));
    }
    let len = (usize::from(blob[2]) << 16) | (usize::from(blob[3]) << 8) | usize::from(blob[4]);
    if len > MAX_BLOB_DATA {
        return Err(DeriveError::BlobLength(len));
    }
    let mut output = vec![0u8; ROUNDS * 127];
    let mut encoded = [0u8; 4];
    let mut opos = 0usize;
    let mut ipos = 0usize;
    for round in 0..ROUNDS {
        if opos >= len && round > 0 {
            break;
        }
        for (j, slot) in encoded.iter_mut().enumerate() {
            let first = blob[ipos];
            if first & 0b1100_0000 != 0 {
                return Err(DeriveError::BlobFieldElement(ipos / 32));
            }
            *slot = first;
            if round == 0 && j == 0 {
                // the header takes the first 4 bytes of the first element's body
                output[..27].copy_from_slice(&blob[5..32]);
                opos = 28;
            } else {
                output[opos..opos + 31].copy_from_slice(&blob[ipos + 1..ipos + 32]);
                opos += 32;
            }
            ipos += 32;
        }
        // the 128th byte is not output
        opos -= 1;
        let x = (encoded[0] & 0b0011_1111) | ((encoded[1] & 0b0011_0000) << 2);
        let y = (encoded[1] & 0b0000_1111) | ((encoded[3] & 0b0000_1111) << 4);
        let z = (encoded[2] & 0b0011_1111) | ((encoded[3] & 0b0011_0000) << 2);
        output[opos - 32] = z;
        output[opos - 64] = y;
        output[opos - 96] = x;
    }
    if output[len..].iter().any(|b| *b != 0) || blob[ipos..].iter().any(|b| *b != 0) {
        return Err(DeriveError::BlobTrailing);
    }
    output.truncate(len);
    Ok(output)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_of_every_awkward_length_round_trips() {
        for len in [0, 1, 26, 27, 28, 59, 91, 122, 123, 124, 127, 250, 251, 4000, MAX_BLOB_DATA] {
            let data: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8 | 0xc0).collect();
            let blob = encode_blob(&data).unwrap();
            assert!(blob.chunks(32).all(|fe| fe[0] & 0xc0 == 0), "every element below the modulus");
            assert_eq!(decode_blob(blob.as_slice()).unwrap(), data, "length {len}");
        }
        assert!(matches!(
            encode_blob(&vec![0; MAX_BLOB_DATA + 1]),
            Err(DeriveError::BlobTooLarge(_))
        ));
    }

    #[test]
    fn the_layout_is_the_specs() {
        // version at byte 1, the big-endian length at bytes 2..5, data from byte 5
        let blob = encode_blob(b"hello").unwrap();
        assert_eq!(&blob[..10], &[0, 0, 0, 0, 5, b'h', b'e', b'l', b'l', b'o']);
        // the 28th data byte goes to the first element's free bits
        let data: Vec<u8> = (0..28).map(|_| 0x3f).collect();
        let blob = encode_blob(&data).unwrap();
        assert_eq!(blob[0], 0x3f);
    }

    #[test]
    fn malformed_blobs_are_refused() {
        let mut blob = encode_blob(b"frames").unwrap();
        blob[1] = 1;
        assert!(matches!(decode_blob(blob.as_slice()), Err(DeriveError::BlobVersion(1))));
        let mut blob = encode_blob(b"frames").unwrap();
        blob[32] = 0x80;
        assert!(matches!(decode_blob(blob.as_slice()), Err(DeriveError::BlobFieldElement(1))));
        let mut blob = encode_blob(b"frames").unwrap();
        blob[4000] = 1;
        assert!(matches!(decode_blob(blob.as_slice()), Err(DeriveError::BlobTrailing)));
        assert!(matches!(decode_blob(&[0; 10]), Err(DeriveError::BlobSize(10))));
    }
}
