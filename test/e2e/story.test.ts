/**
 * The acceptance test of the workspace: the whole CoopTrace story played through the pages only, on a
 * fresh gateway (embedded anvil, real SQLite, nothing seeded), with Debian's Chromium at 360 × 800, once
 * in Arabic and once in French:
 *
 * - the platform admin creates a registrar, an arbiter and an auditor (each key shown once);
 * - the registrar registers a cooperative and its manager; the manager signs in with the key shown once;
 * - the manager adds three members with PINs (a card is printed: its QR code opens /c/<card>), records a
 *   lot with uneven deliveries (12 kg, 7.5 kg, 3 kg), records a step, prints the labels, offers a sale;
 * - a buyer signs up, gets test money, buys on /market/<sale>; the manager ships; the buyer confirms;
 * - each member signs in with her card link and PIN, sees her exact share (recomputed here from the
 *   weights, the deployment's fee and the cooperative's reserve, domain/split.ts) and gets paid;
 * - the auditor finds the sale consistent;
 * - a second sale is bought, shipped, disputed, and the arbiter resolves it with a 30 % refund;
 * - in French, the manager's and a member's steps again with JavaScript off.
 *
 * axe-core (no serious or critical violation) on every page visited with script; screenshots in
 * SCREENSHOT_DIR (default: <tmp>/cooptrace-story), named <lang>-NN-<step>.png.
 */
import { expect } from "chai";
import { existsSync, readdirSync, rmSync } from "node:fs";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { ZeroAddress } from "ethers";
import jsQR from "jsqr";
import { PNG } from "pngjs";
import type { Browser, Page } from "playwright-core";
import { shareOf, splitRevenue } from "../../domain/split";
import { formatterFor } from "../../server/pages/format";
import { offerSaleInput } from "../../server/services/sales";
import { CATALOGS, type Catalog } from "../../server/pages/i18n";
import {
  launchChromium,
  noSeriousViolation,
  PHONE,
  phone,
  screenshots,
  signInWithCard,
  signInWithToken,
  submit,
  type TestLang,
} from "../helpers/browser";
import { startTestGateway, type TestGateway } from "../helpers/gateway";
import { firstLabelQr } from "../helpers/labels";

const { dir: SCREENSHOTS, shot } = screenshots("cooptrace-story");
const ARBITER_PAGES = path.join(__dirname, "../../server/web/roles/arbiter.ts");

/** Is a program on the PATH (pdftoppm, to read the labels' QR codes back)? */
function onPath(program: string): boolean {
  try {
    execFileSync("which", [program], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

interface Story {
  lang: TestLang;
  c: Catalog;
  /** Screenshot counter: <lang>-NN-<step>. */
  n: number;
  keys: { registrar?: string; arbiter?: string; auditor?: string; manager?: string; buyer?: string };
  coopId?: number;
  reserveBps: number;
  members: { name: string; pin: string; weight: bigint; card?: string; account?: string }[];
  batchId?: string;
  saleId?: number;
  price: bigint;
  secondSaleId?: number;
  secondPrice: bigint;
}

describe("the whole story through the pages (e2e acceptance)", function () {
  this.timeout(1_200_000);
  let t: TestGateway;
  let browser: Browser;
  let feeBps: bigint;

  before(async function () {
    // Screenshots of an earlier run would mix with this one's (sale numbers differ between runs).
    for (const f of readdirSync(SCREENSHOTS)) if (f.endsWith(".png")) rmSync(path.join(SCREENSHOTS, f));
    t = await startTestGateway({ env: { AUTH_FAILURES_PER_MINUTE: "1000" } });
    browser = await launchChromium();
    // The platform fee is the deployment's (the escrow's), read from the chain, not from the pages.
    feeBps = BigInt(await t.contracts.escrow.feeBps());
  });

  after(async function () {
    await browser?.close();
    await t?.stop();
    console.log(`        screenshots in ${SCREENSHOTS}`);
  });

  const url = (p: string) => `${t.gateway.url}${p}`;
  const sale = (id: number) => t.gateway.ctx.services.sales.get(id);
  const escrow = () => t.contracts.escrow;

  /** axe-core (when the page runs script) and a numbered screenshot. */
  async function look(s: Story, page: Page, name: string, js = true): Promise<void> {
    if (js) {
      await noSeriousViolation(page, `${s.lang} ${name}`);
      // Not an assertion (the pages are others'): a page wider than the phone is noted for the report.
      const width = await page.evaluate<number>("document.documentElement.scrollWidth");
      if (width > PHONE.width) console.log(`        (page problem: ${name} is ${width} px wide at ${PHONE.width} px)`);
    }
    s.n += 1;
    await shot(page, `${s.lang}-${String(s.n).padStart(2, "0")}-${name}`);
  }

  /** Skips a step whose earlier step failed (that failure is reported on its own). */
  function need<T>(ctx: Mocha.Context, value: T | undefined, what: string): T {
    if (value === undefined) {
      console.log(`        (skipped: no ${what} from an earlier step)`);
      ctx.skip();
    }
    return value as T;
  }

  /** Reads a QR code drawn by an SVG (the member card), rendered in a browser page of its own. */
  async function qrOfSvg(svg: string): Promise<string | null> {
    const page = await browser.newPage({ viewport: { width: 900, height: 600 } });
    await page.setContent(`<body style="margin:0;background:#fff">${svg}</body>`);
    const png = PNG.sync.read(await page.screenshot({ fullPage: true }));
    await page.close();
    return jsQR(new Uint8ClampedArray(png.data), png.width, png.height)?.data ?? null;
  }

  /** The platform admin's form: one account of `role`; answers its key, shown once. */
  async function createAccount(s: Story, page: Page, role: "registrar" | "arbiter" | "auditor", name: string) {
    await page.goto(url(`/w/admin/users/new?lang=${s.lang}`));
    expect(await page.locator("h1").innerText()).to.equal(s.c.roles2.newUserTitle);
    if (role === "registrar") await look(s, page, "admin-new-user");
    await page.check(`input[name=role][value=${role}]`);
    await page.fill("#displayName", name);
    await submit(page, "form[action='/w/admin/users'] button[type=submit]");
    expect(await page.locator("h1").innerText()).to.equal(s.c.roles2.userCreatedTitle(name));
    const key = await page.locator("#user-token").innerText();
    await look(s, page, `admin-created-${role}`);
    const user = t.gateway.ctx.users.authenticate(key)!;
    expect([user.role, user.displayName]).to.deep.equal([role, name]);
    await page.reload();
    expect(await page.locator("#user-token").count()).to.equal(0);
    return key;
  }

  /** The manager's member form: a member with a PIN; answers her card link, read from the card's QR code. */
  async function addMember(s: Story, page: Page, m: Story["members"][number], ref: string, js: boolean) {
    await page.goto(url(`/w/manager/members/new?lang=${s.lang}`));
    if (js && m === s.members[0]) await look(s, page, "member-form");
    await page.fill("#displayName", m.name);
    await page.fill("#reference", ref);
    await page.fill("#pin", m.pin);
    await page.fill("#pinAgain", m.pin);
    const done = await submit(page, "form[action^='/w/manager'] button[type=submit]");
    expect(done.status()).to.equal(200);
    expect(await page.locator("h1").innerText()).to.equal(s.c.manager.memberDoneTitle(m.name));
    const src = (await page.locator("#member-card").getAttribute("src"))!;
    expect(src).to.match(/^data:image\/svg\+xml;base64,/);
    const svg = Buffer.from(src.split(",")[1], "base64").toString("utf8");
    const card = await qrOfSvg(svg);
    expect(card, `the QR code of ${m.name}'s card`).to.match(new RegExp(`^${t.gateway.url}/c/[A-Za-z0-9_-]{22}$`));
    return { card: card!, svg };
  }

  /** The manager's lot form: uneven deliveries; answers the new lot's id. */
  async function registerLot(s: Story, page: Page, lot: string, js: boolean): Promise<string> {
    await page.goto(url(`/w/manager/batches/new?lang=${s.lang}`));
    if (js) await look(s, page, "lot-form");
    await page.selectOption("#productCode", "rose-petals");
    await page.fill("#lotCode", lot);
    await page.fill("#origin", "Kelaat M'Gouna");
    const weightOf = (name: string) => page.locator("table.contributors").getByLabel(name, { exact: true });
    // As a picker says it: 12 kg, 7,5 kg, 3 kg. The table takes whole numbers only: 7,5 is refused beside it.
    const half = s.lang === "fr" ? "7,5" : "7.5";
    await weightOf(s.members[0].name).fill("12");
    await weightOf(s.members[1].name).fill(half);
    await weightOf(s.members[2].name).fill("3");
    await page.selectOption("#unit", "kg");
    const refused = await submit(page, "form[action^='/w/manager'] button[type=submit]");
    expect(refused.status()).to.equal(400);
    const halfId = (await weightOf(s.members[1].name).getAttribute("id"))!;
    expect(await page.locator(`#${halfId}-error`).innerText()).to.equal(s.c.manager.wholeUnits);
    expect(await weightOf(s.members[1].name).inputValue()).to.equal(half);
    if (js) await look(s, page, "lot-refused-decimal-kg");
    // The same deliveries in grams.
    for (const m of s.members) await weightOf(m.name).fill(String(m.weight));
    await page.selectOption("#unit", "g");
    await page.fill("#quantity", "");
    const done = await submit(page, "form[action^='/w/manager'] button[type=submit]");
    expect(done.status()).to.equal(200);
    expect(await page.locator("h1").innerText()).to.include(s.c.manager.batchDoneTitle);
    const batchId = /^\/w\/manager\/batches\/(0x[0-9a-f]{64})\/done$/.exec(new URL(page.url()).pathname)![1];
    await look(s, page, "lot-done", js);
    const b = t.gateway.ctx.services.batches.get(batchId);
    const total = s.members.reduce((a, m) => a + m.weight, 0n);
    expect([b.lotCode, b.quantity, b.unit, b.totalWeight]).to.deep.equal([lot, String(total), "g", String(total)]);
    const weights = Object.fromEntries(b.contributors.map((x) => [x.account.toLowerCase(), x.weight]));
    for (const m of s.members) expect(weights[m.account!.toLowerCase()], m.name).to.equal(String(m.weight));
    return batchId;
  }

  /** The manager's step form on the lot (from the lot's confirmation). */
  async function recordStep(s: Story, page: Page, batchId: string, js: boolean) {
    await submit(page, `a[href^="/w/manager/batches/${batchId}/step"]`);
    if (js) await look(s, page, "step-form");
    await page.selectOption("#bizStep", "drying");
    // A time safely in the past: the pre-flight check runs on the last block's time, which on an idle
    // chain lags the host clock, so a step timed "this minute" may be refused (issue 15, finding 2).
    await page.fill("#eventTime", new Date(Date.now() - 2 * 3600_000).toISOString().slice(0, 16));
    await page.fill("#location", "Kelaat M'Gouna");
    const done = await submit(page, "form[action^='/w/manager'] button[type=submit]");
    expect(done.status(), `${page.url()}: ${(await page.content()).slice(0, 400)}`).to.equal(200);
    expect(await page.locator("h1").innerText()).to.include(s.c.journey.steps.drying);
    await look(s, page, "step-done", js);
    const events = t.gateway.ctx.services.batches.get(batchId).events;
    expect(events.map((e) => [e.bizStep, e.location])).to.deep.include(["drying", "Kelaat M'Gouna"]);
  }

  /**
   * The manager's offer form, from the lot on /w, looked at; answers the sale's id. The form offers the
   * currencies the escrow records (dirhams first), never ETH beside them, and test/e2e/sales.test.ts sells
   * through it; this story counts every share to the wei in ETH, so its offer is made with the same
   * service the form calls, in ETH, and the story goes on from the form's confirmation page.
   */
  async function offer(s: Story, page: Page, batchId: string, quantity: string, price: bigint, js: boolean) {
    await page.goto(url(`/w?lang=${s.lang}`));
    await submit(page, `li[data-batch="${batchId}"] a.sell`);
    expect(await page.locator("h1").innerText()).to.equal(s.c.buying.offerFormTitle);
    if (js) await look(s, page, "offer-form");
    const manager = t.gateway.ctx.users.authenticate(s.keys.manager!)!;
    const input = offerSaleInput.parse({ batchId, quantity, token: "ETH", price: price.toString() });
    const offered = await t.gateway.ctx.services.sales.offer(manager, input);
    await page.goto(url(`/w/manager/sales/${offered.saleId}/done/offered?lang=${s.lang}`));
    expect(await page.locator("#step-done h1").innerText()).to.equal(s.c.buying.offeredTitle);
    await look(s, page, "offered", js);
    const saleId = Number(offered.saleId);
    const x = sale(saleId);
    expect([x.price, x.quantity, x.state, x.batchId]).to.deep.equal([price.toString(), quantity, "Created", batchId]);
    expect([BigInt(x.feeBps), x.reserveBps]).to.deep.equal([feeBps, s.reserveBps]);
    return saleId;
  }

  /** The buyer buys on /market/<sale>; the sale is then Funded with exactly its price. */
  async function buy(s: Story, page: Page, saleId: number, price: bigint) {
    await page.goto(url(`/market?lang=${s.lang}`));
    await submit(page, `#offer-${saleId} a.offer-open`);
    expect(new URL(page.url()).pathname).to.equal(`/market/${saleId}`);
    const f = formatterFor(s.c);
    expect(await page.locator(".price").innerText()).to.include(f.amount(price, 18));
    await look(s, page, `market-${saleId}`);
    await submit(page, "#buy");
    expect(await page.locator("#step-done h1").innerText()).to.equal(s.c.buying.boughtTitle);
    await look(s, page, `bought-${saleId}`);
    const x = sale(saleId);
    expect([x.state, x.fundedAmount]).to.deep.equal(["Funded", price.toString()]);
  }

  /** The manager marks a paid sale shipped on his sale page. */
  async function ship(s: Story, saleId: number) {
    const { context, page } = await signInWithToken(browser, t.gateway.url, s.lang, s.keys.manager!);
    await page.goto(url(`/w/manager/sales/${saleId}?lang=${s.lang}`));
    expect(await page.locator(".state").innerText()).to.equal(s.c.sales.states.Funded);
    await look(s, page, `manager-sale-${saleId}`);
    await submit(page, "#ship");
    expect(await page.locator("#step-done h1").innerText()).to.equal(s.c.buying.shippedTitle);
    await look(s, page, `shipped-${saleId}`);
    expect(sale(saleId).state).to.equal("Shipped");
    await context.close();
  }

  /** What the first sale owes each member: price − fee − reserve, pro rata by weight, rounded down. */
  function expectedShares(s: Story) {
    const split = splitRevenue(s.price, feeBps, BigInt(s.reserveBps));
    const total = s.members.reduce((a, m) => a + m.weight, 0n);
    return { split, shares: s.members.map((m) => shareOf(split.net, m.weight, total)) };
  }

  /** A member: card link + PIN → /w → her money: her exact share → "get paid" → paid, to the wei. */
  async function memberGetsPaid(s: Story, i: number, batchId: string, saleId: number, share: bigint, js: boolean) {
    const m = s.members[i];
    const f = formatterFor(s.c);
    const shown = `${f.amount(share, 18)} ETH`;
    const { context, page } = await signInWithCard(browser, s.lang, { card: m.card!, pin: m.pin }, js);
    await submit(page, "#member-money");
    expect(new URL(page.url()).pathname).to.equal("/w/member/money");
    const group = page.locator(`.money-group[data-batch="${batchId}"][data-token="ETH"]`);
    const line = group.locator(`[data-sale="${saleId}"]`);
    expect(await line.locator(".share").innerText()).to.equal(shown);
    expect(await line.locator(".due").innerText()).to.equal(shown);
    expect(await line.locator(".paid").innerText()).to.equal(`${f.amount(0n, 18)} ETH`);
    await look(s, page, `member${i + 1}-money`, js);
    const claimedBefore = await escrow().claimed(batchId, ZeroAddress, m.account!);
    const balanceBefore = await t.provider.getBalance(m.account!);
    await submit(page, `.money-group[data-batch="${batchId}"] button.get-paid`);
    expect(new URL(page.url()).pathname).to.match(/^\/w\/member\/paid\//);
    expect(await page.locator("#paid h1").innerText()).to.include(s.c.roles.paidTitle);
    expect(await page.locator("#paid .amount").innerText()).to.equal(shown);
    await look(s, page, `member${i + 1}-paid`, js);
    // The relayer pays the gas: her account grows by exactly her share.
    expect((await escrow().claimed(batchId, ZeroAddress, m.account!)) - claimedBefore).to.equal(share);
    expect((await t.provider.getBalance(m.account!)) - balanceBefore).to.equal(share);
    await page.goto(url(`/w/member/money?lang=${s.lang}`));
    expect(await group.locator(".nothing-due").innerText()).to.equal(s.c.roles.nothingDue);
    await context.close();
  }

  for (const lang of ["ar", "fr"] as const) {
    describe(`in ${lang}`, function () {
      const c = CATALOGS[lang];
      const names =
        lang === "ar" ? ["عائشة أيت علي", "إطو أوحدو", "فاطمة نايت"] : ["Aïcha Ait Ali", "Itto Ouhaddou", "Fadma Nait"];
      const s: Story = {
        lang,
        c,
        n: 0,
        keys: {},
        reserveBps: lang === "ar" ? 1000 : 500,
        members: [
          { name: names[0], pin: "4826", weight: 12_000n },
          { name: names[1], pin: "5930", weight: 7_500n },
          { name: names[2], pin: "7392", weight: 3_000n },
        ],
        // Prices that do not divide evenly, so that every floor of the split shows.
        price: lang === "ar" ? 12_345_678_901_234_567n : 23_456_789_012_345_679n,
        secondPrice: lang === "ar" ? 20_000_000_000_000_003n : 30_000_000_000_000_007n,
      };
      const tag = `${lang}${Date.now() % 100000}`;

      it("the platform admin creates a registrar, an arbiter and an auditor", async function () {
        const { context, page } = await signInWithToken(browser, t.gateway.url, lang, t.adminToken);
        expect(new URL(page.url()).pathname).to.equal("/w");
        await look(s, page, "admin-home");
        await submit(page, "#admin-new-user");
        expect(new URL(page.url()).pathname).to.equal("/w/admin/users/new");
        s.keys.registrar = await createAccount(s, page, "registrar", `Registrar ${tag}`);
        s.keys.arbiter = await createAccount(s, page, "arbiter", `Arbiter ${tag}`);
        s.keys.auditor = await createAccount(s, page, "auditor", `Auditor ${tag}`);
        await context.close();
      });

      it("the registrar registers a cooperative and its manager; the key is shown once", async function () {
        const key = need(this, s.keys.registrar, "registrar");
        const { context, page } = await signInWithToken(browser, t.gateway.url, lang, key);
        await look(s, page, "registrar-home");
        await submit(page, "#registrar-register");
        await look(s, page, "registrar-form");
        const name = `Tighmert ${tag}`;
        await page.fill("#name", name);
        await page.selectOption("#region", "MA-TIN");
        await page.fill("#registrationNumber", `RC-${tag}`);
        await page.fill("#reserveBps", String(s.reserveBps / 100));
        await page.check("#womenLed");
        await page.fill("#admin-displayName", lang === "ar" ? "حسن" : "Hassan");
        await submit(page, "form[action='/w/registrar/cooperatives'] button[type=submit]");
        expect(await page.locator("h1").innerText()).to.equal(c.roles.registeredTitle(name));
        s.keys.manager = await page.locator("#manager-token").innerText();
        await look(s, page, "registered");
        expect(t.gateway.ctx.users.authenticate(s.keys.manager)!.role).to.equal("coop_admin");
        const coop = t.gateway.ctx.services.cooperatives
          .list({ limit: 100, offset: 0 })
          .items.find((x) => x.name === name)!;
        expect([coop.reserveBps, coop.womenLed]).to.deep.equal([s.reserveBps, true]);
        s.coopId = Number(coop.cooperativeId);
        await page.reload();
        expect(await page.locator("#manager-token").count()).to.equal(0);
        await context.close();
      });

      it("the manager signs in with that key and adds three members with PINs; a card is printed", async function () {
        const key = need(this, s.keys.manager, "manager key");
        const { context, page } = await signInWithToken(browser, t.gateway.url, lang, key);
        await submit(page, "#manager-dashboard");
        expect(new URL(page.url()).pathname).to.equal("/w/manager");
        await look(s, page, "manager-dashboard");
        for (const [i, m] of s.members.entries()) {
          const { card } = await addMember(s, page, m, `reg-${tag}-${i}`, true);
          m.card = card;
          if (i === 0) {
            await look(s, page, "member-card");
            // Printed: the page prints the card alone, and the card's PDF is there too.
            await page.emulateMedia({ media: "print" });
            expect(await page.locator("header").first().isVisible()).to.equal(false);
            expect(await page.locator("#member-card").isVisible()).to.equal(true);
            await page.emulateMedia({ media: "screen" });
            const pdf = await context.request.get(
              url((await page.locator("#card-pdf a").first().getAttribute("href"))!),
            );
            expect(pdf.headers()["content-type"]).to.match(/^application\/pdf/);
            expect((await pdf.body()).subarray(0, 5).toString()).to.equal("%PDF-");
          }
        }
        const members = t.gateway.ctx.queries.listMembers(s.coopId!);
        expect(members).to.have.length(3);
        for (const m of s.members) {
          const found = members.find((x) => t.gateway.ctx.users.findByAddress(x.account)?.displayName === m.name);
          expect(found, m.name).to.not.equal(undefined);
          m.account = found!.account;
        }
        await page.goto(url(`/w/manager?lang=${lang}`));
        expect(await page.locator("#members li").count()).to.equal(3);
        await context.close();
      });

      it("the manager records a lot (12 kg, 7.5 kg, 3 kg), a step, and prints its labels", async function () {
        const key = need(this, s.members[2].account === undefined ? undefined : s.keys.manager, "members");
        const { context, page } = await signInWithToken(browser, t.gateway.url, lang, key);
        s.batchId = await registerLot(s, page, `KMG-${tag.toUpperCase()}`, true);
        await recordStep(s, page, s.batchId, true);
        const pdf = await context.request.get(url(`/w/manager/labels.pdf?lang=${lang}`));
        expect(pdf.status()).to.equal(200);
        expect(pdf.headers()["content-type"]).to.match(/^application\/pdf/);
        const bytes = await pdf.body();
        expect(bytes.subarray(0, 5).toString()).to.equal("%PDF-");
        expect(bytes.length).to.be.greaterThan(1000);
        // The lot's own label (a selection of one): its QR code, read back from the rendered page, opens
        // the lot's public page, which names the lot.
        const one = await context.request.get(url(`/w/manager/labels.pdf?batch=${s.batchId}&lang=${lang}`));
        expect(one.status()).to.equal(200);
        const qr = firstLabelQr(await one.body());
        if (qr === null) {
          expect(onPath("pdftoppm"), "pdftoppm is installed but the QR code could not be read").to.equal(false);
          console.log("        (note: pdftoppm is not installed: the labels' QR codes are not decoded)");
        } else {
          const lot = t.gateway.ctx.services.batches.get(s.batchId).lotCode;
          const opened = await context.request.get(qr.replace(/^https?:\/\/[^/]+/, t.gateway.url));
          expect(opened.status(), qr).to.equal(200);
          expect(await opened.text()).to.include(lot);
        }
        await context.close();
      });

      it("the manager offers a sale; a buyer signs up, gets test money and buys it", async function () {
        const batchId = need(this, s.batchId, "lot");
        const manager = await signInWithToken(browser, t.gateway.url, lang, s.keys.manager!);
        s.saleId = await offer(s, manager.page, batchId, "10000", s.price, true);
        await manager.context.close();

        const { context, page } = await phone(browser, lang);
        await page.goto(url(`/signup?lang=${lang}`));
        await look(s, page, "signup");
        await page.fill("#displayName", lang === "ar" ? "متجر الرباط" : "Épicerie du Vieux-Lyon");
        await submit(page, "#signup-submit");
        s.keys.buyer = await page.locator("#buyer-token").innerText();
        const buyer = t.gateway.ctx.users.authenticate(s.keys.buyer)!;
        expect(buyer.role).to.equal("buyer");
        await look(s, page, "signed-up");
        await page.goto(url(`/w?lang=${lang}`));
        await submit(page, "#buyer-funds");
        await look(s, page, "funds");
        const before = await t.provider.getBalance(buyer.address!);
        await submit(page, "#get-funds");
        expect(await page.locator("#funds-done").count()).to.equal(1);
        expect((await t.provider.getBalance(buyer.address!)) - before).to.equal(10n ** 18n);
        await look(s, page, "funds-done");
        await buy(s, page, s.saleId, s.price);
        await context.close();
      });

      it("the manager ships, the buyer confirms delivery: the sale is released, split as the rule says", async function () {
        const saleId = need(this, s.saleId, "sale");
        await ship(s, saleId);
        const { context, page } = await signInWithToken(browser, t.gateway.url, lang, s.keys.buyer!);
        await page.goto(url(`/w/buyer/orders?lang=${lang}`));
        const order = page.locator(`.order[data-sale="${saleId}"]`);
        expect(await order.locator(".state").innerText()).to.equal(c.sales.states.Shipped);
        await look(s, page, "orders-shipped");
        await submit(page, `.order[data-sale="${saleId}"] a.confirm`);
        expect(await page.locator("h1").innerText()).to.equal(c.selling.confirmTitle);
        await look(s, page, "confirm-ask");
        await submit(page, "#confirm-yes");
        expect(await page.locator("#step-done h1").innerText()).to.equal(c.buying.confirmedTitle);
        await look(s, page, "confirmed");
        const x = sale(saleId);
        expect(x.state).to.equal("Released");
        const { split } = expectedShares(s);
        expect(x.releases.map((r) => [r.gross, r.fee, r.reserve, r.net])).to.deep.equal([
          [s.price, split.fee, split.reserve, split.net].map(String),
        ]);
        expect(await escrow().reserveOf(s.coopId!, ZeroAddress)).to.equal(split.reserve);
        await context.close();
      });

      for (const i of [0, 1, 2]) {
        it(`member ${i + 1} signs in with her card and PIN, sees her exact share and gets paid`, async function () {
          const saleId = need(
            this,
            s.saleId !== undefined && sale(s.saleId).state === "Released" ? s.saleId : undefined,
            "released sale",
          );
          const { shares } = expectedShares(s);
          await memberGetsPaid(s, i, s.batchId!, saleId, shares[i], true);
        });
      }

      it("the auditor opens the sale on /audit and finds it consistent", async function () {
        const key = need(this, s.keys.auditor, "auditor");
        const saleId = need(this, s.saleId, "sale");
        const { context, page } = await signInWithToken(browser, t.gateway.url, lang, key);
        await submit(page, `#audit a[href="/audit?lang=${lang}"]`);
        expect(new URL(page.url()).pathname).to.equal("/audit");
        await look(s, page, "audit-home");
        if ((await page.locator(`#audit-sale-${saleId}`).count()) > 0) await submit(page, `#audit-sale-${saleId}`);
        else {
          console.log(`        (note: /audit does not list sales yet: /audit/sales/${saleId} opened directly)`);
          await page.goto(url(`/audit/sales/${saleId}?lang=${lang}`));
        }
        expect(new URL(page.url()).pathname).to.equal(`/audit/sales/${saleId}`);
        expect(await page.locator("#consistent strong").innerText()).to.equal(c.audit.consistent);
        expect(await page.locator("#inconsistent").count()).to.equal(0);
        const { split } = expectedShares(s);
        for (const v of [s.price, split.fee, split.reserve, split.net])
          expect(await page.locator(`[data-raw="${v}"]`).count(), String(v)).to.be.at.least(1);
        await look(s, page, "audit-sale");
        await context.close();
      });

      it("a second sale is bought, shipped and disputed by the buyer", async function () {
        const batchId = need(this, s.batchId, "lot");
        const key = need(this, s.keys.buyer, "buyer");
        const manager = await signInWithToken(browser, t.gateway.url, lang, s.keys.manager!);
        const saleId = await offer(s, manager.page, batchId, "5000", s.secondPrice, true);
        await manager.context.close();
        const { context, page } = await signInWithToken(browser, t.gateway.url, lang, key);
        await buy(s, page, saleId, s.secondPrice);
        await ship(s, saleId);
        await page.goto(url(`/w/buyer/orders?lang=${lang}`));
        await submit(page, `.order[data-sale="${saleId}"] button.dispute`);
        expect(await page.locator("#step-done h1").innerText()).to.equal(c.buying.disputedTitle);
        await look(s, page, "disputed");
        expect(sale(saleId).state).to.equal("Disputed");
        s.secondSaleId = saleId;
        await context.close();
      });

      it("the arbiter resolves the dispute with a 30 % refund", async function () {
        const saleId = need(this, s.secondSaleId, "disputed sale");
        if (!existsSync(ARBITER_PAGES)) {
          console.log("        (skipped: server/web/roles/arbiter.ts does not exist yet)");
          this.skip();
        }
        const buyer = t.gateway.ctx.users.authenticate(s.keys.buyer!)!.address!;
        const creditBefore = await escrow().credited(ZeroAddress, buyer);
        const releasedBefore = await escrow().released(s.batchId!, ZeroAddress);
        const { context, page } = await signInWithToken(browser, t.gateway.url, lang, s.keys.arbiter!);
        await submit(page, "#arbiter-disputes");
        expect(new URL(page.url()).pathname).to.equal("/w/arbiter/disputes");
        await look(s, page, "arbiter-disputes");
        await submit(page, `#dispute-${saleId}`);
        expect(new URL(page.url()).pathname).to.equal(`/w/arbiter/disputes/${saleId}`);
        await look(s, page, "arbiter-dispute");
        await page.fill("#refundPercent", "30");
        await submit(page, "#resolve");
        // The brief's contract says …/<saleId>/done; the page answers …/<saleId>/done/<confirmation id>.
        expect(new URL(page.url()).pathname).to.match(new RegExp(`^/w/arbiter/disputes/${saleId}/done(/[^/]+)?$`));
        const refund = (s.secondPrice * 3000n) / 10_000n;
        const f = formatterFor(c);
        // The amount is isolated for right-to-left text (U+2066 … U+2069): compared without the marks.
        const gets = (await page.locator("#buyer-gets").innerText()).replace(/[\u2066-\u2069]/g, "");
        expect(gets).to.equal(c.roles3.buyerGets(`${f.amount(refund, 18)} ETH`));
        const rest = `${f.amount(s.secondPrice - refund, 18)} ETH`;
        expect((await page.locator("#cooperative-gets").innerText()).replace(/[\u2066-\u2069]/g, "")).to.include(rest);
        await look(s, page, "arbiter-resolved");
        const x = sale(saleId);
        const split = splitRevenue(s.secondPrice - refund, feeBps, BigInt(s.reserveBps));
        expect([x.state, x.dispute?.resolution?.refundBps]).to.deep.equal(["Resolved", 3000]);
        expect(x.refunds.map((r) => r.amount)).to.deep.equal([String(refund)]);
        expect(x.releases.map((r) => [r.gross, r.net])).to.deep.equal([
          [String(s.secondPrice - refund), String(split.net)],
        ]);
        expect((await escrow().credited(ZeroAddress, buyer)) - creditBefore).to.equal(refund);
        expect((await escrow().released(s.batchId!, ZeroAddress)) - releasedBefore).to.equal(split.net);
        await context.close();

        // What the resolved sale adds to the first member's share: the lot's cumulative net, pro rata, floored.
        const m = s.members[0];
        const total = s.members.reduce((a, x) => a + x.weight, 0n);
        const added = shareOf(releasedBefore + split.net, m.weight, total) - shareOf(releasedBefore, m.weight, total);
        const member = await signInWithCard(browser, lang, { card: m.card!, pin: m.pin });
        await member.page.goto(url(`/w/member/money?lang=${lang}`));
        const line = member.page.locator(`.money-group[data-batch="${s.batchId}"] [data-sale="${saleId}"]`);
        expect(await line.locator(".share").innerText()).to.equal(`${f.amount(added, 18)} ETH`);
        expect(await line.locator(".due").innerText()).to.equal(`${f.amount(added, 18)} ETH`);
        await look(s, member.page, "member1-money-after-dispute");
        await member.context.close();
      });

      it("the buyer takes the refund back to her account", async function () {
        const key = need(this, s.keys.buyer, "buyer");
        const buyer = t.gateway.ctx.users.authenticate(key)!.address!;
        const credit = await escrow().credited(ZeroAddress, buyer);
        expect(credit > 0n).to.equal(true);
        const { context, page } = await signInWithToken(browser, t.gateway.url, lang, key);
        await page.goto(url(`/w/buyer/orders?lang=${lang}`));
        const button = page.locator("#refunds button.withdraw");
        expect((await button.innerText()).replace(/[\u2066-\u2069]/g, "")).to.equal(
          c.buying.withdraw(`${formatterFor(c).amount(credit, 18)} ETH`),
        );
        await look(s, page, "buyer-refunds");
        const before = await t.provider.getBalance(buyer);
        await submit(page, "#refunds button.withdraw");
        expect(await page.locator("h1").innerText()).to.equal(c.buying.withdrawnTitle);
        await look(s, page, "buyer-withdrawn");
        // A meta-transaction: the relayer pays the gas, so the account grows by exactly the refund.
        expect((await t.provider.getBalance(buyer)) - before).to.equal(credit);
        expect(await escrow().credited(ZeroAddress, buyer)).to.equal(0n);
        await page.goto(url(`/w/buyer/orders?lang=${lang}`));
        expect(await page.locator("#refunds").count()).to.equal(0);
        await context.close();
      });
    });
  }

  describe("fr, JavaScript off: the manager's and a member's steps", function () {
    const c = CATALOGS.fr;
    const s: Story = {
      lang: "fr",
      c,
      n: 50,
      keys: {},
      reserveBps: 500,
      members: [
        { name: "Zahra Nojs", pin: "2749", weight: 9_000n },
        { name: "Hannou Nojs", pin: "3861", weight: 4_500n },
        { name: "Touda Nojs", pin: "6173", weight: 1_000n },
      ],
      price: 17_777_777_777_777_777n,
      secondPrice: 0n,
    };
    const tag = `nojs${Date.now() % 100000}`;

    it("the manager adds members, records a lot and a step and offers it, with no script", async function () {
      // A cooperative of its own, registered through the registrar's page (with script: not under test here).
      const admin = await signInWithToken(browser, t.gateway.url, "fr", t.adminToken);
      s.keys.registrar = await createAccount(s, admin.page, "registrar", `Registrar ${tag}`);
      await admin.context.close();
      const reg = await signInWithToken(browser, t.gateway.url, "fr", s.keys.registrar);
      await reg.page.goto(url("/w/registrar/cooperatives/new?lang=fr"));
      const name = `Ait Ouzine ${tag}`;
      await reg.page.fill("#name", name);
      await reg.page.selectOption("#region", "MA-ZAG");
      await reg.page.fill("#registrationNumber", `RC-${tag}`);
      await reg.page.fill("#reserveBps", "5");
      await reg.page.fill("#admin-displayName", "Moha");
      await submit(reg.page, "form[action='/w/registrar/cooperatives'] button[type=submit]");
      s.keys.manager = await reg.page.locator("#manager-token").innerText();
      const coop = t.gateway.ctx.services.cooperatives
        .list({ limit: 100, offset: 0 })
        .items.find((x) => x.name === name)!;
      s.coopId = Number(coop.cooperativeId);
      await reg.context.close();

      const { context, page } = await signInWithToken(browser, t.gateway.url, "fr", s.keys.manager, false);
      for (const [i, m] of s.members.entries()) m.card = (await addMember(s, page, m, `reg-${tag}-${i}`, false)).card;
      await look(s, page, "nojs-member-card", false);
      for (const m of s.members)
        m.account = t.gateway.ctx.queries
          .listMembers(s.coopId)
          .find((x) => t.gateway.ctx.users.findByAddress(x.account)?.displayName === m.name)!.account;
      s.batchId = await registerLot(s, page, `KMG-${tag.toUpperCase()}`, false);
      await recordStep(s, page, s.batchId, false);
      s.saleId = await offer(s, page, s.batchId, "2000", s.price, false);
      await context.close();
    });

    it("(a buyer buys, the manager ships, the buyer confirms: with script, not under test here)", async function () {
      const saleId = need(this, s.saleId, "sale");
      const { context, page } = await phone(browser, "fr");
      await page.goto(url("/signup?lang=fr"));
      await page.fill("#displayName", "Épicerie de la Croix-Rousse");
      await submit(page, "#signup-submit");
      s.keys.buyer = await page.locator("#buyer-token").innerText();
      await page.goto(url("/w/buyer/funds?lang=fr"));
      await submit(page, "#get-funds");
      await buy(s, page, saleId, s.price);
      await ship(s, saleId);
      await page.goto(url("/w/buyer/orders?lang=fr"));
      await submit(page, `.order[data-sale="${saleId}"] a.confirm`);
      await submit(page, "#confirm-yes");
      expect(sale(saleId).state).to.equal("Released");
      await context.close();
    });

    for (const i of [0, 1, 2]) {
      it(`member ${i + 1} sees her exact share and gets paid, with no script`, async function () {
        const saleId = need(
          this,
          s.saleId !== undefined && sale(s.saleId).state === "Released" ? s.saleId : undefined,
          "released sale",
        );
        const { shares } = expectedShares(s);
        await memberGetsPaid(s, i, s.batchId!, saleId, shares[i], false);
      });
    }
  });
});
