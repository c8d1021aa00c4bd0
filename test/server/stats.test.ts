/**
 * Regional figures (/api/v1/stats and /stats) against a real gateway: cooperatives in three provinces
 * of Drâa-Tafilalet (one given by a town's name), members, batches of several products in kg and litres,
 * sales in ETH and in the stablecoin over two UTC months (the chain clock is moved), then the exact
 * figures, the suppression of small member-derived cells (k = 3) and the page in four languages; then
 * lots transformed, split and blended, sold in dirhams, whose figures are recomputed here from the
 * index (recursive SQL over the lineage) and compared with the JSON and the page.
 */
import { expect } from "chai";
import express from "express";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { startTestGateway, type ApiClient, type TestGateway } from "../helpers/gateway";
import { createOpenApi } from "../../server/api/openapi";
import { statsRoutes, K_ANONYMITY, toDecimal } from "../../server/stats/routes";
import { computeStats, UNKNOWN_PLACE } from "../../server/stats/compute";
import { placeOf } from "../../domain/regions";
import { STYLESHEET } from "../../server/pages/assets";
import { formatterFor } from "../../server/pages/format";
import { CATALOGS } from "../../server/pages/i18n";

const HOSTILE = `Zagora <script>alert("x")</script> & 'co'`;
const TIN = "MA-TIN";
const ZAG = "MA-ZAG";
const MID = "MA-MID";
const ETH = "0x0000000000000000000000000000000000000000";

/** Seconds of 00:00 UTC on day `day` of the month `offset` months after the current one. */
function utcDay(offset: number, day: number): number {
  const now = new Date();
  return Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset, day, 9) / 1000;
}
const monthKey = (seconds: number) => new Date(seconds * 1000).toISOString().slice(0, 7);

describe("regional figures (stats)", function () {
  this.timeout(240_000);
  let t: TestGateway;
  let server: Server;
  let base: string;
  let openapi: ReturnType<typeof createOpenApi>;
  let registrar: ApiClient;
  let buyer: ApiClient;
  let buyerAddress: string;
  let stablecoin: string;
  let mad: string;
  const admins: ApiClient[] = [];
  const members: Record<string, string> = {}; // name -> userId
  const batches: Record<string, string> = {};
  const released: { month: string; coop: number; token: string; gross: bigint; net: bigint }[] = [];
  const M1 = monthKey(utcDay(2, 5));
  const M2 = monthKey(utcDay(3, 10));

  // The relayer signs requests with a deadline from the process clock, checked on-chain against the
  // block time: the process clock (Date.now only) moves forward with the chain's.
  const realNow = Date.now;
  async function setChainTime(seconds: number) {
    const offset = seconds * 1000 - realNow();
    Date.now = () => realNow() + offset;
    await t.provider.send("evm_setNextBlockTimestamp", [seconds]);
    await t.provider.send("evm_mine", []);
  }

  async function coop(name: string, region: string, womenLed: boolean, memberNames: string[]) {
    const r = await registrar.post("/api/v1/cooperatives", {
      name,
      region,
      registrationNumber: `ODCO-${admins.length + 1}`,
      reserveBps: 500 + 500 * admins.length,
      womenLed,
      admin: { displayName: `${name} admin` },
    });
    expect(r.status, r.text).to.equal(201);
    const admin = t.api.as(r.body.admin.token);
    admins.push(admin);
    for (const m of memberNames) {
      const a = await admin.post(`/api/v1/cooperatives/${r.body.cooperativeId}/members`, {
        displayName: m,
        reference: `card-${m}`,
      });
      expect(a.status, a.text).to.equal(201);
      members[m] = a.body.member.userId;
    }
    return r.body.cooperativeId as number;
  }

  async function batch(
    coopId: number,
    lot: string,
    productCode: string,
    quantity: string,
    unit: string,
    who: string[],
  ) {
    const r = await admins[coopId - 1].post("/api/v1/batches", {
      cooperativeId: coopId,
      productCode,
      lotCode: lot,
      quantity,
      unit,
      productionDate: new Date().toISOString().slice(0, 10),
      contributors: who.map((m, i) => ({ memberId: members[m], weight: String(10 * (i + 1)) })),
    });
    expect(r.status, r.text).to.equal(201);
    batches[lot] = r.body.batchId;
  }

  async function sell(coopId: number, lot: string, token: string, price: bigint, month: string) {
    const admin = admins[coopId - 1];
    const offer = await admin.post("/api/v1/sales", {
      batchId: batches[lot],
      quantity: "1",
      token,
      price: price.toString(),
      buyer: buyerAddress,
    });
    expect(offer.status, offer.text).to.equal(201);
    const id = offer.body.saleId;
    const fund = await buyer.post(`/api/v1/sales/${id}/fund`);
    expect(fund.status, fund.text).to.equal(201);
    expect((await admin.post(`/api/v1/sales/${id}/ship`, {})).status).to.equal(201);
    const confirm = await buyer.post(`/api/v1/sales/${id}/confirm`, {});
    expect(confirm.status, confirm.text).to.equal(201);
    const ev = confirm.body.events.find((e: { name: string }) => e.name === "SaleReleased");
    released.push({
      month,
      coop: coopId,
      token: token === "ETH" ? ETH : token,
      gross: BigInt(ev.args.gross),
      net: BigInt(ev.args.net),
    });
  }

  const get = async (path: string, headers: Record<string, string> = {}) => {
    const r = await fetch(base + path, { headers });
    return { status: r.status, headers: r.headers, text: await r.text() };
  };
  const stats = async () => JSON.parse((await get("/api/v1/stats")).text);
  const cell = (s: any, dim: "regions" | "provinces" | "products", key: string, month: string) =>
    s[dim].find((a: any) => a.key === key).months.find((m: any) => m.month === month);
  const ppm = (net: bigint, gross: bigint) => Number((net * 1_000_000n) / gross);

  before(async function () {
    t = await startTestGateway();
    const app = express();
    const r = express.Router();
    openapi = createOpenApi("/api/v1", { title: "t", version: "1", description: "t" });
    statsRoutes(app, r, openapi, t.gateway.ctx);
    app.use("/api/v1", r);
    app.get(STYLESHEET.path, (_req, res) => res.type("css").send(STYLESHEET.body));
    server = app.listen(0);
    await new Promise((resolve) => server.once("listening", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const reg = await t.admin.post("/api/v1/users", { role: "registrar", displayName: "ODCO" });
    registrar = t.api.as(reg.body.token);
    const signup = await t.api.post("/api/v1/buyers", { displayName: "Shop" });
    buyer = t.api.as(signup.body.token);
    buyerAddress = signup.body.user.address;
    const faucet = await buyer.post("/api/v1/faucet");
    expect(faucet.status, faucet.text).to.equal(201);
    stablecoin = faucet.body.stablecoin.address;
    mad = faucet.body.money.find((m: { currency: string }) => m.currency === "MAD").address;

    // Month 1.
    await setChainTime(utcDay(2, 5));
    await coop("Roses de Tighmert", TIN, true, ["A", "B", "C"]); // 1
    await coop("Roses du Dadès", "Kelaat M'Gouna", false, ["D"]); // 2: a town of Tinghir, stored as its code
    await coop(HOSTILE, ZAG, false, ["E", "F", "G"]); // 3
    await coop("Pommes de Midelt", "Midelt", true, ["H"]); // 4
    await batch(1, "ROSE-1", "rose-petals", "100", "kg", ["A", "B", "C"]);
    await batch(2, "ROSE-2", "rose-petals", "40", "kg", ["D"]);
    await batch(1, "RW-1", "rose-water", "30", "l", ["A", "B"]);
    await batch(3, "DATE-1", "dates-mejhoul", "500", "kg", ["E", "F", "G"]);
    await sell(1, "ROSE-1", "ETH", 600_000n, M1);
    await sell(2, "ROSE-2", "ETH", 100_000n, M1);
    await sell(3, "DATE-1", stablecoin, 250_000_000n, M1);

    // Month 2.
    await setChainTime(utcDay(3, 10));
    await batch(4, "APL-1", "apples", "200", "kg", ["H"]);
    await batch(3, "DATE-2", "dates-mejhoul", "300", "kg", ["E", "F", "G"]);
    await sell(1, "ROSE-1", "ETH", 900_000n, M2);
  });

  after(async function () {
    Date.now = realNow;
    await new Promise((resolve) => server?.close(resolve));
    await t?.stop();
  });

  it("is documented in the OpenAPI builder and public", async function () {
    const r = await get("/api/v1/stats");
    expect(r.status).to.equal(200);
    const body = JSON.parse(r.text);
    const doc = openapi.document("http://x") as { paths: Record<string, any> };
    expect(doc.paths["/api/v1/stats"].get.security).to.deep.equal([]);
    expect(body.privacy.k).to.equal(3).and.to.equal(K_ANONYMITY);
    expect(body.months).to.deep.equal([M1, M2]);
    expect(body.regions.map((a: any) => a.key)).to.deep.equal(["MA-08"]);
    expect(body.provinces.map((a: any) => a.key)).to.deep.equal([MID, TIN, ZAG]);
  });

  it("counts cooperatives, women's cooperatives and members per region at each month's end", async function () {
    const s = await stats();
    for (const m of [M1, M2]) {
      const tinghir = cell(s, "provinces", TIN, m);
      expect(tinghir).to.include({ cooperatives: 2, womenCooperatives: 1 });
      expect(tinghir.members).to.deep.equal({ count: 4, suppressed: false });
      const zagora = cell(s, "provinces", ZAG, m);
      expect(zagora).to.include({ cooperatives: 1, womenCooperatives: 0 });
      expect(zagora.members).to.deep.equal({ count: 3, suppressed: false });
      const midelt = cell(s, "provinces", MID, m);
      expect(midelt).to.include({ cooperatives: 1, womenCooperatives: 1 });
      expect(midelt.members).to.deep.equal({ count: null, suppressed: true }); // one member
    }
  });

  it("adds the provinces of a region into the region, from codes stored on-chain", async function () {
    const s = await stats();
    for (const m of [M1, M2]) {
      const draa = cell(s, "regions", "MA-08", m);
      expect(draa).to.include({ cooperatives: 4, womenCooperatives: 2 });
      expect(draa.members).to.deep.equal({ count: 8, suppressed: false });
    }
    // The town's name was stored as its province's code: one spelling on-chain.
    expect((await t.contracts.registry.getCooperative(2)).region).to.equal(TIN);
  });

  it("refuses a cooperative whose region is not a province of the list, and registers nothing", async function () {
    const before = (await t.api.get("/api/v1/cooperatives")).body;
    for (const region of ["Drâa-Tafilalet", HOSTILE, "MA-99", ""]) {
      const r = await registrar.post("/api/v1/cooperatives", {
        name: "Refused",
        region,
        registrationNumber: "ODCO-X",
        reserveBps: 100,
        admin: { displayName: "nobody" },
      });
      expect(r.status, region).to.equal(400);
      expect(r.body.code).to.equal("invalid_field");
      expect(r.body.errors.map((e: { field: string }) => e.field)).to.deep.equal(["region"]);
    }
    expect((await t.api.get("/api/v1/cooperatives")).body).to.deep.equal(before);
    const list = await get("/api/v1/regions");
    const regions = JSON.parse(list.text).regions;
    expect(regions).to.have.length(12);
    const draa = regions.find((r: { code: string }) => r.code === "MA-08");
    expect(draa.provinces.map((p: { code: string }) => p.code).sort()).to.deep.equal([
      "MA-ERR",
      "MA-MID",
      "MA-OUA",
      "MA-TIN",
      "MA-ZAG",
    ]);
  });

  it("buckets batches, quantities per unit and sales by UTC month", async function () {
    const s = await stats();
    const t1 = cell(s, "provinces", TIN, M1);
    expect(t1.batches).to.equal(3);
    expect(t1.quantities).to.deep.equal([
      { unit: "kg", total: "140", suppressed: false }, // never added to litres
      { unit: "l", total: null, suppressed: true }, // 2 contributors
    ]);
    expect(t1.sales).to.equal(2);
    const t2 = cell(s, "provinces", TIN, M2);
    expect(t2).to.include({ batches: 0, sales: 1 });
    expect(t2.quantities).to.deep.equal([]);
    const z1 = cell(s, "provinces", ZAG, M1);
    expect(z1).to.include({ batches: 1, sales: 1 });
    expect(z1.quantities).to.deep.equal([{ unit: "kg", total: "500", suppressed: false }]);
    // Month 2: Midelt's kg has one contributor; Zagora's kg (3 contributors) is suppressed as well,
    // else it could be subtracted from the products' kg of the month.
    expect(cell(s, "provinces", MID, M2).quantities).to.deep.equal([{ unit: "kg", total: null, suppressed: true }]);
    expect(cell(s, "provinces", ZAG, M2).quantities).to.deep.equal([{ unit: "kg", total: null, suppressed: true }]);
    expect(cell(s, "products", "apples", M2).quantities[0].suppressed).to.equal(true);
    expect(cell(s, "products", "dates-mejhoul", M2).quantities[0].suppressed).to.equal(true);
  });

  it("reports gross revenue per token, exact and with decimals, and the members' share", async function () {
    const s = await stats();
    const sum = (month: string, coops: number[], token: string) => {
      const rows = released.filter((r) => r.month === month && coops.includes(r.coop) && r.token === token);
      return { gross: rows.reduce((a, r) => a + r.gross, 0n), net: rows.reduce((a, r) => a + r.net, 0n) };
    };
    const eth1 = sum(M1, [1, 2], ETH);
    expect(eth1.gross).to.equal(700_000n);
    const [tinghirEth] = cell(s, "provinces", TIN, M1).revenue;
    expect(tinghirEth).to.deep.equal({
      currency: "ETH",
      tokens: [ETH],
      symbol: "ETH",
      decimals: 18,
      gross: "700000",
      grossHuman: toDecimal(700_000n, 18),
      net: eth1.net.toString(),
      netHuman: toDecimal(eth1.net, 18),
      membersSharePpm: ppm(eth1.net, eth1.gross),
      membersSharePercent: (ppm(eth1.net, eth1.gross) / 10_000).toFixed(4),
      suppressed: false,
    });
    expect(tinghirEth.grossHuman).to.equal("0.0000000000007");
    const eth2 = sum(M2, [1], ETH);
    const [tinghirEth2] = cell(s, "provinces", TIN, M2).revenue;
    expect(tinghirEth2).to.include({
      gross: "900000",
      net: eth2.net.toString(),
      membersSharePpm: ppm(eth2.net, eth2.gross),
    });
    const usd = sum(M1, [3], stablecoin);
    const [zagoraUsd] = cell(s, "provinces", ZAG, M1).revenue;
    expect(zagoraUsd.tokens).to.deep.equal([stablecoin]);
    expect(zagoraUsd).to.include({
      currency: "USD",
      decimals: 6,
      gross: "250000000",
      grossHuman: "250",
      net: usd.net.toString(),
      netHuman: toDecimal(usd.net, 6),
      membersSharePpm: ppm(usd.net, usd.gross),
    });
    // Per product: rose petals sold by two cooperatives in month 1 (4 contributors).
    const rose = cell(s, "products", "rose-petals", M1);
    expect(rose).to.include({ cooperatives: 2, womenCooperatives: 1, batches: 2, sales: 2 });
    expect(rose.members).to.deep.equal({ count: 4, suppressed: false });
    expect(rose.revenue[0]).to.include({ gross: "700000", net: eth1.net.toString() });
    const water = cell(s, "products", "rose-water", M1);
    expect(water.members).to.deep.equal({ count: null, suppressed: true });
    expect(water.quantities).to.deep.equal([{ unit: "l", total: null, suppressed: true }]);
  });

  it("suppresses revenue backed by fewer than 3 members", async function () {
    // Only cooperative 2 (one member) sells in a third month.
    await setChainTime(utcDay(4, 12));
    await sell(2, "ROSE-2", "ETH", 50_000n, monthKey(utcDay(4, 12)));
    const s = await stats();
    const c = cell(s, "provinces", TIN, monthKey(utcDay(4, 12)));
    expect(c.sales).to.equal(1); // counts of sales are not member-derived
    expect(c.revenue).to.deep.equal([
      {
        currency: "ETH",
        tokens: [ETH],
        symbol: "ETH",
        decimals: 18,
        gross: null,
        grossHuman: null,
        net: null,
        netHuman: null,
        membersSharePpm: null,
        membersSharePercent: null,
        suppressed: true,
      },
    ]);
    expect(JSON.stringify(s)).not.to.include('"50000"');
  });

  describe("lots transformed, split and blended (counts through lineage)", function () {
    const M5 = monthKey(utcDay(5, 8));
    const post = async (who: ApiClient, path: string, body: unknown) => {
      const r = await who.post(path, body);
      expect(r.status, `${path}: ${r.text}`).to.equal(201);
      return r.body;
    };

    before(async function () {
      await setChainTime(utcDay(5, 8));
      await batch(1, "PET-A", "rose-petals", "50", "kg", ["A", "B", "C"]);
      await batch(1, "PET-B", "rose-petals", "30", "kg", ["A", "B"]);
      const day = new Date(utcDay(5, 8) * 1000).toISOString().slice(0, 10);
      // Rose water distilled from the petals of both lots: a transformation, then bottled in two lots.
      const rw = await post(admins[0], "/api/v1/batches/merge", {
        cooperativeId: 1,
        inputs: [
          { batchId: batches["PET-A"], quantity: "40" },
          { batchId: batches["PET-B"], quantity: "20" },
        ],
        productCode: "rose-water",
        lotCode: "RW-T",
        quantity: "60",
        unit: "l",
        productionDate: day,
      });
      const split = await post(admins[0], `/api/v1/batches/${rw.batchId}/split`, {
        children: [
          { lotCode: "RW-T1", quantity: "30" },
          { lotCode: "RW-T2", quantity: "30" },
        ],
      });
      batches["RW-T1"] = split.childIds[0];
      // Dates of two harvests blended into one lot of the same product: no new lot, no new quantity.
      await batch(3, "DATE-3", "dates-mejhoul", "100", "kg", ["E", "F", "G"]);
      await batch(3, "DATE-4", "dates-mejhoul", "100", "kg", ["E", "F"]);
      const mix = await post(admins[2], "/api/v1/batches/merge", {
        cooperativeId: 3,
        inputs: [
          { batchId: batches["DATE-3"], quantity: "100" },
          { batchId: batches["DATE-4"], quantity: "100" },
        ],
        productCode: "dates-mejhoul",
        lotCode: "DATE-MIX",
        quantity: "200",
        unit: "kg",
        productionDate: day,
      });
      batches["DATE-MIX"] = mix.batchId;
      await sell(1, "RW-T1", mad, 1_200_000n, M5); // 12,000.00 MAD
      await sell(3, "DATE-MIX", mad, 350_000n, M5); // 3,500.00 MAD
    });

    /** The month's figures of a product, recomputed from the index tables with SQL of this test's own. */
    function fromIndex(product: string, month: string) {
      const db = t.gateway.ctx.db;
      const MONTH = (col: string) => `strftime('%Y-%m', ${col}, 'unixepoch')`;
      const origins = (ids: string[]): string[] =>
        ids.length === 0
          ? []
          : db
              .prepare(
                `WITH RECURSIVE up(id) AS (SELECT value FROM json_each(?)
                   UNION SELECT l.parent_id FROM up JOIN ix_lineage l ON l.child_id = up.id)
                 SELECT DISTINCT b.batch_id AS id FROM up JOIN ix_batches b ON b.batch_id = up.id
                  WHERE b.kind = 'registered'`,
              )
              .all(JSON.stringify(ids))
              .map((r: any) => r.id as string);
      const newLots = db
        .prepare(
          `SELECT b.batch_id AS id, b.quantity FROM ix_batches b
            WHERE b.product_code = ? AND ${MONTH("b.block_time")} = ?
              AND (b.kind = 'registered' OR (b.kind = 'merge' AND NOT EXISTS (
                SELECT 1 FROM ix_lineage l JOIN ix_batches p ON p.batch_id = l.parent_id
                 WHERE l.child_id = b.batch_id AND p.product_code = b.product_code)))`,
        )
        .all(product, month) as { id: string; quantity: string }[];
      const sold = db
        .prepare(
          `SELECT r.batch_id AS id, r.gross, r.net FROM ix_releases r JOIN ix_batches b ON b.batch_id = r.batch_id
            WHERE b.product_code = ? AND ${MONTH("r.block_time")} = ?`,
        )
        .all(product, month) as { id: string; gross: string; net: string }[];
      const behind = origins([...newLots.map((l) => l.id), ...sold.map((r) => r.id)]);
      const inList = (ids: string[]) => `(${ids.map(() => "?").join(",") || "NULL"})`;
      const coops = db
        .prepare(`SELECT DISTINCT cooperative_id AS id FROM ix_batches WHERE batch_id IN ${inList(behind)}`)
        .all(...behind)
        .map((r: any) => r.id as number);
      const people = [...behind, ...newLots.map((l) => l.id), ...sold.map((r) => r.id)];
      const members = db
        .prepare(`SELECT DISTINCT account FROM ix_batch_contributors WHERE batch_id IN ${inList(people)}`)
        .all(...people).length;
      return {
        batches: newLots.length,
        quantity: newLots.reduce((a, l) => a + BigInt(l.quantity), 0n).toString(),
        sales: sold.length,
        originLots: origins(sold.map((r) => r.id)).length,
        cooperatives: coops.length,
        members,
        gross: sold.reduce((a, r) => a + BigInt(r.gross), 0n),
        net: sold.reduce((a, r) => a + BigInt(r.net), 0n),
      };
    }

    /** The rows of a product's month on the page, by row class. */
    function pageRows(page: string, product: string, month: string): Record<string, string> {
      const section = page.slice(page.indexOf(`data-dim="products" data-key="${product}"`));
      const details = section.slice(section.indexOf(`data-month="${month}"`), section.indexOf("</details>"));
      const rows: Record<string, string> = {};
      for (const m of details.matchAll(
        /<tr class="([a-z-]+)">\s*<th scope="row">[\s\S]*?<\/th>\s*<td class="num">([\s\S]*?)<\/td>/g,
      ))
        rows[m[1]] = m[2].replace(/<[^>]+>/g, "").trim();
      return rows;
    }

    for (const [product, expected] of [
      ["rose-water", { batches: 1, quantity: "60", sales: 1, originLots: 2, cooperatives: 1, members: 3 }],
      ["dates-mejhoul", { batches: 2, quantity: "200", sales: 1, originLots: 2, cooperatives: 1, members: 3 }],
    ] as const) {
      it(`${product}: the JSON and the page show what the index says, traced through the lineage`, async function () {
        const ix = fromIndex(product, M5);
        // What this test built (a check on the recomputation itself).
        expect(ix).to.include(expected);
        const json = cell(await stats(), "products", product, M5);
        expect(json).to.include({
          batches: ix.batches,
          sales: ix.sales,
          originLots: ix.originLots,
          cooperatives: ix.cooperatives,
          womenCooperatives: product === "rose-water" ? 1 : 0,
        });
        expect(json.members).to.deep.equal({ count: ix.members, suppressed: false });
        expect(json.quantities.map((q: any) => q.total)).to.deep.equal([ix.quantity]);
        const [money] = json.revenue;
        expect(money).to.include({
          currency: "MAD",
          decimals: 2,
          gross: ix.gross.toString(),
          net: ix.net.toString(),
          membersSharePpm: ppm(ix.net, ix.gross),
        });
        for (const lang of ["fr", "ar"] as const) {
          const c = CATALOGS[lang];
          const f = formatterFor(c);
          const page = (await get(`/stats?lang=${lang}`)).text;
          const rows = pageRows(page, product, M5);
          expect(rows, lang).to.include({
            cooperatives: f.integer(ix.cooperatives),
            batches: f.integer(ix.batches),
            sales: f.integer(ix.sales),
            "origin-lots": f.integer(ix.originLots),
            "members-count": f.integer(ix.members),
            revenue: f.money(ix.gross, { symbol: "MAD", decimals: 2, currency: "MAD" }),
          });
          expect(rows.members).to.match(/%/);
          expect(rows.members).to.include(f.percent(Math.floor(ppm(ix.net, ix.gross) / 100)));
        }
      });
    }

    it("shows the dirham sale as money: 12,000.00 MAD, never in the token's units or as ETH", async function () {
      const fr = (await get("/stats?lang=fr")).text;
      const en = (await get("/stats?lang=en")).text;
      expect(en).to.match(/MAD[\s\u00a0]12,000\.00/);
      expect(fr).to.match(/12[\s\u202f\u00a0.]000,00[\s\u202f\u00a0]MAD/);
      expect(fr).to.include("Recettes (dirham marocain)");
      for (const page of [fr, en]) {
        expect(page).not.to.include("dMAD");
        // Every share is labelled as a percentage and shown as one (it once read "(ETH)").
        const shares = [
          ...page.matchAll(
            /<tr class="members">\s*<th scope="row">([\s\S]*?)<\/th>\s*<td class="num">([\s\S]*?)<\/td>/g,
          ),
        ];
        expect(shares.length).to.be.greaterThan(3);
        for (const [, label, value] of shares) {
          expect(label.trim()).to.match(/\(%\)$/);
          expect(value).to.match(/%|—/);
        }
      }
    });

    it("counts the sales of the province and the region with the lots behind them", async function () {
      const s = await stats();
      expect(cell(s, "provinces", TIN, M5)).to.include({ batches: 3, sales: 1, originLots: 2 });
      expect(cell(s, "provinces", ZAG, M5)).to.include({ batches: 2, sales: 1, originLots: 2 });
      expect(cell(s, "regions", "MA-08", M5)).to.include({ batches: 5, sales: 2, originLots: 4 });
    });
  });

  it("serves the page in four languages with inline SVG charts, no script, escaped names", async function () {
    for (const [lang, dir] of [
      ["ar", "rtl"],
      ["zgh", "ltr"],
      ["fr", "ltr"],
      ["en", "ltr"],
    ]) {
      const r = await get(`/stats?lang=${lang}`);
      expect(r.status).to.equal(200);
      expect(r.headers.get("content-type")).to.match(/^text\/html/);
      expect(r.headers.get("content-security-policy")).to.include("default-src 'none'");
      expect(r.text).to.include(`<html lang="${lang}" dir="${dir}">`);
      expect(r.text).to.match(/<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
      expect(r.text).to.match(/<rect /);
      expect(r.text).not.to.match(/<script/i);
      expect(r.text).not.to.match(/ on[a-z]+=/i);
      // Places by name in the reader's language, never by code; the hostile cooperative's name is not on the page.
      expect(r.text).to.include(lang === "ar" ? "تنغير" : lang === "zgh" ? "ⵜⵉⵏⵖⵉⵔ" : "Tinghir");
      expect(r.text).not.to.match(/>\s*MA-[A-Z0-9]{2,3}\s*</);
      expect(r.text).not.to.include("<script>alert");
      expect(r.text).to.include("—"); // suppressed cells
      expect(r.text).not.to.match(/src="https?:/);
    }
    const fr = await get("/stats", { "accept-language": "fr-MA,fr;q=0.9" });
    expect(fr.text).to.include('<html lang="fr" dir="ltr">');
    expect(fr.text).to.include("Chiffres régionaux");
    expect(fr.text).to.include("moins de 3 membres");
  });

  if (process.env.STATS_SCREENSHOT) {
    it("renders in Chromium (screenshot for a human look)", async function () {
      const { chromium } = await import("playwright-core");
      const browser = await chromium.launch({
        executablePath: "/usr/bin/chromium",
        args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
      });
      try {
        const page = await browser.newPage({ viewport: { width: 420, height: 900 } });
        const errors: string[] = [];
        page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
        for (const lang of ["ar", "fr"]) {
          await page.goto(`${base}/stats?lang=${lang}`);
          await page.screenshot({ path: `${process.env.STATS_SCREENSHOT}-${lang}.png`, fullPage: true });
        }
        expect(errors).to.deep.equal([]);
      } finally {
        await browser.close();
      }
    });
  }
});

describe("places of older registrations (free text mapped to the fixed list)", function () {
  it("maps usual spellings of a region or a province, and leaves the rest 'not given'", function () {
    const cases: [string, string | null, string | null][] = [
      ["Drâa-Tafilalet", "MA-08", null],
      ["Draa Tafilalet", "MA-08", null],
      ["DRAA-TAFILALET", "MA-08", null],
      ["درعة - تافيلالت", "MA-08", null],
      ["Drâa-Tafilalet, Tinghir, Kelaat M'Gouna", "MA-08", "MA-TIN"],
      ["Erfoud", "MA-08", "MA-ERR"],
      ["Tinghir, Zagora", "MA-08", null],
      ["Tanger-Tétouan-Al Hoceïma", "MA-01", null],
      ["MA-zag", "MA-08", "MA-ZAG"],
      ["Dattes du Draa", null, null],
      [HOSTILE, "MA-08", "MA-ZAG"],
      ["X", null, null],
    ];
    for (const [text, region, province] of cases) expect(placeOf(text), text).to.deep.equal({ region, province });
  });

  it("counts two spellings of one region together and the unknown apart", function () {
    const coop = (id: number, region: string) => ({ cooperativeId: id, region, womenLed: false, since: 1_700_000_000 });
    const st = computeStats(
      {
        lastBlock: 1,
        cooperatives: [coop(1, "Drâa-Tafilalet"), coop(2, "Draa Tafilalet"), coop(3, "MA-TIN"), coop(4, "Atlantis")],
        members: [],
        batches: [],
        lineage: [],
        releases: [],
        contributors: new Map(),
      },
      new Map(),
    );
    expect(st.regions.map((r) => [r.key, r.months[0].cooperatives])).to.deep.equal([
      ["MA-08", 3],
      [UNKNOWN_PLACE, 1],
    ]);
    expect(st.provinces.map((r) => [r.key, r.months[0].cooperatives])).to.deep.equal([["MA-TIN", 1]]);
  });
});
