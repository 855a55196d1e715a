use crate::{L1Block, L1Error, L1Node, L1Source};
use alloy_consensus::{ReceiptEnvelope, TxEnvelope};
use alloy_eips::eip4844::Blob;
use alloy_primitives::B256;
use alloy_provider::{ext::AnvilApi, Provider, RootProvider};
use alloy_rpc_types_eth::BlockNumberOrTag;

/// An L1 reached over Ethereum JSON-RPC, such as anvil. Calls block the calling thread, which
/// must not be inside an async runtime.
#[derive(Debug)]
pub struct JsonRpcL1 {
    provider: RootProvider,
    runtime: tokio::runtime::Runtime,
    chain_id: u64,
    beacon: String,
    http: reqwest::Client,
    /// The beacon chain's genesis time and seconds per slot, read once.
    slots: std::sync::OnceLock<(u64, u64)>,
}

/// The largest beacon API answer read: a block's every blob, hex-encoded, with room to spare
/// (a block holds at most a few dozen 128 KiB blobs).
const MAX_BEACON_RESPONSE: usize = 64 << 20;

/// Seconds per slot when the beacon API does not serve its spec (anvil does not).
const DEFAULT_SECONDS_PER_SLOT: u64 = 12;

fn unreachable(err: impl std::fmt::Display) -> L1Error {
    L1Error::Unreachable(err.to_string())
}

impl JsonRpcL1 {
    /// Connects to the node at `url` (for example `http://127.0.0.1:8545`).
    pub fn connect(url: &str) -> Result<Self, L1Error> {
        let beacon = url.trim_end_matches('/').to_string();
        let url = url.parse().map_err(|e| L1Error::BadResponse(format!("URL {url}: {e}")))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(unreachable)?;
        let provider = RootProvider::new_http(url);
        let chain_id = runtime.block_on(provider.get_chain_id()).map_err(unreachable)?;
        Ok(Self {
            provider,
            runtime,
            chain_id,
            beacon,
            http: reqwest::Client::new(),
            slots: std::sync::OnceLock::new(),
        })
    }

    /// Reads blobs from the beacon API at `url` (`/eth/v1/beacon/blobs/{slot}`) instead of the
    /// JSON-RPC URL, which is where anvil serves it.
    pub fn with_beacon(mut self, url: &str) -> Self {
        self.beacon = url.trim_end_matches('/').to_string();
        self
    }

    /// GETs `path` from the beacon API as JSON.
    fn beacon_get(&self, path: &str) -> Result<serde_json::Value, L1Error> {
        let url = format!("{}{path}", self.beacon);
        let body = self.runtime.block_on(async {
            let mut response = self.http.get(&url).send().await.map_err(unreachable)?;
            let status = response.status();
            // a beacon node that answers without end is cut off, not read into memory
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
                if body.len() + chunk.len() > MAX_BEACON_RESPONSE {
                    return Err(L1Error::BadResponse(format!(
                        "GET {url}: the answer is over {MAX_BEACON_RESPONSE} bytes"
                    )));
                }
                body.extend_from_slice(&chunk);
            }
            if !status.is_success() {
                return Err(L1Error::BadResponse(format!(
                    "GET {url}: {status}: {}",
                    String::from_utf8_lossy(&body)
                )));
            }
            Ok(body)
        })?;
        serde_json::from_slice(&body).map_err(|e| L1Error::BadResponse(format!("GET {url}: {e}")))
    }

    /// The beacon chain's genesis time and seconds per slot (`/eth/v1/beacon/genesis`,
    /// `/eth/v1/config/spec`; 12 s when the spec is not served).
    fn slot_clock(&self) -> Result<(u64, u64), L1Error> {
        if let Some(clock) = self.slots.get() {
            return Ok(*clock);
        }
        let genesis = self.beacon_get("/eth/v1/beacon/genesis")?;
        let number = |v: &serde_json::Value| {
            v.as_str().and_then(|s| s.parse::<u64>().ok()).or_else(|| v.as_u64())
        };
        let genesis_time = number(&genesis["data"]["genesis_time"])
            .ok_or_else(|| L1Error::BadResponse("the beacon genesis has no genesis_time".into()))?;
        let per_slot = self
            .beacon_get("/eth/v1/config/spec")
            .ok()
            .and_then(|spec| number(&spec["data"]["SECONDS_PER_SLOT"]))
            .filter(|s| *s > 0)
            .unwrap_or(DEFAULT_SECONDS_PER_SLOT);
        Ok(*self.slots.get_or_init(|| (genesis_time, per_slot)))
    }

    /// The beacon slot of the L1 block at `timestamp`.
    pub fn slot_of(&self, timestamp: u64) -> Result<u64, L1Error> {
        let (genesis_time, per_slot) = self.slot_clock()?;
        slot_at(genesis_time, per_slot, timestamp)
    }

    /// The blobs the beacon API gives for `slot`, asked for by their versioned hashes (a server
    /// may ignore the filter and give them all: the caller keeps the ones it wants).
    fn beacon_blobs(&self, slot: u64, hashes: &[B256]) -> Result<Vec<Vec<u8>>, L1Error> {
        let filter: Vec<String> = hashes.iter().map(|h| format!("versioned_hashes={h}")).collect();
        let path = if filter.is_empty() {
            format!("/eth/v1/beacon/blobs/{slot}")
        } else {
            format!("/eth/v1/beacon/blobs/{slot}?{}", filter.join("&"))
        };
        let json = self.beacon_get(&path)?;
        let data = json["data"]
            .as_array()
            .ok_or_else(|| L1Error::BadResponse(format!("GET {path}: no data array")))?;
        data.iter()
            .map(|blob| {
                // entries are hex strings, or objects with a `blob` field (sidecars)
                let text = blob.as_str().or_else(|| blob["blob"].as_str()).unwrap_or_default();
                alloy_primitives::hex::decode(text)
                    .map_err(|e| L1Error::BadResponse(format!("GET {path}: blob hex: {e}")))
            })
            .collect()
    }

    fn fetch(&self, tag: BlockNumberOrTag) -> Result<Option<L1Block>, L1Error> {
        self.runtime.block_on(async {
            let Some(block) =
                self.provider.get_block_by_number(tag).full().await.map_err(unreachable)?
            else {
                return Ok(None);
            };
            let receipts = self
                .provider
                .get_block_receipts(alloy_eips::BlockId::hash(block.header.hash))
                .await
                .map_err(unreachable)?
                .unwrap_or_default();
            let transactions: Vec<TxEnvelope> = block
                .transactions
                .clone()
                .into_transactions()
                .map(|tx| tx.inner.into_inner())
                .collect();
            let receipts: Vec<ReceiptEnvelope> =
                receipts.into_iter().map(|r| r.inner.map_logs(|log| log.inner)).collect();
            let block = L1Block {
                hash: block.header.hash,
                header: block.header.inner,
                transactions,
                receipts,
            };
            // the receipts are asked for by the block's hash; the node checks the whole block
            // against its header (`L1Block::check`), and `Retrying` asks again on a mismatch
            Ok(Some(block))
        })
    }
}

impl JsonRpcL1 {
    /// anvil only: replaces the last `depth` blocks with as many new ones, holding `txs` (raw
    /// signed transactions, each with its block offset in the new chain).
    pub fn anvil_reorg(&self, depth: u64, txs: Vec<(Vec<u8>, u64)>) -> Result<(), L1Error> {
        use alloy_rpc_types_anvil::{ReorgOptions, TransactionData};
        let tx_block_pairs = txs
            .into_iter()
            .map(|(raw, offset)| (TransactionData::Raw(raw.into()), offset))
            .collect();
        self.runtime
            .block_on(self.provider.anvil_reorg(ReorgOptions { depth, tx_block_pairs }))
            .map_err(unreachable)
    }
}

impl L1Source for JsonRpcL1 {
    fn chain_id(&self) -> u64 {
        self.chain_id
    }

    fn head_number(&self) -> Result<u64, L1Error> {
        self.runtime.block_on(self.provider.get_block_number()).map_err(unreachable)
    }

    fn block(&self, number: u64) -> Result<Option<L1Block>, L1Error> {
        self.fetch(BlockNumberOrTag::Number(number))
    }

    fn finalized_number(&self) -> Result<Option<u64>, L1Error> {
        let block = self
            .runtime
            .block_on(async {
                self.provider.get_block_by_number(BlockNumberOrTag::Finalized).await
            })
            .map_err(unreachable)?;
        Ok(block.map(|b| b.header.number))
    }

    fn blobs(&self, block: &L1Block, hashes: &[B256]) -> Result<Vec<Box<Blob>>, L1Error> {
        if hashes.is_empty() {
            return Ok(Vec::new());
        }
        let slot = self.slot_of(block.header.timestamp)?;
        let mut found = std::collections::HashMap::new();
        // with the versioned-hash filter first; a server that reads it otherwise (anvil
        // answers nothing) is asked again for the slot's every blob
        for filter in [hashes, &[]] {
            for bytes in self.beacon_blobs(slot, filter)? {
                let blob = Blob::try_from(bytes.as_slice()).map_err(|_| {
                    L1Error::BadResponse(format!("a blob of {} bytes", bytes.len()))
                })?;
                let hash = crate::blob_versioned_hash(&blob)?;
                if hashes.contains(&hash) {
                    found.insert(hash, Box::new(blob));
                }
            }
            if hashes.iter().all(|h| found.contains_key(h)) {
                break;
            }
        }
        hashes
            .iter()
            .map(|h| {
                found.get(h).cloned().ok_or_else(|| {
                    L1Error::BadResponse(format!(
                        "the beacon API has no blob {h} for L1 block {} (slot {slot})",
                        block.header.number
                    ))
                })
            })
            .collect()
    }
}

impl L1Node for JsonRpcL1 {
    fn head(&self) -> Result<L1Block, L1Error> {
        self.fetch(BlockNumberOrTag::Latest)?
            .ok_or_else(|| L1Error::BadResponse("no latest block".into()))
    }

    fn send_raw_transaction(&mut self, raw: &[u8]) -> Result<B256, L1Error> {
        self.runtime.block_on(async {
            let pending = self
                .provider
                .send_raw_transaction(raw)
                .await
                .map_err(|e| L1Error::Rejected(e.to_string()))?;
            Ok(*pending.tx_hash())
        })
    }

    fn mine(&mut self, block_time: u64) -> Result<L1Block, L1Error> {
        let head = self.head()?;
        self.runtime.block_on(async {
            self.provider
                .anvil_set_next_block_timestamp(head.header.timestamp + block_time)
                .await
                .map_err(unreachable)?;
            self.provider.evm_mine(None).await.map_err(unreachable)?;
            Ok::<_, L1Error>(())
        })?;
        self.head()
    }
}

/// The slot of an L1 block at `timestamp` on a beacon chain that started at `genesis_time` with
/// `per_slot` seconds a slot. A time before the beacon genesis, or between slots, is an error.
pub(crate) fn slot_at(genesis_time: u64, per_slot: u64, timestamp: u64) -> Result<u64, L1Error> {
    let since = timestamp.checked_sub(genesis_time).ok_or_else(|| {
        L1Error::BadResponse(format!(
            "L1 block time {timestamp} is before the beacon genesis {genesis_time}"
        ))
    })?;
    if per_slot == 0 || !since.is_multiple_of(per_slot) {
        return Err(L1Error::BadResponse(format!(
            "L1 block time {timestamp} falls between slots of {per_slot} s from {genesis_time}"
        )));
    }
    Ok(since / per_slot)
}

#[cfg(test)]
mod tests {
    use super::slot_at;

    #[test]
    fn slots_count_from_the_beacon_genesis() {
        // Ethereum mainnet: genesis 1606824023, 12 s slots; slot 8626176 (Dencun) at 1710338135
        assert_eq!(slot_at(1_606_824_023, 12, 1_710_338_135).unwrap(), 8_626_176);
        assert_eq!(slot_at(100, 12, 100).unwrap(), 0);
        assert!(slot_at(100, 12, 99).is_err());
        assert!(slot_at(100, 12, 105).is_err());
        assert!(slot_at(100, 0, 100).is_err());
    }
}
