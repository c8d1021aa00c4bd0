/**
 * The arbiter's dispute pages and the auditor's lists end to end: a real gateway (embedded anvil, SQLite)
 * seeded with the demo, Debian's Chromium at 360 × 800, in Arabic and French.
 *
 * - Before the arbiter, what other roles do is set up through the API: the demo manager offers one unit of
 *   rose water, the demo buyer pays, the manager ships, the buyer opens a dispute.
 * - The arbiter sees the dispute in his list (in words: product, lot, cooperative, buyer, price), opens it,
 *   is refused an empty, a 101 and an "abc" share beside the field (400), settles with 30 %, and reads what
 *   the buyer gets back and what goes to the cooperative; the service says refundBps 3000.
 * - In French with JavaScript off: the form sent twice (a double tap) settles once, and a settlement through
 *   the page itself works without script.
 * - The auditor's home lists the cooperative and the sale; the sale's CSV downloaded from its page has the
 *   same bytes as the API's, and its evidence pack answers 200; so does the cooperative's CSV.
 * - axe-core: no serious or critical violation on each page; other roles get 403, the signed-out /signin.
 *
 * Screenshots are kept in SCREENSHOT_DIR (default: <tmp>/cooptrace-roles3).
 */
import { expect } from "chai";
import type { Browser, Page } from "playwright-core";
import type { DemoResult } from "../../server/demo/seed";
import { formatterFor } from "../../server/pages/format";
import { CATALOGS } from "../../server/pages/i18n";
import {
  noSeriousViolation,
  phone,
  screenshots,
  signInWithToken,
  submit,
  type TestLang,
  startSeededDemo,
  stopSeededDemo,
} from "../helpers/browser";
import type { TestGateway } from "../helpers/gateway";

const { dir: SCREENSHOTS, shot } = screenshots("cooptrace-roles3");
const PRICE = "1000000000000000"; // 0.001 ETH
const COOPERATIVE = "Coopérative Tighmert des Roses";
const BUYER = "Boutique Casablanca (demo)";

interface DemoTokens {
  cooperativeAdmin: string;
  buyer: string;
  arbiter: string;
  auditor: string;
}

describe("arbiter and auditor pages (e2e)", function () {
  this.timeout(300_000);
  let t: TestGateway;
  let demo: DemoResult;
  let tokens: DemoTokens;
  let browser: Browser;
  const resolved: number[] = [];

  before(async function () {
    ({ t, demo, tokens, browser } = await startSeededDemo<DemoTokens>());
  });

  after(async function () {
    await stopSeededDemo({ t, browser }, SCREENSHOTS);
  });

  /** What the manager and the buyer do before the arbiter (their pages are not this test's): a disputed sale. */
  async function disputedSale(): Promise<number> {
    const manager = t.api.as(tokens.cooperativeAdmin);
    const buyer = t.api.as(tokens.buyer);
    const offer = await manager.post<{ saleId: string }>("/api/v1/sales", {
      batchId: demo.roseWaterBatchId,
      quantity: "1",
      token: "ETH",
      price: PRICE,
    });
    expect(offer.status, offer.text).to.equal(201);
    const saleId = Number(offer.body.saleId);
    expect((await buyer.post(`/api/v1/sales/${saleId}/fund`)).status).to.be.oneOf([200, 201]);
    expect((await manager.post(`/api/v1/sales/${saleId}/ship`, {})).status).to.equal(201);
    const disputed = await buyer.post(`/api/v1/sales/${saleId}/dispute`, {});
    expect(disputed.status, disputed.text).to.equal(201);
    expect(t.gateway.ctx.services.sales.get(saleId).state).to.equal("Disputed");
    return saleId;
  }

  const amountOf = (lang: TestLang, raw: bigint) => `${formatterFor(CATALOGS[lang]).amount(raw, 18)} ETH`;

  async function refused(page: Page, lang: TestLang, value: string) {
    await page.fill("#refundPercent", value);
    const r = await submit(page, "#resolve");
    expect(r.status(), `refund "${value}"`).to.equal(400);
    expect(await page.locator("#refundPercent-error").innerText()).to.include(CATALOGS[lang].roles3.refundBad);
    expect(await page.locator(".error-summary a[href='#refundPercent']").count()).to.equal(1);
    expect(await page.inputValue("#refundPercent")).to.equal(value);
  }

  for (const lang of ["ar", "fr"] as const) {
    const c = CATALOGS[lang];
    it(`${lang}: the arbiter finds the dispute, is refused a bad share, settles with 30 %`, async function () {
      const saleId = await disputedSale();
      const { context, page } = await signInWithToken(browser, t.gateway.url, lang, tokens.arbiter);
      expect(new URL(page.url()).pathname).to.equal("/w");
      await submit(page, "#arbiter-disputes");
      expect(await page.locator("h1").innerText()).to.equal(c.roles3.disputesTitle);
      const card = page.locator(`section.dispute[data-sale="${saleId}"]`);
      const text = await card.innerText();
      expect(text).to.include(COOPERATIVE);
      expect(text).to.include(BUYER);
      expect(text).to.include(amountOf(lang, BigInt(PRICE)));
      expect(text).to.include("KMG-RW-2026-05");
      expect(text).to.not.match(/0x[0-9a-f]{8}/i);
      await noSeriousViolation(page, `disputes ${lang}`);
      await shot(page, `${lang}-01-disputes`);

      await submit(page, `#dispute-${saleId}`);
      expect(await page.locator("h1").innerText()).to.equal(c.roles3.resolveTitle);
      await noSeriousViolation(page, `resolve ${lang}`);
      await shot(page, `${lang}-02-resolve`);
      await refused(page, lang, "");
      await refused(page, lang, "101");
      await refused(page, lang, "abc");
      await noSeriousViolation(page, `resolve refused ${lang}`);
      await shot(page, `${lang}-03-resolve-refused`);

      await page.fill("#refundPercent", "30");
      const done = await submit(page, "#resolve");
      expect(done.status()).to.equal(200);
      expect(await page.locator("#resolved h1").innerText()).to.equal(c.roles3.resolvedTitle);
      const refund = (BigInt(PRICE) * 3000n) / 10_000n;
      expect(await page.locator("#buyer-gets").innerText()).to.include(amountOf(lang, refund));
      expect(await page.locator("#cooperative-gets").innerText()).to.include(amountOf(lang, BigInt(PRICE) - refund));
      await noSeriousViolation(page, `resolved ${lang}`);
      await shot(page, `${lang}-04-resolved`);

      const sale = t.gateway.ctx.services.sales.get(saleId);
      expect(sale.state).to.equal("Resolved");
      expect(sale.dispute?.resolution?.refundBps).to.equal(3000);
      expect(sale.refunds.map((r) => r.amount)).to.deep.equal([refund.toString()]);
      resolved.push(saleId);

      // Settled: no longer in the list; its page says there is nothing to decide.
      await page.goto(`${t.gateway.url}/w/arbiter/disputes?lang=${lang}`);
      expect(await page.locator(`#dispute-${saleId}`).count()).to.equal(0);
      await page.goto(`${t.gateway.url}/w/arbiter/disputes/${saleId}?lang=${lang}`);
      expect(await page.locator("#not-disputed").innerText()).to.include(c.sales.states.Resolved);
      await noSeriousViolation(page, `not disputed ${lang}`);
      await context.close();
    });
  }

  it("fr, JavaScript off: a settlement sent twice writes once; the page works without script", async function () {
    const c = CATALOGS.fr;
    const first = await disputedSale();
    const { context, page } = await signInWithToken(browser, t.gateway.url, "fr", tokens.arbiter, false);
    await page.goto(`${t.gateway.url}/w/arbiter/disputes/${first}?lang=fr`);
    const form = {
      csrf: await page.inputValue("input[name=csrf]"),
      once: await page.inputValue("input[name=once]"),
      refundPercent: "50",
    };
    // The same form sent twice (a double tap): both land on one confirmation, one decision on the chain.
    const send = () =>
      context.request.post(`${t.gateway.url}/w/arbiter/disputes/${first}?lang=fr`, {
        form,
        headers: { Origin: t.gateway.url },
        maxRedirects: 0,
      });
    const one = await send();
    const two = await send();
    expect(one.status()).to.equal(303);
    expect(two.status()).to.equal(303);
    expect(two.headers().location).to.equal(one.headers().location);
    const sale = t.gateway.ctx.services.sales.get(first);
    expect(sale.steps.filter((s) => s.step === "resolved")).to.have.length(1);
    expect(sale.dispute?.resolution?.refundBps).to.equal(5000);
    await page.goto(`${t.gateway.url}${one.headers().location}`);
    expect(await page.locator("#resolved h1").innerText()).to.equal(c.roles3.resolvedTitle);

    // Through the page, no script: list → dispute → a refused share → settled (axe needs script: it ran above).
    const second = await disputedSale();
    await page.goto(`${t.gateway.url}/w?lang=fr`);
    await submit(page, "#arbiter-disputes");
    await submit(page, `#dispute-${second}`);
    await refused(page, "fr", "abc");
    await page.fill("#refundPercent", "0");
    await submit(page, "#resolve");
    expect(await page.locator("#resolved h1").innerText()).to.equal(c.roles3.resolvedTitle);
    expect(await page.locator("#buyer-gets").innerText()).to.include(amountOf("fr", 0n));
    await shot(page, "fr-05-resolved-nojs");
    expect(t.gateway.ctx.services.sales.get(second).dispute?.resolution?.refundBps).to.equal(0);
    await context.close();
  });

  it("other roles get 403 on the arbiter's pages; the signed-out are sent to /signin", async function () {
    const { context, page } = await signInWithToken(browser, t.gateway.url, "fr", tokens.cooperativeAdmin);
    for (const p of ["/w/arbiter/disputes", `/w/arbiter/disputes/${demo.saleId}`]) {
      expect((await page.goto(`${t.gateway.url}${p}?lang=fr`))!.status(), p).to.equal(403);
    }
    await context.close();
    const anon = await phone(browser, "fr");
    const r = await anon.context.request.get(`${t.gateway.url}/w/arbiter/disputes?lang=fr`, { maxRedirects: 0 });
    expect(r.status()).to.equal(303);
    expect(r.headers().location).to.equal("/signin?lang=fr");
    await anon.context.close();
  });

  for (const lang of ["ar", "fr"] as const) {
    const c = CATALOGS[lang];
    it(`${lang}: the auditor's home lists the cooperative and the sales; downloads match the API`, async function () {
      expect(resolved.length).to.be.greaterThan(0);
      const saleId = resolved[0];
      const { context, page } = await signInWithToken(browser, t.gateway.url, lang, tokens.auditor);
      await page.goto(`${t.gateway.url}/audit?lang=${lang}`);
      expect(await page.locator("h1").innerText()).to.equal(c.audit.title);
      expect(await page.locator(`#audit-cooperative-${demo.cooperativeId}`).innerText()).to.include(COOPERATIVE);
      const line = page.locator(`#audit-sales li[data-sale="${saleId}"]`);
      expect(await line.innerText()).to.include(c.sales.states.Resolved);
      expect(await line.innerText()).to.include(amountOf(lang, BigInt(PRICE)));
      // Newest first: the first line is the newest sale.
      const ids = await page.locator("#audit-sales li").evaluateAll((els) => els.map((e) => Number(e.dataset.sale)));
      expect(ids).to.deep.equal([...ids].sort((a, b) => b - a));
      // The number fields stay, for whoever has a number.
      expect(await page.locator("input[name=sale]").count()).to.equal(1);
      await noSeriousViolation(page, `audit home ${lang}`);
      await shot(page, `${lang}-06-audit-home`);

      await submit(page, `#audit-sale-${saleId}`);
      expect(new URL(page.url()).pathname).to.equal(`/audit/sales/${saleId}`);
      await noSeriousViolation(page, `audit sale ${lang}`);
      await shot(page, `${lang}-07-audit-sale`);
      const csvHref = await page.getAttribute("#sale-csv", "href");
      const csv = await context.request.get(`${t.gateway.url}${csvHref}`);
      expect(csv.status()).to.equal(200);
      expect(csv.headers()["content-disposition"]).to.equal(`attachment; filename="sale-${saleId}.csv"`);
      expect(csv.headers()["cache-control"]).to.equal("no-store");
      const fromApi = await fetch(`${t.gateway.url}/api/v1/audit/sales/${saleId}.csv`, {
        headers: { authorization: `Bearer ${tokens.auditor}` },
      });
      expect(fromApi.status).to.equal(200);
      expect(Buffer.compare(await csv.body(), Buffer.from(await fromApi.arrayBuffer()))).to.equal(0);
      const pack = await context.request.get(`${t.gateway.url}${await page.getAttribute("#sale-pack", "href")}`);
      expect(pack.status()).to.equal(200);
      expect(pack.headers()["content-disposition"]).to.include("attachment");
      expect(((await pack.json()) as { audit?: { saleId?: number } }).audit?.saleId).to.equal(saleId);

      await page.goto(`${t.gateway.url}/audit?lang=${lang}`);
      await submit(page, `#audit-cooperative-${demo.cooperativeId}`);
      await noSeriousViolation(page, `audit cooperative ${lang}`);
      const coopCsv = await context.request.get(
        `${t.gateway.url}${await page.getAttribute("#cooperative-csv", "href")}`,
      );
      expect(coopCsv.status()).to.equal(200);
      const coopApi = await fetch(
        `${t.gateway.url}/api/v1/audit/cooperatives/${demo.cooperativeId}.csv?offset=0&limit=100`,
        { headers: { authorization: `Bearer ${tokens.auditor}` } },
      );
      expect(Buffer.compare(await coopCsv.body(), Buffer.from(await coopApi.arrayBuffer()))).to.equal(0);
      await context.close();
    });
  }

  it("signed out, the audit downloads are sent to sign-in", async function () {
    const anon = await phone(browser, "fr");
    for (const p of [
      `/audit/sales/${demo.saleId}.csv`,
      `/audit/sales/${demo.saleId}/pack`,
      "/audit/cooperatives/1.csv",
    ]) {
      const r = await anon.context.request.get(`${t.gateway.url}${p}?lang=fr`, { maxRedirects: 0 });
      expect(r.status(), p).to.equal(303);
      expect(r.headers().location).to.equal("/audit/login?lang=fr");
    }
    await anon.context.close();
  });
});
