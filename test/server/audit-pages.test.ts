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
  });

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
