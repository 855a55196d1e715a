// viem's WebSocket transport against the shared sequencer's endpoint of chain 902:
// `watchBlocks` (eth_subscribe newHeads) and `watchEvent` on the bridge (eth_subscribe logs).
// Prints `{"event":"ready"}` once both are subscribed, then, when COUNT blocks have come and
// at least one bridge log, the hashes and log positions it was pushed, as one JSON line.
import { createPublicClient, defineChain, webSocket } from "viem";

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const url = env("DESTINATION_WS");
const count = Number(env("COUNT"));
const chain = defineChain({
  id: 902,
  name: "lockstep-902",
  nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
  rpcUrls: { default: { http: [url.replace("ws://", "http://")], webSocket: [url] } },
});
const client = createPublicClient({ chain, transport: webSocket(url) });
const print = (value) =>
  console.log(JSON.stringify(value, (_, v) => (typeof v === "bigint" ? v.toString() : v)));

// a subscription this node does not push is refused with an error, not dropped silently
let refused = null;
try {
  await client.transport.request({ method: "eth_subscribe", params: ["newPendingTransactions"] });
} catch (error) {
  refused = error.details ?? error.message;
}

const heads = [];
const logs = [];
const errors = [];
const unwatchBlocks = client.watchBlocks({
  onBlock: (block) => heads.push({ number: block.number, hash: block.hash }),
  onError: (error) => errors.push(error.message),
});
const unwatchLogs = client.watchEvent({
  address: env("BRIDGE"),
  onLogs: (found) =>
    logs.push(...found.map((l) => ({ block: l.blockNumber, logIndex: l.logIndex, address: l.address }))),
  onError: (error) => errors.push(error.message),
});
// both subscriptions are made on the socket before the test builds a block
await new Promise((resolve) => setTimeout(resolve, 1500));
print({ event: "ready" });
const deadline = Date.now() + 120_000;
while ((heads.length < count || logs.length === 0) && Date.now() < deadline) {
  await new Promise((resolve) => setTimeout(resolve, 100));
}
unwatchBlocks();
unwatchLogs();
// viem fetches each pushed head's block before calling onBlock, and those fetches may finish in
// any order: the push order itself is checked by the in-process test (crates/rpc/tests/filters.rs)
heads.sort((a, b) => (a.number < b.number ? -1 : a.number > b.number ? 1 : 0));
print({ event: "done", heads, logs, errors, refused });
process.exit(0);
