//! Helpers the binary's tests share: running `lockstep`, child processes that die with the
//! test and whose servers are found in their log, JSON-RPC over curl.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use serde_json::{json, Value};
use std::{
    io::BufRead,
    path::PathBuf,
    process::{Child, Command, Output, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

/// The repository's root.
pub fn repo() -> PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs `lockstep` with `args` to completion.
pub fn lockstep(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lockstep"))
        .args(args)
        .env("RUST_BACKTRACE", "0")
        .env_remove("LOCKSTEP_DATADIR")
        .output()
        .expect("run lockstep")
}

/// A finished command's stderr.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A child process killed (and reaped) when the test lets go of it.
pub struct Killed(pub Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A child process whose log (stderr) is read on a thread as it runs. Every server of
/// lockstep binds a port of its own choosing (port 0) and logs its URL, so a test never picks
/// a port that something else may take before the child binds it.
pub struct Logged {
    child: Killed,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Logged {
    /// Starts `cmd` with its stderr read into the log and its stdout discarded.
    pub fn spawn(cmd: &mut Command) -> Self {
        let mut child = cmd
            .env("RUST_BACKTRACE", "0")
            .env_remove("LOCKSTEP_DATADIR")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&lines);
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        Self { child: Killed(child), lines }
    }

    /// The log so far.
    pub fn log(&self) -> String {
        self.lines.lock().unwrap().join("\n")
    }

    /// The `url=` field of the first log line that holds `message` and each of `fields`
    /// (`"chain=901"`), waiting for it as long as the child runs, up to two minutes.
    pub fn url(&mut self, message: &str, fields: &[&str]) -> String {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let found = self.lines.lock().unwrap().iter().find_map(|line| {
                (line.contains(message) && fields.iter().all(|f| line.contains(f)))
                    .then(|| line.split_whitespace().find_map(|w| w.strip_prefix("url=")))
                    .flatten()
                    .map(str::to_string)
            });
            if let Some(url) = found {
                return url;
            }
            if let Some(status) = self.child.0.try_wait().unwrap() {
                // let the reader drain what is left
                std::thread::sleep(Duration::from_millis(200));
                panic!("exited ({status}) before logging {message:?}:\n{}", self.log());
            }
            assert!(Instant::now() < deadline, "never logged {message:?}:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The URL the child serves `message` on (as [`Self::url`]), once a JSON-RPC request to it
    /// has been answered: readiness is an answer, not an open port.
    pub fn rpc_url(&mut self, message: &str, fields: &[&str], probe: &str) -> String {
        let url = self.url(message, fields);
        let deadline = Instant::now() + Duration::from_secs(60);
        while !answers(&url, probe) {
            assert!(Instant::now() < deadline, "{url} never answered {probe}:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(100));
        }
        url
    }
}

/// Whether `url` answers a JSON-RPC call of `method` (no params) with a result.
pub fn answers(url: &str, method: &str) -> bool {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": []}).to_string();
    Command::new("curl")
        .args(["-s", "--max-time", "5", "-H", "Content-Type: application/json", "-d", &body, url])
        .output()
        .ok()
        .filter(|out| out.status.success())
        .and_then(|out| serde_json::from_slice::<Value>(&out.stdout).ok())
        .is_some_and(|v| v.get("result").is_some())
}

/// Posts `body` to `url` with curl; the JSON answer.
pub fn curl_raw(url: &str, body: &str) -> Value {
    let out = Command::new("curl")
        .args(["-s", "--max-time", "10", "-H", "Content-Type: application/json", "-d", body, url])
        .output()
        .expect("curl is installed by scripts/setup.sh");
    assert!(out.status.success(), "curl: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

/// One JSON-RPC call through curl; the whole response object.
pub fn curl(url: &str, method: &str, params: &Value) -> Value {
    curl_raw(
        url,
        &json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string(),
    )
}

/// anvil as the devnet expects it: the test mnemonic's accounts, the L1 genesis one L1 block
/// before the L2 genesis, mining only when asked.
pub fn devnet_anvil() -> lockstep_l1::test_utils::Anvil {
    let args = lockstep_devnet::DevnetConfig::default().anvil_args();
    lockstep_l1::test_utils::spawn_anvil(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

/// `lockstep node` following `l1` for the set of a devnet in `devnet_dir`, serving JSON-RPC on
/// free ports, with `extra` flags.
pub fn spawn_node_http(
    devnet_dir: &std::path::Path,
    l1: &str,
    datadir: &std::path::Path,
    extra: &[&str],
) -> Served {
    let superchain = devnet_dir.join("config/superchain.toml");
    let mut node = Logged::spawn(
        Command::new(env!("CARGO_BIN_EXE_lockstep"))
            .args(["node", "--superchain", superchain.to_str().unwrap(), "--l1.rpc", l1])
            .args(["--datadir", datadir.to_str().unwrap(), "--l1.poll-interval", "0.1"])
            .args(["--http", "--http.port", "0"])
            .args(extra),
    );
    let superchain = node.rpc_url("superchain_ JSON-RPC", &[], "superchain_syncStatus");
    let chains =
        lockstep_chainspec::SuperchainSet::load(&devnet_dir.join("config/superchain.toml"))
            .unwrap()
            .chains
            .iter()
            .map(|(_, spec)| {
                let chain = format!("chain={}", spec.chain_id());
                (spec.chain_id(), node.rpc_url("eth_ JSON-RPC", &[&chain], "eth_chainId"))
            })
            .collect();
    Served { node, superchain, chains }
}

/// A running `lockstep node` and the URLs it serves.
pub struct Served {
    /// The process, killed when this is dropped.
    pub node: Logged,
    /// Its `superchain_` endpoint.
    pub superchain: String,
    /// Each chain's `eth_` endpoint, by chain id.
    pub chains: std::collections::BTreeMap<u64, String>,
}

impl Served {
    /// Chain `id`'s `eth_` endpoint.
    pub fn eth(&self, id: u64) -> &str {
        &self.chains[&id]
    }
}
