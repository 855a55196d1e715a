//! The operator's view: `/metrics` scraped during a devnet run moves, and the status page, in
//! a real headless browser (Debian's chromium driven by playwright-core, both installed by
//! scripts/setup.sh), shows the live heads and then the batch a fault made flagged.

#![allow(clippy::unwrap_used)]

use std::{
    collections::BTreeMap,
    io::{Read, Write},
    process::Command,
    time::{Duration, Instant},
};

mod common;

use common::{repo, Logged};

fn get(port: u16, path: &str) -> Option<(String, String)> {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n").ok()?;
    let mut out = String::new();
    stream.read_to_string(&mut out).ok()?;
    let (head, body) = out.split_once("\r\n\r\n")?;
    Some((head.to_string(), body.to_string()))
}

/// `name{labels}` → value, from the Prometheus text format.
fn samples(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| l.rsplit_once(' ').map(|(k, v)| (k.to_string(), v.parse().unwrap())))
        .collect()
}

#[test]
fn metrics_move_and_the_status_page_shows_heads_and_a_flagged_batch_in_a_browser() {
    let dir = tempfile::tempdir().unwrap();
    let mut devnet = Logged::spawn(
        Command::new(env!("CARGO_BIN_EXE_lockstep"))
            .args(["devnet", "--txs-per-block", "4", "--fault", "alter-amount@6"])
            .args(["--metrics", "127.0.0.1:0"])
            .args(["--datadir", dir.path().join("devnet").to_str().unwrap()]),
    );
    let url = devnet.url("verifier status page and /metrics", &[]);
    let port: u16 = url
        .trim_start_matches("http://127.0.0.1:")
        .trim_end_matches('/')
        .parse()
        .unwrap_or_else(|_| panic!("not a loopback URL: {url}"));
    let deadline = Instant::now() + Duration::from_secs(60);
    let first = loop {
        assert!(Instant::now() < deadline, "no metrics");
        std::thread::sleep(Duration::from_millis(200));
        if let Some((head, body)) = get(port, "/metrics") {
            assert!(head.starts_with("HTTP/1.1 200"), "{head}");
            let s = samples(&body);
            if s.get("lockstep_batches_checked").copied().unwrap_or(0.0) >= 1.0 {
                break s;
            }
        }
    };
    for name in [
        "lockstep_chain_head{chain_id=\"901\"}",
        "lockstep_chain_safe{chain_id=\"902\"}",
        "lockstep_chain_finalized{chain_id=\"901\"}",
        "lockstep_chain_mgas_per_second{chain_id=\"901\"}",
        "lockstep_chain_derivation_lag_l1_blocks{chain_id=\"902\"}",
        "lockstep_l1_head",
        "lockstep_l1_lag_blocks",
        "lockstep_batches_flagged",
        "lockstep_differences{classification=\"AlteredMint\"}",
        "lockstep_batches_flagged_by_classification{classification=\"MissingMint\"}",
        "lockstep_database_bytes",
    ] {
        assert!(first.contains_key(name), "{name} missing: {first:?}");
    }
    // the devnet keeps going: wait for the next batch to be checked
    let deadline = Instant::now() + Duration::from_secs(120);
    let later = loop {
        assert!(Instant::now() < deadline, "metrics did not move");
        std::thread::sleep(Duration::from_millis(500));
        let (_, body) = get(port, "/metrics").unwrap();
        let s = samples(&body);
        if s["lockstep_batches_checked"] > first["lockstep_batches_checked"] {
            break s;
        }
    };
    for name in [
        "lockstep_chain_head{chain_id=\"901\"}",
        "lockstep_chain_gas_total{chain_id=\"902\"}",
        "lockstep_batches_checked",
    ] {
        assert!(later[name] > first[name], "{name} moves: {} then {}", first[name], later[name]);
    }
    assert!(later["lockstep_database_bytes"] > 0.0);
    // every metric the Grafana dashboard in etc/ plots is one the node serves
    let dashboard: serde_json::Value = serde_json::from_slice(
        &std::fs::read(repo().join("etc/monitoring/grafana-dashboard.json")).unwrap(),
    )
    .unwrap();
    let mut plotted = 0;
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            let expr = target["expr"].as_str().unwrap();
            for word in expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
                if word.starts_with("lockstep_") {
                    plotted += 1;
                    assert!(
                        later.keys().any(|k| k.split('{').next() == Some(word)),
                        "the dashboard plots {word}, which /metrics lacks"
                    );
                }
            }
        }
    }
    assert!(plotted >= 10);
    assert_eq!(get(port, "/nope").unwrap().0.lines().next().unwrap(), "HTTP/1.1 404 Not Found");
    // what a load balancer asks: alive, and ready once caught up with the L1 (200), else 503
    let (head, body) = get(port, "/health").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert_eq!(body, "ok\n");
    let (head, body) = get(port, "/ready").unwrap();
    let ready: serde_json::Value = serde_json::from_str(&body).unwrap();
    let code = if ready["ready"] == true { "HTTP/1.1 200" } else { "HTTP/1.1 503" };
    assert!(head.starts_with(code), "{head} {body}");
    assert!(ready["l1Cursor"].as_u64().is_some(), "{body}");

    // the page, in chromium
    let shot = dir.path().join("status.png");
    let out = Command::new("node")
        .current_dir(repo())
        .args([
            "bin/lockstep/tests/browser/status-page.mjs",
            &format!("http://127.0.0.1:{port}/"),
            shot.to_str().unwrap(),
        ])
        .output()
        .expect("node is installed by scripts/setup.sh");
    assert!(out.status.success(), "browser: {}", String::from_utf8_lossy(&out.stderr));
    let seen: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let heads = seen["heads"].as_array().unwrap();
    assert_eq!(heads.len(), 2, "{seen}");
    assert_eq!(heads[0][0], "901");
    assert_ne!(seen["first"], seen["heads"], "the page refreshed itself with new heads");
    let flagged = seen["flagged"].as_array().unwrap();
    assert_eq!(flagged[flagged.len() - 1][0], "6", "{seen}");
    assert!(flagged[flagged.len() - 1][2].as_str().unwrap().contains("AlteredMint"), "{seen}");
    assert!(seen["chartDrawn"].as_u64().unwrap() > 500, "the flow chart drew: {seen}");
    assert!(seen["legend"].as_str().unwrap().contains("901→902"), "{seen}");
    let png = std::fs::read(&shot).unwrap();
    assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000);
    if let Ok(keep) = std::env::var("LOCKSTEP_SCREENSHOT") {
        std::fs::copy(&shot, keep).unwrap();
    }
}
