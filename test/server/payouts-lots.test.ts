/**
 * A lot's own money (fresh-tester defects, December 2026), on a real gateway (embedded anvil, SQLite,
 * HTTP): the same two members worked on three lots, sold in dirhams (lot A), in euros (lot B) and in
 * dirhams again (lot C). The verify page of each lot counts only that lot's shares in that lot's
 * currencies, and only payouts that reach that lot (the ledger records payouts per member, not per lot:
 * they are counted against her oldest shares first). A payout above what a member is still owed is
 * refused (422 payout_exceeds_owed, naming what she is owed) and changes nothing, unless it is recorded
 * as an advance; a contested payout counts as paid nowhere: reconciliation, CSV, audit page, verify page.
 */
import { expect } from "chai";
import { formatMoney, MAD, toDecimalString } from "../../domain/money";
import { shareOf } from "../../domain/split";
import { startTestGateway, type ApiClient, type TestGateway } from "../helpers/gateway";
import { anvilWallet } from "../helpers/chain";
import { DemoMoney__factory } from "../../typechain-types";

const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString();
const EUR = { code: "EUR", decimals: 2 };

/** The page's text as a reader sees it: no direction marks, plain spaces, apostrophes. */
const seen = (x: string) =>
  x
    .replace(/[\u200e\u200f\u061c]/g, "")
    .replace(/[\u00a0\u202f]/g, " ")
    .replace(/&#39;/g, "'");

describe("a lot's own money on its verify page; payouts above what is owed; contested payouts", function () {
  this.timeout(240_000);
  let t: TestGateway;
  let coopAdmin: ApiClient;
  let buyer: ApiClient;
  let buyerAddress: string;
  let madAddress: string;
  let eurAddress: string;
  const lots: Record<"A" | "B" | "C", string> = { A: "", B: "", C: "" };
  const weights = [600n, 400n];
  const members: { client: ApiClient; userId: string; address: string }[] = [];
  /** The members' net per lot (what the escrow released for the contributors). */
  const net: Record<string, bigint> = {};
  let auditorToken: string;

  const share = (lot: "A" | "B" | "C", i: number) => shareOf(net[lot], weights[i], weights[0] + weights[1]);
  const page = async (lot: "A" | "B" | "C", lang = "fr") =>
    seen((await t.api.get(`/b/${lots[lot]}?lang=${lang}`)).text);
  /** The "Paid to the members" part of a verify page. */
  const paidPart = (html: string) =>
    html.slice(html.indexOf('id="paid-to-members"'), html.indexOf("</section>", html.indexOf('id="paid-to-members"')));

  async function ledgerEvents() {
    const ledger = t.gateway.ctx.deployment.contracts.PayoutLedger;
    return (await t.provider.getLogs({ address: ledger.address, fromBlock: ledger.blockNumber })).length;
  }

  async function sell(lot: "A" | "B" | "C", token: string, price: string) {
    const offer = await coopAdmin.post("/api/v1/sales", {
      batchId: lots[lot],
      quantity: "10",
      token,
      price,
      buyer: buyerAddress,
    });
    expect(offer.status, offer.text).to.equal(201);
    const saleId = offer.body.saleId;
    expect((await buyer.post(`/api/v1/sales/${saleId}/fund`)).status).to.equal(201);
    expect((await coopAdmin.post(`/api/v1/sales/${saleId}/ship`, {})).status).to.equal(201);
    const confirmed = await buyer.post(`/api/v1/sales/${saleId}/confirm`, {});
    expect(confirmed.status, confirmed.text).to.equal(201);
    const released = confirmed.body.events.find((e: { name: string }) => e.name === "SaleReleased");
    expect(released, confirmed.text).to.not.equal(undefined);
    net[lot] = BigInt(released.args.net);
  }

  async function payout(i: number, amount: string, reference: string, purpose = "saleShare") {
    return coopAdmin.post("/api/v1/cooperatives/1/payouts", {
      payouts: [{ member: members[i].address, amount, token: madAddress, purpose, method: "cash", reference }],
    });
  }

  before(async function () {
    t = await startTestGateway();
    const mk = async (role: string, displayName: string) => {
      const r = await t.admin.post("/api/v1/users", { role, displayName });
      expect(r.status, r.text).to.equal(201);
      return r.body.token as string;
    };
    const registrar = t.api.as(await mk("registrar", "ODCO"));
    auditorToken = await mk("auditor", "Bureau d'audit");
    const coop = await registrar.post("/api/v1/cooperatives", {
      name: "Coopérative Tighremt",
      region: "Tinghir",
      registrationNumber: "ODCO-TIN-7",
      reserveBps: 1000,
      womenLed: true,
      admin: { displayName: "Fadma" },
    });
    expect(coop.status, coop.text).to.equal(201);
    coopAdmin = t.api.as(coop.body.admin.token);
    for (const name of ["Aicha", "Khadija"]) {
      const m = await coopAdmin.post("/api/v1/cooperatives/1/members", {
        displayName: name,
        reference: `card-${name}`,
      });
      expect(m.status, m.text).to.equal(201);
      members.push({
        client: t.api.as(m.body.member.token),
        userId: m.body.member.userId,
        address: m.body.member.address,
      });
    }
    const signup = await t.api.post("/api/v1/buyers", { displayName: "Boutique Lyon" });
    expect(signup.status, signup.text).to.equal(201);
    buyer = t.api.as(signup.body.token);
    buyerAddress = signup.body.user.address;
    expect((await buyer.post("/api/v1/faucet")).status).to.equal(201);

    const platformAdmin = anvilWallet(0).connect(t.provider);
    const deployer = anvilWallet(7).connect(t.provider);
    const mad = await new DemoMoney__factory(deployer).deploy("Demo Dirham (test)", "dMAD");
    const eur = await new DemoMoney__factory(deployer).deploy("Demo Euro (test)", "dEUR");
    madAddress = await mad.getAddress();
    eurAddress = await eur.getAddress();
    await (await t.contracts.escrow.connect(platformAdmin).setSettlementToken(madAddress, "0x4d4144")).wait();
    await (await t.contracts.escrow.connect(platformAdmin).setSettlementToken(eurAddress, "0x455552")).wait();
    await (await mad.connect(deployer).mint(buyerAddress, 10_000_000n)).wait();
    await (await eur.connect(deployer).mint(buyerAddress, 10_000_000n)).wait();

    for (const [lot, product] of [
      ["A", "rose-water"],
      ["B", "rose-water"],
      ["C", "rose-water"],
    ] as const) {
      const b = await coopAdmin.post("/api/v1/batches", {
        cooperativeId: 1,
        productCode: product,
        lotCode: `KM-${lot}`,
        quantity: "100",
        unit: "l",
        origin: "Kelaat M'Gouna",
        productionDate: day(-3),
        contributors: members.map((m, i) => ({ memberId: m.userId, weight: String(weights[i]) })),
      });
      expect(b.status, b.text).to.equal(201);
      lots[lot] = b.body.batchId;
    }
    await sell("A", madAddress, "266111"); // 2 661,11 MAD
    await sell("B", eurAddress, "90000"); // 900,00 €
  });

  after(async function () {
    await t?.stop();
  });

  it("counts on each lot's page only that lot's shares, in that lot's currency", async function () {
    const owedA = share("A", 0) + share("A", 1);
    const owedB = share("B", 0) + share("B", 1);
    const a = paidPart(await page("A"));
    expect(a).to.include(`Reste à leur payer : ${seen(formatMoney(owedA, MAD, "fr-MA"))}.`);
    expect(a).to.not.include("€");
    const b = paidPart(await page("B"));
    expect(b).to.include(`Reste à leur payer : ${seen(formatMoney(owedB, EUR, "fr-MA"))}.`);
    expect(b).to.not.include("MAD");
  });

  it("a payout of one lot's share confirmed shows on that lot only, not on a lot with no payout of its own", async function () {
    const r = await payout(0, toDecimalString(share("A", 0), 2), "REC-A-0");
    expect(r.status, r.text).to.equal(201);
    expect((await members[0].client.post(`/api/v1/payouts/${r.body.payoutIds[0]}/confirm`)).status).to.equal(201);

    const a = paidPart(await page("A"));
    expect(a).to.include("1 des 2 membres de ce lot a confirmé");
    expect(a).to.include(`Reste à leur payer : ${seen(formatMoney(share("A", 1), MAD, "fr-MA"))}.`);
    const b = paidPart(await page("B"));
    expect(b).to.include("Aucun des 2 membres de ce lot n'a encore confirmé");
    expect(b).to.include(`Reste à leur payer : ${seen(formatMoney(share("B", 0) + share("B", 1), EUR, "fr-MA"))}.`);

    // A third lot in the same currency, sold later: the payout already went to lot A's share.
    await sell("C", madAddress, "100000");
    const c = paidPart(await page("C"));
    expect(c).to.include("Aucun des 2 membres de ce lot n'a encore confirmé");
    expect(c).to.include(`Reste à leur payer : ${seen(formatMoney(share("C", 0) + share("C", 1), MAD, "fr-MA"))}.`);
    expect(paidPart(await page("A"))).to.include("1 des 2 membres de ce lot a confirmé");
  });

  it("refuses a payout above what she is still owed (422, naming the amount), and it changes nothing", async function () {
    const owed = share("A", 1) + share("C", 1);
    const events = await ledgerEvents();
    const r = await payout(1, "99999999.00", "REC-BIG");
    expect(r.status, r.text).to.equal(422);
    expect(r.headers.get("content-type")).to.match(/^application\/problem\+json/);
    expect(r.body.code).to.equal("payout_exceeds_owed");
    expect(r.body.errors[0].field).to.equal("payouts.0.amount");
    expect(r.body.errors[0].message).to.include(`${toDecimalString(owed, 2)} MAD`);
    // Two payouts of one request that together exceed it: refused too.
    const two = await coopAdmin.post("/api/v1/cooperatives/1/payouts", {
      payouts: [
        {
          member: members[1].address,
          amount: toDecimalString(owed, 2),
          token: madAddress,
          method: "cash",
          reference: "R1",
        },
        { member: members[1].address, amount: "0.01", token: madAddress, method: "cash", reference: "R2" },
      ],
    });
    expect([two.status, two.body.code, two.body.errors?.[0]?.field]).to.deep.equal([
      422,
      "payout_exceeds_owed",
      "payouts.1.amount",
    ]);
    expect(await ledgerEvents()).to.equal(events);
    // Exactly what she is owed is accepted (next test contests an advance instead).
  });

  it("accepts it as an advance; contested, it counts as paid nowhere (reconciliation, CSV, audit, verify page)", async function () {
    const advance = await payout(1, "99999999.00", "REC-BIG", "advance");
    expect(advance.status, advance.text).to.equal(201);
    const before = await coopAdmin.get("/api/v1/audit/cooperatives/1/reconciliation");
    const row0 = before.body.members.find(
      (m: { member: string; token: string }) => m.member === members[1].address && m.token === madAddress,
    );
    expect(BigInt(row0.outstanding) < 0n).to.equal(true); // an advance ahead of her shares, not contested yet

    const contest = await members[1].client.post(`/api/v1/payouts/${advance.body.payoutIds[0]}/contest`, {
      reason: "jamais reçu",
    });
    expect(contest.status, contest.text).to.equal(201);

    const r = await coopAdmin.get("/api/v1/audit/cooperatives/1/reconciliation");
    const row = r.body.members.find(
      (m: { member: string; token: string }) => m.member === members[1].address && m.token === madAddress,
    );
    const entitled = share("A", 1) + share("C", 1);
    expect(row).to.include({
      entitled: entitled.toString(),
      paid: "0",
      advances: "0",
      contested: "9999999900",
      outstanding: entitled.toString(),
    });
    const csv = await coopAdmin.get("/api/v1/audit/cooperatives/1/reconciliation.csv");
    const line = csv.text.split("\r\n").find((l) => l.startsWith(members[1].address) && l.includes(madAddress))!;
    expect(line).to.include(`,${entitled},${toDecimalString(entitled, 2)},`); // entitled and outstanding
    expect(line).to.include(",9999999900,99999999.00,"); // contested

    // The audit page: no "advance not yet covered", the payout shown as contested.
    const url = t.gateway.url;
    const login = await fetch(`${url}/audit/login`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: url },
      body: new URLSearchParams({ token: auditorToken, lang: "fr" }).toString(),
    });
    const cookie = login.headers.get("set-cookie")!.split(";")[0];
    const audit = seen(await (await fetch(`${url}/audit/cooperatives/1?lang=fr`, { headers: { cookie } })).text());
    const section = audit.slice(audit.indexOf('id="payouts"'));
    expect(section).to.not.include("pas encore couverte");
    expect(section).to.include(seen(formatMoney(9_999_999_900n, MAD, "fr-MA")));

    // The verify page of lot A: her share still to be paid, and one member contests a payout.
    const a = paidPart(await page("A"));
    expect(a).to.include(`Reste à leur payer : ${seen(formatMoney(share("A", 1), MAD, "fr-MA"))}.`);
    expect(a).to.include("1 membre de ce lot conteste un paiement inscrit par la coopérative");
    const ar = paidPart(await page("A", "ar"));
    expect(ar).to.include("عضو واحد من هذه الدفعة يعترض");
  });
});
