/**
 * The browser workspace's first slice end to end: a real gateway (embedded anvil, SQLite) seeded with
 * the demo exactly as `npm start` seeds it, and Debian's Chromium (playwright-core) at a phone's size,
 * 360 × 800, in Arabic (right to left) and French:
 *
 * - home → find the demo rose water by its lot code → its verify page (GS1 Digital Link);
 * - sign in with a token → /w says the role → sign out → the old cookie no longer opens anything;
 * - a member opens her card link, types a wrong PIN (message beside the field, tries left), then the
 *   right one → /w shows her money; 5 wrong PINs lock a card; the same sign-ins with JavaScript off;
 * - axe-core: no serious or critical violation on home, /cooperatives, /signin, /c/<card>, /w;
 * - the header is personal after sign-in, also on the cached verify page, and never leaks to others.
 *
 * Screenshots are kept in SCREENSHOT_DIR (default: <tmp>/cooptrace-workspace).
 */
import { expect } from "chai";
import { statSync } from "node:fs";
import jsQR from "jsqr";
import { PNG } from "pngjs";
import type { Browser, BrowserContext, Page } from "playwright-core";
import type { DemoResult } from "../../server/demo/seed";
import { formatterFor } from "../../server/pages/format";
import { CATALOGS, type Catalog } from "../../server/pages/i18n";
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

const { dir: SCREENSHOTS, shot } = screenshots("cooptrace-workspace");

interface DemoTokens {
  registrar: string;
  auditor: string;
  cooperativeAdmin: string;
  buyer: string;
  members: { name: string; card: string; pin: string; token: string }[];
}

/** A PIN that is not `pin` (the next one up, four digits). */
function wrongPin(pin: string): string {
  return String((Number(pin) + 1) % 10_000).padStart(4, "0");
}

describe("workspace (e2e)", function () {
  this.timeout(300_000);
  let t: TestGateway;
  let demo: DemoResult;
  let tokens: DemoTokens;
  let browser: Browser;

  before(async function () {
    // A generous guessing budget (the helper's default): this file types many wrong PINs on purpose.
    ({ t, demo, tokens, browser } = await startSeededDemo<DemoTokens>());
  });

  after(async function () {
    await stopSeededDemo({ t, browser }, SCREENSHOTS);
  });

  async function phone(lang: "ar" | "fr", javaScriptEnabled = true): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ viewport: PHONE, locale: LOCALES[lang], javaScriptEnabled });
    return { context, page: await context.newPage() };
  }

  /** Clicks and waits for the page the form or link leads to. */

  it("writes the demo's card links and PINs to a private file", function () {
    expect(statSync(demo.tokensFile).mode & 0o777).to.equal(0o600);
    expect(tokens.members).to.have.length(4);
    for (const m of tokens.members) {
      expect(m.card).to.match(new RegExp(`^${t.gateway.url}/c/[A-Za-z0-9_-]{22}$`));
      expect(m.pin).to.match(/^[0-9]{4}$/);
    }
  });

  it("prints a member card whose QR code opens her card's page, and no card without a PIN", async function () {
    const admin = t.api.as(tokens.cooperativeAdmin);
    const withPin = await admin.post(`/api/v1/cooperatives/${demo.cooperativeId}/members`, {
      displayName: "Fadma",
      reference: "card-2001",
      pin: "3817",
    });
    expect(withPin.status, withPin.text).to.equal(201);
    const { card, cardUrl, token } = withPin.body.member;
    expect(cardUrl).to.match(/\/c\/[A-Za-z0-9_-]{22}$/);
    expect(card).to.include("Fadma").and.not.to.include(token);
    const page = await browser.newPage({ viewport: { width: 860, height: 560 } });
    await page.setContent(`<body style="margin:0;background:#fff">${card}</body>`);
    const png = PNG.sync.read(await page.screenshot());
    await page.close();
    const qr = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
    expect(qr?.data).to.equal(cardUrl);

    const withoutPin = await admin.post(`/api/v1/cooperatives/${demo.cooperativeId}/members`, {
      displayName: "Hannou",
      reference: "card-2002",
    });
    expect(withoutPin.status, withoutPin.text).to.equal(201);
    expect(withoutPin.body.member.card).to.equal(null);
    expect(withoutPin.body.member.cardUrl).to.equal(null);
    const easy = await admin.post(`/api/v1/cooperatives/${demo.cooperativeId}/members`, {
      displayName: "Touda",
      reference: "card-2003",
      pin: "1234",
    });
    expect(easy.status).to.equal(400);
    expect(easy.text).to.include("pin");
    // The optional PIN is documented from the same zod schema that validates it.
    const doc = (await t.api.get("/api/v1/openapi.json")).body;
    const members = Object.entries(doc.paths as Record<string, { post?: unknown }>).find(([p]) =>
      /^\/api\/v1\/cooperatives\/\{id\}\/members$|^\/cooperatives\/\{id\}\/members$/.test(p),
    );
    const body = JSON.stringify((members?.[1] as { post?: { requestBody?: unknown } })?.post?.requestBody);
    expect(body).to.include('"pin"');
    expect(body).to.include("[0-9]{4,6}");
  });

  for (const lang of ["ar", "fr"] as const) {
    describe(`in ${lang}`, function () {
      const c: Catalog = CATALOGS[lang];
      // Aicha signs in in Arabic, Khadija in French; Itto's and Zahra's cards are the ones locked.
      const signer = lang === "ar" ? 0 : 1;
      const locked = lang === "ar" ? 2 : 3;

      it("home: finds the demo rose water by its lot code and opens its verify page", async function () {
        const { context, page } = await phone(lang);
        await page.goto(`${t.gateway.url}/?lang=${lang}`);
        expect(await page.locator("html").getAttribute("dir")).to.equal(c.dir);
        expect(await page.locator("h1").innerText()).to.equal(c.home.title);
        await noSeriousViolation(page, `home ${lang}`);
        await shot(page, `${lang}-01-home`);

        // A code that is on no label: the message is beside the field and in the summary.
        await page.fill("#lot", "NOPE-1");
        const none = await submit(page, "form[action='/find'] button");
        expect(none.status()).to.equal(404);
        expect(await page.locator("#lot-error").innerText()).to.equal(c.home.nothing);
        expect(await page.locator(".error-summary a[href='#lot']").innerText()).to.equal(c.home.nothing);
        await shot(page, `${lang}-02-find-nothing`);

        await page.fill("#lot", "kmg-rw-2026-05"); // as typed on a phone: any case
        await page.fill("#gtin", "");
        await submit(page, "form[action='/find'] button");
        expect(new URL(page.url()).pathname).to.equal("/01/06111234567895/10/KMG-RW-2026-05");
        expect(await page.locator("h1").innerText()).to.include(c.products["rose-water"]);
        await context.close();
      });

      it("the cooperatives directory lists the demo cooperative with its members", async function () {
        const { context, page } = await phone(lang);
        await page.goto(`${t.gateway.url}/cooperatives?lang=${lang}`);
        const item = page.locator(`[data-cooperative="${demo.cooperativeId}"]`);
        expect(await item.innerText()).to.include("Coopérative Tighmert des Roses");
        expect(await item.locator(".badge.women").innerText()).to.equal(c.cooperative.womenLed);
        const count = t.gateway.ctx.queries.getCooperative(demo.cooperativeId)!.memberCount;
        expect(await item.locator(".members").innerText()).to.equal(c.directory.members(count));
        await noSeriousViolation(page, `cooperatives ${lang}`);
        await shot(page, `${lang}-03-cooperatives`);
        await context.close();
      });

      it("signs in with a token, shows the role, signs out, and the old cookie opens nothing", async function () {
        const { context, page } = await phone(lang);
        await page.goto(`${t.gateway.url}/signin?lang=${lang}`);
        await noSeriousViolation(page, `signin ${lang}`);
        await shot(page, `${lang}-04-signin`);
        await page.fill("#token", "ct_not-a-real-token");
        const refused = await submit(page, "form[action='/signin'] button");
        expect(refused.status()).to.equal(401);
        expect(await page.locator("#token-error").innerText()).to.equal(c.signin.badToken);

        await page.fill("#token", tokens.cooperativeAdmin);
        await submit(page, "form[action='/signin'] button");
        expect(new URL(page.url()).pathname).to.equal("/w");
        expect(await page.locator("#role").innerText()).to.equal(c.workspace.roles.coop_admin);
        expect(await page.locator("#cooperative").innerText()).to.include("Coopérative Tighmert des Roses");
        expect(await page.locator("#batches li").count()).to.be.greaterThan(1);
        expect(await page.locator("header .who").innerText()).to.include("Fatima");
        await noSeriousViolation(page, `workspace manager ${lang}`);
        await shot(page, `${lang}-05-workspace-manager`);
        expect(await context.cookies()).not.to.satisfy((all: { value: string }[]) =>
          all.some((k) => k.value.includes(tokens.cooperativeAdmin)),
        );

        // The header is hers on every page, the cached verify page too, and only hers.
        const verify = await page.goto(`${t.gateway.url}/b/${demo.roseWaterBatchId}?lang=${lang}`);
        expect(await page.locator("header .who").innerText()).to.include("Fatima");
        expect(verify!.headers()["cache-control"]).to.equal("private, no-store");
        const anonymous = await (await fetch(`${t.gateway.url}/b/${demo.roseWaterBatchId}?lang=${lang}`)).text();
        expect(anonymous).not.to.include("Fatima");
        expect(anonymous).to.include(`href="/signin?lang=${lang}"`);

        const old = (await context.cookies()).find((k) => k.name === "ct_session")!.value;
        await submit(page, "header form.signout button");
        expect(new URL(page.url()).pathname).to.equal("/signin");
        expect(await page.locator("#signedOut").count()).to.equal(1);
        const replay = await fetch(`${t.gateway.url}/w`, {
          headers: { cookie: `ct_session=${old}` },
          redirect: "manual",
        });
        expect(replay.status).to.equal(303);
        expect(replay.headers.get("location")).to.match(/^\/signin/);
        await context.close();
      });

      it("a member signs in with her card: a wrong PIN says how many tries are left, the right one shows her money", async function () {
        const member = tokens.members[signer];
        const { context, page } = await phone(lang);
        await page.goto(`${member.card}?lang=${lang}`);
        expect(await page.locator(".cardface .name").innerText()).to.equal(member.name);
        expect(await page.locator("#pin").getAttribute("inputmode")).to.equal("numeric");
        expect(await page.locator("#pin").getAttribute("autocomplete")).to.equal("off");
        await noSeriousViolation(page, `card ${lang}`);
        await shot(page, `${lang}-06-card`);

        await page.fill("#pin", wrongPin(member.pin));
        const wrong = await submit(page, "form button[type=submit]");
        expect(wrong.status()).to.equal(401);
        expect(await page.locator("#pin-error").innerText()).to.equal(c.card.wrongPin(4));
        await noSeriousViolation(page, `card wrong PIN ${lang}`);
        await shot(page, `${lang}-07-card-wrong-pin`);

        await page.fill("#pin", member.pin);
        await submit(page, "form button[type=submit]");
        expect(new URL(page.url()).pathname).to.equal("/w");
        expect(await page.locator("#role").innerText()).to.equal(c.workspace.roles.member);
        const address = t.gateway.ctx.users.authenticate(member.token)!.address!;
        const [balance] = t.gateway.ctx.queries.balancesOf(address);
        const f = formatterFor(c);
        const earned = BigInt(balance.claimed) + BigInt(balance.claimable);
        expect(earned > 0n).to.equal(true);
        const line = page.locator(`#money [data-batch="${balance.batchId}"]`);
        // The demo sale is in dirhams: amounts as money in her language.
        const token = await t.gateway.http.services.tokens(balance.token);
        expect(await line.locator(".earned").innerText()).to.equal(f.money(earned, token));
        expect(await line.locator(".paid").innerText()).to.equal(f.money(balance.claimed, token));
        expect(await line.locator(".due").innerText()).to.equal(f.money(balance.claimable, token));
        await noSeriousViolation(page, `workspace member ${lang}`);
        await shot(page, `${lang}-08-workspace-member`);
        await context.close();
      });

      it("locks a card after 5 wrong PINs, even against the right one", async function () {
        const member = tokens.members[locked];
        const { context, page } = await phone(lang);
        await page.goto(`${member.card}?lang=${lang}`);
        for (const left of [4, 3, 2, 1]) {
          await page.fill("#pin", wrongPin(member.pin));
          await submit(page, "form button[type=submit]");
          expect(await page.locator("#pin-error").innerText()).to.equal(c.card.wrongPin(left));
        }
        await shot(page, `${lang}-09-card-last-try`);
        await page.fill("#pin", wrongPin(member.pin));
        const last = await submit(page, "form button[type=submit]");
        expect(last.status()).to.equal(403);
        expect(await page.locator("#card-locked").innerText()).to.include(c.card.lockedText);
        await noSeriousViolation(page, `card locked ${lang}`);
        await shot(page, `${lang}-10-card-locked`);
        const again = await page.goto(`${member.card}?lang=${lang}`);
        expect(again!.status()).to.equal(403);
        expect(await page.locator("#pin").count()).to.equal(0);
        // The right PIN, posted all the same, is refused.
        const res = await fetch(member.card, {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded", origin: t.gateway.url },
          body: new URLSearchParams({ pin: member.pin, lang }),
          redirect: "manual",
        });
        expect(res.status).to.equal(403);
        expect(res.headers.get("set-cookie")).to.equal(null);
        await context.close();
      });

      it("signs in with a card and with a token with JavaScript off", async function () {
        const { context, page } = await phone(lang, false);
        const member = tokens.members[signer];
        await page.goto(`${member.card}?lang=${lang}`);
        await page.fill("#pin", member.pin);
        await submit(page, "form button[type=submit]");
        expect(new URL(page.url()).pathname).to.equal("/w");
        expect(await page.locator("#money").count()).to.equal(1);
        await submit(page, "header form.signout button");
        await page.goto(`${t.gateway.url}/signin?lang=${lang}`);
        await page.fill("#token", tokens.auditor);
        await submit(page, "form[action='/signin'] button");
        expect(await page.locator("#role").innerText()).to.equal(c.workspace.roles.auditor);
        expect(await page.locator(`#audit a[href="/audit?lang=${lang}"]`).count()).to.equal(1);
        await shot(page, `${lang}-11-workspace-auditor-nojs`);
        await context.close();
      });
    });
  }

  // Mocha runs a suite's own tests before its nested suites: this one is in a suite of its own, last.
  describe("afterwards", function () {
    it("no PIN or token reached a log line", function () {
      const all = t.logs.join("");
      for (const m of tokens.members) expect(all).not.to.include(`"${m.pin}"`);
      expect(all).not.to.include(tokens.cooperativeAdmin);
      expect(all).not.to.include(tokens.auditor);
      expect(all).to.include("wrong PIN"); // the failures themselves are logged
    });
  });
});
