use alloy_primitives::{keccak256, Address, B256, U256};
use serde::{Deserialize, Serialize};

/// A chain id.
pub type ChainId = u64;

/// One cross-chain transfer, as a `Burn` on the source chain and a `Mint` on the destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Transfer {
    /// The chain where the asset was burned.
    pub source: ChainId,
    /// The chain where it is minted.
    pub destination: ChainId,
    /// The burn's nonce, counting from 0 for each `(source, destination)` pair.
    pub nonce: U256,
    /// The token, `address(0)` for the native asset.
    pub token: Address,
    /// Who burned.
    pub from: Address,
    /// Who receives the mint.
    pub to: Address,
    /// The amount.
    pub amount: U256,
}

impl Transfer {
    /// `keccak256(abi.encode(source, destination, nonce, token, from, to, amount))`.
    pub fn leaf(&self) -> B256 {
        let mut word = [0u8; 7 * 32];
        word[24..32].copy_from_slice(&self.source.to_be_bytes());
        word[56..64].copy_from_slice(&self.destination.to_be_bytes());
        word[64..96].copy_from_slice(&self.nonce.to_be_bytes::<32>());
        word[108..128].copy_from_slice(self.token.as_slice());
        word[140..160].copy_from_slice(self.from.as_slice());
        word[172..192].copy_from_slice(self.to.as_slice());
        word[192..224].copy_from_slice(&self.amount.to_be_bytes::<32>());
        keccak256(word)
    }
}
