#!/usr/bin/env bash
# The test command: installs what is missing, checks formatting and lints, and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="$PWD/node_modules/.bin:$PATH"
echo "test: cargo fmt --check"
cargo fmt --all --check
echo "test: cargo clippy"
cargo clippy --workspace --all-targets --locked -q -- -D warnings
echo "test: cargo test"
cargo test --workspace --locked
