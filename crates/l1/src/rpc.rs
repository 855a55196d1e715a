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
}

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
        Ok(Self { provider, runtime, chain_id, beacon, http: reqwest::Client::new() })
    }

    /// Reads blobs from the beacon API at `url` (`/eth/v1/beacon/blobs/{block}`) instead of the
    /// JSON-RPC URL, which is where anvil serves it.
    pub fn with_beacon(mut self, url: &str) -> Self {
        self.beacon = url.trim_end_matches('/').to_string();
        self
    }

    /// Every blob the beacon API holds for `block_id`, as it answers. (Asking for all and
    /// keeping the wanted ones here works the same with every server, whatever it makes of a
    /// `versioned_hashes` filter.)
    fn beacon_blobs(&self, block_id: &str) -> Result<Vec<Vec<u8>>, L1Error> {
        let url = format!("{}/eth/v1/beacon/blobs/{block_id}", self.beacon);
        let body = self.runtime.block_on(async {
            let response = self.http.get(&url).send().await.map_err(unreachable)?;
            let status = response.status();
            let body = response.bytes().await.map_err(unreachable)?;
            if !status.is_success() {
                return Err(L1Error::BadResponse(format!(
                    "GET {url}: {status}: {}",
                    String::from_utf8_lossy(&body)
                )));
            }
            Ok(body)
        })?;
        let json: serde_json::Value = serde_json::from_slice(&body)
            .map_err(|e| L1Error::BadResponse(format!("GET {url}: {e}")))?;
        let data = json["data"]
            .as_array()
            .ok_or_else(|| L1Error::BadResponse(format!("GET {url}: no data array")))?;
        data.iter()
            .map(|blob| {
                // entries are hex strings, or objects with a `blob` field (sidecars)
                let text = blob.as_str().or_else(|| blob["blob"].as_str()).unwrap_or_default();
                alloy_primitives::hex::decode(text)
                    .map_err(|e| L1Error::BadResponse(format!("GET {url}: blob hex: {e}")))
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
                .get_block_receipts(block.header.number.into())
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
            if receipts.len() != transactions.len() {
                return Err(L1Error::BadResponse(format!(
                    "block {} has {} transactions but {} receipts",
                    block.header.number,
                    transactions.len(),
                    receipts.len()
                )));
            }
            Ok(Some(L1Block {
                hash: block.header.hash,
                header: block.header.inner,
                transactions,
                receipts,
            }))
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
        let raw = self.beacon_blobs(&block.header.number.to_string())?;
        let mut found = std::collections::HashMap::new();
        for bytes in raw {
            let blob = Blob::try_from(bytes.as_slice())
                .map_err(|_| L1Error::BadResponse(format!("a blob of {} bytes", bytes.len())))?;
            let hash = crate::blob_versioned_hash(&blob)?;
            if hashes.contains(&hash) {
                found.insert(hash, Box::new(blob));
            }
        }
        hashes
            .iter()
            .map(|h| {
                found.get(h).cloned().ok_or_else(|| {
                    L1Error::BadResponse(format!(
                        "the beacon API has no blob {h} for L1 block {}",
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
