/**
 * The auditors' HTML pages against a real gateway (embedded anvil, SQLite): sign-in exchanging the
 * token for a server-side session, the sale page's exact figures and verdict, the cooperative page's
 * SVG chart, roles and sign-out. (Forged forms, expiry and guessing: test/chaos/abuse-sessions.)
 */
import { expect } from "chai";
import { createSessionStore } from "../../server/sessions";
import { startTestGateway, type ApiClient, type TestGateway } from "../helpers/gateway";
import { buildSaleAudit } from "../../server/audit/sale";
import { createChainReader } from "../../server/audit/chain";
import { escrowViews } from "../../server/chain/accounts";
import type { GatewayParts } from "../../server/main";
import { formatterFor } from "../../server/pages/format";
import { CATALOGS } from "../../server/pages/i18n";

const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString();
const EVIL = 'Itto <script>alert("x")</script>';
const CSP =
  "default-src 'none'; style-src 'self'; font-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

describe("audit pages", function () {
  this.timeout(180_000);
  let t: TestGateway;
  let ctx: GatewayParts;
  let url: string;
  let auditorToken: string;
  let memberToken: string;
  let saleId: number;
  const members: { userId: string; address: string; client: ApiClient; name: string }[] = [];
  /** The second cooperative, which sells in dirhams (issue 13). */
  let madSaleId: number;

  const get = (path: string, cookie?: string) =>
    fetch(url + path, { redirect: "manual", headers: cookie ? { cookie } : {} });
  const post = (path: string, form: Record<string, string>, cookie?: string) =>
    fetch(url + path, {
      method: "POST",
      redirect: "manual",
      // A browser posting one of our own forms says where from.
      headers: { "content-type": "application/x-www-form-urlencoded", origin: url, ...(cookie ? { cookie } : {}) },
      body: new URLSearchParams(form).toString(),
    });
  const login = (token: string) => post("/audit/login", { token, lang: "fr" });

  before(async function () {
    t = await startTestGateway();
    ctx = t.gateway.ctx;
    const mk = async (role: string, displayName: string) => {
      const r = await t.admin.post("/api/v1/users", { role, displayName });
      expect(r.status, r.text).to.equal(201);
      return r.body.token as string;
    };
    const registrar = t.api.as(await mk("registrar", "ODCO"));
    auditorToken = await mk("auditor", "Bureau d'audit");

    url = t.gateway.url;

    const coop = await registrar.post("/api/v1/cooperatives", {
      name: "Coopérative <Tafilalet>",
      region: "Errachidia",
      registrationNumber: "ODCO-ERF-8",
      reserveBps: 1500,
      womenLed: true,
      admin: { displayName: "فاطمة الزهراء" },
    });
    expect(coop.status, coop.text).to.equal(201);
    const coopAdmin = t.api.as(coop.body.admin.token);
    for (const [i, name] of ["عائشة", "Khadija", EVIL].entries()) {
      const m = await coopAdmin.post("/api/v1/cooperatives/1/members", { displayName: name, reference: `card-${i}` });
      expect(m.status, m.text).to.equal(201);
      members.push({
        userId: m.body.member.userId,
        address: m.body.member.address,
        client: t.api.as(m.body.member.token),
        name,
      });
    }
    memberToken = members[0].client.token!;

    const signup = await t.api.post("/api/v1/buyers", { displayName: "Épicerie fine" });
    expect(signup.status, signup.text).to.equal(201);
    const buyer = t.api.as(signup.body.token);
    const faucet = await buyer.post("/api/v1/faucet");
    expect(faucet.status, faucet.text).to.equal(201);
    const batch = await coopAdmin.post("/api/v1/batches", {
      cooperativeId: 1,
      productCode: "dates-mejhoul",
      lotCode: "D-3",
      quantity: "1000",
      unit: "kg",
      origin: "Erfoud",
      productionDate: day(-3),
      contributors: members.map((m, i) => ({ memberId: m.userId, weight: String(3 * i + 1) })),
    });
    expect(batch.status, batch.text).to.equal(201);
    const batchId = batch.body.batchId as string;
    const offer = await coopAdmin.post("/api/v1/sales", {
      batchId,
      quantity: "10",
      token: "ETH",
      price: "1000000000000007",
      buyer: signup.body.user.address,
    });
    expect(offer.status, offer.text).to.equal(201);
    saleId = Number(offer.body.saleId);
    expect((await buyer.post(`/api/v1/sales/${saleId}/fund`)).status).to.equal(201);
    expect((await coopAdmin.post(`/api/v1/sales/${saleId}/ship`, {})).status).to.equal(201);
    const confirm = await buyer.post(`/api/v1/sales/${saleId}/confirm`, {});
    expect(confirm.status, confirm.text).to.equal(201);
    const claim = await members[1].client.post("/api/v1/claims", { batchId, token: "ETH" });
    expect(claim.status, claim.text).to.equal(201);

    // A second cooperative sells dates for 12,000.00 MAD (net 10,692.00: shares 5,940.00, 3,564.00,
    // 1,188.00); one member paid by M-Wallet confirms, one paid in cash contests, the third had an
    // advance larger than her share.
    const ok = async (p: Promise<{ status: number; text: string; body: any }>) => {
      const r = await p;
      expect(r.status, r.text).to.equal(201);
      return r.body;
    };
    const amal = await ok(
      registrar.post("/api/v1/cooperatives", {
        name: "Coopérative Amal",
        region: "Zagora",
        registrationNumber: "ODCO-ZAG-2",
        reserveBps: 1000,
        womenLed: true,
        admin: { displayName: "Zahra" },
      }),
    );
    const amalAdmin = t.api.as(amal.admin.token);
    const amalMembers: { userId: string; address: string; client: ApiClient }[] = [];
    for (const name of ["Fadma", "Hadda", "Touda"]) {
      const m = await ok(
        amalAdmin.post(`/api/v1/cooperatives/${amal.cooperativeId}/members`, {
          displayName: name,
          reference: `amal-${name}`,
        }),
      );
      amalMembers.push({ userId: m.member.userId, address: m.member.address, client: t.api.as(m.member.token) });
    }
    const mad = ctx.deployment.demoMoney!.MAD;
    const lot = await ok(
      amalAdmin.post("/api/v1/batches", {
        cooperativeId: Number(amal.cooperativeId),
        productCode: "dates-mejhoul",
        lotCode: "AMAL-1",
        quantity: "900",
        unit: "kg",
        origin: "Zagora",
        productionDate: day(-2),
        contributors: amalMembers.map((m, i) => ({ memberId: m.userId, weight: String([500, 300, 100][i]) })),
      }),
    );
    const madSale = await ok(
      amalAdmin.post("/api/v1/sales", {
        batchId: lot.batchId,
        quantity: "100",
        token: mad,
        price: "1200000",
        buyer: signup.body.user.address,
      }),
    );
    madSaleId = Number(madSale.saleId);
    await ok(buyer.post(`/api/v1/sales/${madSaleId}/fund`));
    await ok(amalAdmin.post(`/api/v1/sales/${madSaleId}/ship`, {}));
    await ok(buyer.post(`/api/v1/sales/${madSaleId}/confirm`, {}));
    const [fadma, hadda, touda] = amalMembers;
    const paid = await ok(
      amalAdmin.post(`/api/v1/cooperatives/${amal.cooperativeId}/payouts`, {
        payouts: [
          { member: fadma.address, amount: "5940.00", token: mad, method: "mwallet", reference: "MW-1" },
          { member: hadda.address, amount: "1000", token: mad, method: "cash", reference: "Reçu 1" },
          { member: touda.address, amount: "2000", token: mad, purpose: "advance", method: "bank", reference: "VIR-1" },
        ],
      }),
    );
    await ok(fadma.client.post(`/api/v1/payouts/${paid.payoutIds[0]}/confirm`));
    await ok(hadda.client.post(`/api/v1/payouts/${paid.payoutIds[1]}/contest`, { reason: "reçu 900 DH" }));
  });

  /** Bidi marks and isolates aside, every space (Intl's no-break ones too) one plain space. */
  const norm = (text: string) =>
    text
      .replace(/[\u2068\u2069\u200f]/g, "")
      .replace(/\s+/g, " ")
      .trim();
  /** What a person reads: the text between the tags, hex (hashes, addresses) aside. */
  const visible = (page: string) => norm(page.replace(/<[^>]*>/g, " ").replace(/0x[0-9a-fA-F]+/g, " "));

  after(async function () {
    await t?.stop();
  });

  async function cookieFor(token: string): Promise<string> {
    const r = await login(token);
    expect(r.status).to.equal(303);
    return r.headers.get("set-cookie")!.split(";")[0];
  }

  it("GET /audit/login shows a form posting the token", async function () {
    const r = await get("/audit/login?lang=ar");
    expect(r.status).to.equal(200);
    expect(r.headers.get("content-security-policy")).to.equal(CSP);
    expect(r.headers.get("cache-control")).to.equal("no-store");
    const page = await r.text();
    expect(page).to.match(/<form method="post" action="\/audit\/login">/);
    expect(page).to.include('name="token"');
    expect(page).to.include('dir="rtl"');
    expect(page).to.not.include("<script");
  });

  it("an auditor's token opens a session (the cookie holds its id, not the token) and redirects to /audit", async function () {
    const r = await login(auditorToken);
    expect(r.status).to.equal(303);
    expect(r.headers.get("location")).to.equal("/audit?lang=fr");
    const set = r.headers.get("set-cookie")!;
    expect(set).to.match(/^ct_session=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Lax; Path=\/; Max-Age=43200$/);
    expect(set).to.not.include(auditorToken);
    expect(set).to.not.include(auditorToken.slice(3));
    const home = await get("/audit", set.split(";")[0]);
    expect(home.status).to.equal(200);
    const page = await home.text();
    expect(page).to.include("Bureau d&#39;audit");
    // Pages with forms must not say no-referrer, or browsers send `Origin: null` on their own forms.
    expect(home.headers.get("referrer-policy")).to.equal("same-origin");
    expect(page).to.include('<meta name="referrer" content="same-origin" />');
    expect(page).to.not.include("no-referrer");
    expect(page).to.match(/<form class="signout" method="post" action="\/audit\/logout">/);
    expect(page).to.match(/<input type="hidden" name="csrf" value="[A-Za-z0-9_-]{43}" \/>/);
    // A signed-in auditor asking for the sign-in page goes to the audit home.
    const again = await get("/audit/login", set.split(";")[0]);
    expect(again.status).to.equal(303);
  });

  it("a wrong token gets a 401 page and no cookie; a member's token is refused too", async function () {
    for (const token of ["ct_" + "A".repeat(43), "nonsense", memberToken]) {
      const r = await login(token);
      expect(r.status).to.equal(401);
      expect(r.headers.get("set-cookie")).to.equal(null);
      expect(await r.text()).to.include('id="badToken"');
    }
  });

  it("the sale page shows the exact figures, each contributor's share and the verdict", async function () {
    const cookie = await cookieFor(auditorToken);
    const r = await get(`/audit/sales/${saleId}?lang=en`, cookie);
    expect(r.status).to.equal(200);
    expect(r.headers.get("cache-control")).to.equal("no-store");
    expect(r.headers.get("content-security-policy")).to.equal(CSP);
    const page = await r.text();
    const a = await buildSaleAudit(
      {
        index: ctx.queries,
        users: ctx.users,
        escrow: escrowViews(ctx.client, ctx.deployment.contracts.SaleEscrow.address),
        chain: createChainReader(ctx),
      },
      saleId,
    );
    expect(a.consistent).to.equal(true);
    expect(page).to.include('id="consistent"');
    expect(page).to.include("Consistent");
    const figure = (cls: string) => {
      const m = new RegExp(`<tr class="${cls}">[\\s\\S]*?data-raw="(\\d+)"`).exec(page);
      return m?.[1];
    };
    expect(figure("gross")).to.equal(a.gross);
    expect(figure("fee")).to.equal(a.fee);
    expect(figure("reserve")).to.equal(a.reserve);
    expect(figure("members net")).to.equal(a.net);
    expect(BigInt(a.fee) + BigInt(a.reserve) + BigInt(a.net)).to.equal(BigInt(a.gross));
    expect(a.contributors).to.have.length(3);
    for (const c of a.contributors) {
      const m = new RegExp(
        `<tr data-account="${c.account}">[\\s\\S]*?<td class="num share">[\\s\\S]*?data-raw="(\\d+)"`,
      ).exec(page);
      expect(m?.[1], c.account).to.equal(c.share);
      expect(BigInt(c.share) > 0n).to.equal(true);
    }
    for (const x of a.transactions) expect(page).to.include(x.txHash);
    // Names are escaped, never markup.
    expect(page).to.not.include("<script");
    expect(page).to.include("Itto &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
    expect(page).to.include("عائشة");
  });

  it("the cooperative page has an inline SVG with one bar per member", async function () {
    const cookie = await cookieFor(auditorToken);
    const r = await get(
      `/audit/cooperatives/1?from=${day(-1).slice(0, 10)}&to=${day(1).slice(0, 10)}&lang=zgh`,
      cookie,
    );
    expect(r.status).to.equal(200);
    const page = await r.text();
    expect(page).to.not.include("<script");
    const svgs: string[] = page.match(/<svg[\s\S]*?<\/svg>/g) ?? [];
    expect(svgs).to.have.length(1);
    const bars = svgs[0].match(/<rect\s+class="bar"/g) ?? [];
    expect(bars).to.have.length(3);
    expect(svgs[0]).to.include("Khadija");
    expect(svgs[0]).to.include("Itto &lt;script&gt;");
    expect(page).to.include('id="consistent"');
    expect(page).to.include("Coopérative &lt;Tafilalet&gt;");
    expect(page).to.include(`href="/audit/sales/${saleId}?lang=zgh"`);
    const bad = await get("/audit/cooperatives/1?from=2025-13-40", cookie);
    expect(bad.status).to.equal(400);
    const missing = await get("/audit/cooperatives/99", cookie);
    expect(missing.status).to.equal(404);
  });

  it("a dirham sale's page reads in dirhams for the auditor's language, with no smallest unit shown", async function () {
    const cookie = await cookieFor(auditorToken);
    const fr = await (await get(`/audit/sales/${madSaleId}?lang=fr`, cookie)).text();
    const en = await (await get(`/audit/sales/${madSaleId}?lang=en`, cookie)).text();
    expect(visible(fr)).to.include("12.000,00 MAD");
    expect(visible(fr)).to.include("10.692,00 MAD");
    expect(visible(en)).to.include("MAD 12,000.00");
    for (const page of [fr, en]) {
      expect(visible(page)).not.to.match(/\d{15,}/);
      expect(visible(page)).not.to.include("1200000");
      // The exact integer is still there for a machine to compare with the chain.
      expect(/<tr class="gross">[\s\S]*?data-raw="(\d+)"/.exec(page)?.[1]).to.equal("1200000");
    }
    const home = await (await get("/audit?lang=fr", cookie)).text();
    const line = new RegExp(`<li data-sale="${madSaleId}">[\\s\\S]*?</li>`).exec(home)?.[0] ?? "";
    expect(visible(line)).to.include("12.000,00 MAD");
    expect(visible(line)).not.to.match(/\d{15,}/);
  });

  it("the cooperative page's payouts equal the reconciliation API to the centime, and its CSV downloads", async function () {
    const cookie = await cookieFor(auditorToken);
    const api = t.api.as(auditorToken);
    const rec = await api.get("/api/v1/audit/cooperatives/2/reconciliation");
    expect(rec.status, rec.text).to.equal(200);
    const c = CATALOGS.fr;
    const f = formatterFor(c);
    const page = await (await get("/audit/cooperatives/2?lang=fr", cookie)).text();
    expect(visible(page)).not.to.match(/\d{15,}/);
    const section = /<section id="payouts"[\s\S]*?<\/section>/.exec(page)?.[0] ?? "";
    expect(section).to.include(c.auditPayouts.auditTitle);
    type Row = Record<"entitled" | "paid" | "confirmed" | "contested" | "outstanding", string> & {
      member: string;
      token: string;
      currency: string;
      decimals: number;
    };
    const rows: Row[] = [
      ...rec.body.members,
      ...rec.body.tokens.map((x: { totals: Row; token: string; currency: string; decimals: number }) => ({
        ...x.totals,
        ...x,
        member: "*",
      })),
    ];
    expect(rows.filter((r) => r.member !== "*")).to.have.length(3);
    let negative = 0;
    for (const r of rows) {
      const tr = new RegExp(
        `<tr(?: class="total")? data-account="${r.member.replace("*", "\\*")}">([\\s\\S]*?)</tr>`,
      ).exec(section);
      expect(tr, r.member).to.not.equal(null);
      for (const k of ["entitled", "paid", "confirmed", "contested", "outstanding"] as const) {
        const cell = new RegExp(`<td class="num ${k}">([\\s\\S]*?)</td>`).exec(tr![1])![1];
        expect(/data-raw="(-?\d+)"/.exec(cell)?.[1], `${r.member} ${k}`).to.equal(r[k]);
        const token = { symbol: r.currency, decimals: r.decimals, currency: r.currency };
        const raw = BigInt(r[k]);
        const expected = raw < 0n ? c.auditPayouts.advance(f.money(-raw, token)) : f.money(raw, token);
        if (raw < 0n) negative += 1;
        expect(visible(cell), `${r.member} ${k}`).to.equal(norm(expected));
      }
    }
    expect(negative).to.equal(1); // Touda's advance (2,000.00 MAD against a share of 1,188.00)
    expect(visible(section)).to.include("Avance de 812,00 MAD pas encore couverte par ses parts");
    expect(visible(section)).to.include("5.940,00 MAD");
    const csv = await get("/audit/cooperatives/2/reconciliation.csv", cookie);
    expect(csv.status).to.equal(200);
    expect(csv.headers.get("content-type")).to.match(/^text\/csv/);
    const fromApi = await api.get("/api/v1/audit/cooperatives/2/reconciliation.csv");
    expect(await csv.text()).to.equal(fromApi.text);
    expect(section).to.include('href="/audit/cooperatives/2/reconciliation.csv"');
    expect((await get("/audit/cooperatives/2/reconciliation.csv")).status).to.equal(303); // no session
  });

  it("no cookie or a bad cookie redirects to the sign-in; a member's session gets 403", async function () {
    for (const cookie of [undefined, "ct_session=nonsense", `ct_audit=${auditorToken}`, "other=1"]) {
      const r = await get(`/audit/sales/${saleId}`, cookie);
      expect(r.status).to.equal(303);
      expect(r.headers.get("location")).to.match(/^\/audit\/login\?lang=/);
    }
    // A member signed in (as the workspace will sign members in) is not an auditor.
    const { id } = createSessionStore({ db: ctx.db, ...ctx.sessions }).create(members[0].userId);
    const r = await get(`/audit/sales/${saleId}?lang=en`, `ct_session=${id}`);
    expect(r.status).to.equal(403);
    const page = await r.text();
    expect(page).to.include('id="forbidden"');
    expect(page).to.not.include(members[0].address);
    const c = await get("/audit/cooperatives/1", `ct_session=${id}`);
    expect(c.status).to.equal(403);
  });

  it("sign-out is a POST with the session's token; it ends the session on the server", async function () {
    const cookie = await cookieFor(auditorToken);
    const confirm = await get("/audit/logout?lang=fr", cookie);
    expect(confirm.status).to.equal(200);
    const csrf = /name="csrf" value="([^"]+)"/.exec(await confirm.text())![1];
    const r = await post("/audit/logout", { csrf, lang: "fr" }, cookie);
    expect(r.status).to.equal(303);
    expect(r.headers.get("set-cookie")).to.equal("ct_session=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0");
    expect(r.headers.get("location")).to.equal("/audit/login?lang=fr&out=1");
    const out = await get("/audit/login?lang=fr&out=1");
    expect(await out.text()).to.include('id="signedOut"');
    // The old cookie value no longer opens anything.
    const old = await get(`/audit/sales/${saleId}`, cookie);
    expect(old.status).to.equal(303);
    expect(old.headers.get("location")).to.match(/^\/audit\/login/);
    // Without a session, the sign-out page sends to the sign-in.
    expect((await get("/audit/logout")).status).to.equal(303);
  });
});
