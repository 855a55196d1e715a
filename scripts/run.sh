#!/usr/bin/env bash
# Runs the devnet: installs what is missing, builds lockstep in release mode, and starts
# `lockstep devnet` (an embedded L1, the shared sequencer of chains 901 and 902, a traffic
# generator and the batcher). It runs until stopped (Ctrl-C); arguments are passed on, e.g.
#   scripts/run.sh --batches 20 --fault drop-mint@3
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --release --locked -p lockstep
exec target/release/lockstep devnet "$@"
