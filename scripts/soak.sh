#!/usr/bin/env bash
# A long devnet soak, outside CI: a clean run of BATCHES batches must mint every burn and show no
# differing pair; then one run per mint fault must show a difference in exactly the faulty batch
# (and, for delay-mint, the next one).
# Usage: scripts/soak.sh [BATCHES] [TXS_PER_BLOCK]   (default 200 and 16)
set -euo pipefail
cd "$(dirname "$0")/.."
batches="${1:-200}"
txs="${2:-16}"
scripts/setup.sh
cargo build --release --locked -p lockstep
bin=target/release/lockstep
check() {
  python3 "$checker" "$1"
}
checker=$(mktemp)
trap 'rm -f "$checker"' EXIT
cat > "$checker" <<'PY'
import json, sys
summary = json.load(sys.stdin)
expected = [int(b) for b in sys.argv[1].split(",") if b]
differing = [b["index"] for b in summary["batches"] if b["pairsDiffering"]]
t = summary["transfers"]
print("  %d batches, %d burned, %d minted, %s s, differing batches %s"
      % (summary["batchesPosted"], t["burned"], t["minted"], summary["seconds"], differing))
sys.exit(0 if differing == expected else 1)
PY
echo "soak: clean run of $batches batches"
"$bin" devnet --batches "$batches" --txs-per-block "$txs" --seed 7 2>/dev/null | check ""
fault_batch=$((batches / 2))
for fault in drop-mint forge-mint alter-amount reorder-mints; do
  echo "soak: $fault@$fault_batch"
  "$bin" devnet --batches "$batches" --txs-per-block "$txs" --seed 7 --fault "$fault@$fault_batch" 2>/dev/null | check "$fault_batch"
done
echo "soak: delay-mint@$fault_batch"
"$bin" devnet --batches "$batches" --txs-per-block "$txs" --seed 7 --fault "delay-mint@$fault_batch" 2>/dev/null | check "$fault_batch,$((fault_batch + 1))"
echo "soak: passed"
