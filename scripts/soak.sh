#!/usr/bin/env bash
# A long devnet soak, outside CI: a clean run of BATCHES batches must flag nothing (exit 0); then
# one run per fault, injected at the middle batch, must flag exactly that batch (and, for
# delay-mint, the next one as LateMint) and exit 3. The faults L1 overrules (invalid-tx, bad-batch,
# offline) flag more than one batch; bin/lockstep/tests/hostile.rs checks their shape.
# Usage: scripts/soak.sh [BATCHES] [TXS_PER_BLOCK]   (default 200 and 16)
set -euo pipefail
cd "$(dirname "$0")/.."
batches="${1:-200}"
txs="${2:-16}"
scripts/setup.sh
cargo build --release --locked -p lockstep
bin=target/release/lockstep
checker=$(mktemp)
out=$(mktemp)
trap 'rm -f "$checker" "$out"' EXIT
cat > "$checker" <<'PY'
import json, sys
summary = json.load(open(sys.argv[1]))
expected = sys.argv[2]
code = int(sys.argv[3])
flagged = ",".join("%d:%s" % (f["batch"], "+".join(sorted(f["classifications"]))) for f in summary["flagged"])
t = summary["transfers"]
print("  %d batches checked, %d burns, %d mints, %s s, exit %d, flagged [%s]"
      % (summary["batchesChecked"], t["burns"], t["mints"], summary["seconds"], code, flagged))
ok = flagged == expected and code == (3 if expected else 0)
sys.exit(0 if ok else 1)
PY
run() {
  local expected="$1"; shift
  local code=0
  "$bin" devnet --batches "$batches" --txs-per-block "$txs" --seed 7 "$@" > "$out" 2>/dev/null || code=$?
  python3 "$checker" "$out" "$expected" "$code"
}
echo "soak: clean run of $batches batches"
run ""
b=$((batches / 2))
for pair in drop-mint:MissingMint forge-mint:UnbackedMint alter-amount:AlteredMint \
    reorder-mints:OrderMismatch bad-output-root:InvalidOutputRoot bad-commitment:InvalidCommitment \
    withhold-commitment:MissingCommitment censor:MissingMint; do
  fault="${pair%%:*}"
  echo "soak: $fault@$b"
  run "$b:${pair##*:}" --fault "$fault@$b"
done
echo "soak: delay-mint@$b"
run "$b:MissingMint,$((b + 1)):LateMint" --fault "delay-mint@$b"
echo "soak: passed"
