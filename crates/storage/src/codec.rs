//! Key and value codecs.
//!
//! Keys are encoded big-endian so that MDBX orders them numerically and a chain's entries are
//! contiguous. Values use a tight hand-written codec: integers are stored without leading zero
//! bytes, hashes raw, and headers, transactions and receipts in their canonical RLP/EIP-2718 form.

use crate::DatabaseError;
use alloy_primitives::{Address, B256, U256};

/// Why a value failed to decode; the table name is added by the caller.
pub type CodecResult<T> = Result<T, String>;

/// A table key: encoded so that byte order equals logical order.
pub trait Key: Sized + std::fmt::Debug {
    /// Appends the encoding of `self` to `out`.
    fn encode_key(&self, out: &mut Vec<u8>);
    /// Decodes a key from its full encoding.
    fn decode_key(data: &[u8]) -> CodecResult<Self>;
}

/// A table value.
pub trait Value: Sized + std::fmt::Debug {
    /// Appends the compact encoding of `self` to `out`.
    fn compress(&self, out: &mut Vec<u8>);
    /// Decodes a value from its full encoding.
    fn decompress(data: &[u8]) -> CodecResult<Self>;
}

/// A fixed or variable size component of a composite key.
pub trait KeyPart: Sized + std::fmt::Debug {
    /// The encoded width, or `None` when the part takes the rest of the key.
    const WIDTH: Option<usize>;
    /// Appends the encoding.
    fn put(&self, out: &mut Vec<u8>);
    /// Decodes from exactly the bytes of this part.
    fn take(data: &[u8]) -> CodecResult<Self>;
}

fn exact<const N: usize>(data: &[u8]) -> CodecResult<[u8; N]> {
    data.try_into().map_err(|_| format!("expected {N} bytes, found {}", data.len()))
}

impl KeyPart for u64 {
    const WIDTH: Option<usize> = Some(8);
    fn put(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_be_bytes());
    }
    fn take(data: &[u8]) -> CodecResult<Self> {
        exact::<8>(data).map(Self::from_be_bytes)
    }
}

impl KeyPart for u32 {
    const WIDTH: Option<usize> = Some(4);
    fn put(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_be_bytes());
    }
    fn take(data: &[u8]) -> CodecResult<Self> {
        exact::<4>(data).map(Self::from_be_bytes)
    }
}

impl KeyPart for Address {
    const WIDTH: Option<usize> = Some(20);
    fn put(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.as_slice());
    }
    fn take(data: &[u8]) -> CodecResult<Self> {
        exact::<20>(data).map(Self::from)
    }
}

impl KeyPart for B256 {
    const WIDTH: Option<usize> = Some(32);
    fn put(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.as_slice());
    }
    fn take(data: &[u8]) -> CodecResult<Self> {
        exact::<32>(data).map(Self::from)
    }
}

/// A trie path: one nibble per byte, so that a parent path sorts before its children.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct NibblePath(pub Vec<u8>);

impl KeyPart for NibblePath {
    const WIDTH: Option<usize> = None;
    fn put(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0);
    }
    fn take(data: &[u8]) -> CodecResult<Self> {
        if data.len() > 64 || data.iter().any(|n| *n > 0x0f) {
            return Err("invalid nibble path".into());
        }
        Ok(Self(data.to_vec()))
    }
}

/// A metadata key: a short name.
impl KeyPart for String {
    const WIDTH: Option<usize> = None;
    fn put(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.as_bytes());
    }
    fn take(data: &[u8]) -> CodecResult<Self> {
        Self::from_utf8(data.to_vec()).map_err(|e| e.to_string())
    }
}

macro_rules! impl_key_for_part {
    ($($t:ty),*) => {$(
        impl Key for $t {
            fn encode_key(&self, out: &mut Vec<u8>) { self.put(out) }
            fn decode_key(data: &[u8]) -> CodecResult<Self> { Self::take(data) }
        }
    )*};
}
impl_key_for_part!(u64, B256, String);

fn split_part<P: KeyPart>(data: &[u8]) -> CodecResult<(P, &[u8])> {
    let width = P::WIDTH.ok_or("variable-width part must come last")?;
    if data.len() < width {
        return Err(format!("key too short: {} bytes", data.len()));
    }
    let (head, rest) = data.split_at(width);
    Ok((P::take(head)?, rest))
}

impl<A: KeyPart, B: KeyPart> Key for (A, B) {
    fn encode_key(&self, out: &mut Vec<u8>) {
        self.0.put(out);
        self.1.put(out);
    }
    fn decode_key(data: &[u8]) -> CodecResult<Self> {
        let (a, rest) = split_part::<A>(data)?;
        Ok((a, B::take(rest)?))
    }
}

impl<A: KeyPart, B: KeyPart, C: KeyPart> Key for (A, B, C) {
    fn encode_key(&self, out: &mut Vec<u8>) {
        self.0.put(out);
        self.1.put(out);
        self.2.put(out);
    }
    fn decode_key(data: &[u8]) -> CodecResult<Self> {
        let (a, rest) = split_part::<A>(data)?;
        let (b, rest) = split_part::<B>(rest)?;
        Ok((a, b, C::take(rest)?))
    }
}

impl<A: KeyPart, B: KeyPart, C: KeyPart, D: KeyPart> Key for (A, B, C, D) {
    fn encode_key(&self, out: &mut Vec<u8>) {
        self.0.put(out);
        self.1.put(out);
        self.2.put(out);
        self.3.put(out);
    }
    fn decode_key(data: &[u8]) -> CodecResult<Self> {
        let (a, rest) = split_part::<A>(data)?;
        let (b, rest) = split_part::<B>(rest)?;
        let (c, rest) = split_part::<C>(rest)?;
        Ok((a, b, c, D::take(rest)?))
    }
}

/// Writes `bytes` without its leading zeros, preceded by its remaining length.
pub(crate) fn put_trimmed(out: &mut Vec<u8>, bytes: &[u8]) {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    out.push((bytes.len() - start) as u8);
    out.extend_from_slice(&bytes[start..]);
}

/// A cursor over a value's bytes that reports truncation instead of panicking.
pub(crate) struct Reader<'a>(pub(crate) &'a [u8]);

impl<'a> Reader<'a> {
    pub(crate) fn bytes(&mut self, n: usize) -> CodecResult<&'a [u8]> {
        if self.0.len() < n {
            return Err(format!("truncated: wanted {n} bytes, {} left", self.0.len()));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }
    pub(crate) fn byte(&mut self) -> CodecResult<u8> {
        Ok(self.bytes(1)?[0])
    }
    pub(crate) fn trimmed<const N: usize>(&mut self) -> CodecResult<[u8; N]> {
        let len = self.byte()? as usize;
        if len > N {
            return Err(format!("integer of {len} bytes exceeds {N}"));
        }
        let mut word = [0u8; N];
        word[N - len..].copy_from_slice(self.bytes(len)?);
        Ok(word)
    }
    pub(crate) fn b256(&mut self) -> CodecResult<B256> {
        Ok(B256::from_slice(self.bytes(32)?))
    }
    pub(crate) fn address(&mut self) -> CodecResult<Address> {
        Ok(Address::from_slice(self.bytes(20)?))
    }
    pub(crate) fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.0)
    }
    pub(crate) fn finish(&self) -> CodecResult<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(format!("{} trailing bytes", self.0.len()))
        }
    }
}

impl Value for u64 {
    fn compress(&self, out: &mut Vec<u8>) {
        put_trimmed(out, &self.to_be_bytes());
    }
    fn decompress(data: &[u8]) -> CodecResult<Self> {
        let mut r = Reader(data);
        let v = r.trimmed::<8>().map(Self::from_be_bytes)?;
        r.finish()?;
        Ok(v)
    }
}

impl Value for U256 {
    fn compress(&self, out: &mut Vec<u8>) {
        put_trimmed(out, &self.to_be_bytes::<32>());
    }
    fn decompress(data: &[u8]) -> CodecResult<Self> {
        let mut r = Reader(data);
        let v = r.trimmed::<32>().map(|w| Self::from_be_bytes(w))?;
        r.finish()?;
        Ok(v)
    }
}

impl Value for B256 {
    fn compress(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.as_slice());
    }
    fn decompress(data: &[u8]) -> CodecResult<Self> {
        exact::<32>(data).map(Self::from)
    }
}

/// Nothing: for tables whose keys are the whole record (the history indices).
impl Value for () {
    fn compress(&self, _: &mut Vec<u8>) {}
    fn decompress(data: &[u8]) -> CodecResult<Self> {
        Reader(data).finish()
    }
}

impl Value for Vec<u8> {
    fn compress(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self);
    }
    fn decompress(data: &[u8]) -> CodecResult<Self> {
        Ok(data.to_vec())
    }
}

/// Values stored in their canonical RLP encoding.
macro_rules! rlp_value {
    ($($t:ty),*) => {$(
        impl Value for $t {
            fn compress(&self, out: &mut Vec<u8>) {
                alloy_rlp::Encodable::encode(self, out);
            }
            fn decompress(data: &[u8]) -> CodecResult<Self> {
                let mut buf = data;
                let v = <$t as alloy_rlp::Decodable>::decode(&mut buf).map_err(|e| e.to_string())?;
                if !buf.is_empty() {
                    return Err(format!("{} trailing bytes", buf.len()));
                }
                Ok(v)
            }
        }
    )*};
}
rlp_value!(
    alloy_consensus::Header,
    crate::models::ChainCursor,
    crate::models::L1BlockRecord,
    crate::models::BatchRecord,
    crate::models::DerivationCursor,
    crate::models::DepositOrigin
);

/// Values stored in their EIP-2718 envelope encoding.
macro_rules! eip2718_value {
    ($($t:ty),*) => {$(
        impl Value for $t {
            fn compress(&self, out: &mut Vec<u8>) {
                alloy_eips::eip2718::Encodable2718::encode_2718(self, out);
            }
            fn decompress(data: &[u8]) -> CodecResult<Self> {
                let mut buf = data;
                let v = <$t as alloy_eips::eip2718::Decodable2718>::decode_2718(&mut buf)
                    .map_err(|e| e.to_string())?;
                if !buf.is_empty() {
                    return Err(format!("{} trailing bytes", buf.len()));
                }
                Ok(v)
            }
        }
    )*};
}
eip2718_value!(op_alloy_consensus::OpTxEnvelope, op_alloy_consensus::OpReceiptEnvelope);

/// Decodes a value, naming its table on failure.
pub(crate) fn decode_value<V: Value>(table: &'static str, data: &[u8]) -> Result<V, DatabaseError> {
    V::decompress(data).map_err(|reason| DatabaseError::Decode { table, reason })
}

/// Decodes a key, naming its table on failure.
pub(crate) fn decode_key<K: Key>(table: &'static str, data: &[u8]) -> Result<K, DatabaseError> {
    K::decode_key(data).map_err(|reason| DatabaseError::Decode { table, reason })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn composite_keys_sort_numerically() {
        let mut a = Vec::new();
        (1u64, 255u64).encode_key(&mut a);
        let mut b = Vec::new();
        (1u64, 256u64).encode_key(&mut b);
        let mut c = Vec::new();
        (2u64, 0u64).encode_key(&mut c);
        assert!(a < b && b < c);
        assert_eq!(<(u64, u64)>::decode_key(&b).unwrap(), (1, 256));
    }

    #[test]
    fn truncated_values_are_errors() {
        let mut out = Vec::new();
        U256::from(123456789u64).compress(&mut out);
        assert_eq!(U256::decompress(&out).unwrap(), U256::from(123456789u64));
        assert!(U256::decompress(&out[..out.len() - 1]).is_err());
        assert!(U256::decompress(&[40]).is_err());
        assert!(<(u64, B256)>::decode_key(&[0; 12]).is_err());
    }
}
