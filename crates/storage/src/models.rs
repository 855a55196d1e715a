//! The records stored in the tables.

use crate::codec::{put_trimmed, CodecResult, Reader, Value};
use alloy_primitives::{keccak256, Address, B256, U256};
use alloy_trie::{
    nodes::{BranchNodeRef, ExtensionNodeRef, LeafNodeRef, RlpNode},
    Nibbles, TrieMask, KECCAK_EMPTY,
};

/// A chain id, the first component of every chain-scoped key.
pub type ChainId = u64;

/// An account in the plain state (its storage root lives in the trie).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Account {
    /// The nonce.
    pub nonce: u64,
    /// The balance in wei.
    pub balance: U256,
    /// The code hash, [`KECCAK_EMPTY`] for an account without code.
    pub code_hash: B256,
}

impl Account {
    /// Whether the account has code.
    pub fn has_code(&self) -> bool {
        self.code_hash != KECCAK_EMPTY && self.code_hash != B256::ZERO
    }
}

impl From<&revm::state::AccountInfo> for Account {
    fn from(info: &revm::state::AccountInfo) -> Self {
        Self { nonce: info.nonce, balance: info.balance, code_hash: info.code_hash }
    }
}

impl From<Account> for revm::state::AccountInfo {
    fn from(account: Account) -> Self {
        Self {
            nonce: account.nonce,
            balance: account.balance,
            code_hash: account.code_hash,
            code: None,
            account_id: None,
        }
    }
}

const HAS_CODE: u8 = 0x80;

impl Value for Account {
    fn compress(&self, out: &mut Vec<u8>) {
        let flag_at = out.len();
        put_trimmed(out, &self.nonce.to_be_bytes());
        put_trimmed(out, &self.balance.to_be_bytes::<32>());
        if self.has_code() {
            out[flag_at] |= HAS_CODE;
            out.extend_from_slice(self.code_hash.as_slice());
        }
    }
    fn decompress(data: &[u8]) -> CodecResult<Self> {
        let first = *data.first().ok_or("empty account")?;
        let mut patched = data.to_vec();
        patched[0] = first & !HAS_CODE;
        let mut r = Reader(&patched);
        let nonce = u64::from_be_bytes(r.trimmed::<8>()?);
        let balance = U256::from_be_bytes(r.trimmed::<32>()?);
        let code_hash = if first & HAS_CODE != 0 { r.b256()? } else { KECCAK_EMPTY };
        r.finish()?;
        Ok(Self { nonce, balance, code_hash })
    }
}

/// How far a chain has been executed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainHead {
    /// The number of the head block.
    pub number: u64,
    /// The hash of the head block.
    pub hash: B256,
}

impl Value for ChainHead {
    fn compress(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.number.to_be_bytes());
        out.extend_from_slice(self.hash.as_slice());
    }
    fn decompress(data: &[u8]) -> CodecResult<Self> {
        let mut r = Reader(data);
        let number = u64::from_be_bytes(r.bytes(8)?.try_into().map_err(|_| "number")?);
        let hash = r.b256()?;
        r.finish()?;
        Ok(Self { number, hash })
    }
}

/// Where a transaction sits in its chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxLocation {
    /// The block number.
    pub block: u64,
    /// The index in the block.
    pub index: u32,
}

impl Value for TxLocation {
    fn compress(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.block.to_be_bytes());
        out.extend_from_slice(&self.index.to_be_bytes());
    }
    fn decompress(data: &[u8]) -> CodecResult<Self> {
        let bytes: [u8; 12] =
            data.try_into().map_err(|_| format!("location of {} bytes", data.len()))?;
        let (block, index) = bytes.split_at(8);
        Ok(Self {
            block: u64::from_be_bytes(block.try_into().map_err(|_| "block")?),
            index: u32::from_be_bytes(index.try_into().map_err(|_| "index")?),
        })
    }
}

/// An account as it was before a block changed it (`None`: it did not exist).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountBefore {
    /// The account's address.
    pub address: Address,
    /// Its value before the block.
    pub info: Option<Account>,
}

impl Value for AccountBefore {
    fn compress(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.address.as_slice());
        if let Some(info) = &self.info {
            info.compress(out);
        }
    }
    fn decompress(data: &[u8]) -> CodecResult<Self> {
        let mut r = Reader(data);
        let address = r.address()?;
        let rest = r.rest();
        let info = if rest.is_empty() { None } else { Some(Account::decompress(rest)?) };
        Ok(Self { address, info })
    }
}

/// A storage slot as it was before a block changed it (zero: it was empty).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StorageBefore {
    /// The account's address.
    pub address: Address,
    /// The slot.
    pub slot: B256,
    /// Its value before the block.
    pub value: U256,
}

impl Value for StorageBefore {
    fn compress(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.address.as_slice());
        out.extend_from_slice(self.slot.as_slice());
        self.value.compress(out);
    }
    fn decompress(data: &[u8]) -> CodecResult<Self> {
        let mut r = Reader(data);
        let address = r.address()?;
        let slot = r.b256()?;
        let value = U256::decompress(r.rest())?;
        Ok(Self { address, slot, value })
    }
}

/// A node of a Merkle-Patricia trie, stored under its path.
///
/// Every node, embedded or hashed, is stored at the path where it sits; a branch keeps the
/// references of its children so that an unchanged subtree is never read again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrieNode {
    /// A leaf: the rest of the key (nibbles) and the RLP-encoded value.
    Leaf {
        /// Remaining nibbles of the key.
        key: Vec<u8>,
        /// The RLP of the value.
        value: Vec<u8>,
    },
    /// An extension: shared nibbles and the reference of the node below.
    Extension {
        /// The shared nibbles.
        key: Vec<u8>,
        /// The reference (RLP or hash) of the child.
        child: RlpNode,
    },
    /// A branch: the references of its present children, by nibble.
    Branch {
        /// Present children.
        mask: TrieMask,
        /// Their references, in nibble order.
        children: Vec<RlpNode>,
    },
}

impl TrieNode {
    /// The node's reference as its parent holds it: its RLP if shorter than 32 bytes, else
    /// the RLP of its hash.
    pub fn reference(&self, buf: &mut Vec<u8>) -> RlpNode {
        buf.clear();
        match self {
            Self::Leaf { key, value } => {
                LeafNodeRef::new(&Nibbles::from_nibbles_unchecked(key), value).rlp(buf)
            }
            Self::Extension { key, child } => {
                ExtensionNodeRef::new(&Nibbles::from_nibbles_unchecked(key), child).rlp(buf)
            }
            Self::Branch { mask, children } => BranchNodeRef::new(children, *mask).rlp(buf),
        }
    }

    /// The node's full RLP encoding, as a witness or a proof carries it.
    pub fn encode_rlp(&self, out: &mut Vec<u8>) {
        use alloy_rlp::Encodable;
        match self {
            Self::Leaf { key, value } => {
                LeafNodeRef::new(&Nibbles::from_nibbles_unchecked(key), value).encode(out)
            }
            Self::Extension { key, child } => {
                ExtensionNodeRef::new(&Nibbles::from_nibbles_unchecked(key), child).encode(out)
            }
            Self::Branch { mask, children } => BranchNodeRef::new(children, *mask).encode(out),
        }
    }

    /// Decodes a node from its RLP (a witness or proof node). `None` for the empty root.
    pub fn decode_rlp(mut rlp: &[u8]) -> Result<Option<Self>, alloy_rlp::Error> {
        use alloy_rlp::Decodable;
        let node = match alloy_trie::nodes::TrieNode::decode(&mut rlp)? {
            alloy_trie::nodes::TrieNode::EmptyRoot => None,
            alloy_trie::nodes::TrieNode::Branch(branch) => {
                Some(Self::Branch { mask: branch.state_mask, children: branch.stack })
            }
            alloy_trie::nodes::TrieNode::Extension(ext) => {
                Some(Self::Extension { key: ext.key.to_vec(), child: ext.child })
            }
            alloy_trie::nodes::TrieNode::Leaf(leaf) => {
                Some(Self::Leaf { key: leaf.key.to_vec(), value: leaf.value })
            }
        };
        if !rlp.is_empty() {
            return Err(alloy_rlp::Error::Custom("trailing bytes after the trie node"));
        }
        Ok(node)
    }

    /// The hash of this node as a trie root.
    pub fn root_hash(&self) -> B256 {
        let reference = self.reference(&mut Vec::with_capacity(600));
        reference.as_hash().unwrap_or_else(|| keccak256(reference.as_slice()))
    }
}

fn put_nibbles(out: &mut Vec<u8>, nibbles: &[u8]) {
    out.push(nibbles.len() as u8);
    out.extend(nibbles.chunks(2).map(|c| (c[0] << 4) | c.get(1).copied().unwrap_or(0)));
}

fn read_nibbles(r: &mut Reader<'_>) -> CodecResult<Vec<u8>> {
    let len = r.byte()? as usize;
    if len > 64 {
        return Err(format!("nibble path of {len}"));
    }
    let packed = r.bytes(len.div_ceil(2))?;
    Ok((0..len)
        .map(|i| if i % 2 == 0 { packed[i / 2] >> 4 } else { packed[i / 2] & 0x0f })
        .collect())
}

fn read_rlp_node(bytes: &[u8]) -> CodecResult<RlpNode> {
    RlpNode::from_raw(bytes).ok_or_else(|| format!("node reference of {} bytes", bytes.len()))
}

impl Value for TrieNode {
    fn compress(&self, out: &mut Vec<u8>) {
        match self {
            Self::Leaf { key, value } => {
                out.push(0);
                put_nibbles(out, key);
                out.extend_from_slice(value);
            }
            Self::Extension { key, child } => {
                out.push(1);
                put_nibbles(out, key);
                out.extend_from_slice(child);
            }
            Self::Branch { mask, children } => {
                out.push(2);
                out.extend_from_slice(&mask.get().to_be_bytes());
                for child in children {
                    out.push(child.len() as u8);
                    out.extend_from_slice(child);
                }
            }
        }
    }
    fn decompress(data: &[u8]) -> CodecResult<Self> {
        let mut r = Reader(data);
        match r.byte()? {
            0 => Ok(Self::Leaf { key: read_nibbles(&mut r)?, value: r.rest().to_vec() }),
            1 => {
                Ok(Self::Extension { key: read_nibbles(&mut r)?, child: read_rlp_node(r.rest())? })
            }
            2 => {
                let mask = TrieMask::new(u16::from_be_bytes([r.byte()?, r.byte()?]));
                let mut children = Vec::with_capacity(mask.count_ones() as usize);
                for _ in 0..mask.count_ones() {
                    let len = r.byte()? as usize;
                    children.push(read_rlp_node(r.bytes(len)?)?);
                }
                r.finish()?;
                Ok(Self::Branch { mask, children })
            }
            tag => Err(format!("unknown trie node tag {tag}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip<V: Value + PartialEq>(v: &V) {
        let mut out = Vec::new();
        v.compress(&mut out);
        assert_eq!(V::decompress(&out).unwrap(), *v);
    }

    #[test]
    fn values_roundtrip() {
        roundtrip(&Account { nonce: 0, balance: U256::ZERO, code_hash: KECCAK_EMPTY });
        roundtrip(&Account {
            nonce: u64::MAX,
            balance: U256::MAX,
            code_hash: B256::repeat_byte(7),
        });
        roundtrip(&AccountBefore { address: Address::repeat_byte(1), info: None });
        roundtrip(&StorageBefore {
            address: Address::repeat_byte(1),
            slot: B256::repeat_byte(2),
            value: U256::from(3),
        });
        roundtrip(&TrieNode::Leaf { key: vec![1, 2, 3], value: vec![0x80] });
        roundtrip(&TrieNode::Extension { key: vec![0xf], child: RlpNode::word_rlp(&B256::ZERO) });
    }

    #[test]
    fn corrupt_values_are_errors_not_panics() {
        assert!(Account::decompress(&[]).is_err());
        assert!(Account::decompress(&[0x81, 1]).is_err());
        assert!(TrieNode::decompress(&[2, 0, 3, 40]).is_err());
        assert!(TrieNode::decompress(&[9]).is_err());
        assert!(TrieNode::decompress(&[0, 200]).is_err());
    }
}

/// A chain's head after an L1 block was processed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, alloy_rlp::RlpEncodable, alloy_rlp::RlpDecodable)]
pub struct ChainCursor {
    /// The chain.
    pub chain_id: u64,
    /// Its head block number.
    pub number: u64,
    /// Its head block hash.
    pub hash: B256,
    /// Its head block timestamp.
    pub timestamp: u64,
}

/// An L1 block the node has processed: the superchain's L1 cursor is the last of these.
#[derive(Debug, Clone, PartialEq, Eq, alloy_rlp::RlpEncodable, alloy_rlp::RlpDecodable)]
pub struct L1BlockRecord {
    /// The L1 block's hash.
    pub hash: B256,
    /// Its parent's hash.
    pub parent_hash: B256,
    /// Its timestamp.
    pub timestamp: u64,
    /// `T(n)` of DESIGN.md 5.3: the smallest head timestamp over the chains after this block.
    pub safe_timestamp: u64,
    /// Every chain's head after this block, in the superchain set's order.
    pub heads: Vec<ChainCursor>,
}

/// One chain's block range in a superchain batch (`first > last` when the batch holds none of
/// its blocks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, alloy_rlp::RlpEncodable, alloy_rlp::RlpDecodable)]
pub struct ChainRange {
    /// The chain.
    pub chain_id: u64,
    /// The first block in the batch.
    pub first: u64,
    /// The last block in the batch.
    pub last: u64,
}

/// A superchain batch (DESIGN.md 5.3): the L1 block that closed it, its timestamp range
/// `(from_timestamp, to_timestamp]` and each chain's block range.
#[derive(Debug, Clone, PartialEq, Eq, alloy_rlp::RlpEncodable, alloy_rlp::RlpDecodable)]
pub struct BatchRecord {
    /// The batch index, from 0.
    pub index: u64,
    /// The number of the L1 block that closed it.
    pub l1_number: u64,
    /// That block's hash.
    pub l1_hash: B256,
    /// The timestamp range's exclusive start, `T(n-1)`.
    pub from_timestamp: u64,
    /// The timestamp range's inclusive end, `T(n)`.
    pub to_timestamp: u64,
    /// Each chain's blocks in the batch.
    pub ranges: Vec<ChainRange>,
}

/// Where an L2 user deposit came from on L1: the `TransactionDeposited` log that made it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, alloy_rlp::RlpEncodable, alloy_rlp::RlpDecodable)]
pub struct DepositOrigin {
    /// The L1 block.
    pub l1_block: u64,
    /// Its hash.
    pub l1_block_hash: B256,
    /// The L1 transaction that emitted the log.
    pub l1_tx_hash: B256,
    /// The log's index in the L1 block (it and the block's hash make the deposit's source hash).
    pub log_index: u64,
}

/// A chain's derivation cursor: the L1 block it has been derived through, and its head then.
#[derive(Debug, Clone, Copy, PartialEq, Eq, alloy_rlp::RlpEncodable, alloy_rlp::RlpDecodable)]
pub struct DerivationCursor {
    /// The last L1 block processed.
    pub l1_number: u64,
    /// Its hash.
    pub l1_hash: B256,
    /// The chain's head after it.
    pub head: ChainCursor,
}
