//! The bytes of a key or value as MDBX hands them over, read in place.

use libmdbx::{Decodable, TransactionKind};
use std::ops::Deref;

/// A key or value borrowed from the transaction's pages for as long as it takes to decode it.
///
/// The `libmdbx` crate's own borrowed type (`Cow<[u8]>`) asks `mdbx_is_dirty` about every key
/// and value read in a write transaction, only to choose between borrowing and copying. Under
/// load that call has been seen to fail with `EINVAL` on a value that `mdbx_get` had just
/// returned (`mdbx_is_dirty`, "pointed into middle of a large page"), which failed the whole
/// block. This type never asks: every caller in this crate decodes (or copies) the bytes before
/// its next call on the transaction, so the bytes are never read after a write could have moved
/// them, and whether their page is dirty does not matter.
///
/// Never hold one across another operation on the same transaction.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RawBytes<'tx>(&'tx [u8]);

impl Deref for RawBytes<'_> {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        self.0
    }
}

impl<'tx> Decodable<'tx> for RawBytes<'tx> {
    fn decode(_: &[u8]) -> Result<Self, libmdbx::Error> {
        // only `decode_val` below is ever called by the crate for a type that overrides it
        Err(libmdbx::Error::DecodeError("raw bytes are read in place only".into()))
    }

    unsafe fn decode_val<K: TransactionKind>(
        _: *const mdbx_sys::MDBX_txn,
        data_val: &mdbx_sys::MDBX_val,
    ) -> Result<Self, libmdbx::Error> {
        if data_val.iov_len == 0 || data_val.iov_base.is_null() {
            return Ok(Self(&[]));
        }
        // SAFETY: MDBX returned this pointer and length for an entry of the live transaction
        // `'tx`; the bytes stay in place until that transaction writes again, and every user of
        // this type decodes them before its next call on the transaction (see the type's docs).
        let bytes =
            unsafe { std::slice::from_raw_parts(data_val.iov_base as *const u8, data_val.iov_len) };
        Ok(Self(bytes))
    }
}
