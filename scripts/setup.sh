#!/usr/bin/env bash
# Installs what lockstep needs beyond the Rust toolchain, on a fresh Debian/Ubuntu machine:
#   - libclang, which mdbx-sys needs to generate its bindings, and a C compiler, which the MDBX,
#     secp256k1 and c-kzg (blob commitments) crates build their C sources with;
#   - chromium (Debian's), which the status page test drives headless;
#   - anvil, cast, viem, solc-js and playwright-core, pinned in package.json, from the npm registry
#     (into ./node_modules).
# Safe to run again: it skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: cargo is not installed; install the Rust toolchain (rustup) first" >&2
  exit 1
fi

need_apt=()
dpkg -s libclang-dev >/dev/null 2>&1 || need_apt+=(libclang-dev)
command -v cc >/dev/null 2>&1 || need_apt+=(build-essential)
command -v npm >/dev/null 2>&1 || need_apt+=(nodejs npm)
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
if [ "${#need_apt[@]}" -gt 0 ]; then
  echo "setup: installing ${need_apt[*]} with apt-get"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if [ ! -x node_modules/.bin/anvil ] || [ ! -x node_modules/.bin/cast ] || [ ! -x node_modules/.bin/solcjs ] \
  || [ ! -d node_modules/playwright-core ] || [ ! -d node_modules/viem ] \
  || ! cmp -s package-lock.json node_modules/.lockstep-installed.json 2>/dev/null; then
  echo "setup: installing anvil, cast, viem, solc-js and playwright-core from the npm registry (package-lock.json)"
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.lockstep-installed.json
fi
echo "setup: $(node_modules/.bin/anvil --version | head -n1), solc $(node_modules/.bin/solcjs --version), $(chromium --version 2>/dev/null | head -n1)"
