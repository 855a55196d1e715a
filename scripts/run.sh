#!/usr/bin/env bash
# Builds lockstep and runs it on real chain data: initialises a database with the Base mainnet
# genesis (which must reproduce the registry's block hash) and prints the database's tables.
# Usage: scripts/run.sh [DATADIR]   (default: ./data)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --release --locked -p lockstep
datadir="${1:-./data}"
bin=target/release/lockstep
"$bin" init --datadir "$datadir" \
  --rollup-config testdata/base-mainnet/rollup.json \
  --genesis testdata/base-mainnet/genesis.json.gz
"$bin" db stats --datadir "$datadir"
