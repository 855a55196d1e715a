#!/usr/bin/env bash
# The test command: installs what is missing, checks formatting and lints, and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="$PWD/node_modules/.bin:$PATH"
# an MDBX call that fails logs its libmdbx function and error code (README, Storage)
export LOCKSTEP_MDBX_DEBUG="${LOCKSTEP_MDBX_DEBUG:-1}"
echo "test: cargo fmt --check"
cargo fmt --all --check
echo "test: cargo clippy"
cargo clippy --workspace --all-targets --locked -q -- -D warnings
echo "test: cargo test"
cargo test --workspace --locked
