/**
 * The audit API against a real gateway (embedded anvil, SQLite): sales with 1, 3 and 200
 * contributors, in ETH and in the stablecoin, with and without a dispute resolution. Every figure
 * is checked against an independent computation here, from the raw events read with ethers and
 * plain bigint arithmetic; then the index is tampered with and the verdict must turn.
 */
import { expect } from "chai";
import express from "express";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { ZeroAddress, getAddress } from "ethers";
import { SimpleMerkleTree } from "@openzeppelin/merkle-tree";
import { contributorLeaf, unpackContributor } from "../../domain/contributors";
import { startTestGateway, ApiClient, type TestGateway } from "../helpers/gateway";
import { authenticate } from "../../server/api/auth";
import { createOpenApi } from "../../server/api/openapi";
import { errorHandler } from "../../server/api/problem";
import { auditRoutes } from "../../server/api/routes/audit";
import type { GatewayParts } from "../../server/main";

const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString();
const ARABIC = 'عائشة "بنت" أحمد, تنغير';

/** RFC 4180: fields separated by commas, optionally quoted, "" an escaped quote, CRLF records. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      row.push(field);
      field = "";
    } else if (ch === "\r" && text[i + 1] === "\n") {
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
      i++;
    } else field += ch;
  }
  if (field !== "" || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

function records(text: string): Record<string, string>[] {
  const [header, ...rest] = parseCsv(text);
  return rest.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i]])));
}

interface Expected {
  gross: bigint;
  fee: bigint;
  reserve: bigint;
  net: bigint;
  refund: bigint;
  shares: Map<string, bigint>;
  claimed: Map<string, bigint>;
  claimable: Map<string, bigint>;
  dust: bigint;
  reserveRounding: bigint;
}

describe("audit API", function () {
  this.timeout(240_000);
  let t: TestGateway;
  let ctx: GatewayParts;
  let server: Server;
  let auditor: ApiClient;
  let auditorMain: ApiClient;
  let coopAdmin: ApiClient;
  let arbiter: ApiClient;
  let buyer: ApiClient;
  let buyerAddress: string;
  let stablecoin: string;
  let memberClient: ApiClient;
  const members: { userId: string; address: string; client: ApiClient; name: string }[] = [];
  const batches: Record<string, string> = {};
  const sales: Record<string, number> = {};

  /** The expected audit of a sale, from raw events and bigint arithmetic only. */
  async function expectedOf(saleId: number): Promise<Expected> {
    const { escrow, registry, batches: batchRegistry } = t.contracts;
    // Contributors are emitted as packed (index << 64 | weight) words; MemberAdded names each index.
    const accountAt = new Map(
      (await registry.queryFilter(registry.filters.MemberAdded())).map((e) => [Number(e.args.index), e.args.member]),
    );
    const [created] = await escrow.queryFilter(escrow.filters.SaleCreated(saleId));
    const { batchId, token, feeBps, reserveBps } = created.args;
    // The contributors emitted at registration (these batches are not split children).
    const [reg] = await batchRegistry.queryFilter(batchRegistry.filters.BatchRegistered(batchId));
    const contributors = reg.args.contributors.map((word) => ({
      account: getAddress(accountAt.get(Number(word >> 64n))!),
      weight: word & (2n ** 64n - 1n),
    }));
    let total = 0n;
    for (const c of contributors) total += c.weight;
    expect(total).to.equal(reg.args.totalWeight);
    const releases = await escrow.queryFilter(escrow.filters.SaleReleased(saleId));
    const refunds = await escrow.queryFilter(escrow.filters.SaleRefunded(saleId));
    const all = await escrow.queryFilter(escrow.filters.SaleReleased(undefined, batchId, token));
    const claims = await escrow.queryFilter(escrow.filters.Claimed(batchId, token));
    const e: Expected = {
      gross: 0n,
      fee: 0n,
      reserve: 0n,
      net: 0n,
      refund: 0n,
      shares: new Map(),
      claimed: new Map(),
      claimable: new Map(),
      dust: 0n,
      reserveRounding: 0n,
    };
    for (const r of refunds) e.refund += r.args.amount;
    for (const r of releases) {
      const { gross, fee, reserve, net, releasedTotal } = r.args;
      expect(fee).to.equal((gross * feeBps) / 10_000n);
      expect(net).to.equal(((gross - fee) * (10_000n - reserveBps)) / 10_000n);
      expect(fee + reserve + net).to.equal(gross);
      e.gross += gross;
      e.fee += fee;
      e.reserve += reserve;
      e.net += net;
      e.reserveRounding += reserve - ((gross - fee) * reserveBps) / 10_000n;
      for (const c of contributors) {
        const add = (releasedTotal * c.weight) / total - ((releasedTotal - net) * c.weight) / total;
        e.shares.set(c.account, (e.shares.get(c.account) ?? 0n) + add);
      }
    }
    let sumShares = 0n;
    for (const v of e.shares.values()) sumShares += v;
    e.dust = e.net - sumShares;
    const releasedNow = all.length === 0 ? 0n : all[all.length - 1].args.releasedTotal;
    for (const c of contributors) {
      let claimed = 0n;
      for (const cl of claims) if (getAddress(cl.args.account) === c.account) claimed += cl.args.amount;
      e.claimed.set(c.account, claimed);
      e.claimable.set(c.account, (releasedNow * c.weight) / total - claimed);
    }
    return e;
  }

  async function checkAgainstEvents(saleId: number) {
    const r = await auditor.get(`/api/v1/audit/sales/${saleId}`);
    expect(r.status, r.text).to.equal(200);
    const a = r.body;
    const e = await expectedOf(saleId);
    expect(a.consistent, JSON.stringify(a.discrepancies)).to.equal(true);
    expect(a.discrepancies).to.deep.equal([]);
    expect(a.gross).to.equal(e.gross.toString());
    expect(a.fee).to.equal(e.fee.toString());
    expect(a.reserve).to.equal(e.reserve.toString());
    expect(a.net).to.equal(e.net.toString());
    expect(a.refund?.amount ?? "0").to.equal(e.refund.toString());
    expect(a.contributors).to.have.length(e.shares.size);
    for (const c of a.contributors) {
      expect(c.share, c.account).to.equal(e.shares.get(c.account)!.toString());
      expect(c.claimed, c.account).to.equal(e.claimed.get(c.account)!.toString());
      expect(c.claimable, c.account).to.equal(e.claimable.get(c.account)!.toString());
    }
    const parts = Object.fromEntries(
      a.remainder.parts.map((p: { where: string; amount: string }) => [p.where, p.amount]),
    );
    expect(parts.dust).to.equal(e.dust.toString());
    expect(parts.reserve).to.equal(e.reserveRounding.toString());
    expect(a.remainder.amount).to.equal((e.dust + e.reserveRounding).toString());
    const steps = a.transactions.map((x: { step: string }) => x.step);
    expect(steps).to.include.members(["created", "funded", "shipped", "released"]);
    for (const x of a.transactions) {
      const receipt = await t.provider.getTransactionReceipt(x.txHash);
      expect(receipt?.blockNumber).to.equal(x.blockNumber);
    }
    return a;
  }

  async function sell(batchId: string, token: string, price: string, refundBps?: number): Promise<number> {
    const offer = await coopAdmin.post("/api/v1/sales", { batchId, quantity: "10", token, price, buyer: buyerAddress });
    expect(offer.status, offer.text).to.equal(201);
    const saleId = Number(offer.body.saleId);
    const fund = await buyer.post(`/api/v1/sales/${saleId}/fund`);
    expect(fund.status, fund.text).to.equal(201);
    expect((await coopAdmin.post(`/api/v1/sales/${saleId}/ship`, {})).status).to.equal(201);
    if (refundBps === undefined) {
      const c = await buyer.post(`/api/v1/sales/${saleId}/confirm`, {});
      expect(c.status, c.text).to.equal(201);
    } else {
      const d = await buyer.post(`/api/v1/sales/${saleId}/dispute`, {});
      expect(d.status, d.text).to.equal(201);
      const r = await arbiter.post(`/api/v1/sales/${saleId}/resolve`, { refundBps });
      expect(r.status, r.text).to.equal(201);
    }
    return saleId;
  }

  async function register(lot: string, contributors: { memberId: string; weight: string }[]) {
    const r = await coopAdmin.post("/api/v1/batches", {
      cooperativeId: 1,
      productCode: "dates-mejhoul",
      lotCode: lot,
      quantity: "1000",
      unit: "kg",
      origin: "Erfoud",
      productionDate: day(-3),
      contributors,
    });
    expect(r.status, r.text).to.equal(201);
    return r.body.batchId as string;
  }

  before(async function () {
    t = await startTestGateway();
    ctx = t.gateway.ctx;
    const mk = async (role: string, displayName: string) => {
      const r = await t.admin.post("/api/v1/users", { role, displayName });
      expect(r.status, r.text).to.equal(201);
      return r.body.token as string;
    };
    const registrar = t.api.as(await mk("registrar", "ODCO"));
    arbiter = t.api.as(await mk("arbiter", "Arbitre"));
    const auditorToken = await mk("auditor", "Bureau d'audit");
    auditorMain = t.api.as(auditorToken);

    const app = express();
    const r = express.Router();
    r.use(express.json());
    r.use(authenticate(ctx.users));
    auditRoutes(r, createOpenApi("/api/v1", { title: "audit", version: "1", description: "test" }), ctx);
    app.use("/api/v1", r);
    app.use(errorHandler(ctx.log, []));
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, "127.0.0.1", () => resolve(s));
    });
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    auditor = new ApiClient(url, auditorToken);

    const coop = await registrar.post("/api/v1/cooperatives", {
      name: "Coopérative Tafilalet des Dattes",
      region: "Errachidia",
      registrationNumber: "ODCO-ERF-7",
      reserveBps: 1500,
      womenLed: true,
      admin: { displayName: "فاطمة الزهراء" },
    });
    expect(coop.status, coop.text).to.equal(201);
    coopAdmin = t.api.as(coop.body.admin.token);

    // 200 members through the API, 20 at a time (the relayer batches concurrent requests).
    const names = [ARABIC, "Khadija", "Itto", ...Array.from({ length: 197 }, (_, i) => `Member ${i + 4}`)];
    for (let i = 0; i < names.length; i += 20) {
      const chunk = await Promise.all(
        names.slice(i, i + 20).map(async (name, j) => {
          const m = await coopAdmin.post("/api/v1/cooperatives/1/members", {
            displayName: name,
            reference: `card-${i + j}`,
          });
          expect(m.status, m.text).to.equal(201);
          return {
            userId: m.body.member.userId,
            address: m.body.member.address,
            client: t.api.as(m.body.member.token),
            name,
          };
        }),
      );
      members.push(...chunk);
    }
    memberClient = members[0].client;

    const signup = await t.api.post("/api/v1/buyers", { displayName: "Épicerie fine" });
    expect(signup.status, signup.text).to.equal(201);
    buyer = t.api.as(signup.body.token);
    buyerAddress = signup.body.user.address;
    const faucet = await buyer.post("/api/v1/faucet");
    expect(faucet.status, faucet.text).to.equal(201);
    stablecoin = faucet.body.stablecoin.address;

    batches.one = await register("D-1", [{ memberId: members[1].userId, weight: "7" }]);
    batches.three = await register(
      "D-3",
      members.slice(0, 3).map((m, i) => ({ memberId: m.userId, weight: String(3 * i + 1) })),
    );
    batches.many = await register(
      "D-200",
      members.map((m, i) => ({ memberId: m.userId, weight: String((i % 7) + 1) })),
    );

    sales.oneEth = await sell(batches.one, "ETH", "1000000000000007");
    sales.threeCoin = await sell(batches.three, stablecoin, "123456789");
    sales.threeEthDispute = await sell(batches.three, "ETH", "999999999999", 2500);
    sales.threeCoinAgain = await sell(batches.three, stablecoin, "1000003");
    sales.manyCoinDispute = await sell(batches.many, stablecoin, "250000001", 3333);
    sales.manyEth = await sell(batches.many, "ETH", "100000000000000007");

    // Claims: members take their share (ETH and stablecoin), by themselves or by the admin.
    const claim = async (client: ApiClient, batchId: string, token: string) => {
      const c = await client.post("/api/v1/claims", { batchId, token });
      expect(c.status, c.text).to.equal(201);
    };
    await claim(members[0].client, batches.three, stablecoin);
    await claim(members[2].client, batches.three, "ETH");
    await claim(members[5].client, batches.many, stablecoin);
    await claim(members[0].client, batches.many, "ETH");
  });

  after(async function () {
    if (process.env.DEBUG_AUDIT) console.log(t?.logs.filter((l) => /"level":50/.test(l)).join("\n"));
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    await t?.stop();
  });

  describe("GET /audit/sales/:id", function () {
    it("1 contributor, ETH, confirmed: figures equal the events to the unit", async function () {
      const a = await checkAgainstEvents(sales.oneEth);
      expect(a.token).to.deep.equal({ address: ZeroAddress, symbol: "ETH", decimals: 18 });
      expect(a.contributors[0].displayName).to.equal("Khadija");
      expect(a.netHuman).to.match(/^0\.\d+$/);
      expect(a.refund).to.equal(null);
    });
    it("3 contributors, stablecoin, two sales of the batch (cumulative shares) and a claim", async function () {
      const a = await checkAgainstEvents(sales.threeCoin);
      expect(a.token.decimals).to.equal(6);
      expect(a.grossHuman).to.equal("123.456789");
      expect(a.transactions.some((x: { step: string }) => x.step === "claim")).to.equal(true);
      await checkAgainstEvents(sales.threeCoinAgain);
    });
    it("3 contributors, ETH, dispute resolved with a partial refund", async function () {
      const a = await checkAgainstEvents(sales.threeEthDispute);
      expect(a.state).to.equal("Resolved");
      expect(a.refund.refundBps).to.equal(2500);
      expect(BigInt(a.refund.amount) + BigInt(a.gross)).to.equal(999999999999n);
      expect(a.transactions.map((x: { step: string }) => x.step)).to.include.members([
        "disputed",
        "resolved",
        "refunded",
      ]);
      expect(a.contributors.find((c: { displayName: string }) => c.displayName === ARABIC)).to.not.equal(undefined);
    });
    it("200 contributors, stablecoin with a dispute, and ETH", async function () {
      const a = await checkAgainstEvents(sales.manyCoinDispute);
      expect(a.contributors).to.have.length(200);
      const b = await checkAgainstEvents(sales.manyEth);
      expect(b.contributors).to.have.length(200);
      expect(BigInt(b.remainder.batchDust)).to.be.lessThan(200n);
    });
    it("404 for an unknown sale", async function () {
      const r = await auditor.get("/api/v1/audit/sales/999");
      expect(r.status).to.equal(404);
      expect(r.body.code).to.equal("sale_not_found");
    });
  });

  describe("a tampered index", function () {
    it("a release's net changed in SQLite: inconsistent, naming the sale and the field", async function () {
      const saleId = sales.threeCoin;
      const row = ctx.db.prepare("SELECT net FROM ix_releases WHERE sale_id = ?").get(saleId) as { net: string };
      ctx.db.prepare("UPDATE ix_releases SET net = ? WHERE sale_id = ?").run((BigInt(row.net) + 1n).toString(), saleId);
      try {
        const r = await auditor.get(`/api/v1/audit/sales/${saleId}`);
        expect(r.status).to.equal(200);
        expect(r.body.consistent).to.equal(false);
        expect(r.body.discrepancies).to.deep.include({
          saleId,
          field: "releases[0].net",
          index: (BigInt(row.net) + 1n).toString(),
          chain: row.net,
        });
        // The figures themselves come from the chain.
        expect(r.body.net).to.equal(row.net);
        const coop = await auditor.get("/api/v1/audit/cooperatives/1");
        expect(coop.body.consistent).to.equal(false);
        expect(coop.body.discrepancies.some((d: { saleId: number }) => d.saleId === saleId)).to.equal(true);
      } finally {
        ctx.db.prepare("UPDATE ix_releases SET net = ? WHERE sale_id = ?").run(row.net, saleId);
      }
      expect((await auditor.get(`/api/v1/audit/sales/${saleId}`)).body.consistent).to.equal(true);
    });
    it("a contributor's weight changed in SQLite: inconsistent for each sale of the batch", async function () {
      const where = "WHERE batch_id = ? AND position = 1";
      const row = ctx.db.prepare(`SELECT weight FROM ix_batch_contributors ${where}`).get(batches.many) as {
        weight: string;
      };
      ctx.db.prepare(`UPDATE ix_batch_contributors SET weight = '999' ${where}`).run(batches.many);
      try {
        for (const saleId of [sales.manyCoinDispute, sales.manyEth]) {
          const r = await auditor.get(`/api/v1/audit/sales/${saleId}`);
          expect(r.body.consistent).to.equal(false);
          expect(r.body.discrepancies).to.deep.include({
            saleId,
            field: "contributors[1].weight",
            index: "999",
            chain: row.weight,
          });
        }
      } finally {
        ctx.db.prepare(`UPDATE ix_batch_contributors SET weight = ? ${where}`).run(row.weight, batches.many);
      }
    });
  });

  describe("GET /audit/cooperatives/:id", function () {
    it("totals per token and member, reserve balance, outstanding claims", async function () {
      const r = await auditor.get("/api/v1/audit/cooperatives/1?limit=100");
      expect(r.status, r.text).to.equal(200);
      const a = r.body;
      expect(a.consistent, JSON.stringify(a.discrepancies)).to.equal(true);
      expect(a.sales.total).to.equal(6);
      for (const token of [ZeroAddress, getAddress(stablecoin)]) {
        const tot = a.tokens.find((x: { token: { address: string } }) => x.token.address === token);
        let reserve = 0n;
        let gross = 0n;
        for (const ev of await t.contracts.escrow.queryFilter(
          t.contracts.escrow.filters.SaleReleased(undefined, undefined, token),
        )) {
          reserve += ev.args.reserve;
          gross += ev.args.gross;
        }
        expect(tot.gross).to.equal(gross.toString());
        expect(tot.reserveBalance).to.equal(reserve.toString()); // nothing withdrawn from the reserve
        expect(tot.reserveBalance).to.equal((await t.contracts.escrow.reserveOf(1, token)).toString());
        let claimed = 0n;
        for (const ev of await t.contracts.escrow.queryFilter(t.contracts.escrow.filters.Claimed(undefined, token))) {
          claimed += ev.args.amount;
        }
        expect(tot.claimed).to.equal(claimed.toString());
        // Outstanding = Σ shares − claimed (every release and claim is in the period).
        expect(BigInt(tot.outstanding)).to.equal(BigInt(tot.shares) - claimed);
      }
      const arabic = a.members.filter((m: { displayName: string }) => m.displayName === ARABIC);
      expect(arabic.length).to.be.greaterThan(0);
      expect(a.outstandingClaims.length).to.be.greaterThan(0);
    });
    it("paginates with a capped page size and filters by period", async function () {
      const p = await auditor.get("/api/v1/audit/cooperatives/1?limit=2&offset=2");
      expect(p.status, p.text).to.equal(200);
      expect(p.body.sales.items).to.have.length(2);
      expect(p.body.sales.items[0].saleId).to.equal(3);
      expect((await auditor.get("/api/v1/audit/cooperatives/1?limit=101")).status).to.equal(400);
      const future = await auditor.get(`/api/v1/audit/cooperatives/1?from=${day(2).slice(0, 10)}`);
      expect(future.body.sales.total).to.equal(0);
      expect(future.body.claims.total).to.equal(0);
      const today = await auditor.get(
        `/api/v1/audit/cooperatives/1?from=${day(-1).slice(0, 10)}&to=${day(1).slice(0, 10)}`,
      );
      expect(today.body.sales.total).to.equal(6);
      expect((await auditor.get("/api/v1/audit/cooperatives/1?from=yesterday")).status).to.equal(400);
      expect((await auditor.get("/api/v1/audit/cooperatives/42")).status).to.equal(404);
    });
  });

  describe("CSV", function () {
    it("a sale's CSV round-trips to its JSON: BOM, quoting, Arabic names intact", async function () {
      const json = (await auditor.get(`/api/v1/audit/sales/${sales.threeCoin}`)).body;
      for (const r of [
        await auditor.get(`/api/v1/audit/sales/${sales.threeCoin}.csv`),
        await auditor.get(`/api/v1/audit/sales/${sales.threeCoin}`, { accept: "text/csv" }),
      ]) {
        expect(r.status).to.equal(200);
        expect(r.headers.get("content-type")).to.match(/^text\/csv; charset=utf-8/);
        const res = await fetch(`${auditor.baseUrl}/api/v1/audit/sales/${sales.threeCoin}.csv`, {
          headers: { authorization: `Bearer ${auditor.token}` },
        });
        const bytes = new Uint8Array(await res.arrayBuffer());
        expect([...bytes.slice(0, 3)]).to.deep.equal([0xef, 0xbb, 0xbf]);
        const text = new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes);
        expect(text.charCodeAt(0)).to.equal(0xfeff);
        const rows = records(text.slice(1));
        const shares = rows.filter((x) => x.kind === "share");
        expect(shares.map((x) => [x.account, x.weight, x.amount, x.amount_decimal, x.display_name])).to.deep.equal(
          json.contributors.map((c: Record<string, string>) => [
            c.account,
            c.weight,
            c.share,
            c.shareHuman,
            c.displayName,
          ]),
        );
        expect(shares.map((x) => x.display_name)).to.include(ARABIC);
        const claims = rows.filter((x) => x.kind === "claim");
        const jsonClaims = json.transactions.filter((x: { step: string }) => x.step === "claim");
        expect(claims.map((x) => [x.account, x.amount, x.tx_hash])).to.deep.equal(
          jsonClaims.map((x: Record<string, string>) => [x.account, x.amount, x.txHash]),
        );
        for (const x of rows) {
          expect(x.sale_id).to.equal(String(sales.threeCoin));
          expect(x.symbol).to.equal(json.token.symbol);
        }
      }
    });
    it("a cooperative's CSV round-trips to its JSON page", async function () {
      const q = "?limit=3&offset=1";
      const json = (await auditor.get(`/api/v1/audit/cooperatives/1${q}`)).body;
      const r = await auditor.get(`/api/v1/audit/cooperatives/1.csv${q}`);
      expect(r.status).to.equal(200);
      const raw = await fetch(`${auditor.baseUrl}/api/v1/audit/cooperatives/1.csv${q}`, {
        headers: { authorization: `Bearer ${auditor.token}` },
      });
      const bytes = new Uint8Array(await raw.arrayBuffer());
      expect([...bytes.slice(0, 3)]).to.deep.equal([0xef, 0xbb, 0xbf]);
      // fetch's text() drops the BOM, as a spreadsheet does.
      expect(r.text.startsWith("sale_id,batch_id,")).to.equal(true);
      const rows = records(r.text);
      expect(rows.length).to.be.greaterThan(0);
      const expected = [
        ...json.sales.items.flatMap((s: { payouts: Record<string, unknown>[] }) => s.payouts),
        ...json.claims.items.map((c: Record<string, string>) => ({
          kind: "claim",
          account: c.account,
          amount: c.amount,
        })),
      ];
      expect(rows.length).to.equal(expected.length);
      rows.forEach((row, i) => {
        expect(row.kind).to.equal(expected[i].kind);
        expect(row.account).to.equal(expected[i].account);
        expect(row.amount).to.equal(String(expected[i].amount));
      });
      const viaAccept = await auditor.get(`/api/v1/audit/cooperatives/1${q}`, { accept: "text/csv" });
      expect(viaAccept.text).to.equal(r.text);
    });
  });

  describe("GET /audit/sales/:id/pack", function () {
    it("bundles the audit, proofs that verify against the on-chain root, EPCIS, deployment and the verifier command", async function () {
      const r = await auditor.get(`/api/v1/audit/sales/${sales.threeEthDispute}/pack`);
      expect(r.status, r.text).to.equal(200);
      const p = r.body;
      expect(p.audit.saleId).to.equal(sales.threeEthDispute);
      const onChain = await t.contracts.batches.getBatch(batches.three);
      expect(p.contributors.root).to.equal(onChain.contributorsRoot);
      expect(p.contributors.list).to.have.length(3);
      for (const c of p.contributors.list) {
        expect(SimpleMerkleTree.verify(onChain.contributorsRoot, contributorLeaf(BigInt(c.word)), c.proof)).to.equal(
          true,
        );
        expect(unpackContributor(BigInt(c.word))).to.deep.equal({ index: c.index, weight: BigInt(c.weight) });
        expect(await t.contracts.registry.accountAt(c.index)).to.equal(c.account);
      }
      expect(p.epcis.type).to.equal("EPCISDocument");
      expect(p.deployment.contracts.SaleEscrow.address).to.equal(ctx.deployment.contracts.SaleEscrow.address);
      expect(p.verify.command).to.equal(
        `npx cooptrace verify ${batches.three} --rpc ${ctx.rpcUrl} --deployment ${ctx.chainId}.json`,
      );
    });
  });

  describe("auth", function () {
    const paths = () => [
      `/api/v1/audit/sales/${sales.oneEth}`,
      `/api/v1/audit/sales/${sales.oneEth}.csv`,
      `/api/v1/audit/sales/${sales.oneEth}/pack`,
      "/api/v1/audit/cooperatives/1",
      "/api/v1/audit/cooperatives/1.csv",
    ];
    it("members, cooperative admins and buyers get 403; no token 401", async function () {
      for (const path of paths()) {
        for (const client of [memberClient, buyer, coopAdmin]) {
          const r = await auditor.as(client.token).get(path);
          expect(r.status, path).to.equal(403);
          expect(r.body.code).to.equal("forbidden");
        }
        expect((await auditor.as(undefined).get(path)).status, path).to.equal(401);
      }
    });
    it("the platform admin may audit", async function () {
      expect((await auditor.as(t.adminToken).get(`/api/v1/audit/sales/${sales.oneEth}`)).status).to.equal(200);
    });
    it("an auditor cannot write through the main API", async function () {
      const r = await auditorMain.post("/api/v1/batches", {
        cooperativeId: 1,
        productCode: "x",
        lotCode: "AUD-1",
        quantity: "1",
        unit: "kg",
        productionDate: day(-1),
        contributors: [{ memberId: members[0].userId, weight: "1" }],
      });
      expect(r.status, r.text).to.equal(403);
      const s = await auditorMain.post("/api/v1/sales", { batchId: batches.one, quantity: "1", price: "1" });
      expect(s.status, s.text).to.equal(403);
    });
  });
});
