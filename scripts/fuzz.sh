#!/usr/bin/env bash
# Fuzzes lockstep's decoders with cargo-fuzz (libFuzzer) on the installed stable toolchain.
#
#   scripts/fuzz.sh [-t SECONDS] [-j JOBS] [TARGET...]
#
# Runs each TARGET (default: all of them, see `crates/fuzz/src/lib.rs`) for SECONDS (default
# 600), JOBS at a time (default 1), from its seeds (fuzz/seeds/, written fresh from
# crates/fuzz) and its growing corpus (fuzz/corpus/, kept between runs, not committed). No
# sanitizer (`-s none`): AddressSanitizer needs a nightly compiler, and the code under test is
# safe Rust, where a bug shows as a panic, which libFuzzer catches without one.
#
# A crash is copied to fuzz/regressions/<target>/, which the ordinary test suite replays
# (crates/fuzz/tests/regressions.rs): commit it with the fix. Each target's log is in
# fuzz/logs/<target>.log; the last line of each is printed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=600
jobs=1
while getopts "t:j:" opt; do
  case "$opt" in
    t) seconds="$OPTARG" ;;
    j) jobs="$OPTARG" ;;
    *) sed -n '2,16p' "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(sed -n 's/^name = "\(.*\)"$/\1/p' fuzz/Cargo.toml | grep -v '^lockstep-fuzz-targets$')
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz from crates.io"
  cargo install cargo-fuzz --version 0.13.2 --locked
fi
echo "fuzz: writing seeds"
rm -rf fuzz/seeds
cargo run -q --release -p lockstep-fuzz --example write_seeds -- fuzz/seeds
echo "fuzz: building ${#targets[@]} targets"
(cd fuzz && for t in "${targets[@]}"; do cargo fuzz build -s none --release "$t"; done)
mkdir -p fuzz/logs
# the binaries run as built above: editing the sources while the fuzzers run changes nothing
bins="$PWD/fuzz/target/$(rustc -vV | sed -n 's/^host: //p')/release"
run() {
  local t="$1"
  mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
  (cd fuzz && "$bins/$t" "corpus/$t" "seeds/$t" -artifact_prefix="artifacts/$t/" \
    -max_total_time="$seconds" -timeout=30 -rss_limit_mb=4096 -max_len=1048576 \
    -print_final_stats=1) >"fuzz/logs/$t.log" 2>&1 || true
  for crash in fuzz/artifacts/"$t"/*; do
    [ -f "$crash" ] || continue
    mkdir -p "fuzz/regressions/$t"
    cp "$crash" "fuzz/regressions/$t/"
    echo "fuzz: $t: CRASH $(basename "$crash") -> fuzz/regressions/$t/"
  done
  echo "fuzz: $t: $(grep -E '^#[0-9]+.*(DONE|pulse|NEW|REDUCE)' "fuzz/logs/$t.log" | tail -1)"
  grep -E 'stat::number_of_executed_units|stat::peak_rss_mb' "fuzz/logs/$t.log" | sed "s/^/fuzz: $t: /" || true
}
export -f run
export seconds bins
printf '%s\n' "${targets[@]}" | xargs -P "$jobs" -I{} bash -c 'run {}'
