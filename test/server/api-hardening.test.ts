/**
 * The API under hostile use, against a real gateway (embedded anvil, SQLite, HTTP on port 0):
 * an authorization matrix of every documented route × every kind of caller, impersonation,
 * Idempotency-Key abuse and races, rate limits, strict bodies, key export, token rotation and
 * revocation; and at the end, that no response, log or database page gave away a secret.
 */
import { expect } from "chai";
import { readFileSync, existsSync } from "node:fs";
import path from "node:path";
import { Wallet, ZeroHash } from "ethers";
import { BatchRegistry__factory } from "../../typechain-types";
import { EXPORT_CONFIRMATION } from "../../server/custody/users";
import { ApiClient, startTestGateway, type ApiResponse, type TestGateway } from "../helpers/gateway";

const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString();
const TOKEN = /ct_[A-Za-z0-9_-]{43}/g;

/** Every response this file received, to check at the end that none gave a secret away. */
const seen: { method: string; path: string; status: number; text: string }[] = [];

class RecordingClient extends ApiClient {
  override as(token: string | undefined): RecordingClient {
    return new RecordingClient(this.baseUrl, token);
  }
  override async request<T = any>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<ApiResponse<T>> {
    const r = await super.request<T>(method, path, body, headers);
    seen.push({ method, path, status: r.status, text: r.text });
    return r;
  }
}

async function ok<T = any>(p: Promise<ApiResponse<T>>, status = 201): Promise<T> {
  const r = await p;
  expect(r.status, r.text).to.equal(status);
  return r.body;
}

function fields(r: ApiResponse): string[] {
  return ((r.body?.errors ?? []) as { field: string }[]).map((e) => e.field);
}

/** Callers of the matrix: a role, and for cooperative roles whether they belong to cooperative 1. */
const CALLERS = [
  "none",
  "platform_admin",
  "registrar",
  "coopAdmin",
  "otherAdmin",
  "member",
  "otherMember",
  "buyer",
  "otherBuyer",
  "certifier",
  "arbiter",
  "auditor",
] as const;
type Caller = (typeof CALLERS)[number];
const ROLE_OF: Record<Caller, string | null> = {
  none: null,
  platform_admin: "platform_admin",
  registrar: "registrar",
  coopAdmin: "coop_admin",
  otherAdmin: "coop_admin",
  member: "member",
  otherMember: "member",
  buyer: "buyer",
  otherBuyer: "buyer",
  certifier: "certifier",
  arbiter: "arbiter",
  auditor: "auditor",
};

describe("gateway API hardening", function () {
  this.timeout(240_000);
  let t: TestGateway;
  let api: RecordingClient;
  const as: Partial<Record<Caller, RecordingClient>> = {};
  const users: Record<string, { userId: string; token: string; address: string }> = {};
  let batchId: string;
  let saleId: number;
  let certificationId: string;
  const exportedKeys: string[] = [];

  before(async function () {
    t = await startTestGateway();
    api = new RecordingClient(t.gateway.url);
    as.none = api;
    as.platform_admin = api.as(t.adminToken);
    for (const role of ["registrar", "certifier", "arbiter", "auditor"] as const) {
      const r = await ok(as.platform_admin.post("/api/v1/users", { role, displayName: `${role} one` }));
      as[role] = api.as(r.token);
    }
    for (const [caller, n] of [
      ["coopAdmin", 1],
      ["otherAdmin", 2],
    ] as const) {
      const r = await ok(
        as.registrar!.post("/api/v1/cooperatives", {
          name: `Coopérative ${n}`,
          region: "Ouarzazate",
          registrationNumber: `ODCO-OZ-${n}`,
          reserveBps: 1000,
          admin: { displayName: `Admin ${n}` },
        }),
      );
      expect(r.cooperativeId).to.equal(n);
      as[caller] = api.as(r.admin.token);
    }
    const addMember = async (admin: RecordingClient, coop: number, name: string) => {
      const r = await ok(admin.post(`/api/v1/cooperatives/${coop}/members`, { displayName: name, reference: name }));
      users[name] = r.member;
      return api.as(r.member.token);
    };
    as.member = await addMember(as.coopAdmin!, 1, "Aicha");
    await addMember(as.coopAdmin!, 1, "Itto");
    await addMember(as.coopAdmin!, 1, "Throwaway");
    as.otherMember = await addMember(as.otherAdmin!, 2, "Fadma");
    for (const [caller, name] of [
      ["buyer", "Shop"],
      ["otherBuyer", "Other shop"],
    ] as const) {
      const r = await ok(api.post("/api/v1/buyers", { displayName: name }));
      users[name] = { userId: r.user.id, token: r.token, address: r.user.address };
      as[caller] = api.as(r.token);
    }
    const batch = await ok(
      as.member.post("/api/v1/batches", {
        cooperativeId: 1,
        productCode: "rose-petals",
        lotCode: "ROSE-H1",
        quantity: "10000",
        unit: "g",
        productionDate: day(-2),
        contributors: [
          { memberId: users.Aicha.userId, weight: "3" },
          { memberId: users.Itto.userId, weight: "1" },
        ],
      }),
    );
    batchId = batch.batchId;
    const cert = await ok(
      as.certifier!.post(`/api/v1/batches/${batchId}/certifications`, { scheme: "AOP", validUntil: day(90) }),
    );
    certificationId = cert.certificationId;
    const sale = await ok(
      as.coopAdmin!.post("/api/v1/sales", { batchId, quantity: "10", price: "1000", buyer: users.Shop.address }),
    );
    saleId = Number(sale.saleId);
  });

  after(async function () {
    if (process.env.DEBUG_API) console.log(t.logs.filter((l) => /"level":(50|40)/.test(l)).join("\n"));
    await t?.stop();
  });

  describe("authorization matrix", function () {
    /**
     * One row per documented route: a concrete path, a body that passes validation where the route
     * checks the caller's cooperative after validating, and the callers whose role is allowed but
     * who are refused for not belonging (another cooperative's admin or member, another buyer).
     */
    function table(): Record<string, { path: string; body?: unknown; refused?: Caller[] }> {
      const b = `/api/v1/batches/${batchId}`;
      const s = `/api/v1/sales/${saleId}`;
      const notOurs: Caller[] = ["otherAdmin", "otherMember"];
      const info = { productCode: "rose-water", quantity: "5", unit: "l", productionDate: day(-1) };
      return {
        "POST /api/v1/users": { path: "/api/v1/users", body: {} },
        "POST /api/v1/buyers": { path: "/api/v1/buyers", body: {} },
        "GET /api/v1/me": { path: "/api/v1/me" },
        "POST /api/v1/me/token": { path: "/api/v1/me/token" },
        "POST /api/v1/users/{id}/revoke": {
          path: `/api/v1/users/${users.Throwaway.userId}/revoke`,
          refused: ["otherAdmin"],
        },
        "POST /api/v1/me/export-key": { path: "/api/v1/me/export-key", body: { confirm: "yes" } },
        "POST /api/v1/faucet": { path: "/api/v1/faucet" },
        "GET /api/v1/me/forward-request": { path: "/api/v1/me/forward-request" },
        "POST /api/v1/me/forward-requests": { path: "/api/v1/me/forward-requests", body: {} },
        "POST /api/v1/cooperatives": { path: "/api/v1/cooperatives", body: {} },
        "GET /api/v1/cooperatives": { path: "/api/v1/cooperatives" },
        "GET /api/v1/cooperatives/{id}": { path: "/api/v1/cooperatives/1" },
        "POST /api/v1/cooperatives/{id}/members": {
          path: "/api/v1/cooperatives/1/members",
          body: { displayName: "Matrix", reference: "matrix" },
          refused: ["otherAdmin"],
        },
        "GET /api/v1/cooperatives/{id}/members": { path: "/api/v1/cooperatives/1/members", refused: ["otherAdmin"] },
        "POST /api/v1/batches": {
          path: "/api/v1/batches",
          // The lot exists already: allowed callers get the contract's refusal, and nothing is queued.
          body: {
            cooperativeId: 1,
            ...info,
            lotCode: "ROSE-H1",
            contributors: [{ memberId: users.Aicha.userId, weight: "1" }],
          },
          refused: notOurs,
        },
        "GET /api/v1/batches": { path: "/api/v1/batches" },
        "GET /api/v1/batches/{id}": { path: b },
        "GET /api/v1/batches/{id}/epcis": { path: `${b}/epcis` },
        "GET /api/v1/stats": { path: "/api/v1/stats" },
        "GET /api/v1/regions": { path: "/api/v1/regions" },
        "GET /api/v1/audit/sales/{id}": { path: `/api/v1/audit/sales/${saleId}` },
        "GET /api/v1/audit/sales/{id}.csv": { path: `/api/v1/audit/sales/${saleId}.csv` },
        "GET /api/v1/audit/sales/{id}/pack": { path: `/api/v1/audit/sales/${saleId}/pack` },
        "GET /api/v1/audit/cooperatives/{id}": { path: "/api/v1/audit/cooperatives/1" },
        "GET /api/v1/audit/cooperatives/{id}.csv": { path: "/api/v1/audit/cooperatives/1.csv" },
        "GET /api/v1/batches/{id}/qr.svg": { path: `${b}/qr.svg` },
        "GET /api/v1/batches/{id}/qr.png": { path: `${b}/qr.png` },
        "GET /api/v1/cooperatives/{id}/labels.pdf": { path: "/api/v1/cooperatives/1/labels.pdf" },
        "POST /api/v1/batches/{id}/events": {
          path: `${b}/events`,
          body: { bizStep: "inspecting", eventTime: day(-1) },
          refused: notOurs,
        },
        "POST /api/v1/batches/{id}/certifications": {
          path: `${b}/certifications`,
          body: { scheme: "Organic", validUntil: day(30) },
        },
        "POST /api/v1/certifications/{id}/revoke": {
          path: `/api/v1/certifications/${certificationId}/revoke`,
          body: {},
        },
        "POST /api/v1/batches/{id}/split": {
          path: `${b}/split`,
          body: { children: [{ lotCode: "SPLIT-X", quantity: "99999999" }] },
          refused: notOurs,
        },
        "POST /api/v1/batches/merge": {
          path: "/api/v1/batches/merge",
          body: { cooperativeId: 1, inputs: [{ batchId, quantity: "99999999" }], ...info, lotCode: "MERGE-X" },
          refused: notOurs,
        },
        "POST /api/v1/sales": {
          path: "/api/v1/sales",
          body: { batchId, quantity: "99999999", price: "1" },
          refused: ["otherAdmin"],
        },
        "GET /api/v1/sales": { path: "/api/v1/sales" },
        "GET /api/v1/sales/{id}": { path: s },
        "POST /api/v1/sales/{id}/fund": { path: `${s}/fund` },
        "POST /api/v1/sales/{id}/ship": { path: `${s}/ship`, body: {}, refused: ["otherAdmin"] },
        "POST /api/v1/sales/{id}/confirm": { path: `${s}/confirm`, body: {}, refused: ["otherBuyer"] },
        "POST /api/v1/sales/{id}/dispute": { path: `${s}/dispute`, body: {}, refused: ["otherBuyer"] },
        "POST /api/v1/sales/{id}/resolve": { path: `${s}/resolve`, body: { refundBps: 0 } },
        "POST /api/v1/sales/{id}/cancel": { path: `${s}/cancel`, refused: ["otherAdmin", "otherBuyer"] },
        "POST /api/v1/sales/{id}/release": { path: `${s}/release` },
        "GET /api/v1/me/balances": { path: "/api/v1/me/balances" },
        "POST /api/v1/claims": { path: "/api/v1/claims", body: { batchId, token: "ETH" } },
        "POST /api/v1/withdrawals": { path: "/api/v1/withdrawals", body: { token: "ETH" } },
        // Money in dirhams (issue 13): bodies that fail validation, or calls the contract refuses, where a pass has effects.
        "POST /api/v1/cooperatives/{id}/payout-account": {
          path: "/api/v1/cooperatives/1/payout-account",
          body: { account: users.Shop.address },
          refused: ["otherAdmin"],
        },
        "POST /api/v1/cooperatives/{id}/payouts": { path: "/api/v1/cooperatives/1/payouts", body: { payouts: [] } },
        "GET /api/v1/cooperatives/{id}/payouts": { path: "/api/v1/cooperatives/1/payouts", refused: notOurs },
        "POST /api/v1/batches/{id}/close": { path: `${b}/close`, refused: ["otherAdmin"] },
        "POST /api/v1/reference-rates": { path: "/api/v1/reference-rates", body: {} },
        "POST /api/v1/me/payout-route": { path: "/api/v1/me/payout-route", body: { throughCooperative: false } },
        "POST /api/v1/payouts/{id}/confirm": { path: `/api/v1/payouts/${"0x" + "0".repeat(64)}/confirm` },
        "POST /api/v1/payouts/{id}/contest": { path: `/api/v1/payouts/${"0x" + "0".repeat(64)}/contest`, body: {} },
        "GET /api/v1/me/money": { path: "/api/v1/me/money" },
        "GET /api/v1/audit/cooperatives/{id}/reconciliation": {
          path: "/api/v1/audit/cooperatives/1/reconciliation",
          refused: ["otherAdmin"],
        },
        "GET /api/v1/audit/cooperatives/{id}/reconciliation.csv": {
          path: "/api/v1/audit/cooperatives/1/reconciliation.csv",
          refused: ["otherAdmin"],
        },
        // Another user's (or an unknown) operation answers 404 to everyone but its owner.
        "GET /api/v1/operations/{id}": { path: "/api/v1/operations/00000000-0000-4000-8000-000000000000" },
      };
    }

    it("answers 401, 403 or passes, for every documented route and every caller, as x-roles say", async function () {
      const doc = await ok(api.get("/api/v1/openapi.json"), 200);
      const rows = table();
      const documented: string[] = [];
      const failures: string[] = [];
      for (const [p, methods] of Object.entries(doc.paths as Record<string, Record<string, { "x-roles": string[] }>>)) {
        for (const [method, op] of Object.entries(methods)) {
          const key = `${method.toUpperCase()} ${p}`;
          documented.push(key);
          const row = rows[key];
          if (!row) {
            failures.push(`${key}: no row in the matrix table`);
            continue;
          }
          const roles = op["x-roles"];
          for (const caller of CALLERS) {
            const client = as[caller]!;
            const r = await client.request(method.toUpperCase(), row.path, method === "get" ? undefined : row.body);
            const role = ROLE_OF[caller];
            let expected: "401" | "403" | "pass";
            if (roles.length === 0) expected = "pass";
            else if (role === null) expected = "401";
            else if (!roles.includes("any") && !roles.includes(role)) expected = "403";
            else expected = row.refused?.includes(caller) ? "403" : "pass";
            const got = r.status === 401 ? "401" : r.status === 403 ? "403" : "pass";
            if (got !== expected || r.status >= 500) {
              failures.push(`${key} as ${caller}: expected ${expected}, got ${r.status} ${r.text.slice(0, 160)}`);
            }
            if (r.status === 401 || r.status === 403) {
              expect(r.headers.get("content-type")).to.match(/^application\/problem\+json/);
            }
            // Rotation hands the caller a new token: keep using it.
            if (key === "POST /api/v1/me/token" && r.status === 201) as[caller] = api.as(r.body.token);
          }
        }
      }
      expect(
        Object.keys(rows).filter((k) => !documented.includes(k)),
        "rows for undocumented routes",
      ).to.deep.equal([]);
      expect(failures, failures.join("\n")).to.deep.equal([]);
      expect(documented.length).to.be.greaterThan(30);
    });
  });

  describe("acting as someone else", function () {
    it("refuses a member claiming another member's share (memberId), and another cooperative's admin", async function () {
      const r = await as.member!.post("/api/v1/claims", { batchId, token: "ETH", memberId: users.Itto.userId });
      expect(r.status, r.text).to.equal(403);
      expect(r.body.code).to.equal("forbidden");
      const other = await as.otherAdmin!.post("/api/v1/claims", { batchId, token: "ETH", memberId: users.Itto.userId });
      expect(other.status, other.text).to.equal(403);
    });

    it("refuses a member registering a batch for another cooperative", async function () {
      const r = await as.member!.post("/api/v1/batches", {
        cooperativeId: 2,
        productCode: "henna",
        lotCode: "H-1",
        quantity: "10",
        unit: "kg",
        productionDate: day(-1),
        contributors: [{ memberId: users.Aicha.userId, weight: "1" }],
      });
      expect(r.status, r.text).to.equal(403);
    });

    it("refuses another cooperative's member (on-chain) or a buyer (before sending) as a contributor", async function () {
      // Fadma is a member of another cooperative: the contract refuses her against this one's members bitmap.
      // The shop never joined a cooperative, so it has no member index: refused before anything is sent.
      for (const [name, status, code] of [
        ["Fadma", 422, "BatchRegistryNotMember"],
        ["Shop", 400, "not_a_member"],
      ] as const) {
        const r = await as.member!.post("/api/v1/batches", {
          cooperativeId: 1,
          productCode: "rose-petals",
          lotCode: `STEAL-${name}`,
          quantity: "10",
          unit: "g",
          productionDate: day(-1),
          contributors: [{ memberId: users[name].userId, weight: "1" }],
        });
        expect(r.status, r.text).to.equal(status);
        expect(r.body.code, name).to.equal(code);
      }
    });

    it("keeps Idempotency-Keys per user: another user's key runs as a new request", async function () {
      const body = { bizStep: "storing", eventTime: day(-1) };
      const key = { "idempotency-key": "shared-key-1" };
      const first = await as.member!.post(`/api/v1/batches/${batchId}/events`, body, key);
      expect(first.status, first.text).to.equal(201);
      const itto = api.as(users.Itto.token);
      const second = await itto.post(`/api/v1/batches/${batchId}/events`, body, key);
      expect(second.status, second.text).to.equal(201);
      expect(second.headers.get("idempotent-replayed")).to.equal(null);
      expect(second.body.txHash).not.to.equal(first.body.txHash);
      expect(second.body.operationId).not.to.equal(first.body.operationId);
    });

    it("never replays one anonymous sign-up's token to another caller with the same key", async function () {
      const key = { "idempotency-key": "signup-key-1" };
      const first = await api.post("/api/v1/buyers", { displayName: "Twin" }, key);
      expect(first.status, first.text).to.equal(201);
      expect(first.headers.get("cache-control")).to.match(/no-store/);
      const second = await api.post("/api/v1/buyers", { displayName: "Twin" }, key);
      expect(second.text).not.to.include(first.body.token);
      expect(second.status, second.text).to.equal(409);
      expect(second.body.code).to.equal("idempotency_response_not_stored");
    });
  });

  describe("concurrent duplicates", function () {
    it("runs one of two simultaneous POSTs with the same key; the other gets 409 or the replay; one effect", async function () {
      const body = { bizStep: "urn:epcglobal:cbv:bizstep:packing", location: "race", eventTime: day(-1) };
      const key = { "idempotency-key": "race-1" };
      const answers = await Promise.all([
        as.member!.post(`/api/v1/batches/${batchId}/events`, body, key),
        as.member!.post(`/api/v1/batches/${batchId}/events`, body, key),
      ]);
      const statuses = answers.map((a) => a.status).sort();
      const conflict = answers.find((a) => a.status === 409);
      if (conflict) {
        expect(statuses).to.deep.equal([201, 409]);
        expect(conflict.body.code).to.equal("idempotency_in_progress");
      } else {
        expect(statuses).to.deep.equal([201, 201]);
        expect(answers[0].body.txHash).to.equal(answers[1].body.txHash);
      }
      // Once done, the key replays.
      const replay = await as.member!.post(`/api/v1/batches/${batchId}/events`, body, key);
      expect(replay.status).to.equal(201);
      expect(replay.headers.get("idempotent-replayed")).to.equal("true");
      const events = (await ok(api.get(`/api/v1/batches/${batchId}`), 200)).events as { location: string }[];
      expect(events.filter((e) => e.location === "race")).to.have.length(1);
    });
  });

  describe("strict bodies", function () {
    it("refuses unknown fields, naming them", async function () {
      const cases: [RecordingClient, string, unknown, string][] = [
        [
          as.coopAdmin!,
          "/api/v1/cooperatives/1/members",
          { displayName: "X", reference: "x", role: "coop_admin" },
          "role",
        ],
        [
          as.member!,
          `/api/v1/batches/${batchId}/events`,
          { bizStep: "packing", eventTime: day(-1), reserveBps: 0 },
          "reserveBps",
        ],
        [as.coopAdmin!, "/api/v1/sales", { batchId, quantity: "1", price: "1", role: "platform_admin" }, "role"],
        [as.member!, "/api/v1/me/token", { role: "platform_admin" }, "role"],
        [as.buyer!, `/api/v1/sales/${saleId}/fund`, { price: "1" }, "price"],
        [as.buyer!, "/api/v1/buyers", { displayName: "B", role: "registrar" }, "role"],
        [as.platform_admin!, "/api/v1/users", { role: "auditor", displayName: "A", cooperativeId: 1 }, "cooperativeId"],
      ];
      for (const [client, p, body, field] of cases) {
        const r = await client.post(p, body);
        expect(r.status, `${p}: ${r.text}`).to.equal(400);
        expect(r.body.code).to.equal("invalid_field");
        expect(fields(r), p).to.include(field);
      }
      // The rotation above was refused: the member's token still works.
      expect((await as.member!.get("/api/v1/me")).status).to.equal(200);
    });

    it("refuses oversized, negative and mistyped numbers, naming the field", async function () {
      const base = {
        cooperativeId: 1,
        productCode: "rose-petals",
        lotCode: "NUM-1",
        quantity: "10",
        unit: "g",
        productionDate: day(-1),
        contributors: [{ memberId: users.Aicha.userId, weight: "1" }],
      };
      const cases: [Record<string, unknown>, string][] = [
        [{ quantity: "18446744073709551616" }, "quantity"], // 2^64
        [{ quantity: 18446744073709551616 }, "quantity"],
        // A number literal past 2^53 on purpose: a JSON number the gateway must refuse, not round.
        // eslint-disable-next-line no-loss-of-precision
        [{ quantity: 9007199254740993 }, "quantity"], // not exactly representable: refused, not rounded
        [{ quantity: "-5" }, "quantity"],
        [{ quantity: -5 }, "quantity"],
        [{ quantity: "0" }, "quantity"],
        [{ quantity: 1.5 }, "quantity"],
        [{ quantity: true }, "quantity"],
        [{ quantity: "1e3" }, "quantity"],
        [{ cooperativeId: "abc" }, "cooperativeId"],
        [{ contributors: "all" }, "contributors"],
        [{ contributors: [{ memberId: users.Aicha.userId, weight: "18446744073709551616" }] }, "contributors.0.weight"],
        [{ productionDate: "yesterday" }, "productionDate"],
        [{ lotCode: 42 }, "lotCode"],
      ];
      for (const [patch, field] of cases) {
        const r = await as.member!.post("/api/v1/batches", { ...base, ...patch });
        expect(r.status, `${JSON.stringify(patch)}: ${r.text}`).to.equal(400);
        expect(fields(r), JSON.stringify(patch)).to.include(field);
      }
      for (const [patch, field] of [
        [{ price: "-1" }, "price"],
        [{ price: "340282366920938463463374607431768211456" }, "price"], // 2^128
        [{ shippingDays: 0 }, "shippingDays"],
        [{ token: "BTC" }, "token"],
        [{ buyer: "0x1234" }, "buyer"],
      ] as [Record<string, unknown>, string][]) {
        const r = await as.coopAdmin!.post("/api/v1/sales", { batchId, quantity: "1", price: "1", ...patch });
        expect(r.status, `${JSON.stringify(patch)}: ${r.text}`).to.equal(400);
        expect(fields(r)).to.include(field);
      }
      const bps = await as.registrar!.post("/api/v1/cooperatives", {
        name: "N",
        region: "R",
        registrationNumber: "X",
        reserveBps: 1e10,
        admin: { displayName: "A" },
      });
      expect(bps.status).to.equal(400);
      expect(fields(bps)).to.include("reserveBps");
    });
  });

  describe("key export (self-custody)", function () {
    let itto: RecordingClient;
    before(() => (itto = api.as(users.Itto.token)));

    it("refuses a wrong confirmation", async function () {
      const r = await itto.post("/api/v1/me/export-key", { confirm: "ok" });
      expect(r.status, r.text).to.equal(400);
      expect(fields(r)).to.include("confirm");
      expect(r.text).not.to.match(/0x[0-9a-f]{64}/);
    });

    it("returns the key once, not cached, and the gateway then refuses to sign for the member", async function () {
      const r = await itto.post(
        "/api/v1/me/export-key",
        { confirm: EXPORT_CONFIRMATION },
        { "idempotency-key": "export-1" },
      );
      expect(r.status, r.text).to.equal(201);
      expect(r.headers.get("cache-control")).to.match(/no-store/);
      expect(new Wallet(r.body.privateKey).address).to.equal(users.Itto.address);
      exportedKeys.push(r.body.privateKey);
      // Replaying the request must not hand the key out again (nor keep it to do so).
      const replay = await itto.post(
        "/api/v1/me/export-key",
        { confirm: EXPORT_CONFIRMATION },
        { "idempotency-key": "export-1" },
      );
      expect(replay.text).not.to.include(r.body.privateKey.slice(2));
      expect(replay.status).to.equal(409);
      const again = await itto.post("/api/v1/me/export-key", { confirm: EXPORT_CONFIRMATION });
      expect(again.status, again.text).to.equal(409);
      expect(again.body.code).to.equal("self_custody");
      expect(again.text).not.to.include(r.body.privateKey.slice(2));

      const me = await ok(itto.get("/api/v1/me"), 200);
      expect(me.custody).to.equal("self");
      const write = await itto.post(`/api/v1/batches/${batchId}/events`, { bizStep: "drying", eventTime: day(-1) });
      expect(write.status, write.text).to.equal(409);
      expect(write.body.code).to.equal("self_custody");
      const claim = await itto.post("/api/v1/claims", { batchId, token: "ETH" });
      expect(claim.status, claim.text).to.equal(409);
      expect(claim.body.code).to.equal("self_custody");
      expect(t.gateway.ctx.relayer.depth().queued).to.equal(0);
    });

    it("relays what the member signs itself with the exported key", async function () {
      const wallet = new Wallet(exportedKeys[0]);
      const template = await ok(itto.get("/api/v1/me/forward-request"), 200);
      expect(template.from).to.equal(wallet.address);
      const data = BatchRegistry__factory.createInterface().encodeFunctionData("recordEvent", [
        batchId,
        "urn:epcglobal:cbv:bizstep:drying",
        "self-signed",
        BigInt(Math.floor(Date.now() / 1000) - 3600),
        ZeroHash,
      ]);
      const request = {
        from: wallet.address,
        to: template.contracts.BatchRegistry,
        value: 0n,
        // Within the relayer's bound (the simulation's estimate, ~40k here, plus at most max(50%, 100k)).
        gas: 120_000n,
        nonce: BigInt(template.nonce),
        deadline: BigInt(Math.floor(Date.now() / 1000) + 3600),
        data,
      };
      const signature = await wallet.signTypedData(
        template.domain,
        { ForwardRequest: template.types.ForwardRequest },
        request,
      );
      const body = { to: request.to, gas: "120000", deadline: String(request.deadline), data, signature };
      // Someone else's signature, or the relayer's ether: refused.
      const forged = await as.member!.post("/api/v1/me/forward-requests", body);
      expect(forged.status, forged.text).to.equal(422);
      expect(forged.body.code).to.equal("invalid_signature");
      const withValue = await itto.post("/api/v1/me/forward-requests", { ...body, value: "1" });
      expect(withValue.status).to.equal(400);
      expect(fields(withValue)).to.deep.equal(["value"]);
      const r = await itto.post("/api/v1/me/forward-requests", body);
      expect(r.status, r.text).to.equal(201);
      const event = r.body.events.find((e: { name: string }) => e.name === "BatchEvent");
      expect(event.args.recordedBy).to.equal(wallet.address);
      const batch = await ok(api.get(`/api/v1/batches/${batchId}`), 200);
      expect(batch.events.filter((e: { location: string }) => e.location === "self-signed")).to.have.length(1);
      // The same signed request again: its nonce is spent.
      const replay = await itto.post("/api/v1/me/forward-requests", body);
      expect(replay.status, replay.text).to.equal(422);
    });
  });

  describe("tokens", function () {
    it("rotates: the old token stops working, the new one works", async function () {
      const old = as.member!;
      const r = await ok(old.post("/api/v1/me/token"));
      expect(r.token).to.match(TOKEN);
      expect((await old.get("/api/v1/me")).status).to.equal(401);
      as.member = api.as(r.token);
      expect((await ok(as.member.get("/api/v1/me"), 200)).id).to.equal(users.Aicha.userId);
    });

    it("revokes: by the member's own cooperative admin and the platform admin only", async function () {
      const m = await ok(
        as.coopAdmin!.post("/api/v1/cooperatives/1/members", { displayName: "Revoked", reference: "revoked" }),
      );
      const client = api.as(m.member.token);
      expect((await client.get("/api/v1/me")).status).to.equal(200);
      for (const other of [as.otherAdmin!, as.member!, as.registrar!, client]) {
        expect((await other.post(`/api/v1/users/${m.member.userId}/revoke`)).status).to.equal(403);
      }
      expect((await client.get("/api/v1/me")).status).to.equal(200);
      await ok(as.coopAdmin!.post(`/api/v1/users/${m.member.userId}/revoke`));
      const after = await client.get("/api/v1/me");
      expect(after.status).to.equal(401);
      expect(after.body.code).to.equal("invalid_token");
      // The platform admin may revoke anyone.
      const registrar = await ok(as.platform_admin!.post("/api/v1/users", { role: "auditor", displayName: "Tmp" }));
      await ok(as.platform_admin!.post(`/api/v1/users/${registrar.user.id}/revoke`));
      expect((await api.as(registrar.token).get("/api/v1/me")).status).to.equal(401);
      expect(
        (await as.platform_admin!.post(`/api/v1/users/00000000-0000-4000-8000-000000000000/revoke`)).status,
      ).to.equal(404);
    });
  });

  describe("rate limits", function () {
    it("limits sign-ups per address (20 an hour)", async function () {
      let accepted = 0;
      let limited: ApiResponse | undefined;
      for (let i = 0; i < 25 && !limited; i++) {
        const r = await api.post("/api/v1/buyers", { displayName: `Flood ${i}` });
        if (r.status === 429) limited = r;
        else accepted++;
      }
      expect(limited, "no 429 after 25 sign-ups").not.to.equal(undefined);
      expect(limited!.body.code).to.equal("rate_limited");
      expect(limited!.headers.get("content-type")).to.match(/^application\/problem\+json/);
      expect(accepted).to.be.below(20);
    });

    it("answers 429 to a flood of public reads while an authenticated member still writes", async function () {
      let limited = 0;
      let sent = 0;
      while (limited === 0 && sent < 800) {
        const wave = await Promise.all(Array.from({ length: 50 }, () => api.get("/api/v1/cooperatives")));
        sent += wave.length;
        limited += wave.filter((r) => r.status === 429).length;
      }
      expect(limited, `no 429 after ${sent} reads`).to.be.greaterThan(0);
      expect(sent).to.be.within(500, 650);
      const r = await api.get("/api/v1/batches");
      expect(r.status).to.equal(429);
      expect(r.body.code).to.equal("rate_limited");
      const write = await as.member!.post(`/api/v1/batches/${batchId}/events`, {
        bizStep: "shipping",
        eventTime: day(-1),
      });
      expect(write.status, write.text).to.equal(201);
      expect((await as.member!.get("/api/v1/batches")).status).to.equal(200);
    });
  });

  describe("secrets", function () {
    it("no response holds a stack trace, a private key but its export, or a token but where it was issued", function () {
      expect(seen.length).to.be.greaterThan(500);
      const issuedBy = new Map<string, number>();
      for (const [i, r] of seen.entries()) {
        expect(r.text, `${r.method} ${r.path}`).not.to.match(/\n\s+at |\.ts:\d+|node_modules/);
        for (const token of r.text.match(TOKEN) ?? []) {
          expect(issuedBy.has(token), `token shown twice (again by ${r.method} ${r.path})`).to.equal(false);
          issuedBy.set(token, i);
          expect(r.method).to.equal("POST");
          expect(r.path).to.match(/^\/api\/v1\/(users|buyers|me\/token|cooperatives(\/\d+\/members)?)(\?|$)/);
        }
        for (const key of exportedKeys) {
          if (r.text.toLowerCase().includes(key.slice(2).toLowerCase())) {
            expect(r.path).to.equal("/api/v1/me/export-key");
            expect(r.status).to.equal(201);
          }
        }
      }
      expect(exportedKeys).to.have.length(1);
      expect(seen.filter((r) => r.text.includes(exportedKeys[0].slice(2)))).to.have.length(1);
    });

    it("the database and the logs hold no key and no token in clear", async function () {
      const tokens = new Set(seen.flatMap((r) => r.text.match(TOKEN) ?? []));
      tokens.add(t.adminToken);
      expect(tokens.size).to.be.greaterThan(10);
      const base = path.join(t.dataDir, "cooptrace.sqlite");
      const files = [base, `${base}-wal`, `${base}-shm`].filter((f) => existsSync(f));
      expect(files.length).to.be.greaterThan(0);
      const bytes = Buffer.concat(files.map((f) => readFileSync(f)));
      const logs = t.logs.join("\n");
      for (const key of exportedKeys) {
        const hex = key.slice(2);
        expect(bytes.includes(Buffer.from(hex, "hex")), "raw key bytes in the database").to.equal(false);
        expect(bytes.toString("latin1").toLowerCase().includes(hex.toLowerCase()), "key hex in the database").to.equal(
          false,
        );
        expect(logs.toLowerCase()).not.to.include(hex.toLowerCase());
      }
      const text = bytes.toString("latin1");
      for (const token of tokens) {
        expect(text.includes(token), "a token in the database").to.equal(false);
        expect(logs).not.to.include(token);
      }
    });
  });
});
