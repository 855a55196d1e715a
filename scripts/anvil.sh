# Sourced by the soak and load scripts: starts the devnet's anvil (the test mnemonic's 16
# accounts, the L1 genesis one L1 block before the L2 genesis, mining only when asked) on a port
# of its own choosing, read from its banner, so no other process can take the port first.
# Usage: start_anvil WORKDIR NAME; sets $anvil (its pid) and $url, once it answers.
start_anvil() {
  local work="$1" name="$2"
  node_modules/.bin/anvil --host 127.0.0.1 --port 0 --chain-id 900 --accounts 16 \
    --timestamp 1767225588 --no-mining --hardfork cancun >"$work/anvil.log" 2>&1 &
  anvil=$!
  until grep -q '^Listening on ' "$work/anvil.log"; do
    kill -0 "$anvil" 2>/dev/null || { echo "$name: anvil did not start"; cat "$work/anvil.log"; exit 1; }
    sleep 0.1
  done
  url="http://$(sed -n 's/^Listening on //p' "$work/anvil.log" | head -n1)"
  until curl -s -o /dev/null "$url"; do sleep 0.1; done
}
