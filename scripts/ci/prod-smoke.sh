#!/usr/bin/env bash
# The production install, checked as an operator would do it: the built tree (tracked files + dist/)
# installed with `npm ci --omit=dev`, the compiled gateway started with NODE_ENV=production against a
# separate anvil (RPC_URL mode: deploys with DEPLOYER_KEY, relays with RELAYER_KEY), then /health and
# one relayed write (a registrar registers a cooperative). Needs `npm run build` (or `npm test`) first.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
[ -f "$root/dist/scripts/start.js" ] || { echo "prod-smoke: build first (npm run build)"; exit 1; }
work=$(mktemp -d /tmp/cooptrace-prod.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

(cd "$root" && git ls-files -z | tar --null -T - -cf - && tar -cf - dist) | tar -xf - -C "$work" --ignore-zeros
cd "$work"
npm ci --omit=dev --no-audit --no-fund --loglevel=error
for pkg in ts-node typechain hardhat @typechain/ethers-v6 ethers; do
  if [ -d "node_modules/$pkg" ]; then echo "prod-smoke: $pkg is installed by npm ci --omit=dev"; exit 1; fi
done

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
rpc_port=$(free_port)
anvil=$(node -e 'console.log(require("./dist/server/chain/embedded.js").anvilCommand().command)')
"$anvil" --host 127.0.0.1 --port "$rpc_port" --chain-id 31337 --quiet &
pids+=($!)

gw_port=$(free_port)
mkdir -m 700 "$work/data"
NODE_ENV=production RPC_URL="http://127.0.0.1:$rpc_port" CHAIN_ID=31337 \
  DEPLOYER_KEY=0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80 \
  RELAYER_KEY=0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d \
  KEYSTORE_KEY=$(node -e 'console.log(require("crypto").randomBytes(32).toString("hex"))') \
  DATA_DIR="$work/data" PORT="$gw_port" LOG_LEVEL=warn \
  node --max-old-space-size=256 dist/scripts/start.js &
pids+=($!)

GW="http://127.0.0.1:$gw_port" DATA_DIR="$work/data" node - <<'JS'
const base = process.env.GW;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function call(method, path, token, body) {
  const res = await fetch(base + path, {
    method,
    headers: { ...(body ? { "content-type": "application/json" } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: await res.json().catch(() => null) };
}
(async () => {
  let health;
  for (let i = 0; i < 120; i++) {
    health = await call("GET", "/health").catch(() => null);
    if (health && health.status === 200) break;
    await sleep(500);
  }
  if (!health || health.status !== 200) throw new Error(`/health did not answer 200: ${JSON.stringify(health)}`);
  const admin = require("fs").readFileSync(process.env.DATA_DIR + "/admin-token", "utf8").trim();
  const registrar = await call("POST", "/api/v1/users", admin, { role: "registrar", displayName: "Smoke registrar" });
  if (registrar.status !== 201) throw new Error(`create registrar: ${registrar.status} ${JSON.stringify(registrar.body)}`);
  const coop = await call("POST", "/api/v1/cooperatives", registrar.body.token, {
    name: "Smoke cooperative",
    region: "MA-ERR",
    registrationNumber: "SMOKE-1",
    reserveBps: 1000,
    admin: { displayName: "Smoke manager" },
  });
  if (coop.status !== 201) throw new Error(`register cooperative: ${coop.status} ${JSON.stringify(coop.body)}`);
  console.log(`prod-smoke: /health 200 (chain ${health.body.chainId}); cooperative ${coop.body.cooperativeId} registered in block ${coop.body.blockNumber}`);
})().catch((err) => {
  console.error(`prod-smoke: ${err.message}`);
  process.exit(1);
});
JS
