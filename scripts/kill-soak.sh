#!/usr/bin/env bash
# Crash-safety soak, outside CI: a devnet posts BATCHES batches to anvil; `lockstep node` syncs
# it once without interruption, then again while being killed with SIGKILL at random moments,
# KILLS times in all. After every kill `lockstep db status` must find every chain at one L1
# cursor; every time the killed node reaches the L1 tip its heads, state roots and L1 cursor must
# equal the uninterrupted run's, and so must its cross-chain records (`lockstep db records`:
# every verdict, flagged batch, transfer record and commitment, byte for byte); then it starts
# over from an empty datadir. Any further arguments go to `lockstep devnet`, so that the soak
# runs over a faulty devnet, for example
#   scripts/kill-soak.sh 300 30 calldata --fault invalid-tx@5 --fault censor@9 --fault drop-mint@12
# Usage: scripts/kill-soak.sh [KILLS] [BATCHES] [calldata|blobs] [DEVNET FLAGS...]
#   (default 1000, 100, calldata, no faults)
set -euo pipefail
cd "$(dirname "$0")/.."
kills="${1:-1000}"
batches="${2:-100}"
da="${3:-calldata}"
shift $(( $# < 3 ? $# : 3 ))
scripts/setup.sh
cargo build --release --locked -p lockstep
bin=target/release/lockstep
work=$(mktemp -d)
anvil=""
trap 'kill $anvil 2>/dev/null || true; rm -rf "$work"' EXIT
. scripts/anvil.sh
start_anvil "$work" kill-soak
echo "kill-soak: devnet of $batches batches ($da) on anvil at $url ${*:-(no faults)}"
# a devnet with faults exits 3: its verifier flagged them
code=0
"$bin" devnet --l1.rpc "$url" --batches "$batches" --da "$da" --datadir "$work/devnet" "$@" \
  >"$work/devnet.json" 2>"$work/devnet.log" || code=$?
if [ "$code" -ne 0 ] && [ "$code" -ne 3 ]; then
  echo "kill-soak: the devnet failed ($code)"; tail -n 20 "$work/devnet.log"; exit 1
fi
node_args=(node --superchain "$work/devnet/config/superchain.toml" --l1.rpc "$url" --l1.poll-interval 0.1)
start=$(date +%s.%N)
"$bin" "${node_args[@]}" --datadir "$work/clean" --exit-when-synced 2>/dev/null >"$work/clean.json"
took=$(python3 -c "print(max(0.1, $(date +%s.%N) - $start))")
tip=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["l1"]["number"])' "$work/clean.json")
"$bin" db records --datadir "$work/clean" >"$work/clean.records"
flagged=$(grep -c '^flagged ' "$work/clean.records" || true)
transfers=$(grep -c '^transfer ' "$work/clean.records" || true)
echo "kill-soak: uninterrupted sync reached L1 block $tip in ${took}s ($flagged batches flagged, $transfers transfer records); now $kills kills within that time"
rounds=0
mid=0
for i in $(seq 1 "$kills"); do
  "$bin" "${node_args[@]}" --datadir "$work/killed" >/dev/null 2>&1 &
  pid=$!
  sleep "$(python3 -c "import random; print(random.uniform(0.02, $took))")"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  [ -e "$work/killed/mdbx.dat" ] || continue
  if ! "$bin" db status --datadir "$work/killed" >"$work/status.json" 2>/dev/null; then
    echo "kill $i: chains at different L1 cursors"; cat "$work/status.json"; exit 1
  fi
  at=$(python3 -c 'import json,sys; l=json.load(open(sys.argv[1]))["l1"]; print(l["number"] if l else -1)' "$work/status.json")
  if [ "$at" -ge "$tip" ]; then
    "$bin" "${node_args[@]}" --datadir "$work/killed" --exit-when-synced 2>/dev/null >"$work/killed.json"
    if ! cmp -s "$work/clean.json" "$work/killed.json"; then
      echo "kill $i: the killed node ended elsewhere"; diff "$work/clean.json" "$work/killed.json"; exit 1
    fi
    "$bin" db records --datadir "$work/killed" >"$work/killed.records"
    if ! cmp -s "$work/clean.records" "$work/killed.records"; then
      echo "kill $i: the killed node's verdicts or transfers differ"
      diff "$work/clean.records" "$work/killed.records" | head -n 20; exit 1
    fi
    rounds=$((rounds + 1))
    rm -rf "$work/killed"
  else
    mid=$((mid + 1))
  fi
done
echo "kill-soak: $kills kills ($mid mid-sync), $rounds full syncs through kills, every one equal to the uninterrupted run (heads, roots, verdicts, flagged batches, transfer records)"
