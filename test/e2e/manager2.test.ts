/**
 * The cooperative manager's second set of pages end to end: a real gateway (embedded anvil, SQLite) seeded
 * with the demo, Debian's Chromium at 360 × 800, in Arabic and French, through the pages (the API only
 * sets up what a buyer does: a sale offered, paid, shipped, confirmed):
 *
 * - split the demo harvest into bags: more than is left refused beside the field (400, values kept), then
 *   two new lots with links to their public pages; once more with JavaScript off;
 * - merge the two bags into rose water (a transform): more than a bag holds refused beside the field,
 *   then the new lot and what it was made from;
 * - pay one member, then everyone: each member's account grows by exactly her share, to the wei, and the
 *   escrow's claimed amounts agree; a double submit pays once; a stale form says "already paid" calmly;
 * - release a shipped sale after its dispute window (chain time moved on), then pay its shares;
 * - the member card PDF: application/pdf, %PDF, her fonts embedded, and its QR code decodes (from the
 *   PDF's own drawing) to her card's link;
 * - axe-core: no serious or critical violation on each page.
 *
 * Screenshots are kept in SCREENSHOT_DIR (default: <tmp>/cooptrace-manager2).
 */
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { inflateSync } from "node:zlib";
import { ZeroAddress } from "ethers";
import jsQR from "jsqr";
import type { Browser } from "playwright-core";
import { seedDemo, type DemoResult } from "../../server/demo/seed";
import { formatterFor } from "../../server/pages/format";
import { CATALOGS } from "../../server/pages/i18n";
import {
  launchChromium,
  noSeriousViolation,
  PHONE,
  screenshots,
  signInWithToken,
  submit,
  type TestLang,
} from "../helpers/browser";
import { startTestGateway, type ApiClient, type TestGateway } from "../helpers/gateway";

const { dir: SCREENSHOTS, shot } = screenshots("cooptrace-manager2");
const DAY = 86_400;
const realNow = Date.now;

interface DemoTokens {
  cooperativeAdmin: string;
  buyer: string;
  auditor: string;
  members: { name: string; card: string }[];
}

/**
 * The QR code a PDF draws (pdfkit writes each run of dark modules as an `x y w h re`), read back with a
 * QR decoder: the squares of one size are the modules; they are put on a grid and decoded with jsQR.
 */
function qrOfPdf(pdf: Buffer): string | null {
  const text = pdf.toString("latin1");
  const ops: string[] = [];
  for (const m of text.matchAll(/stream\r?\n/g)) {
    const start = m.index + m[0].length;
    const end = text.indexOf("endstream", start);
    try {
      ops.push(inflateSync(pdf.subarray(start, end)).toString("latin1"));
    } catch {
      // Not a deflated content stream (a font, an image): not what is looked for.
    }
  }
  const rects: { x: number; y: number; w: number }[] = [];
  for (const op of ops)
    for (const r of op.matchAll(/(-?[\d.]+) (-?[\d.]+) (-?[\d.]+) (-?[\d.]+) re/g)) {
      const [x, y, w, h] = r.slice(1, 5).map(Number);
      if (Math.abs(w - h) < 0.001 && w < 10) rects.push({ x, y, w });
    }
  if (rects.length === 0) return null;
  const module = rects[0].w - 0.05;
  const x0 = Math.min(...rects.map((r) => r.x));
  const y0 = Math.min(...rects.map((r) => r.y));
  const size = Math.round((Math.max(...rects.map((r) => r.x)) - x0) / module) + 1;
  const scale = 6;
  const side = (size + 8) * scale;
  const data = new Uint8ClampedArray(side * side * 4).fill(255);
  for (const r of rects) {
    const col = Math.round((r.x - x0) / module) + 4;
    const row = Math.round((r.y - y0) / module) + 4;
    for (let dy = 0; dy < scale; dy++)
      for (let dx = 0; dx < scale; dx++) {
        const i = ((row * scale + dy) * side + col * scale + dx) * 4;
        data[i] = data[i + 1] = data[i + 2] = 0;
      }
  }
  return jsQR(data, side, side)?.data ?? null;
}

describe("manager pages: split, merge, payouts, release, card PDF (e2e)", function () {
  this.timeout(600_000);
  let t: TestGateway;
  let demo: DemoResult;
  let tokens: DemoTokens;
  let browser: Browser;
  let manager: ApiClient;
  let buyer: ApiClient;

  before(async function () {
    t = await startTestGateway({ env: { AUTH_FAILURES_PER_MINUTE: "1000" } });
    demo = await seedDemo(t.gateway.url, t.adminToken, t.dataDir);
    tokens = JSON.parse(readFileSync(demo.tokensFile, "utf8")) as DemoTokens;
    manager = t.api.as(tokens.cooperativeAdmin);
    buyer = t.api.as(tokens.buyer);
    browser = await launchChromium();
  });

  after(async function () {
    Date.now = realNow;
    await browser?.close();
    await t?.stop();
    console.log(`        screenshots in ${SCREENSHOTS}`);
  });

  const url = (path: string) => `${t.gateway.url}${path}`;
  const batch = (id: string) => t.gateway.ctx.services.batches.get(id);

  /** A sale of the rose water offered, paid and shipped (and confirmed unless `confirm` is false). */
  async function sale(price: bigint, confirm = true): Promise<number> {
    const offered = await manager.post("/api/v1/sales", {
      batchId: demo.roseWaterBatchId,
      quantity: "1000",
      token: "ETH",
      price: price.toString(),
      disputeDays: 1,
    });
    expect(offered.status, offered.text).to.equal(201);
    const saleId = Number(offered.body.saleId);
    expect((await buyer.post(`/api/v1/sales/${saleId}/fund`)).status).to.equal(201);
    expect((await manager.post(`/api/v1/sales/${saleId}/ship`, {})).status).to.equal(201);
    if (confirm) expect((await buyer.post(`/api/v1/sales/${saleId}/confirm`, {})).status).to.equal(201);
    return saleId;
  }

  /** What each member of the cooperative is owed on the rose water (claimable), her balance, and the escrow's claimed. */
  async function accounts() {
    const escrow = t.contracts.escrow;
    return Promise.all(
      t.gateway.ctx.queries.listMembers(demo.cooperativeId).map(async (m) => {
        const owed = t.gateway.ctx.queries
          .balancesOf(m.account)
          .find((b) => b.batchId === demo.roseWaterBatchId && b.token === ZeroAddress);
        return {
          account: m.account,
          name: t.gateway.ctx.users.findByAddress(m.account)?.displayName ?? "",
          claimable: BigInt(owed?.claimable ?? "0"),
          // A member who chose to be paid in dirhams through the cooperative (the demo's Aicha and
          // Khadija) is paid into its payout account: her own balance does not move.
          routed: await escrow.paidThroughCooperative(demo.cooperativeId, m.account),
          balance: await t.provider.getBalance(m.account),
          claimed: await escrow.claimed(demo.roseWaterBatchId, ZeroAddress, m.account),
        };
      }),
    );
  }

  const signedIn = (lang: TestLang, js = true) =>
    signInWithToken(browser, t.gateway.url, lang, tokens.cooperativeAdmin, js);

  const button = "form[action^='/w/manager'] button[type=submit]";

  for (const lang of ["fr", "ar"] as const) {
    const c = CATALOGS[lang];
    const f = formatterFor(c);
    const tag = lang === "fr" ? "F" : "A";
    const g = (n: bigint | number) => `${f.integer(n)} ${c.units.g}`;

    it(`${lang}: the manager splits the harvest into bags, then distills two bags into rose water`, async function () {
      const { context, page } = await signedIn(lang);
      await page.goto(url(`/w/manager?lang=${lang}`));
      await noSeriousViolation(page, `dashboard ${lang}`);
      await submit(page, `li[data-batch="${demo.harvestBatchId}"] a.split-link`);
      expect(new URL(page.url()).pathname).to.equal(`/w/manager/batches/${demo.harvestBatchId}/split`);
      await noSeriousViolation(page, `split form ${lang}`);
      await shot(page, `${lang}-01-split-form`);
      const left = BigInt(batch(demo.harvestBatchId).available);
      expect(await page.locator("#left").innerText()).to.include(g(left));
      const code0 = await page.inputValue("#lotCode-0");
      expect(code0).to.match(/^KMG-ROSE-2026-05-\d+$/);

      // More than is left: refused beside the first quantity, the values kept.
      await page.fill("#quantity-0", String(left));
      await page.fill("#quantity-1", "1");
      const refused = await submit(page, button);
      expect(refused.status()).to.equal(400);
      expect(await page.locator("#quantity-0-error").innerText()).to.equal(
        c.manager2.splitTooMuch(g(left + 1n), g(left)),
      );
      expect(await page.locator(".error-summary a[href='#quantity-0']").count()).to.equal(1);
      expect(await page.inputValue("#quantity-0")).to.equal(String(left));
      expect(await page.inputValue("#lotCode-0")).to.equal(code0);
      await noSeriousViolation(page, `split refused ${lang}`);
      await shot(page, `${lang}-02-split-refused`);

      await page.fill("#quantity-0", "5000");
      await page.fill("#quantity-1", "5000");
      const done = await submit(page, button);
      expect(done.status()).to.equal(200);
      expect(await page.locator("h1").innerText()).to.equal(c.manager2.splitDoneTitle(2));
      const bags = await page
        .locator("#new-lots li")
        .evaluateAll((lis) => lis.map((li) => li.getAttribute("data-batch")!));
      expect(bags).to.have.length(2);
      expect(BigInt(batch(demo.harvestBatchId).available)).to.equal(left - 10_000n);
      for (const id of bags) expect(batch(id).quantity).to.equal("5000");
      await noSeriousViolation(page, `split done ${lang}`);
      await shot(page, `${lang}-03-split-done`);
      const publicPage = await submit(page, `#new-lots li[data-batch="${bags[0]}"] a`);
      expect(publicPage.status()).to.equal(200);
      expect(await page.locator("body").innerText()).to.include(batch(bags[0]).lotCode);

      // Merge (a transform: fresh petals → rose water). More than a bag holds is refused beside it.
      await page.goto(url(`/w/manager/batches/merge?lang=${lang}`));
      await noSeriousViolation(page, `merge form ${lang}`);
      const row = async (id: string) =>
        (await page.locator(`.merge-lot[data-batch="${id}"] input[type=checkbox]`).getAttribute("id"))!.slice(4);
      const [a, b] = [await row(bags[0]), await row(bags[1])];
      await page.check(`#use-${a}`);
      await page.check(`#use-${b}`);
      await page.fill(`#take-${a}`, "6000");
      await page.fill(`#take-${b}`, "4000");
      await page.selectOption("#productCode", "rose-water");
      const lot = `RW-${tag}${Date.now() % 100000}`;
      await page.fill("#lotCode", lot);
      await page.fill("#quantity", "3000");
      await page.selectOption("#unit", "ml");
      const tooMuch = await submit(page, button);
      expect(tooMuch.status()).to.equal(400);
      expect(await page.locator(`#take-${a}-error`).innerText()).to.equal(c.manager2.takeTooMuch(g(5000)));
      expect(await page.isChecked(`#use-${b}`)).to.equal(true);
      expect(await page.inputValue("#lotCode")).to.equal(lot);
      await noSeriousViolation(page, `merge refused ${lang}`);
      await shot(page, `${lang}-04-merge-refused`);
      await page.fill(`#take-${a}`, "5000");
      const merged = await submit(page, button);
      expect(merged.status()).to.equal(200);
      expect(await page.locator("h1").innerText()).to.equal(c.manager2.mergeDoneTitle);
      expect(await page.locator("#made-from li").count()).to.equal(2);
      const water = batch(new URL(page.url()).pathname.split("/")[4]);
      expect([water.lotCode, water.productCode, water.quantity, water.unit]).to.deep.equal([
        lot,
        "rose-water",
        "3000",
        "ml",
      ]);
      expect(water.parents.map((p) => p.batchId).sort()).to.deep.equal([...bags].sort());
      expect(batch(bags[0]).available).to.equal("0");
      expect(batch(bags[1]).available).to.equal("1000");
      await noSeriousViolation(page, `merge done ${lang}`);
      await shot(page, `${lang}-05-merge-done`);
      await context.close();
    });

    it(`${lang}: the manager pays one member, then everyone, each exactly her share`, async function () {
      await sale(lang === "fr" ? 50_000_000_000_000_000n : 70_000_000_000_000_001n);
      const before = await accounts();
      const owed = before.filter((x) => x.claimable > 0n);
      expect(owed.length).to.be.greaterThan(1);
      const { context, page } = await signedIn(lang);
      await page.goto(url(`/w/manager?lang=${lang}`));
      await submit(page, "#payouts-link");
      await noSeriousViolation(page, `payouts ${lang}`);
      await shot(page, `${lang}-06-payouts`);
      const group = `.owed-group[data-batch="${demo.roseWaterBatchId}"][data-token="ETH"]`;
      expect(await page.locator(`${group} li`).count()).to.equal(owed.length);

      const first = owed[0];
      const amount = `${f.amount(first.claimable, 18)} ETH`;
      expect(await page.locator(`${group} li:has-text("${first.name}")`).innerText()).to.include(amount);
      const paidOne = await submit(page, `${group} li:has-text("${first.name}") form.pay-one button`);
      expect(paidOne.status()).to.equal(200);
      expect(await page.locator("h1").innerText()).to.equal(c.manager2.paidTitle(1));
      expect(await page.locator("#paid .paid-line").innerText())
        .to.include(first.name)
        .and.include(amount);
      await noSeriousViolation(page, `paid one ${lang}`);
      await shot(page, `${lang}-07-paid-one`);
      let now = await accounts();
      const mine = now.find((x) => x.account === first.account)!;
      expect(mine.balance - first.balance).to.equal(first.routed ? 0n : first.claimable);
      expect(mine.claimed - first.claimed).to.equal(first.claimable);
      expect(mine.claimable).to.equal(0n);

      await page.goto(url(`/w/manager/payouts?lang=${lang}`));
      await submit(page, `${group} form.pay-all button`);
      expect(await page.locator("h1").innerText()).to.equal(c.manager2.paidTitle(owed.length - 1));
      expect(await page.locator("#paid .paid-line").count()).to.equal(owed.length - 1);
      await noSeriousViolation(page, `paid all ${lang}`);
      await shot(page, `${lang}-08-paid-all`);
      now = await accounts();
      for (const x of owed) {
        const after = now.find((y) => y.account === x.account)!;
        expect(after.balance - x.balance, x.name).to.equal(x.routed ? 0n : x.claimable);
        expect(after.claimed - x.claimed, x.name).to.equal(x.claimable);
        expect(after.claimable, x.name).to.equal(0n);
      }
      await page.goto(url(`/w/manager/payouts?lang=${lang}`));
      expect(await page.locator(group).count()).to.equal(0);
      await context.close();
    });
  }

  it("ar: a double submit of a payout pays once; a stale form says she was already paid", async function () {
    await sale(30_000_000_000_000_000n);
    const before = await accounts();
    const target = before.find((x) => x.claimable > 0n)!;
    const { context, page } = await signedIn("ar");
    const stale = await context.newPage();
    await stale.goto(url("/w/manager/payouts?lang=ar"));
    await page.goto(url("/w/manager/payouts?lang=ar"));
    const li = `.owed-group[data-batch="${demo.roseWaterBatchId}"] li:has-text("${target.name}")`;
    const form: Record<string, string> = {};
    for (const name of ["csrf", "once", "lang", "batchId", "token", "memberId"])
      form[name] = await page.locator(`${li} input[name=${name}]`).inputValue();
    const send = () =>
      context.request.post(url("/w/manager/payouts/pay"), {
        form,
        headers: { Origin: t.gateway.url },
        maxRedirects: 0,
      });
    const [first, second] = [await send(), await send()];
    expect(first.status()).to.equal(303);
    expect(second.status()).to.equal(303);
    expect(second.headers().location).to.equal(first.headers().location);
    const after = (await accounts()).find((x) => x.account === target.account)!;
    expect(after.balance - target.balance).to.equal(target.routed ? 0n : target.claimable);
    expect(after.claimed - target.claimed).to.equal(target.claimable);

    // A page opened before the payment: its form has its own key; the escrow has nothing due, said calmly.
    const calm = await submit(stale, `${li} form.pay-one button`);
    expect(calm.status()).to.equal(200);
    expect(await stale.locator("h1").innerText()).to.equal(
      CATALOGS.ar.manager2.alreadyPaid(`\u2068${target.name}\u2069`),
    );
    expect(await stale.locator("#paid li").count()).to.equal(0);
    await noSeriousViolation(stale, "already paid ar");
    await shot(stale, "ar-09-already-paid");
    const still = (await accounts()).find((x) => x.account === target.account)!;
    expect(still.balance).to.equal(after.balance);
    await context.close();
  });

  it("fr: a split with JavaScript off", async function () {
    const { context, page } = await signedIn("fr", false);
    const left = BigInt(batch(demo.harvestBatchId).available);
    await page.goto(url(`/w/manager/batches/${demo.harvestBatchId}/split?lang=fr`));
    await page.fill("#quantity-0", "1000");
    const done = await submit(page, button);
    expect(done.status()).to.equal(200);
    expect(await page.locator("h1").innerText()).to.equal(CATALOGS.fr.manager2.splitDoneTitle(1));
    expect(BigInt(batch(demo.harvestBatchId).available)).to.equal(left - 1000n);
    await context.close();
  });

  for (const lang of ["ar", "fr", "zgh"] as const) {
    it(`${lang}: the member card PDF is a PDF in her language whose QR code opens her card`, async function () {
      const { context, page } = await signedIn(lang === "zgh" ? "fr" : lang);
      await page.goto(url(`/w/manager?lang=${lang}`));
      const href = (await page.locator("#members a.card-pdf").first().getAttribute("href"))!;
      expect(href).to.match(new RegExp(`^/w/manager/members/[0-9a-f-]{36}/card\\.pdf\\?lang=${lang}$`));
      const r = await context.request.get(url(href));
      expect(r.status()).to.equal(200);
      expect(r.headers()["content-type"]).to.match(/^application\/pdf/);
      const pdf = await r.body();
      expect(pdf.subarray(0, 5).toString()).to.equal("%PDF-");
      const text = pdf.toString("latin1");
      expect(text).to.match(/\/FontName \/[A-Z]{6}\+NotoSans-Regular/);
      if (lang === "ar") expect(text).to.match(/\/FontName \/[A-Z]{6}\+NotoSansArabic/);
      if (lang === "zgh") expect(text).to.match(/\/FontName \/[A-Z]{6}\+NotoSansTifinagh/);
      const qr = qrOfPdf(pdf);
      expect(tokens.members.map((m) => m.card)).to.include(qr);
      await context.close();
    });
  }

  it("the confirmation of a new member links her card PDF; others get 403 on the manager's new pages", async function () {
    const { context, page } = await signedIn("ar");
    await page.goto(url("/w/manager/members/new?lang=ar"));
    await page.fill("#displayName", "Fadma");
    await page.fill("#reference", "reg-pdf-1");
    await page.fill("#pin", "4826");
    await page.fill("#pinAgain", "4826");
    await submit(page, button);
    const links = page.locator("#card-pdf a");
    expect(await links.count()).to.equal(4);
    await noSeriousViolation(page, "member done ar");
    const r = await context.request.get(url((await links.first().getAttribute("href"))!));
    expect(r.headers()["content-type"]).to.match(/^application\/pdf/);
    expect(qrOfPdf(await r.body())).to.match(new RegExp(`^${t.gateway.url}/c/`));
    await context.close();

    const auditor = await signInWithToken(browser, t.gateway.url, "fr", tokens.auditor);
    for (const path of [
      "/w/manager/payouts",
      "/w/manager/batches/merge",
      `/w/manager/batches/${demo.harvestBatchId}/split`,
    ]) {
      const refused = await auditor.page.goto(url(`${path}?lang=fr`));
      expect(refused!.status(), path).to.equal(403);
    }
    await auditor.context.close();
    const anonymous = await browser.newContext({ viewport: PHONE });
    const r2 = await anonymous.request.get(url("/w/manager/payouts?lang=fr"), { maxRedirects: 0 });
    expect(r2.status()).to.equal(303);
    await anonymous.close();
  });

  it("fr (last: the clock moves on): a shipped sale the buyer never confirmed is released after its window, then its shares are paid", async function () {
    const saleId = await sale(20_000_000_000_000_000n, false);
    const before = await signedIn("fr");
    await before.page.goto(url("/w/manager/payouts?lang=fr"));
    expect(await before.page.locator(`#release li[data-sale="${saleId}"]`).count()).to.equal(0);
    await before.context.close();
    // Two days pass, for the chain and for the gateway alike: the relayer signs requests with a deadline
    // from the gateway's clock, which the forwarder checks against the chain's. Put back in `after`.
    await t.provider.send("evm_increaseTime", [2 * DAY]);
    await t.provider.send("evm_mine", []);
    Date.now = () => realNow() + 2 * DAY * 1000;
    const { context, page } = await signedIn("fr");
    await page.goto(url("/w/manager/payouts?lang=fr"));
    await noSeriousViolation(page, "release list fr");
    await shot(page, "fr-10-release");
    const released = await submit(page, `#release li[data-sale="${saleId}"] button`);
    expect(released.status()).to.equal(200);
    expect(await page.locator("h1").innerText()).to.equal(CATALOGS.fr.manager2.releasedTitle(String(saleId)));
    expect(t.gateway.ctx.services.sales.get(saleId).state).to.equal("Released");
    await noSeriousViolation(page, "released fr");
    await shot(page, "fr-11-released");
    await submit(page, `a:has-text("${CATALOGS.fr.manager2.payNow}")`);
    // The shares of this ether sale, owed again (the demo's dirham shares of Itto and Zahra are their own group).
    expect(await page.locator(`.owed-group[data-batch="${demo.roseWaterBatchId}"][data-token="ETH"]`).count()).to.equal(
      1,
    );
    await context.close();
  });
});
