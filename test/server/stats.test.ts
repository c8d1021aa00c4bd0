/**
 * Regional figures (/api/v1/stats and /stats) against a real gateway: cooperatives in three regions
 * (one with a hostile name), members, batches of several products in kg and litres, sales in ETH and
 * in the stablecoin over two UTC months (the chain clock is moved), then the exact figures, the
 * suppression of small member-derived cells (k = 3) and the page in four languages.
 */
import { expect } from "chai";
import express from "express";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { startTestGateway, type ApiClient, type TestGateway } from "../helpers/gateway";
import { createOpenApi } from "../../server/api/openapi";
import { statsRoutes, K_ANONYMITY, toDecimal } from "../../server/stats/routes";
import { STYLESHEET } from "../../server/pages/assets";
import { escapeHtml } from "../../server/pages/html";
import { CATALOGS } from "../../server/pages/i18n";

const HOSTILE = `Zagora <script>alert("x")</script> & 'co'`;
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
  const cell = (s: any, dim: "regions" | "products", key: string, month: string) =>
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

    // Month 1.
    await setChainTime(utcDay(2, 5));
    await coop("Roses de Tighmert", "Tinghir", true, ["A", "B", "C"]); // 1
    await coop("Roses du Dadès", "Tinghir", false, ["D"]); // 2
    await coop("Dattes du Draa", HOSTILE, false, ["E", "F", "G"]); // 3
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
    expect(body.regions.map((a: any) => a.key)).to.deep.equal([HOSTILE, "Midelt", "Tinghir"].sort());
  });

  it("counts cooperatives, women's cooperatives and members per region at each month's end", async function () {
    const s = await stats();
    for (const m of [M1, M2]) {
      const tinghir = cell(s, "regions", "Tinghir", m);
      expect(tinghir).to.include({ cooperatives: 2, womenCooperatives: 1 });
      expect(tinghir.members).to.deep.equal({ count: 4, suppressed: false });
      const zagora = cell(s, "regions", HOSTILE, m);
      expect(zagora).to.include({ cooperatives: 1, womenCooperatives: 0 });
      expect(zagora.members).to.deep.equal({ count: 3, suppressed: false });
      const midelt = cell(s, "regions", "Midelt", m);
      expect(midelt).to.include({ cooperatives: 1, womenCooperatives: 1 });
      expect(midelt.members).to.deep.equal({ count: null, suppressed: true }); // one member
    }
  });

  it("buckets batches, quantities per unit and sales by UTC month", async function () {
    const s = await stats();
    const t1 = cell(s, "regions", "Tinghir", M1);
    expect(t1.batches).to.equal(3);
    expect(t1.quantities).to.deep.equal([
      { unit: "kg", total: "140", suppressed: false }, // never added to litres
      { unit: "l", total: null, suppressed: true }, // 2 contributors
    ]);
    expect(t1.sales).to.equal(2);
    const t2 = cell(s, "regions", "Tinghir", M2);
    expect(t2).to.include({ batches: 0, sales: 1 });
    expect(t2.quantities).to.deep.equal([]);
    const z1 = cell(s, "regions", HOSTILE, M1);
    expect(z1).to.include({ batches: 1, sales: 1 });
    expect(z1.quantities).to.deep.equal([{ unit: "kg", total: "500", suppressed: false }]);
    // Month 2: Midelt's kg has one contributor; Zagora's kg (3 contributors) is suppressed as well,
    // else it could be subtracted from the products' kg of the month.
    expect(cell(s, "regions", "Midelt", M2).quantities).to.deep.equal([{ unit: "kg", total: null, suppressed: true }]);
    expect(cell(s, "regions", HOSTILE, M2).quantities).to.deep.equal([{ unit: "kg", total: null, suppressed: true }]);
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
    const [tinghirEth] = cell(s, "regions", "Tinghir", M1).revenue;
    expect(tinghirEth).to.deep.equal({
      token: ETH,
      symbol: "ETH",
      decimals: 18,
      currency: "ETH",
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
    const [tinghirEth2] = cell(s, "regions", "Tinghir", M2).revenue;
    expect(tinghirEth2).to.include({
      gross: "900000",
      net: eth2.net.toString(),
      membersSharePpm: ppm(eth2.net, eth2.gross),
    });
    const usd = sum(M1, [3], stablecoin);
    const [zagoraUsd] = cell(s, "regions", HOSTILE, M1).revenue;
    expect(zagoraUsd).to.include({
      token: stablecoin,
      decimals: 6,
      currency: "USD",
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
    const c = cell(s, "regions", "Tinghir", monthKey(utcDay(4, 12)));
    expect(c.sales).to.equal(1); // counts of sales are not member-derived
    expect(c.revenue).to.deep.equal([
      {
        token: ETH,
        symbol: "ETH",
        decimals: 18,
        currency: "ETH",
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
      expect(r.text).to.include("Zagora &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;co&#39;");
      expect(r.text).to.include("—"); // suppressed cells
      expect(r.text).not.to.match(/src="https?:/);
    }
    // Revenue in the demo dollar reads as money in its currency, labelled by it (no symbol of a token).
    const en = (await get("/stats?lang=en")).text.replace(/\s+/g, " ");
    expect(en).to.include("US$250.00");
    expect(en).to.include("(<bdi>USD</bdi>)");
    expect(en).to.include("(<bdi>ETH</bdi>)");
    expect(en).to.include(escapeHtml(CATALOGS.en.money.noRate("USD")));
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
