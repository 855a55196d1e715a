#!/usr/bin/env bash
# The load test, outside CI (bin/lockstep/tests/load.rs is its short version): a devnet posts
# BATCHES batches to anvil; `lockstep node` syncs them once with no load, timed; then a second
# node syncs the same L1 while `lockstep load` drives both its eth_ endpoints with CONNECTIONS
# keep-alive connections of heavy reads (eth_call, eth_getLogs over wide ranges, eth_getBalance
# at old blocks, blocks with full transactions, batches of 100) for the whole sync and after.
# The loaded node must sync, never exit, and end on the same heads, state roots, L1 cursor,
# batches and cross-chain records as the unloaded one. Prints both sync rates and the load's
# requests per second and latency percentiles.
# Usage: scripts/load.sh [BATCHES] [CONNECTIONS] [TXS_PER_BLOCK] [NODE FLAGS...]
#   (default 60, 256, 16; further flags go to the loaded node, e.g. --rpc.niceness 0)
set -euo pipefail
cd "$(dirname "$0")/.."
batches="${1:-60}"
connections="${2:-256}"
txs="${3:-16}"
shift $(( $# < 3 ? $# : 3 ))
scripts/setup.sh
cargo build --release --locked -p lockstep
bin=target/release/lockstep
work=$(mktemp -d)
anvil=""
pids=()
cleanup() { kill $anvil "${pids[@]}" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
. scripts/anvil.sh
start_anvil "$work" load
echo "load: devnet of $batches batches ($txs transactions per block) on anvil at $url"
"$bin" devnet --l1.rpc "$url" --batches "$batches" --txs-per-block "$txs" --datadir "$work/devnet" \
  >"$work/devnet.json" 2>"$work/devnet.log"
node_args=(node --superchain "$work/devnet/config/superchain.toml" --l1.rpc "$url" --l1.poll-interval 0.1)
now() { date +%s.%N; }
start=$(now)
"$bin" "${node_args[@]}" --datadir "$work/clean" --exit-when-synced 2>/dev/null >"$work/clean.json"
took=$(python3 -c "print(max(0.1, $(now) - $start))")
"$bin" db records --datadir "$work/clean" >"$work/clean.records"
read -r tip blocks < <(python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print(s["l1"]["number"], sum(h["number"] for h in s["heads"]))' "$work/clean.json")
echo "load: unloaded sync: L1 block $tip, $blocks L2 blocks in ${took}s ($(python3 -c "print(round($blocks / $took))") L2 blocks/s)"
# the load runs through the whole sync and a while after it
seconds=$(python3 -c "print(max(60, round(4 * $took)))")
start=$(now)
"$bin" "${node_args[@]}" --datadir "$work/loaded" --http --http.port 0 "$@" >/dev/null 2>"$work/loaded.log" &
pids+=($!)
node=$!
until [ "$(grep -c 'eth_ JSON-RPC' "$work/loaded.log" || true)" -ge 2 ]; do
  kill -0 "$node" 2>/dev/null || { echo "load: the node exited"; cat "$work/loaded.log"; exit 1; }
  sleep 0.05
done
superchain=$(sed -n 's/.*superchain_ JSON-RPC url=\(http[^ ]*\).*/\1/p' "$work/loaded.log" | head -n1)
urls=()
while read -r u; do urls+=(--url "$u"); done < <(sed -n 's/.*eth_ JSON-RPC.*url=\(http[^ ]*\).*/\1/p' "$work/loaded.log")
echo "load: $connections connections for ${seconds}s against ${urls[*]}"
"$bin" load "${urls[@]}" --connections "$connections" --duration "$seconds" >"$work/load.txt" 2>/dev/null &
pids+=($!)
loader=$!
synced=""
while kill -0 "$loader" 2>/dev/null; do
  kill -0 "$node" 2>/dev/null || { echo "load: the node EXITED under load"; tail -n 20 "$work/loaded.log"; exit 1; }
  if [ -z "$synced" ]; then
    at=$(curl -s -m 30 -H 'Content-Type: application/json' \
      -d '{"jsonrpc":"2.0","id":1,"method":"superchain_syncStatus","params":[]}' "$superchain" |
      python3 -c 'import json,sys
try: print(json.load(sys.stdin)["result"]["l1Cursor"]["number"])
except Exception: print(-1)')
    if [ "$at" -ge "$tip" ]; then
      synced=$(python3 -c "print($(now) - $start)")
      echo "load: the loaded node reached L1 block $tip in ${synced}s ($(python3 -c "print(round($blocks / $synced))") L2 blocks/s)"
    fi
  fi
  sleep 0.5
done
wait "$loader"
[ -n "$synced" ] || { echo "load: the node did not sync within the ${seconds}s of load"; exit 1; }
kill -0 "$node" 2>/dev/null || { echo "load: the node exited"; exit 1; }
kill "$node"; wait "$node" 2>/dev/null || true
"$bin" "${node_args[@]}" --datadir "$work/loaded" --exit-when-synced 2>/dev/null >"$work/loaded.json"
"$bin" db records --datadir "$work/loaded" >"$work/loaded.records"
cmp -s "$work/clean.json" "$work/loaded.json" || { echo "load: the loaded node ended ELSEWHERE"; diff "$work/clean.json" "$work/loaded.json"; exit 1; }
cmp -s "$work/clean.records" "$work/loaded.records" || { echo "load: the loaded node's records DIFFER"; exit 1; }
cat "$work/load.txt"
echo "load: synced ${took}s unloaded, ${synced}s under load; same heads, roots, L1 cursor and records"
