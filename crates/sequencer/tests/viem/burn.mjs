// A user's wallet, as viem builds it, against the shared sequencer: burn SuperchainToken on
// chain 901 towards a recipient on 902 with `sendTransaction` (no gas, fee or nonce given),
// wait for the receipt, watch 902's blocks, and read both balances before and after.
// The Rust test (crates/sequencer/tests/rpc.rs) builds the block once the burn is in the pool
// and checks what this prints: one JSON line per event, the last one the result.
import {
  createPublicClient,
  createWalletClient,
  defineChain,
  encodeFunctionData,
  http,
  parseAbi,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const chain = (id, url) =>
  defineChain({
    id,
    name: `lockstep-${id}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [url] } },
  });
const source = chain(901, env("SOURCE_URL"));
const destination = chain(902, env("DESTINATION_URL"));
const token = env("TOKEN");
const bridge = env("BRIDGE");
const recipient = env("RECIPIENT");
const amount = BigInt(env("AMOUNT"));
const account = privateKeyToAccount(env("KEY"));

const abi = parseAbi([
  "function burn(uint256 destination, address token, address to, uint256 amount) payable returns (uint256)",
  "function balanceOf(address owner) view returns (uint256)",
]);
const client = (c) => createPublicClient({ chain: c, transport: http(), pollingInterval: 100 });
const [src, dst] = [client(source), client(destination)];
const balance = (c, owner) =>
  c.readContract({ address: token, abi, functionName: "balanceOf", args: [owner] });
const print = (value) =>
  console.log(JSON.stringify(value, (_, v) => (typeof v === "bigint" ? v.toString() : v)));

const before = { sender: await balance(src, account.address), recipient: await balance(dst, recipient) };
const seen = [];
const unwatch = dst.watchBlocks({
  emitOnBegin: true,
  onBlock: (block) => seen.push(block.number),
  onError: (error) => print({ event: "watchError", message: error.message }),
});

const wallet = createWalletClient({ account, chain: source, transport: http() });
const hash = await wallet.sendTransaction({
  to: bridge,
  data: encodeFunctionData({
    abi,
    functionName: "burn",
    args: [902n, token, recipient, amount],
  }),
});
print({ event: "sent", hash });
const receipt = await src.waitForTransactionReceipt({ hash, pollingInterval: 100, timeout: 120_000 });
// the mint is in 902's block of the same number: wait until watchBlocks has reported it
const deadline = Date.now() + 120_000;
while (!seen.includes(receipt.blockNumber) && Date.now() < deadline) {
  await new Promise((resolve) => setTimeout(resolve, 100));
}
unwatch();
const sent = await src.getTransaction({ hash });
const after = { sender: await balance(src, account.address), recipient: await balance(dst, recipient) };
print({
  event: "done",
  status: receipt.status,
  blockNumber: receipt.blockNumber,
  gasUsed: receipt.gasUsed,
  gas: sent.gas,
  nonce: sent.nonce,
  maxFeePerGas: sent.maxFeePerGas,
  seen,
  before,
  after,
});
