/**
 * Money in dirhams in the workspace (issue 13) end to end: a real gateway (embedded anvil, SQLite) seeded
 * with the demo as `npm start` seeds it (Aicha and Khadija paid through the cooperative, Itto and Zahra
 * still due), Debian's Chromium at 360 × 800, in Arabic and French, through the pages only:
 *
 * - the manager's list of shares due shows the reconciliation API's figures, to the centime;
 * - the manager records, in one form submit, an M-Wallet payout to Itto and a cash payout to Zahra: first
 *   with an amount "abc" (400, the message beside the field, the values kept), then right; a resent form
 *   records nothing more;
 * - Itto confirms hers ("Yes, I received it"), Zahra contests hers with a reason; the manager's list then
 *   shows each answer, Khadija's demo cash payout still unanswered, and Itto and Zahra still due;
 * - Itto's confirmation with JavaScript off; the member's route question; the payout account;
 * - axe-core: no serious or critical violation on each page.
 *
 * Screenshots are kept in SCREENSHOT_DIR (default: <tmp>/cooptrace-money).
 */
import { expect } from "chai";
import type { Browser, Page } from "playwright-core";
import { dirhamCentimes } from "../../domain/money";
import type { DemoResult } from "../../server/demo/seed";
import { formatterFor } from "../../server/pages/format";
import { CATALOGS } from "../../server/pages/i18n";
import {
  noSeriousViolation,
  screenshots,
  signInWithCard,
  signInWithToken,
  submit,
  type TestLang,
  startSeededDemo,
  stopSeededDemo,
} from "../helpers/browser";
import type { TestGateway } from "../helpers/gateway";

const { dir: SCREENSHOTS, shot } = screenshots("cooptrace-money");

interface DemoTokens {
  cooperativeAdmin: string;
  buyer: string;
  members: { name: string; card: string; pin: string; token: string }[];
}

interface Row {
  member: string;
  token: string;
  displayName: string | null;
  entitled: string;
  paid: string;
  confirmed: string;
  contested: string;
  outstanding: string;
  currency: string | null;
  decimals: number | null;
}

const MAD = { symbol: "MAD", decimals: 2, currency: "MAD" };

describe("money in dirhams (e2e)", function () {
  this.timeout(300_000);
  let t: TestGateway;
  let demo: DemoResult;
  let tokens: DemoTokens;
  let browser: Browser;

  before(async function () {
    ({ t, demo, tokens, browser } = await startSeededDemo<DemoTokens>());
  });

  after(async function () {
    await stopSeededDemo({ t, browser }, SCREENSHOTS);
  });

  const member = (name: string) => tokens.members.find((m) => m.name === name)!;
  const reconciliation = async (): Promise<Row[]> => {
    const res = await t.api
      .as(tokens.cooperativeAdmin)
      .get(`/api/v1/audit/cooperatives/${demo.cooperativeId}/reconciliation`);
    expect(res.status).to.equal(200);
    return (res.body as { members: Row[] }).members;
  };
  const payoutCount = async (): Promise<number> => {
    const res = await t.api.as(tokens.cooperativeAdmin).get(`/api/v1/cooperatives/${demo.cooperativeId}/payouts`);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    const body = res.body as { items?: unknown[] } | unknown[];
    return Array.isArray(body) ? body.length : (body.items?.length ?? 0);
  };
  const rowIndex = async (page: Page, name: string) =>
    (await page.$$eval("li.due-row h3", (hs) => hs.map((h) => (h.textContent ?? "").trim()))).indexOf(name);
  const text = async (page: Page, selector: string) => ((await page.textContent(selector)) ?? "").trim();

  async function managerList(page: Page, lang: TestLang): Promise<void> {
    const f = formatterFor(CATALOGS[lang]);
    const rows = await reconciliation();
    expect(rows.length).to.equal(4);
    for (const r of rows) {
      const li = `li.due-row[data-member="${r.member}"]`;
      expect(await text(page, `${li} dd.entitled`)).to.equal(f.money(r.entitled, MAD));
      expect(await text(page, `${li} dd.paid`)).to.equal(f.money(r.paid, MAD));
      expect(await text(page, `${li} dd.confirmed`)).to.equal(f.money(r.confirmed, MAD));
      expect(await text(page, `${li} dd.due`)).to.equal(f.money(BigInt(r.outstanding), MAD));
    }
  }

  const step = (s: string) => process.env.MONEY_DEBUG && console.error(`      · ${s}`);
  for (const lang of ["ar", "fr"] as const) {
    it(`${lang}: the manager pays Itto by M-Wallet and Zahra in cash in one submit; Itto confirms, Zahra contests`, async function () {
      const c = CATALOGS[lang];
      const f = formatterFor(c);
      const mgr = await signInWithToken(browser, t.gateway.url, lang, tokens.cooperativeAdmin);
      const page = mgr.page;
      await page.goto(`${t.gateway.url}/w?lang=${lang}`);
      await submit(page, "#manager-money");
      expect(new URL(page.url()).pathname).to.equal("/w/manager/money");
      await managerList(page, lang);
      await noSeriousViolation(page, `${lang} manager money`);
      await shot(page, `${lang}-01-manager-money`);

      const before = await reconciliation();
      const count = await payoutCount();
      const itto = await rowIndex(page, "Itto");
      const zahra = await rowIndex(page, "Zahra");
      expect(itto).to.be.at.least(0);
      expect(zahra).to.be.at.least(0);
      // Prefilled with what is still due to her, in dirhams.
      const ittoDue = before.find((r) => r.displayName === "Itto")!.outstanding;
      expect(await page.inputValue(`#amount-${itto}`)).to.equal(
        `${BigInt(ittoDue) / 100n}.${(BigInt(ittoDue) % 100n).toString().padStart(2, "0")}`,
      );

      // One invalid submit: "abc" is not an amount; the message is beside the field, the values are kept.
      await page.check(`#pick-${itto}`);
      await page.fill(`#amount-${itto}`, "abc");
      await page.selectOption(`#method-${itto}`, "mwallet");
      await page.fill(`#reference-${itto}`, `MW-${lang}-0001`);
      await page.check(`#pick-${zahra}`);
      await page.fill(`#amount-${zahra}`, "300.00");
      await page.selectOption(`#method-${zahra}`, "cash");
      await page.fill(`#reference-${zahra}`, `RECU-${lang}-0002`);
      const bad = await submit(page, "#record");
      expect(bad.status()).to.equal(400);
      expect(await text(page, `#amount-${itto}-error`)).to.equal(c.payouts.amountInvalid);
      expect(await page.getAttribute(`.error-summary a[href="#amount-${itto}"]`, "href")).to.equal(`#amount-${itto}`);
      expect(await page.inputValue(`#amount-${itto}`)).to.equal("abc");
      expect(await page.inputValue(`#reference-${zahra}`)).to.equal(`RECU-${lang}-0002`);
      expect(await page.isChecked(`#pick-${zahra}`)).to.equal(true);
      await noSeriousViolation(page, `${lang} manager money (400)`);
      await shot(page, `${lang}-02-manager-invalid`);
      expect(await payoutCount()).to.equal(count);

      // Corrected (a French decimal comma is read as the point), and sent: both recorded in one write.
      await page.fill(`#amount-${itto}`, lang === "fr" ? "500,00" : "500.00");
      // The form as the browser sends it, kept to send it again below.
      let sent = "";
      page.on("request", (req) => {
        if (req.method() === "POST" && req.url().endsWith("/w/manager/money/record")) sent = req.postData() ?? "";
      });
      const ok = await submit(page, "#record");
      expect(ok.status()).to.equal(200);
      const done = new URL(page.url());
      expect(done.pathname).to.match(/^\/w\/manager\/money\/recorded\//);
      expect(await text(page, "h1")).to.equal(c.payouts.recordedTitle(2));
      expect(await text(page, "#recorded-lines")).to.include(f.money(50000n, MAD));
      await noSeriousViolation(page, `${lang} recorded`);
      await shot(page, `${lang}-03-recorded`);
      expect(await payoutCount()).to.equal(count + 2);

      // The same form sent again (a double submit): the same confirmation, nothing recorded twice.
      step("const again = await page.request.post");
      const again = await page.request.post(`${t.gateway.url}/w/manager/money/record`, {
        data: sent,
        headers: { origin: t.gateway.url, "content-type": "application/x-www-form-urlencoded" },
        maxRedirects: 0,
      });
      expect(again.status()).to.equal(303);
      expect(new URL(again.headers().location, t.gateway.url).pathname).to.equal(done.pathname);
      expect(await payoutCount()).to.equal(count + 2);
      const after = await reconciliation();
      const paidOf = (rows: Row[], n: string) => BigInt(rows.find((r) => r.displayName === n)!.paid);
      expect(paidOf(after, "Itto") - paidOf(before, "Itto")).to.equal(50000n);
      expect(paidOf(after, "Zahra") - paidOf(before, "Zahra")).to.equal(30000n);

      // Itto confirms (JavaScript off in French: the form alone does it).
      step("const ittoSession = await signInWithCard");
      const ittoSession = await signInWithCard(browser, lang, member("Itto"), lang === "ar");
      const ip = ittoSession.page;
      step('await submit(ip, "#member-payouts");');
      await submit(ip, "#member-payouts");
      expect(new URL(ip.url()).pathname).to.equal("/w/member/payouts");
      const question = await text(ip, "li.payout.recorded p strong");
      expect(question).to.include(f.money(50000n, MAD));
      expect(question).to.include(c.payouts.by.mwallet);
      // axe-core runs in the page: with JavaScript off it cannot, so the French pages are checked below.
      if (lang === "ar") await noSeriousViolation(ip, `${lang} my money`);
      await shot(ip, `${lang}-04-itto-money`);
      step('await submit(ip, "li.payout.recorded for');
      await submit(ip, "li.payout.recorded form.answer-yes button");
      expect(new URL(ip.url()).pathname).to.match(/^\/w\/member\/payouts\/0x[0-9a-fA-F]{64}\/confirmed$/);
      expect(await text(ip, "h1")).to.equal(c.payouts.confirmedTitle);
      if (lang === "ar") await noSeriousViolation(ip, `${lang} confirmed`);
      else {
        const withJs = await signInWithCard(browser, lang, member("Itto"));
        await withJs.page.goto(ip.url());
        await noSeriousViolation(withJs.page, `${lang} confirmed`);
        await withJs.page.goto(`${t.gateway.url}/w/member/payouts?lang=${lang}`);
        await noSeriousViolation(withJs.page, `${lang} my money`);
        await withJs.context.close();
      }
      await shot(ip, `${lang}-05-itto-confirmed`);

      // Zahra says she did not receive it, with a reason on the next page.
      step("const zahraSession = await signInWithCar");
      const zahraSession = await signInWithCard(browser, lang, member("Zahra"));
      const zp = zahraSession.page;
      await zp.goto(`${t.gateway.url}/w/member/payouts?lang=${lang}`);
      expect(await text(zp, "li.payout.recorded p strong")).to.include(c.payouts.by.cash);
      await submit(zp, "li.payout.recorded form.answer-no button");
      expect(await text(zp, "h1")).to.equal(c.payouts.contestQuestion);
      await noSeriousViolation(zp, `${lang} contest`);
      await shot(zp, `${lang}-06-zahra-contest`);
      await zp.fill("#reason", lang === "fr" ? "Je n'ai reçu que 200 dirhams." : "استلمت 200 درهم فقط.");
      await submit(zp, "form[action$='/contest'] button");
      expect(await text(zp, "h1")).to.equal(c.payouts.contestedTitle);
      await noSeriousViolation(zp, `${lang} contested`);
      await shot(zp, `${lang}-07-zahra-contested`);

      // Back on the manager's list: each answer, Khadija's cash still unanswered, two members still due.
      step("await page.goto(`${t.gateway.url}/w/mana");
      await page.goto(`${t.gateway.url}/w/manager/money?lang=${lang}`);
      await managerList(page, lang);
      const answers = await page.$$eval("#payouts li", (lis) => lis.map((li) => li.textContent ?? ""));
      expect(answers.some((a) => a.includes("Itto") && a.includes(c.payouts.statuses.confirmed))).to.equal(true);
      expect(answers.some((a) => a.includes("Zahra") && a.includes(c.payouts.statuses.contested))).to.equal(true);
      expect(answers.some((a) => a.includes("Khadija") && a.includes(c.payouts.statuses.recorded))).to.equal(true);
      expect(await text(page, "#due-count")).to.equal(c.payouts.dueCount(2));
      const rows = await reconciliation();
      expect(BigInt(rows.find((r) => r.displayName === "Zahra")!.contested)).to.be.greaterThan(0n);
      await shot(page, `${lang}-08-manager-answers`);
      await Promise.all([mgr.context.close(), ittoSession.context.close(), zahraSession.context.close()]);
    });
  }

  it("ar: a member answers whether the cooperative should pay her in dirhams (one question page)", async function () {
    const c = CATALOGS.ar;
    const s = await signInWithCard(browser, "ar", member("Itto"));
    await s.page.goto(`${t.gateway.url}/w/member/payouts?lang=ar`);
    await submit(s.page, "#route-change");
    expect(await text(s.page, "h1")).to.equal(c.payouts.routeQuestion);
    expect(await s.page.isChecked("input[name=throughCooperative][value=no]")).to.equal(true);
    await noSeriousViolation(s.page, "ar route");
    await shot(s.page, "ar-09-route");
    await s.page.check("input[name=throughCooperative][value=yes]");
    await submit(s.page, "form[action='/w/member/route'] button");
    expect(await text(s.page, "h1")).to.equal(c.payouts.routeDoneYes);
    await noSeriousViolation(s.page, "ar route done");
    await s.page.goto(`${t.gateway.url}/w/member/payouts?lang=ar`);
    expect(await text(s.page, "p.route")).to.equal(c.payouts.routeYes);
    await s.context.close();
  });

  it("fr: the manager sets the payout account (his own by default); a bad address is said beside the field", async function () {
    const c = CATALOGS.fr;
    const s = await signInWithToken(browser, t.gateway.url, "fr", tokens.cooperativeAdmin);
    await s.page.goto(`${t.gateway.url}/w/manager/money/account?lang=fr`);
    const own = await s.page.inputValue("#account");
    expect(own).to.match(/^0x[0-9a-fA-F]{40}$/);
    await noSeriousViolation(s.page, "fr account");
    await shot(s.page, "fr-10-account");
    await s.page.fill("#account", "0x12");
    const bad = await submit(s.page, "form[action='/w/manager/money/account'] button");
    expect(bad.status()).to.equal(400);
    expect(await s.page.isVisible("#account-error")).to.equal(true);
    await s.page.fill("#account", own);
    await submit(s.page, "form[action='/w/manager/money/account'] button");
    expect(await text(s.page, "h1")).to.equal(c.payouts.accountDone);
    await noSeriousViolation(s.page, "fr account done");
    await s.page.goto(`${t.gateway.url}/w/manager/money?lang=fr`);
    expect(await text(s.page, "#payout-account p")).to.equal(c.payouts.accountOwn);
    await s.context.close();
  });

  it("a member cannot open the manager's money page, nor answer another member's payout", async function () {
    const s = await signInWithCard(browser, "fr", member("Zahra"));
    const res = await s.page.goto(`${t.gateway.url}/w/manager/money?lang=fr`);
    expect(res?.status()).to.equal(403);
    const itto = await t.api.as(member("Itto").token).get("/api/v1/me/money");
    const theirs = (itto.body as { payouts: { payoutId: string }[] }).payouts[0].payoutId;
    const other = await s.page.goto(`${t.gateway.url}/w/member/payouts/${theirs}/contest?lang=fr`);
    expect(other?.status()).to.equal(404);
    await s.context.close();
  });
  // Last: it adds a euro sale's shares to every member's account.
  it("fr: a share in euros is prefilled in dirhams at the latest reference rate, the rate shown, and recorded", async function () {
    const c = CATALOGS.fr;
    const f = formatterFor(c);
    // What the buyer does before (not the manager's pages): the demo's open euro offer bought and received.
    const offered = await t.api.get(`/api/v1/sales?batchId=${demo.roseWaterBatchId}&state=Created`);
    const sale = (offered.body as { items: { saleId: string; price: string }[] }).items[0];
    const buyer = t.api.as(tokens.buyer);
    const manager = t.api.as(tokens.cooperativeAdmin);
    expect((await buyer.post(`/api/v1/sales/${sale.saleId}/fund`, {})).status).to.be.oneOf([200, 201, 202]);
    expect((await manager.post(`/api/v1/sales/${sale.saleId}/ship`, {})).status).to.be.oneOf([200, 201, 202]);
    expect((await buyer.post(`/api/v1/sales/${sale.saleId}/confirm`, {})).status).to.be.oneOf([200, 201, 202]);

    const rows = (await reconciliation()).filter((r) => r.currency === "EUR");
    expect(rows.length).to.be.greaterThan(0);
    const itto = rows.find((r) => r.displayName === "Itto")!;
    const s = await signInWithToken(browser, t.gateway.url, "fr", tokens.cooperativeAdmin);
    await s.page.goto(`${t.gateway.url}/w/manager/money?lang=fr`);
    const li = `li.due-row[data-member="${itto.member}"][data-token="${rows[0].token}"]`;
    const eur = { symbol: "EUR", decimals: itto.decimals!, currency: "EUR" };
    expect(await text(s.page, `${li} dd.due`)).to.equal(f.money(itto.outstanding, eur));
    const amountId = await s.page.getAttribute(`${li} input.amount`, "id");
    const i = amountId!.replace("amount-", "");
    // 10.85 dirhams per euro (the demo's reference rate), to the centime.
    const centimes = dirhamCentimes(BigInt(itto.outstanding), itto.decimals!, 10_850_000n);
    expect(await s.page.inputValue(`#amount-${i}`)).to.equal(
      `${centimes / 100n}.${(centimes % 100n).toString().padStart(2, "0")}`,
    );
    expect(await text(s.page, `#amount-${i}-hint`)).to.include(f.money(1085n, MAD));
    await noSeriousViolation(s.page, "fr manager money (euros)");
    await shot(s.page, "fr-11-euro-prefill");
    await s.page.check(`#pick-${i}`);
    await s.page.selectOption(`#method-${i}`, "bank");
    await s.page.fill(`#reference-${i}`, "VIREMENT EUR-0001");
    await submit(s.page, "#record");
    expect(await text(s.page, "h1")).to.equal(c.payouts.recordedTitle(1));
    const after = (await reconciliation()).find((r) => r.member === itto.member && r.currency === "EUR")!;
    expect(after.outstanding).to.equal("0");
    await s.context.close();
  });
  // After the euro sale above: every sale of the rose water is settled, so its accounts may be closed.
  it("ar: the manager closes the accounts of a lot whose sales are all settled; rounding goes to the reserve", async function () {
    const c = CATALOGS.ar;
    const s = await signInWithToken(browser, t.gateway.url, "ar", tokens.cooperativeAdmin);
    await s.page.goto(`${t.gateway.url}/w/manager/money?lang=ar`);
    const link = `#close-lots li[data-batch="${demo.roseWaterBatchId}"] a`;
    await submit(s.page, link);
    expect(new URL(s.page.url()).pathname).to.equal(`/w/manager/money/close/${demo.roseWaterBatchId}`);
    expect(await text(s.page, "main p")).to.equal(c.payouts.closeExplain);
    await noSeriousViolation(s.page, "ar close");
    await shot(s.page, "ar-12-close");
    await submit(s.page, `form[action="/w/manager/money/close/${demo.roseWaterBatchId}"] button`);
    expect(new URL(s.page.url()).pathname).to.match(/^\/w\/manager\/money\/closed\//);
    expect(await s.page.isVisible("#rounded-off")).to.equal(true);
    await noSeriousViolation(s.page, "ar closed");
    await shot(s.page, "ar-13-closed");
    await s.page.goto(`${t.gateway.url}/w/manager/money?lang=ar`);
    expect(await s.page.locator(link).count()).to.equal(0);
    const again = await s.page.goto(`${t.gateway.url}/w/manager/money/close/${demo.roseWaterBatchId}?lang=ar`);
    expect(again?.status()).to.equal(404);
    await s.context.close();
  });
});
