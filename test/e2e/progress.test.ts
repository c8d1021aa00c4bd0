/**
 * A write the chain has not recorded yet, seen from the pages: the confirmation says it is on its way
 * with a link to look again; with JavaScript on, the page follows the write by itself (one same-origin
 * script under the strict CSP, GET /w/operations/<id>) and shows the result once it is mined; with
 * JavaScript off, the link does the same. The operation's status answers its owner only.
 *
 * The chain is held still (anvil automine off) so that the claim cannot be mined before the page is
 * answered (the gateway's wait for a receipt is cut to 1 s), then mining resumes.
 */
import { expect } from "chai";
import { readFileSync } from "node:fs";
import type { Browser } from "playwright-core";
import { seedDemo } from "../../server/demo/seed";
import { CATALOGS } from "../../server/pages/i18n";
import {
  launchChromium,
  noSeriousViolation,
  screenshots,
  signInWithCard,
  signInWithToken,
  submit,
} from "../helpers/browser";
import { startTestGateway, type TestGateway } from "../helpers/gateway";

interface DemoTokens {
  buyer: string;
  cooperativeAdmin: string;
  members: { name: string; card: string; pin: string; token: string }[];
}

describe("a write on its way (e2e)", function () {
  this.timeout(240_000);
  const { shot } = screenshots("cooptrace-progress");
  let t: TestGateway;
  let tokens: DemoTokens;
  let roseWaterBatchId: string;
  let browser: Browser;

  before(async function () {
    t = await startTestGateway({ env: { AUTH_FAILURES_PER_MINUTE: "1000" }, writeTimeoutMs: 1_000 });
    const demo = await seedDemo(t.gateway.url, t.adminToken, t.dataDir);
    tokens = JSON.parse(readFileSync(demo.tokensFile, "utf8")) as DemoTokens;
    roseWaterBatchId = demo.roseWaterBatchId;
    browser = await launchChromium();
  });

  after(async function () {
    await t?.provider.send("evm_setAutomine", [true]).catch(() => undefined);
    await browser?.close();
    await t?.stop();
  });

  const hold = () => t.provider.send("evm_setAutomine", [false]);
  const resume = async () => {
    await t.provider.send("evm_setAutomine", [true]);
    await t.provider.send("evm_mine", []);
  };

  it("fr, JavaScript on: 'on its way', then the page shows the payment by itself once it is mined", async function () {
    const c = CATALOGS.fr;
    const member = tokens.members[2]; // the demo paid the first two; the third is still owed
    const { context, page } = await signInWithCard(browser, "fr", member);
    await page.goto(`${t.gateway.url}/w/member/money?lang=fr`);
    await hold();
    try {
      await submit(page, "button.get-paid");
      const banner = page.locator("[data-operation]");
      expect(await banner.count()).to.equal(1);
      expect(await page.locator("h1").innerText()).to.include(c.roles.pending);
      const operationId = (await banner.getAttribute("data-operation"))!;
      // The status answers the owner, from her session…
      const own = await context.request.get(`${t.gateway.url}/w/operations/${operationId}`);
      expect(own.status()).to.equal(200);
      expect(await own.json()).to.deep.equal({ state: "pending" });
      // …and nobody else: another member's session, or no session at all.
      const other = await signInWithCard(browser, "fr", tokens.members[3]);
      expect((await other.context.request.get(`${t.gateway.url}/w/operations/${operationId}`)).status()).to.equal(404);
      await other.context.close();
      const anonymous = await browser.newContext();
      expect((await anonymous.request.get(`${t.gateway.url}/w/operations/${operationId}`)).status()).to.equal(404);
      await anonymous.close();
      // The script is this origin's, allowed by the page's policy; the page passes axe as it waits.
      const script = await page.locator("script[src^='/assets/progress.']").getAttribute("src");
      expect((await page.request.get(`${t.gateway.url}${script}`)).headers()["content-type"]).to.match(
        /^text\/javascript/,
      );
      await noSeriousViolation(page, "paid pending fr");
      await shot(page, "fr-01-on-its-way");
      // Still on its way while the chain is held: the page has not moved.
      await page.waitForTimeout(3_000);
      expect(await page.locator("[data-operation]").count()).to.equal(1);
    } finally {
      await resume();
    }
    // No click, no reload by hand: the script opens the finished page.
    await page.locator("[data-operation]").waitFor({ state: "detached", timeout: 30_000 });
    expect(await page.locator("h1").innerText()).to.include(c.roles.paidTitle);
    await shot(page, "fr-02-paid-by-itself");
    await context.close();
  });

  it("ar, JavaScript off: the 'look again' link shows the payment once it is mined", async function () {
    const c = CATALOGS.ar;
    const member = tokens.members[3];
    const { context, page } = await signInWithCard(browser, "ar", member, false);
    await page.goto(`${t.gateway.url}/w/member/money?lang=ar`);
    await hold();
    try {
      await submit(page, "button.get-paid");
      expect(await page.locator("h1").innerText()).to.include(c.roles.pending);
      await submit(page, "[data-operation] a");
      expect(await page.locator("h1").innerText()).to.include(c.roles.pending); // still held
      await shot(page, "ar-01-on-its-way");
    } finally {
      await resume();
    }
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && (await page.locator("[data-operation]").count()) > 0) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      await submit(page, "[data-operation] a");
    }
    expect(await page.locator("h1").innerText()).to.include(c.roles.paidTitle);
    await context.close();
  });

  it("fr, the manager: a step recorded while the chain is held, then its confirmation opens by itself", async function () {
    const c = CATALOGS.fr;
    const { context, page } = await signInWithToken(browser, t.gateway.url, "fr", tokens.cooperativeAdmin);
    await page.goto(`${t.gateway.url}/w/manager/batches/${roseWaterBatchId}/step?lang=fr`);
    await page.selectOption("#bizStep", "packing");
    await page.fill("#location", "Kelaat M'Gouna");
    await hold();
    try {
      await submit(page, "form[action^='/w/manager'] button[type=submit]");
      expect(page.url()).to.match(/[?&]op=[0-9a-f-]{36}/);
      expect(await page.locator("[data-operation]").count()).to.equal(1);
      expect(await page.locator("h1").innerText()).to.include(c.manager.pending);
      expect(await page.locator("script[src^='/assets/progress.']").count()).to.equal(1);
      await shot(page, "fr-03-step-on-its-way");
      await page.waitForTimeout(3_000);
      expect(await page.locator("[data-operation]").count()).to.equal(1); // held: still on its way
    } finally {
      await resume();
    }
    await page.locator("[data-operation]").waitFor({ state: "detached", timeout: 30_000 });
    expect(await page.locator("h1").innerText()).to.include(c.manager.stepDoneTitle(c.journey.steps.packing));
    await shot(page, "fr-04-step-done-by-itself");
    await context.close();
  });
});
