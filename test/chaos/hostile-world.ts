/**
 * Shared by the hostile and load suites: a populated gateway (cooperative, members, buyer, roles, a
 * batch, a certification, a sale), a raw HTTP client (any method, any body bytes, any header) and a
 * digest of the state that a refused request must not move.
 */
import { expect } from "chai";
import http from "node:http";
import { keccak256, toUtf8Bytes, HDNodeWallet, Mnemonic } from "ethers";
import { ANVIL_MNEMONIC } from "../../server/chain/embedded";
import { INTERVAL_MODE } from "../helpers/chainMode";
import { startTestGateway, type ApiClient, type ApiResponse, type TestGateway } from "../helpers/gateway";

export const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString();

export interface World {
  t: TestGateway;
  /** Tokens by role name as used in x-roles ("member", "coop_admin", ...). */
  tokens: Record<string, string>;
  members: { userId: string; token: string; address: string }[];
  buyer: { userId: string; token: string; address: string };
  batchId: string;
  saleId: number;
  certificationId: string;
  cooperativeId: number;
}

export async function ok<T = any>(p: Promise<ApiResponse<T>>, status = 201): Promise<T> {
  const r = await p;
  expect(r.status, r.text).to.equal(status);
  return r.body;
}

export async function buildWorld(memberCount = 3, env?: Record<string, string>): Promise<World> {
  const t = await startTestGateway({ env });
  const admin: ApiClient = t.admin;
  const tokens: Record<string, string> = { platform_admin: t.adminToken };
  for (const role of ["registrar", "certifier", "arbiter", "auditor"] as const) {
    const r = await ok(admin.post("/api/v1/users", { role, displayName: `${role} one` }));
    tokens[role] = r.token;
  }
  const registrar = t.api.as(tokens.registrar);
  const coop = await ok(
    registrar.post("/api/v1/cooperatives", {
      name: "Coopérative Chaos",
      region: "Ouarzazate",
      registrationNumber: "ODCO-CH-1",
      reserveBps: 1000,
      admin: { displayName: "Admin chaos" },
    }),
  );
  tokens.coop_admin = coop.admin.token;
  const coopAdmin = t.api.as(coop.admin.token);
  const members: World["members"] = [];
  for (let i = 0; i < memberCount; i++) {
    const r = await ok(
      coopAdmin.post(`/api/v1/cooperatives/${coop.cooperativeId}/members`, {
        displayName: `Member ${i}`,
        reference: `m-${i}`,
      }),
    );
    members.push(r.member);
  }
  tokens.member = members[0].token;
  const b = await ok(t.api.post("/api/v1/buyers", { displayName: "Shop" }));
  const buyer = { userId: b.user.id, token: b.token, address: b.user.address };
  tokens.buyer = b.token;
  const batch = await ok(
    t.api.as(members[0].token).post("/api/v1/batches", {
      cooperativeId: coop.cooperativeId,
      productCode: "rose-petals",
      lotCode: "CHAOS-BASE",
      quantity: "1000000",
      unit: "g",
      productionDate: day(-2),
      contributors: members.slice(0, 2).map((m) => ({ memberId: m.userId, weight: "1" })),
    }),
  );
  const cert = await ok(
    t.api
      .as(tokens.certifier)
      .post(`/api/v1/batches/${batch.batchId}/certifications`, { scheme: "AOP", validUntil: day(90) }),
  );
  const sale = await ok(
    coopAdmin.post("/api/v1/sales", { batchId: batch.batchId, quantity: "10", price: "1000", buyer: buyer.address }),
  );
  return {
    t,
    tokens,
    members,
    buyer,
    batchId: batch.batchId,
    saleId: Number(sale.saleId),
    certificationId: cert.certificationId,
    cooperativeId: coop.cooperativeId,
  };
}

export interface RawResponse {
  status: number;
  contentType: string;
  text: string;
  ms: number;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

/** One request with exactly the bytes and headers given (fetch refuses GET bodies; this does not). */
export function raw(
  baseUrl: string,
  method: string,
  path: string,
  options: { body?: string | Buffer; headers?: Record<string, string> } = {},
): Promise<RawResponse> {
  const url = new URL(baseUrl);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        method,
        path,
        agent,
        headers: {
          ...(options.body !== undefined ? { "content-length": String(Buffer.byteLength(options.body)) } : {}),
          ...options.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            contentType: String(res.headers["content-type"] ?? ""),
            text: Buffer.concat(chunks).toString("utf8"),
            ms: performance.now() - started,
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

export function closeRawAgent(): void {
  agent.destroy();
}

/** The relayer (anvil account 1 on the embedded chain) and the deployer (account 0). */
export function anvilAddress(index: number): string {
  return HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(ANVIL_MNEMONIC), `m/44'/60'/0'/0/${index}`).address;
}

/**
 * What a refused request must not move: contract counters, the relayer's and deployer's nonces, the
 * block number (on 2-s blocks: the faucet account's nonce instead), the index's row counts, and every gateway table's row count except the idempotency
 * records (a refused request's key may be remembered with its 4xx, by design).
 */
export async function stateDigest(t: TestGateway): Promise<{ digest: string; parts: Record<string, unknown> }> {
  const ctx = t.gateway.ctx;
  const provider = t.provider;
  const parts: Record<string, unknown> = {
    cooperativeCount: (await t.contracts.registry.cooperativeCount()).toString(),
    saleCount: (await t.contracts.escrow.saleCount()).toString(),
    relayerNonce: await provider.getTransactionCount(anvilAddress(1), "latest"),
    relayerPending: await provider.getTransactionCount(anvilAddress(1), "pending"),
    deployerNonce: await provider.getTransactionCount(anvilAddress(0), "latest"),
    index: ctx.queries.counts(),
  };
  // On 2-s blocks the chain moves on its own; there the nonces of every account the gateway sends from
  // (relayer, deployer, and the faucet's account 2) stand for "no transaction".
  if (INTERVAL_MODE) parts.faucetNonce = await provider.getTransactionCount(anvilAddress(2), "pending");
  else parts.block = await provider.getBlockNumber();
  const tables = ctx.db
    .prepare<[], { name: string }>(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    .all()
    .map((r) => r.name)
    .filter((n) => n !== "idempotency" && !n.startsWith("ix_"));
  const rows: Record<string, number> = {};
  for (const n of tables) rows[n] = ctx.db.prepare<[], { n: number }>(`SELECT COUNT(*) AS n FROM "${n}"`).get()!.n;
  parts.tables = rows;
  return { digest: keccak256(toUtf8Bytes(JSON.stringify(parts))), parts };
}

export function p95(values: number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(0.95 * s.length) - 1)];
}

/** Rows for the chaos summary: through test/chaos/summary.ts when it exists, else a small table. */
export interface SummaryRow {
  scenario: string;
  result: string;
  requests: number;
  landed?: number;
  lost?: number;
  duplicated?: number;
  fivexx: number;
  notes?: string;
}

export async function report(rows: SummaryRow[]): Promise<void> {
  let record: ((row: SummaryRow) => void) | undefined;
  try {
    const mod = await import("./summary" as string);
    if (typeof mod.record === "function") record = mod.record;
  } catch {
    // no collector yet
  }
  if (record) {
    for (const r of rows) record(r);
    return;
  }
  console.table(rows);
}
