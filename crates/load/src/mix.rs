//! The request mix: the heaviest reads a public endpoint gets, at random blocks up to the head.

use rand::{rngs::StdRng, Rng, SeedableRng};
use serde_json::{json, Value};

/// Init code that counts down from 10,000 and stops: about 260,000 gas of EVM work per call.
const LOOP: &str = "0x6127105b600190038060035700";

/// One request.
#[derive(Debug, Clone)]
pub struct Call {
    /// What it is, for the report.
    pub kind: &'static str,
    /// The JSON-RPC body.
    pub body: String,
    /// How many calls a batch holds (`None`: a single call).
    pub batch: Option<usize>,
}

/// A seeded stream of calls.
#[derive(Debug)]
pub struct Mix {
    rng: StdRng,
    contract: String,
    id: u64,
}

impl Mix {
    /// A mix that reads `contract`'s balance and logs.
    pub fn new(seed: u64, contract: &str) -> Self {
        Self { rng: StdRng::seed_from_u64(seed), contract: contract.to_string(), id: 0 }
    }

    fn request(&mut self, method: &str, params: &Value) -> Value {
        self.id += 1;
        json!({"jsonrpc": "2.0", "id": self.id, "method": method, "params": params})
    }

    fn block(&mut self, head: u64) -> String {
        format!("0x{:x}", self.rng.random_range(0..=head))
    }

    /// The next call, with `head` the newest block seen so far.
    pub fn next(&mut self, head: u64) -> Call {
        let single = |kind, body: Value| Call { kind, body: body.to_string(), batch: None };
        let contract = self.contract.clone();
        match self.rng.random_range(0..100u32) {
            0..5 => single("eth_blockNumber", self.request("eth_blockNumber", &json!([]))),
            5..25 => {
                let at = self.block(head);
                let params = json!([{"data": LOOP, "gas": "0x100000"}, at]);
                single("eth_call", self.request("eth_call", &params))
            }
            25..45 => {
                let from = self.block(head);
                let params = json!([{"fromBlock": from, "toBlock": "latest", "address": contract}]);
                single("eth_getLogs", self.request("eth_getLogs", &params))
            }
            45..70 => {
                let at = self.block(head);
                single("eth_getBalance", self.request("eth_getBalance", &json!([contract, at])))
            }
            70..90 => {
                let at = self.block(head);
                let body = self.request("eth_getBlockByNumber", &json!([at, true]));
                single("eth_getBlockByNumber", body)
            }
            _ => {
                let calls: Vec<Value> = (0..100)
                    .map(|_| {
                        let at = self.block(head);
                        self.request("eth_getBalance", &json!([contract, at]))
                    })
                    .collect();
                Call {
                    kind: "batch of 100",
                    body: Value::Array(calls).to_string(),
                    batch: Some(100),
                }
            }
        }
    }
}
