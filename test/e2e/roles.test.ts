/**
 * The member's pages end to end: a real gateway (embedded anvil, SQLite) seeded with the demo (a sale
 * released, two of the four members already paid), Debian's Chromium at 360 × 800, in Arabic and French,
 * through the pages only:
 *
 * - a member signs in with her card and PIN → /w → "my money": her share of the sale, paid, still owed,
 *   exactly as the escrow counts it; "get paid" → the confirmation; nothing is owed afterwards;
 * - "my deliveries": the lot of her harvest and the quantity she delivered;
 * - in French with JavaScript off, the claim form sent twice (a double tap) pays once;
 * - axe-core: no serious or critical violation on each page; others get 403, the signed-out /signin.
 *
 * Screenshots are kept in SCREENSHOT_DIR (default: <tmp>/cooptrace-roles).
 */
import { expect } from "chai";
import type { Browser } from "playwright-core";
import { formatterFor } from "../../server/pages/format";
import { CATALOGS } from "../../server/pages/i18n";
import {
  LOCALES,
  noSeriousViolation,
  PHONE,
  screenshots,
  submit,
  startSeededDemo,
  stopSeededDemo,
} from "../helpers/browser";
import type { TestGateway } from "../helpers/gateway";

const { dir: SCREENSHOTS, shot } = screenshots("cooptrace-roles");

interface DemoTokens {
  auditor: string;
  registrar: string;
  members: { name: string; card: string; pin: string; token: string }[];
}

describe("member and registrar pages (e2e)", function () {
  this.timeout(300_000);
  let t: TestGateway;
  let tokens: DemoTokens;
  let browser: Browser;

  before(async function () {
    ({ t, tokens, browser } = await startSeededDemo<DemoTokens>());
  });

  after(async function () {
    await stopSeededDemo({ t, browser }, SCREENSHOTS);
  });

  async function memberSignedIn(lang: "ar" | "fr", member: DemoTokens["members"][number], javaScriptEnabled = true) {
    const context = await browser.newContext({ viewport: PHONE, locale: LOCALES[lang], javaScriptEnabled });
    const page = await context.newPage();
    await page.goto(`${member.card}?lang=${lang}`);
    await page.fill("#pin", member.pin);
    await submit(page, "form button[type=submit]");
    expect(new URL(page.url()).pathname).to.equal("/w");
    return { context, page };
  }

  /** Her one balance in the demo: the rose water lot, in ETH (from the index, as the escrow counts). */
  function balanceOf(member: DemoTokens["members"][number]) {
    const address = t.gateway.ctx.users.authenticate(member.token)!.address!;
    const [b] = t.gateway.ctx.queries.balancesOf(address);
    return { address, ...b };
  }

  for (const [lang, index, javaScriptEnabled] of [
    ["ar", 2, true],
    ["fr", 3, false],
  ] as const) {
    const c = CATALOGS[lang];

    it(`${lang}: a member sees what she is owed, gets paid once, and sees her deliveries${javaScriptEnabled ? "" : " (JavaScript off)"}`, async function () {
      const member = tokens.members[index];
      const f = formatterFor(c);
      const before = balanceOf(member);
      const due = BigInt(before.claimable);
      expect(due > 0n, "the demo leaves this member something to claim").to.equal(true);

      const { context, page } = await memberSignedIn(lang, member, javaScriptEnabled);
      await submit(page, "#member-money");
      expect(new URL(page.url()).pathname).to.equal("/w/member/money");
      expect(await page.locator("h1").innerText()).to.include(c.roles.moneyTitle);
      // The demo sale is in dirhams: the group of its token, amounts as money in her language.
      const group = page.locator(`.money-group[data-batch="${before.batchId}"][data-token="${before.token}"]`);
      const money = await t.gateway.http.services.tokens(before.token);
      const [sale] = t.gateway.ctx.services.sales.memberShares(t.gateway.ctx.users.authenticate(member.token)!);
      const line = group.locator(`[data-sale="${sale.saleId}"]`);
      expect(await line.locator(".share").innerText()).to.equal(f.money(BigInt(sale.share), money));
      expect(await line.locator(".paid").innerText()).to.equal(f.money(0n, money));
      expect(await line.locator(".due").innerText()).to.equal(f.money(due, money));
      expect(await line.innerText()).to.include(c.roles.releasedOn(f.date(sale.releasedAt)));
      // A big target: at least 44 px high, as wide as the phone allows.
      const box = (await group.locator("button.get-paid").boundingBox())!;
      expect(box.height).to.be.at.least(44);
      if (javaScriptEnabled) await noSeriousViolation(page, `money ${lang}`);
      await shot(page, `${lang}-01-money`);

      if (javaScriptEnabled) {
        await submit(page, "button.get-paid");
      } else {
        // The same form sent twice (a double tap): both land on one confirmation, one payment.
        const form = {
          csrf: await group.locator("input[name=csrf]").inputValue(),
          once: await group.locator("input[name=once]").inputValue(),
          batchId: before.batchId,
          token: before.token,
          lang,
        };
        const send = () =>
          context.request.post(`${t.gateway.url}/w/member/claim`, {
            form,
            headers: { Origin: t.gateway.url },
            maxRedirects: 0,
          });
        const first = await send();
        const second = await send();
        expect(first.status()).to.equal(303);
        expect(second.status()).to.equal(303);
        expect(second.headers().location).to.equal(first.headers().location);
        await page.goto(`${t.gateway.url}${first.headers().location}`);
      }
      expect(new URL(page.url()).pathname).to.match(/^\/w\/member\/paid\//);
      const paidId = new URL(page.url()).pathname.split("/").pop()!;
      const paidUrl = (l: string) => `${paidId}?lang=${l}`;
      expect(await page.locator("h1").innerText()).to.include(c.roles.paidTitle);
      expect(await page.locator("#paid .amount").innerText()).to.equal(f.money(due, money));
      if (javaScriptEnabled) await noSeriousViolation(page, `paid ${lang}`);
      await shot(page, `${lang}-02-paid`);

      const after = balanceOf(member);
      expect(BigInt(after.claimed) - BigInt(before.claimed)).to.equal(due);
      expect(after.claimable).to.equal("0");
      await page.goto(`${t.gateway.url}/w/member/money?lang=${lang}`);
      expect(await group.locator(".nothing-due").innerText()).to.equal(c.roles.nothingDue);
      expect(await group.locator("button.get-paid").count()).to.equal(0);

      await page.goto(`${t.gateway.url}/w/member/deliveries?lang=${lang}`);
      const harvest = t.gateway.ctx.services.batches.memberDeliveries(t.gateway.ctx.users.authenticate(member.token)!);
      expect(harvest.length).to.be.at.least(1);
      for (const b of harvest) {
        const item = page.locator(`.deliveries [data-batch="${b.batchId}"]`);
        // Only a registered lot's weights are deliveries; a lot made from it carries her part on.
        if (b.kind === "registered")
          expect(await item.locator(".delivered").innerText()).to.include(f.integer(b.weight));
        else expect(await item.locator(".delivered").count()).to.equal(0);
        const bps = Number((BigInt(b.weight) * 10_000n) / BigInt(b.totalWeight));
        expect(await item.locator(".part").innerText()).to.equal(c.roles.part(f.percent(bps)));
      }
      if (javaScriptEnabled) await noSeriousViolation(page, `deliveries ${lang}`);
      await shot(page, `${lang}-03-deliveries`);
      const paidPath = `${t.gateway.url}/w/member/paid/${paidUrl(lang)}`;
      await context.close();

      if (!javaScriptEnabled) {
        // axe-core needs script: the same pages again in a browser that runs it.
        const again = await memberSignedIn(lang, member);
        for (const [name, url] of [
          ["money", `${t.gateway.url}/w/member/money?lang=${lang}`],
          ["paid", paidPath],
          ["deliveries", `${t.gateway.url}/w/member/deliveries?lang=${lang}`],
        ]) {
          expect((await again.page.goto(url))!.status()).to.equal(200);
          await noSeriousViolation(again.page, `${name} ${lang}`);
        }
        await again.context.close();
      }
    });
  }

  async function staffSignedIn(lang: "ar" | "fr", token: string, javaScriptEnabled = true) {
    const context = await browser.newContext({ viewport: PHONE, locale: LOCALES[lang], javaScriptEnabled });
    const page = await context.newPage();
    await page.goto(`${t.gateway.url}/signin?lang=${lang}`);
    await page.fill("#token", token);
    await submit(page, "form[action='/signin'] button");
    return { context, page };
  }

  for (const lang of ["ar", "fr"] as const) {
    const c = CATALOGS[lang];
    it(`${lang}: the registrar registers a cooperative and its manager; the manager's key is shown once and works`, async function () {
      const { context, page } = await staffSignedIn(lang, tokens.registrar);
      await submit(page, "#registrar-register");
      await noSeriousViolation(page, `register ${lang}`);
      const name = `Tighremt ${lang} ${Date.now()}`;
      await page.fill("#name", name);
      await page.fill("#region", "Drâa-Tafilalet");
      await page.fill("#registrationNumber", `RC-${lang}-${Date.now()}`);
      await page.fill("#reserveBps", "80");
      await page.check("#womenLed");
      await page.fill("#admin-displayName", "Hassan");
      const refused = await submit(page, "form[action='/w/registrar/cooperatives'] button[type=submit]");
      expect(refused.status()).to.equal(400);
      expect(await page.locator("#reserveBps-error").innerText()).to.equal(c.roles.reserveHint);
      expect(await page.locator("#name").inputValue()).to.equal(name);
      await noSeriousViolation(page, `register refused ${lang}`);
      await shot(page, `${lang}-10-register-refused`);

      await page.fill("#reserveBps", "10");
      await submit(page, "form[action='/w/registrar/cooperatives'] button[type=submit]");
      expect(await page.locator("h1").innerText()).to.equal(c.roles.registeredTitle(name));
      const key = await page.locator("#manager-token").innerText();
      await noSeriousViolation(page, `registered ${lang}`);
      await shot(page, `${lang}-11-registered`);
      const manager = t.gateway.ctx.users.authenticate(key)!;
      expect(manager.role).to.equal("coop_admin");
      const coop = t.gateway.ctx.services.cooperatives
        .list({ limit: 100, offset: 0 })
        .items.find((x) => x.name === name)!;
      expect(coop.reserveBps).to.equal(1000);
      expect(coop.womenLed).to.equal(true);
      // Shown once: the same page again no longer holds the key.
      await page.reload();
      expect(await page.locator("#manager-token").count()).to.equal(0);
      await context.close();
    });
  }

  it("fr, JavaScript off: a registration sent twice registers one cooperative", async function () {
    const { context, page } = await staffSignedIn("fr", tokens.registrar, false);
    await page.goto(`${t.gateway.url}/w/registrar/cooperatives/new?lang=fr`);
    const name = `Ait Ouzine ${Date.now()}`;
    const form = {
      csrf: await page.inputValue("input[name=csrf]"),
      once: await page.inputValue("input[name=once]"),
      lang: "fr",
      name,
      region: "Drâa-Tafilalet",
      registrationNumber: `RC-${Date.now()}`,
      reserve: "5",
      womenLed: "no",
      adminName: "Moha",
    };
    const send = () =>
      context.request.post(`${t.gateway.url}/w/registrar/cooperatives`, {
        form,
        headers: { Origin: t.gateway.url },
        maxRedirects: 0,
      });
    const first = await send();
    const second = await send();
    expect(first.status()).to.equal(303);
    expect(second.headers().location).to.equal(first.headers().location);
    await page.goto(`${t.gateway.url}${first.headers().location}`);
    expect(await page.locator("#manager-token").count()).to.equal(1);
    const all = t.gateway.ctx.services.cooperatives.list({ limit: 100, offset: 0 }).items;
    expect(all.filter((x) => x.name === name)).to.have.length(1);
    const member = await page.goto(`${t.gateway.url}/w/member/money?lang=fr`);
    expect(member!.status()).to.equal(403);
    await context.close();
  });

  it("a hand-made claim with a bad lot is refused; others get 403 and the signed-out /signin", async function () {
    const signedOut = await browser.newContext({ viewport: PHONE });
    const r = await signedOut.request.get(`${t.gateway.url}/w/member/money?lang=fr`, { maxRedirects: 0 });
    expect(r.status()).to.equal(303);
    expect(r.headers().location).to.equal("/signin?lang=fr");
    const page = await signedOut.newPage();
    await page.goto(`${t.gateway.url}/signin?lang=fr`);
    await page.fill("#token", tokens.auditor);
    await submit(page, "form[action='/signin'] button");
    const refused = await page.goto(`${t.gateway.url}/w/member/money?lang=fr`);
    expect(refused!.status()).to.equal(403);
    expect(await page.locator("h1").innerText()).to.equal(CATALOGS.fr.errors.errorTitle);
    await signedOut.close();

    const { context, page: memberPage } = await memberSignedIn("fr", tokens.members[0]);
    await memberPage.goto(`${t.gateway.url}/w?lang=fr`);
    const csrf = await memberPage.locator("input[name=csrf]").first().inputValue();
    const bad = await context.request.post(`${t.gateway.url}/w/member/claim`, {
      form: { csrf, batchId: "not-a-lot", token: "ETH", lang: "fr" },
      headers: { Origin: t.gateway.url },
      maxRedirects: 0,
    });
    expect(bad.status()).to.equal(404);
    await context.close();
  });
});
