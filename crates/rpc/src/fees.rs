//! What a wallet asks before it signs: `eth_gasPrice`, `eth_maxPriorityFeePerGas`,
//! `eth_feeHistory` and `eth_blobBaseFee`, as op-geth and op-reth answer them.
//!
//! The tip suggestion is op-geth's for OP chains: while the newest block had room for another
//! transaction as large as its largest, the minimum tip ([`MIN_SUGGESTED_PRIORITY_FEE`]) is
//! enough; once blocks fill, the median tip of the newest block plus 10%. The gas price is the
//! newest block's base fee plus that tip. Fee history's rewards are reth's: each block's
//! transactions sorted by their effective tip and weighted by the gas each used (a deposit pays
//! no tip on L2: zero).

use crate::{
    eth::{hex_u64, Chain, Provider},
    superchain::{invalid_params, params_by_name, required, server_error, to_u64},
};
use alloy_consensus::{Header, Transaction};
use jsonrpsee::types::{ErrorObjectOwned, Params};
use lockstep_storage::ChainProvider;
use op_alloy_consensus::OpTxEnvelope;
use serde_json::{json, Value};

/// The least tip suggested: op-geth's `--gpo.minsuggestedpriorityfee` default, 0.001 gwei.
pub const MIN_SUGGESTED_PRIORITY_FEE: u128 = 1_000_000;

/// The most blocks one `eth_feeHistory` covers (geth's and reth's limit).
pub const MAX_FEE_HISTORY_BLOCKS: u64 = 1024;

/// The most reward percentiles one `eth_feeHistory` may ask for.
pub const MAX_REWARD_PERCENTILES: usize = 100;

/// A block's transactions as fee history weighs them: `(effective tip, gas used)`.
fn tips_and_gas(
    provider: &Provider<'_>,
    number: u64,
    header: &Header,
) -> Result<Vec<(u128, u64)>, ErrorObjectOwned> {
    let transactions = provider.transactions(number).map_err(server_error)?;
    let receipts = provider.receipts(number).map_err(server_error)?;
    let base_fee = header.base_fee_per_gas.unwrap_or_default();
    let mut previous = 0;
    let mut out = Vec::with_capacity(transactions.len());
    for (tx, receipt) in transactions.iter().zip(&receipts) {
        let cumulative = receipt.cumulative_gas_used();
        let gas = cumulative.saturating_sub(previous);
        previous = cumulative;
        let tip = match tx {
            OpTxEnvelope::Deposit(_) => 0,
            other => other.effective_tip_per_gas(base_fee).unwrap_or_default(),
        };
        out.push((tip, gas));
    }
    Ok(out)
}

/// The tip at each of `percentiles` of a block's gas, its transactions sorted by tip.
fn rewards(mut txs: Vec<(u128, u64)>, gas_used: u64, percentiles: &[f64]) -> Vec<Value> {
    if txs.is_empty() {
        return percentiles.iter().map(|_| json!("0x0")).collect();
    }
    txs.sort_unstable_by_key(|(tip, _)| *tip);
    let mut index = 0;
    let mut sum = txs[0].1;
    percentiles
        .iter()
        .map(|p| {
            let threshold = (gas_used as f64 * p / 100.0) as u64;
            while sum < threshold && index + 1 < txs.len() {
                index += 1;
                sum += txs[index].1;
            }
            json!(format!("0x{:x}", txs[index].0))
        })
        .collect()
}

impl Chain {
    /// The newest block's header and number.
    fn newest(&self, provider: &Provider<'_>) -> Result<(u64, Header), ErrorObjectOwned> {
        let number = self.head(provider)?;
        let header = provider
            .header(number)
            .map_err(server_error)?
            .ok_or_else(|| server_error(format!("block {number} is not stored")))?;
        Ok((number, header))
    }

    /// The tip op-geth suggests for the block after `header` (number `number`).
    fn suggested_tip(
        &self,
        provider: &Provider<'_>,
        number: u64,
        header: &Header,
    ) -> Result<u128, ErrorObjectOwned> {
        let txs: Vec<(u128, u64)> = tips_and_gas(provider, number, header)?;
        let largest = txs.iter().map(|(_, gas)| *gas).max().unwrap_or_default();
        if header.gas_used.saturating_add(largest) <= header.gas_limit {
            return Ok(MIN_SUGGESTED_PRIORITY_FEE);
        }
        let mut tips: Vec<u128> =
            txs.iter().filter(|(tip, _)| *tip > 0).map(|(tip, _)| *tip).collect();
        if tips.is_empty() {
            return Ok(MIN_SUGGESTED_PRIORITY_FEE);
        }
        tips.sort_unstable();
        let median = tips[tips.len() / 2];
        Ok((median + median / 10).max(MIN_SUGGESTED_PRIORITY_FEE))
    }

    /// `eth_maxPriorityFeePerGas`: the suggested tip.
    pub(crate) fn max_priority_fee(&self, _params: &Params<'_>) -> Result<Value, ErrorObjectOwned> {
        let tx = self.tx()?;
        let provider = ChainProvider::new(&tx, self.chain_id);
        let (number, header) = self.newest(&provider)?;
        Ok(json!(format!("0x{:x}", self.suggested_tip(&provider, number, &header)?)))
    }

    /// `eth_gasPrice`: the newest block's base fee plus the suggested tip.
    pub(crate) fn gas_price(&self, _params: &Params<'_>) -> Result<Value, ErrorObjectOwned> {
        let tx = self.tx()?;
        let provider = ChainProvider::new(&tx, self.chain_id);
        let (number, header) = self.newest(&provider)?;
        let tip = self.suggested_tip(&provider, number, &header)?;
        let base_fee = u128::from(header.base_fee_per_gas.unwrap_or_default());
        Ok(json!(format!("0x{:x}", base_fee + tip)))
    }

    /// `eth_blobBaseFee`: the blob base fee of the newest block (an OP chain carries no blobs,
    /// so its excess blob gas is zero and the fee the minimum, 1 wei).
    pub(crate) fn blob_base_fee(&self, _params: &Params<'_>) -> Result<Value, ErrorObjectOwned> {
        let tx = self.tx()?;
        let provider = ChainProvider::new(&tx, self.chain_id);
        let (_, header) = self.newest(&provider)?;
        match header.excess_blob_gas {
            Some(excess) => {
                Ok(json!(format!("0x{:x}", alloy_eips::eip4844::calc_blob_gasprice(excess))))
            }
            None => Err(server_error("no blob base fee before Ecotone")),
        }
    }

    /// `eth_feeHistory(blockCount, newestBlock, rewardPercentiles?)`.
    pub(crate) fn fee_history(&self, params: &Params<'_>) -> Result<Value, ErrorObjectOwned> {
        let p = params_by_name(params, &["blockCount", "newestBlock", "rewardPercentiles"])?;
        let count = to_u64("blockCount", required("blockCount", &p[0])?)?;
        let percentiles: Vec<f64> = match &p[2] {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(list)) => list
                .iter()
                .map(|v| {
                    v.as_f64().filter(|p| (0.0..=100.0).contains(p)).ok_or_else(|| {
                        invalid_params(format!("a reward percentile must be 0 to 100, got {v}"))
                    })
                })
                .collect::<Result<_, _>>()?,
            Some(other) => {
                return Err(invalid_params(format!("`rewardPercentiles` must be a list: {other}")))
            }
        };
        if percentiles.len() > MAX_REWARD_PERCENTILES {
            return Err(invalid_params(format!(
                "at most {MAX_REWARD_PERCENTILES} reward percentiles"
            )));
        }
        if percentiles.windows(2).any(|w| w[0] > w[1]) {
            return Err(invalid_params("reward percentiles must not decrease"));
        }
        let tx = self.tx()?;
        let provider = ChainProvider::new(&tx, self.chain_id);
        let newest = self.resolve(&tx, &provider, Some(required("newestBlock", &p[1])?))?;
        let count = count.min(MAX_FEE_HISTORY_BLOCKS).min(newest + 1);
        if count == 0 {
            return Ok(json!({"oldestBlock": "0x0", "baseFeePerGas": [], "gasUsedRatio": [],
                "baseFeePerBlobGas": [], "blobGasUsedRatio": []}));
        }
        let oldest = newest + 1 - count;
        let (mut base_fees, mut ratios, mut blob_fees, mut blob_ratios, mut reward) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut last = None;
        for number in oldest..=newest {
            let header = provider
                .header(number)
                .map_err(server_error)?
                .ok_or_else(|| server_error(format!("block {number} is not stored")))?;
            base_fees.push(json!(hex_u64(header.base_fee_per_gas.unwrap_or_default())));
            let ratio = if header.gas_limit == 0 {
                0.0
            } else {
                header.gas_used as f64 / header.gas_limit as f64
            };
            ratios.push(json!(ratio));
            blob_fees.push(json!(format!(
                "0x{:x}",
                header.excess_blob_gas.map_or(0, alloy_eips::eip4844::calc_blob_gasprice)
            )));
            blob_ratios.push(json!(0.0));
            if !percentiles.is_empty() {
                let txs = tips_and_gas(&provider, number, &header)?;
                reward.push(Value::Array(rewards(txs, header.gas_used, &percentiles)));
            }
            last = Some(header);
        }
        // the block after the newest: its base fee follows from the newest's, as it will be built
        if let Some(header) = last {
            let next = lockstep_execution::next_base_fee(
                &self.rollup,
                &header,
                header.timestamp + self.rollup.block_time,
            )
            .map_err(server_error)?;
            base_fees.push(json!(hex_u64(next)));
            blob_fees.push(json!(format!(
                "0x{:x}",
                header.excess_blob_gas.map_or(0, alloy_eips::eip4844::calc_blob_gasprice)
            )));
        }
        let mut out = json!({
            "oldestBlock": hex_u64(oldest),
            "baseFeePerGas": base_fees,
            "gasUsedRatio": ratios,
            "baseFeePerBlobGas": blob_fees,
            "blobGasUsedRatio": blob_ratios,
        });
        if !percentiles.is_empty() {
            out["reward"] = Value::Array(reward);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewards_are_the_tips_at_each_share_of_the_gas() {
        // tips 1, 5, 9 using 10k, 60k, 30k gas of 100k: the 5th percentile is in the first
        // transaction's gas, the 50th in the second's, the 95th in the third's
        let txs = vec![(9, 30_000), (1, 10_000), (5, 60_000)];
        let got = rewards(txs, 100_000, &[0.0, 5.0, 10.0, 50.0, 70.0, 71.0, 95.0, 100.0]);
        let want: Vec<Value> = ["0x1", "0x1", "0x1", "0x5", "0x5", "0x9", "0x9", "0x9"]
            .iter()
            .map(|s| json!(s))
            .collect();
        assert_eq!(got, want);
        assert_eq!(rewards(Vec::new(), 0, &[50.0]), vec![json!("0x0")]);
    }
}
