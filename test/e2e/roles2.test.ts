/**
 * The platform admin's and the certifier's pages end to end: a real gateway (embedded anvil, SQLite) seeded
 * with the demo, Debian's Chromium at 360 × 800, in Arabic and French, through the pages only:
 *
 * - the platform admin creates a certifier account; its key is shown once, and works;
 * - that certifier certifies the demo rose water (found by cooperative and lot code): one refused submit
 *   first (a lot code the cooperative does not have, the message beside the field, the values kept), then
 *   the confirmation, and the certification shows on the lot's public page;
 * - in French he withdraws it with a reason; the public page then warns not to rely on it;
 * - axe-core: no serious or critical violation on each page; other roles get 403.
 *
 * Screenshots are kept in SCREENSHOT_DIR (default: <tmp>/cooptrace-roles2).
 */
import { expect } from "chai";
import type { Browser } from "playwright-core";
import { seedDemo, type DemoResult } from "../../server/demo/seed";
import { CATALOGS } from "../../server/pages/i18n";
import { launchChromium, LOCALES, noSeriousViolation, PHONE, screenshots, submit } from "../helpers/browser";
import { startTestGateway, type TestGateway } from "../helpers/gateway";

const { dir: SCREENSHOTS, shot } = screenshots("cooptrace-roles2");
const ROSE_WATER_LOT = "KMG-RW-2026-05";

describe("platform admin and certifier pages (e2e)", function () {
  this.timeout(300_000);
  let t: TestGateway;
  let demo: DemoResult;
  let browser: Browser;

  before(async function () {
    t = await startTestGateway({ env: { AUTH_FAILURES_PER_MINUTE: "1000" } });
    demo = await seedDemo(t.gateway.url, t.adminToken, t.dataDir);
    browser = await launchChromium();
  });

  after(async function () {
    await browser?.close();
    await t?.stop();
    console.log(`        screenshots in ${SCREENSHOTS}`);
  });

  async function signedIn(lang: "ar" | "fr", token: string) {
    const context = await browser.newContext({ viewport: PHONE, locale: LOCALES[lang] });
    const page = await context.newPage();
    await page.goto(`${t.gateway.url}/signin?lang=${lang}`);
    await page.fill("#token", token);
    await submit(page, "form[action='/signin'] button");
    expect(new URL(page.url()).pathname).to.equal("/w");
    return { context, page };
  }

  for (const lang of ["ar", "fr"] as const) {
    const c = CATALOGS[lang];
    it(`${lang}: the admin creates a certifier, who certifies the rose water; it shows on the lot's public page`, async function () {
      // The admin: a certifier account, its key shown once.
      const admin = await signedIn(lang, t.adminToken);
      await submit(admin.page, "#admin-new-user");
      expect(await admin.page.locator("h1").innerText()).to.equal(c.roles2.newUserTitle);
      await noSeriousViolation(admin.page, `new user ${lang}`);
      const name = `ONSSA Ouarzazate ${lang} ${Date.now()}`;
      await admin.page.fill("#displayName", name);
      // No role chosen: refused, the message beside the question, the name kept.
      const refusedUser = await submit(admin.page, "form[action='/w/admin/users'] button[type=submit]");
      expect(refusedUser.status()).to.equal(400);
      expect(await admin.page.locator("#role-error").innerText()).to.equal(c.roles2.roleMissing);
      expect(await admin.page.locator("#displayName").inputValue()).to.equal(name);
      await noSeriousViolation(admin.page, `new user refused ${lang}`);
      await admin.page.check("input[name=role][value=certifier]");
      await submit(admin.page, "form[action='/w/admin/users'] button[type=submit]");
      expect(await admin.page.locator("h1").innerText()).to.equal(c.roles2.userCreatedTitle(name));
      const key = await admin.page.locator("#user-token").innerText();
      await noSeriousViolation(admin.page, `user created ${lang}`);
      await shot(admin.page, `${lang}-01-user-created`);
      const certifierUser = t.gateway.ctx.users.authenticate(key)!;
      expect(certifierUser.role).to.equal("certifier");
      expect(certifierUser.displayName).to.equal(name);
      await admin.page.reload();
      expect(await admin.page.locator("#user-token").count()).to.equal(0);
      // The admin is not a certifier.
      expect(
        (await admin.page.goto(`${t.gateway.url}/w/certifier/certifications/new?lang=${lang}`))!.status(),
      ).to.equal(403);
      await admin.context.close();

      // The new certifier, with the key he was handed.
      const before = t.gateway.ctx.services.batches.get(demo.roseWaterBatchId).certifications.length;
      const { context, page } = await signedIn(lang, key);
      await submit(page, "#certifier-certify");
      expect(await page.locator("h1").innerText()).to.equal(c.roles2.certifyTitle);
      await noSeriousViolation(page, `certify ${lang}`);
      await page.check(`input[name=cooperativeId][value="${demo.cooperativeId}"]`);
      await page.fill("#lotCode", "KMG-NOPE-1");
      await page.check("input[name=scheme][value=organic]");
      await page.fill("#reference", `MA-BIO-${lang}-0042`);
      await page.fill("#validUntil", "2030-06-30");
      const refused = await submit(page, "form[action='/w/certifier/certifications'] button[type=submit]");
      expect(refused.status()).to.equal(400);
      expect(await page.locator("#lotCode-error").innerText()).to.equal(c.roles2.lotNotFound);
      expect(await page.locator("#reference").inputValue()).to.equal(`MA-BIO-${lang}-0042`);
      expect(await page.locator(".error-summary a[href='#lotCode'], a[href='#lotCode']").count()).to.be.at.least(1);
      await noSeriousViolation(page, `certify refused ${lang}`);
      await shot(page, `${lang}-02-certify-refused`);

      await page.fill("#lotCode", ROSE_WATER_LOT);
      await submit(page, "form[action='/w/certifier/certifications'] button[type=submit]");
      expect(new URL(page.url()).pathname).to.match(/^\/w\/certifier\/certifications\/done\//);
      expect(await page.locator("h1").innerText()).to.equal(c.roles2.certifiedTitle);
      await noSeriousViolation(page, `certified ${lang}`);
      await shot(page, `${lang}-03-certified`);
      const certs = t.gateway.ctx.services.batches.get(demo.roseWaterBatchId).certifications;
      expect(certs).to.have.length(before + 1);
      const mine = certs[certs.length - 1];
      expect(mine.scheme).to.equal("Organic");
      expect(mine.certifier.toLowerCase()).to.equal(certifierUser.address!.toLowerCase());

      await submit(page, "#lot-page");
      expect(await page.locator("body").innerText()).to.include("Organic");
      await shot(page, `${lang}-04-lot-page`);

      if (lang === "fr") {
        await page.goBack();
        await submit(page, "#revoke-link");
        await noSeriousViolation(page, `revoke ${lang}`);
        const empty = await submit(page, "form[action$='/revoke'] button[type=submit]");
        expect(empty.status()).to.equal(400);
        expect(await page.locator("#reason-error").innerText()).to.equal(c.roles2.reasonMissing);
        await page.fill("#reason", "Contrôle non conforme le 12 juin");
        await submit(page, "form[action$='/revoke'] button[type=submit]");
        expect(await page.locator("h1").innerText()).to.equal(c.roles2.revokedTitle);
        await noSeriousViolation(page, `revoked ${lang}`);
        const after = t.gateway.ctx.services.batches.get(demo.roseWaterBatchId).certifications;
        expect(after.find((x) => x.certificationId === mine.certificationId)!.revocation).to.not.equal(null);
        // Public pages may be kept 15 s by any cache, the browser's included (Cache-Control max-age=15):
        // another URL for the same page (the server ignores the extra parameter) asks the gateway again.
        await page.goto(`${t.gateway.url}/b/${demo.roseWaterBatchId}?lang=fr&after=revocation`);
        expect(await page.locator("body").innerText()).to.include(c.certifications.revokedWarning);
        await shot(page, `${lang}-05-revoked`);
      }
      // A certifier is not the platform admin.
      expect((await page.goto(`${t.gateway.url}/w/admin/users/new?lang=${lang}`))!.status()).to.equal(403);
      await context.close();
    });
  }

  it("signed out: the admin's and certifier's pages send to /signin", async function () {
    const context = await browser.newContext({ viewport: PHONE });
    for (const p of ["/w/admin/users/new", "/w/certifier/certifications/new"]) {
      const r = await context.request.get(`${t.gateway.url}${p}?lang=fr`, { maxRedirects: 0 });
      expect(r.status()).to.equal(303);
      expect(r.headers().location).to.equal("/signin?lang=fr");
    }
    await context.close();
  });
});
