//! Helpers the binary's tests share: running `lockstep`, child processes that die with the
//! test, free loopback ports, JSON-RPC over curl.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use serde_json::{json, Value};
use std::{
    path::PathBuf,
    process::{Child, Command, Output},
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

/// `n` consecutive free loopback ports; returns the first.
pub fn free_ports(n: u16) -> u16 {
    loop {
        let base = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        if base > 60_000 {
            continue;
        }
        if (0..n).all(|i| std::net::TcpListener::bind(("127.0.0.1", base + i)).is_ok()) {
            return base;
        }
    }
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

/// `lockstep node` following `l1` for the set of a devnet in `devnet_dir`, serving JSON-RPC
/// from `port` on, with `extra` flags; its output is discarded.
pub fn spawn_node_http(
    devnet_dir: &std::path::Path,
    l1: &str,
    datadir: &std::path::Path,
    port: u16,
    extra: &[&str],
) -> Killed {
    let superchain = devnet_dir.join("config/superchain.toml");
    let port = port.to_string();
    let mut args = vec![
        "node",
        "--superchain",
        superchain.to_str().unwrap(),
        "--l1.rpc",
        l1,
        "--datadir",
        datadir.to_str().unwrap(),
        "--l1.poll-interval",
        "0.1",
        "--http",
        "--http.port",
        &port,
    ];
    args.extend_from_slice(extra);
    Killed(
        Command::new(env!("CARGO_BIN_EXE_lockstep"))
            .args(args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    )
}
