// Compiles the contracts in src/ with the pinned solc-js and writes, per contract, out/NAME.abi.json,
// out/NAME.bin (init code) and out/NAME.bin-runtime (deployed code), all hex without 0x.
// `node contracts/build.mjs --check` compiles and fails if out/ differs from the result.
import { readFileSync, readdirSync, writeFileSync, existsSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, "..", "package.json"));
const solc = require("solc");

const check = process.argv.includes("--check");
const srcDir = join(here, "src");
const outDir = join(here, "out");
const sources = {};
for (const file of readdirSync(srcDir).filter((f) => f.endsWith(".sol")).sort()) {
  sources[file] = { content: readFileSync(join(srcDir, file), "utf8") };
}
const input = {
  language: "Solidity",
  sources,
  settings: {
    // Shanghai: the devnet can start at Delta (Canyon has Shanghai), before Ecotone brings Cancun
    evmVersion: "shanghai",
    optimizer: { enabled: true, runs: 200 },
    metadata: { bytecodeHash: "none" },
    outputSelection: { "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"] } },
  },
};
const output = JSON.parse(solc.compile(JSON.stringify(input)));
const errors = (output.errors || []).filter((e) => e.severity === "error");
if (errors.length) {
  for (const e of errors) console.error(e.formattedMessage);
  process.exit(1);
}
const files = {};
for (const [file, contracts] of Object.entries(output.contracts)) {
  for (const [name, c] of Object.entries(contracts)) {
    if (!c.evm.bytecode.object) continue; // interfaces
    files[`${name}.abi.json`] = JSON.stringify(c.abi, null, 2) + "\n";
    files[`${name}.bin`] = c.evm.bytecode.object + "\n";
    files[`${name}.bin-runtime`] = c.evm.deployedBytecode.object + "\n";
  }
}
let stale = 0;
if (!check && !existsSync(outDir)) mkdirSync(outDir);
for (const [name, text] of Object.entries(files).sort()) {
  const path = join(outDir, name);
  if (check) {
    const have = existsSync(path) ? readFileSync(path, "utf8") : null;
    if (have !== text) {
      console.error(`stale: contracts/out/${name} differs from what src/ compiles to`);
      stale++;
    }
  } else {
    writeFileSync(path, text);
  }
}
console.log(`solc ${solc.version()}: ${Object.keys(files).length / 3} contracts ${check ? (stale ? "STALE" : "match out/") : "written to out/"}`);
process.exit(stale ? 1 : 0);
