/**
 * Money in dirhams through the gateway (issue 13), on real parts: embedded anvil, real SQLite, HTTP.
 * A dirham sale released to three members; two choose to be paid through the cooperative (their
 * claims go to its payout account); the manager records an M-Wallet payout (confirmed) and a cash
 * payout (contested); the third is not paid yet. The reconciliation API must equal domain/payouts.ts
 * reconcile over the chain's own events (read here with ethers, not through the index); every refusal
 * answers its status and code and changes nothing; the tables survive a reorg and a reindex.
 */
import { formatMoney, MAD } from "../../domain/money";
import { runChecks } from "../../server/verifier/checks";
import { collect } from "../../server/verifier/collect";
import { RpcClient } from "../../server/verifier/rpc";
import { expect } from "chai";
import { Wallet, ZeroHash, getAddress, id as textHash } from "ethers";
import { startTestGateway, type ApiClient, type TestGateway } from "../helpers/gateway";
import { anvilWallet } from "../helpers/chain";
import { DemoMoney__factory, PayoutLedger__factory, type DemoMoney } from "../../typechain-types";
import {
  PAYOUT_PURPOSES,
  reconcile,
  type EntitlementFact,
  type PayoutFact,
  type PayoutStatus,
} from "../../domain/payouts";
import { shareOf } from "../../domain/split";
import { toDecimalString } from "../../domain/money";
import { PAYOUT_TABLES } from "../../server/index/payoutSchema";
import { EXPORT_CONFIRMATION } from "../../server/custody/users";

const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString();

/** RFC 4180 records of a CSV with a header line (no quoted commas in these files). */
function csvRecords(text: string): Record<string, string>[] {
  const [header, ...rest] = text
    .replace(/^\uFEFF/, "")
    .trim()
    .split("\r\n")
    .map((l) => l.split(","));
  return rest.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i]])));
}

describe("payouts in dirhams (API)", function () {
  this.timeout(240_000);
  let t: TestGateway;
  let coopAdmin: ApiClient;
  let buyer: ApiClient;
  let buyerAddress: string;
  let mad: DemoMoney;
  let madAddress: string;
  let eurAddress: string;
  let batchId: string;
  const payoutAccount = Wallet.createRandom().address;
  const members: { client: ApiClient; userId: string; address: string }[] = [];
  const ids: Record<string, string> = {};

  /** Entitlements and payouts from the chain's events alone, reconciled by the domain function. */
  async function fromChain() {
    const { escrow, batches, payouts, registry } = t.contracts;
    const entitlements: EntitlementFact[] = [];
    // Contributors are emitted as packed (index << 64 | weight) words; MemberAdded names each index.
    const accountAt = new Map(
      (await registry.queryFilter(registry.filters.MemberAdded())).map((e) => [Number(e.args.index), e.args.member]),
    );
    for (const reg of await batches.queryFilter(batches.filters.BatchRegistered())) {
      if (reg.args.cooperativeId !== 1n) continue;
      const latest = new Map<string, bigint>();
      for (const r of await escrow.queryFilter(escrow.filters.SaleReleased(undefined, reg.args.batchId))) {
        latest.set(getAddress(r.args.token), r.args.releasedTotal);
      }
      for (const [token, total] of latest) {
        for (const word of reg.args.contributors) {
          const c = { account: accountAt.get(Number(word >> 64n))!, weight: word & (2n ** 64n - 1n) };
          entitlements.push({
            member: getAddress(c.account),
            token,
            amount: shareOf(total, c.weight, reg.args.totalWeight),
          });
        }
      }
    }
    const status = new Map<string, PayoutStatus>();
    for (const e of await payouts.queryFilter(payouts.filters.PayoutContested()))
      status.set(e.args.payoutId, "contested");
    for (const e of await payouts.queryFilter(payouts.filters.PayoutConfirmed()))
      status.set(e.args.payoutId, "confirmed");
    const recorded = await payouts.queryFilter(payouts.filters.PayoutRecorded());
    const facts: PayoutFact[] = recorded.map((e) => ({
      member: getAddress(e.args.member),
      token: getAddress(e.args.token),
      tokenAmount: e.args.tokenAmount,
      dirhams: e.args.dirhams,
      purpose: PAYOUT_PURPOSES[Number(e.args.purpose)],
      status: status.get(e.args.payoutId) ?? "recorded",
    }));
    return { rows: reconcile(entitlements, facts), recorded };
  }

  /** Every figure of the reconciliation API equals the chain's reconciliation. */
  async function expectReconciliationMatchesChain() {
    const r = await coopAdmin.get("/api/v1/audit/cooperatives/1/reconciliation");
    expect(r.status, r.text).to.equal(200);
    const { rows } = await fromChain();
    expect(r.body.members).to.have.length(rows.length);
    for (const expected of rows) {
      const got = r.body.members.find(
        (m: { member: string; token: string }) => m.member === expected.member && m.token === expected.token,
      );
      expect(got, `${expected.member} ${expected.token}`).to.not.equal(undefined);
      for (const [k, v] of Object.entries(expected)) {
        expect(got[k], `${expected.member} ${k}`).to.equal(typeof v === "bigint" ? v.toString() : v);
      }
    }
    return r.body;
  }

  /** What a refused request must leave as it was: the ledger's events and the index's payouts. */
  async function ledgerState() {
    const ledger = t.gateway.ctx.deployment.contracts.PayoutLedger;
    return {
      events: (await t.provider.getLogs({ address: ledger.address, fromBlock: ledger.blockNumber })).length,
      index: await coopAdmin.get("/api/v1/cooperatives/1/payouts").then((r) => JSON.stringify(r.body)),
    };
  }

  function dump(): Record<string, unknown[]> {
    const db = t.gateway.ctx.db;
    return Object.fromEntries(
      PAYOUT_TABLES.map((table) => [table, db.prepare(`SELECT * FROM ${table} ORDER BY tx_hash, log_index`).all()]),
    );
  }

  before(async function () {
    t = await startTestGateway();
    const registrarToken = await t.admin.post("/api/v1/users", { role: "registrar", displayName: "ODCO" });
    expect(registrarToken.status, registrarToken.text).to.equal(201);
    const registrar = t.api.as(registrarToken.body.token);
    const coop = await registrar.post("/api/v1/cooperatives", {
      name: "Coopérative Amal des Dattes",
      region: "Zagora",
      registrationNumber: "ODCO-ZAG-13",
      reserveBps: 1000,
      womenLed: true,
      admin: { displayName: "Zahra" },
    });
    expect(coop.status, coop.text).to.equal(201);
    coopAdmin = t.api.as(coop.body.admin.token);
    for (const name of ["Aicha", "Khadija", "Itto"]) {
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
    const signup = await t.api.post("/api/v1/buyers", { displayName: "Épicerie Rabat" });
    expect(signup.status, signup.text).to.equal(201);
    buyer = t.api.as(signup.body.token);
    buyerAddress = signup.body.user.address;
    expect((await buyer.post("/api/v1/faucet")).status).to.equal(201); // ETH for the buyer's own gas

    // Demo dirham and euro tokens, allowed by the platform admin (the gateway's deployer key) with their currency.
    const platformAdmin = anvilWallet(0).connect(t.provider);
    const deployer = anvilWallet(7).connect(t.provider);
    mad = await new DemoMoney__factory(deployer).deploy("Demo Dirham (test)", "dMAD");
    const eur = await new DemoMoney__factory(deployer).deploy("Demo Euro (test)", "dEUR");
    madAddress = await mad.getAddress();
    eurAddress = await eur.getAddress();
    await (await t.contracts.escrow.connect(platformAdmin).setSettlementToken(madAddress, "0x4d4144")).wait();
    await (await t.contracts.escrow.connect(platformAdmin).setSettlementToken(eurAddress, "0x455552")).wait();
    await (await mad.connect(deployer).mint(buyerAddress, 5_000_000n)).wait();

    const batch = await coopAdmin.post("/api/v1/batches", {
      cooperativeId: 1,
      productCode: "dates-bouskri",
      lotCode: "Z-13",
      quantity: "1000",
      unit: "kg",
      origin: "Zagora",
      productionDate: day(-2),
      // Weights in grams that do not divide the net: rounding leaves a few centimes.
      contributors: members.map((m, i) => ({ memberId: m.userId, weight: String([500, 300, 201][i]) })),
    });
    expect(batch.status, batch.text).to.equal(201);
    batchId = batch.body.batchId;
  });

  after(async function () {
    if (process.env.DEBUG_PAYOUTS) console.log(t?.logs.filter((l) => /"level":(40|50)/.test(l)).join("\n"));
    await t?.stop();
  });

  it("indexes the settlement tokens with their currency and decimals", async function () {
    await t.gateway.ctx.indexer.syncOnce();
    const rows = t.gateway.ctx.db
      .prepare("SELECT token, currency, decimals FROM ix_settlement_tokens ORDER BY currency")
      .all();
    // The test's own tokens, beside the demo money the embedded chain deploys at start.
    expect(rows).to.deep.include.members([
      { token: eurAddress, currency: "EUR", decimals: 2 },
      { token: madAddress, currency: "MAD", decimals: 2 },
    ]);
  });

  it("sells the batch in dirhams and releases it", async function () {
    const offer = await coopAdmin.post("/api/v1/sales", {
      batchId,
      quantity: "100",
      token: madAddress,
      price: "1000003",
      buyer: buyerAddress,
    });
    expect(offer.status, offer.text).to.equal(201);
    const saleId = offer.body.saleId;
    const fund = await buyer.post(`/api/v1/sales/${saleId}/fund`);
    expect(fund.status, fund.text).to.equal(201);
    expect((await coopAdmin.post(`/api/v1/sales/${saleId}/ship`, {})).status).to.equal(201);
    const confirmed = await buyer.post(`/api/v1/sales/${saleId}/confirm`, {});
    expect(confirmed.status, confirmed.text).to.equal(201);
  });

  it("routes the claims of the two members who chose to be paid through the cooperative", async function () {
    // Before the cooperative has a payout account, the choice is refused before anything is sent.
    const early = await members[0].client.post("/api/v1/me/payout-route", { throughCooperative: true });
    expect(early.status, early.text).to.equal(409);
    expect(early.body.code).to.equal("no_payout_account");

    const notAdmin = await members[0].client.post("/api/v1/cooperatives/1/payout-account", { account: payoutAccount });
    expect(notAdmin.status).to.equal(403);
    const set = await coopAdmin.post("/api/v1/cooperatives/1/payout-account", { account: payoutAccount });
    expect(set.status, set.text).to.equal(201);
    expect(set.body.events.map((e: { name: string }) => e.name)).to.deep.equal(["PayoutAccountSet"]);

    for (const m of members.slice(0, 2)) {
      const r = await m.client.post("/api/v1/me/payout-route", { throughCooperative: true });
      expect(r.status, r.text).to.equal(201);
      expect(r.body.cooperativeId).to.equal(1);
      expect(await t.contracts.escrow.paidThroughCooperative(1, m.address)).to.equal(true);
    }
    const claimed: Record<string, bigint> = {};
    for (const m of members) {
      const c = await coopAdmin.post("/api/v1/claims", { batchId, token: madAddress, memberId: m.userId });
      expect(c.status, c.text).to.equal(201);
      claimed[m.address] = BigInt(c.body.amount);
    }
    expect(await mad.balanceOf(payoutAccount)).to.equal(claimed[members[0].address] + claimed[members[1].address]);
    expect(await mad.balanceOf(members[2].address)).to.equal(claimed[members[2].address]);
    const routed = t.gateway.ctx.db
      .prepare("SELECT account, token, recipient, amount FROM ix_routed_claims ORDER BY block_number, log_index")
      .all();
    expect(routed).to.deep.equal(
      members.slice(0, 2).map((m) => ({
        account: m.address,
        token: madAddress,
        recipient: payoutAccount,
        amount: claimed[m.address].toString(),
      })),
    );
  });

  it("records an M-Wallet payout and a cash payout; one is confirmed, the other contested", async function () {
    const [share1] = (await fromChain()).rows.filter((r) => r.member === members[0].address).map((r) => r.shares);
    const r = await coopAdmin.post("/api/v1/cooperatives/1/payouts", {
      payouts: [
        {
          member: members[0].address,
          amount: toDecimalString(share1, 2),
          token: madAddress,
          purpose: "saleShare",
          method: "mwallet",
          reference: "MW-2026-000123",
        },
        {
          member: members[1].address,
          amount: "1000",
          token: madAddress,
          purpose: "instalment",
          method: "cash",
          reference: "Reçu n° 42",
        },
      ],
    });
    expect(r.status, r.text).to.equal(201);
    [ids.mwallet, ids.cash] = r.body.payoutIds;
    expect(r.body.events.filter((e: { name: string }) => e.name === "PayoutRecorded")).to.have.length(2);
    expect(await t.contracts.payouts.payoutIdOf(1, members[0].address, textHash("MW-2026-000123"))).to.equal(
      ids.mwallet,
    );
    const [, cash] = (await fromChain()).recorded;
    expect(cash.args.dirhams).to.equal(100_000n);
    expect(cash.args.tokenAmount).to.equal(100_000n);
    expect(cash.args.rateE6).to.equal(0n);

    const confirm = await members[0].client.post(`/api/v1/payouts/${ids.mwallet}/confirm`);
    expect(confirm.status, confirm.text).to.equal(201);
    const contest = await members[1].client.post(`/api/v1/payouts/${ids.cash}/contest`, { reason: "reçu 900 DH" });
    expect(contest.status, contest.text).to.equal(201);
    const [contested] = await t.contracts.payouts.queryFilter(t.contracts.payouts.filters.PayoutContested(ids.cash));
    expect(contested.args.reasonHash).to.equal(textHash("reçu 900 DH"));

    const list = await coopAdmin.get("/api/v1/cooperatives/1/payouts");
    expect(list.status).to.equal(200);
    expect(list.body.items.map((p: { status: string; method: string }) => [p.status, p.method])).to.deep.equal([
      ["confirmed", "mwallet"],
      ["contested", "cash"],
    ]);
    expect(list.body.items[1].contest.reasonHash).to.equal(textHash("reçu 900 DH"));
    expect(list.body.items[0]).to.include({ currency: "MAD", decimals: 2, dirhams: share1.toString() });
    // A member sees only hers, whatever she asks for.
    const hers = await members[1].client.get(`/api/v1/cooperatives/1/payouts?member=${members[0].address}`);
    expect(hers.body.items.map((p: { payoutId: string }) => p.payoutId)).to.deep.equal([ids.cash]);
  });

  it("reconciles entitled, paid, confirmed, contested and outstanding exactly as the chain's events do", async function () {
    const body = await expectReconciliationMatchesChain();
    const row = (i: number) => body.members.find((m: { member: string }) => m.member === members[i].address);
    expect(row(0)).to.include({ outstanding: "0", contested: "0", throughCooperative: true, displayName: "Aicha" });
    expect(row(0).confirmed).to.equal(row(0).entitled);
    // Contested: not counted as paid, still owed to her.
    expect(row(1)).to.include({ paid: "0", contested: "100000", confirmed: "0", throughCooperative: true });
    expect(row(1).outstanding).to.equal(row(1).entitled);
    expect(row(2)).to.include({ paid: "0", throughCooperative: false });
    expect(row(2).outstanding).to.equal(row(2).entitled);
    const [mad] = body.tokens;
    expect(mad).to.include({ token: madAddress, currency: "MAD", decimals: 2 });
    const sum = (k: string) =>
      body.members.reduce((s: bigint, m: Record<string, string>) => s + BigInt(m[k]), 0n).toString();
    for (const k of ["entitled", "paid", "confirmed", "contested", "outstanding"])
      expect(mad.totals[k]).to.equal(sum(k));

    const csv = await coopAdmin.get("/api/v1/audit/cooperatives/1/reconciliation.csv");
    expect(csv.status).to.equal(200);
    expect(csv.headers.get("content-type")).to.match(/^text\/csv/);
    const records = csvRecords(csv.text);
    const csvRow = records.find((x) => x.member === members[1].address)!;
    expect(csvRow).to.include({ paid: "0", contested: "100000", contested_decimal: "1000.00", currency: "MAD" });
    expect(csvRow.entitled).to.equal(row(1).entitled);
    expect(records.find((x) => x.member === "*")!.entitled).to.equal(mad.totals.entitled);
  });

  it("says on the public verify page, naming nobody, how many members confirmed and what remains to be paid", async function () {
    const body = await expectReconciliationMatchesChain();
    const due = body.members
      .filter((m: { token: string }) => m.token === madAddress)
      .reduce(
        (sum: bigint, m: { outstanding: string }) => sum + (BigInt(m.outstanding) > 0n ? BigInt(m.outstanding) : 0n),
        0n,
      );
    expect(due > 0n).to.equal(true);
    const seen = (x: string) =>
      x
        .replace(/[\u200e\u200f\u061c]/g, "")
        .replace(/[\u00a0\u202f]/g, " ")
        .replace(/&#39;/g, "'");
    const fr = seen((await t.api.get(`/b/${batchId}?lang=fr`)).text);
    // One member: the ICU plural's singular verb ("a confirmé", not "ont").
    expect(fr).to.include("1 des 3 membres de ce lot a confirmé");
    expect(fr).to.include(`Reste à leur payer : ${seen(formatMoney(due, MAD, "fr-MA"))}.`);
    const en = seen((await t.api.get(`/b/${batchId}?lang=en`)).text);
    expect(en).to.include("1 of this lot's 3 members confirmed");
    expect(en).to.include(`Still to be paid to them: ${seen(formatMoney(due, MAD, "en-GB"))}.`);
    // Money people read: the sale's price in dirhams, never a run of smallest units or wei.
    expect(en).to.include(seen(formatMoney(1_000_003n, MAD, "en-GB")));
    expect(en.replace(/0x[0-9a-f]+/gi, "")).not.to.match(/\d{15,}/);
    for (const m of members) expect(en).not.to.include(m.address);
  });

  it("gives a member her money: her account, her payouts with their status, her route", async function () {
    const r = await members[0].client.get("/api/v1/me/money");
    expect(r.status, r.text).to.equal(200);
    expect(r.body.member).to.equal(members[0].address);
    expect(r.body.cooperatives).to.have.length(1);
    expect(r.body.cooperatives[0]).to.include({ cooperativeId: 1, throughCooperative: true, payoutAccount });
    expect(r.body.cooperatives[0].rows[0]).to.include({ token: madAddress, outstanding: "0", currency: "MAD" });
    expect(r.body.payouts.map((p: { payoutId: string; status: string }) => [p.payoutId, p.status])).to.deep.equal([
      [ids.mwallet, "confirmed"],
    ]);
    const itto = await members[2].client.get("/api/v1/me/money");
    expect(itto.body.payouts).to.deep.equal([]);
    expect(itto.body.cooperatives[0].throughCooperative).to.equal(false);
  });

  it("records a euro premium at the latest reference rate, or at a rate given", async function () {
    const notAdmin = await coopAdmin.post("/api/v1/reference-rates", {
      currency: "EUR",
      rate: "10.8345",
      asOf: "2026-01-15",
      source: "Bank Al-Maghrib",
    });
    expect(notAdmin.status).to.equal(403);
    const noRate = await coopAdmin.post("/api/v1/cooperatives/1/payouts", {
      payouts: [
        {
          member: members[2].address,
          amount: "541.73",
          token: eurAddress,
          tokenAmount: "5000",
          method: "bank",
          reference: "VIR-1",
        },
      ],
    });
    expect(noRate.status).to.equal(400);
    expect(noRate.body.code).to.equal("no_reference_rate");

    const rate = await t.admin.post("/api/v1/reference-rates", {
      currency: "EUR",
      rate: "10.8345",
      asOf: "2026-01-15",
      source: "Bank Al-Maghrib",
    });
    expect(rate.status, rate.text).to.equal(201);
    expect(rate.body).to.include({ currency: "EUR", rateE6: "10834500", asOf: String(Date.UTC(2026, 0, 15) / 1000) });
    const [set] = await t.contracts.payouts.queryFilter(t.contracts.payouts.filters.ReferenceRateSet());
    expect(set.args.rateE6).to.equal(10_834_500n);
    expect(set.args.source).to.equal("Bank Al-Maghrib");

    const r = await coopAdmin.post("/api/v1/cooperatives/1/payouts", {
      payouts: [
        {
          member: members[2].address,
          amount: "541.73",
          token: eurAddress,
          tokenAmount: "5000",
          purpose: "womensPremium",
          method: "bank",
          reference: "VIR-2026-77",
        },
        {
          member: members[2].address,
          amount: "109.00",
          token: eurAddress,
          tokenAmount: "1000",
          rate: "10.9",
          purpose: "womensPremium",
          method: "cash",
          reference: "Reçu n° 43",
        },
      ],
    });
    expect(r.status, r.text).to.equal(201);
    const recorded = (await fromChain()).recorded.slice(-2);
    expect(recorded.map((e) => [e.args.token, e.args.tokenAmount, e.args.dirhams, e.args.rateE6])).to.deep.equal([
      [eurAddress, 5000n, 54_173n, 10_834_500n],
      [eurAddress, 1000n, 10_900n, 10_900_000n],
    ]);
    const body = await expectReconciliationMatchesChain();
    const eur = body.tokens.find((x: { currency: string }) => x.currency === "EUR");
    expect(eur.totals).to.include({
      premiums: "6000",
      entitled: "6000",
      paid: "6000",
      outstanding: "0",
      paidDirhams: "65073",
    });
  });

  describe("refusals change nothing", function () {
    let before: Awaited<ReturnType<typeof ledgerState>>;
    const good = () => ({
      member: members[2].address,
      amount: "10.00",
      token: madAddress,
      method: "cash",
      reference: "Reçu n° 44",
    });

    beforeEach(async function () {
      before = await ledgerState();
    });
    afterEach(async function () {
      expect(await ledgerState()).to.deep.equal(before);
    });

    it("401 without a token, 403 for a member recording payouts", async function () {
      const anon = await t.api.post("/api/v1/cooperatives/1/payouts", { payouts: [good()] });
      expect([anon.status, anon.body.code]).to.deep.equal([401, "unauthenticated"]);
      const member = await members[0].client.post("/api/v1/cooperatives/1/payouts", { payouts: [good()] });
      expect([member.status, member.body.code]).to.deep.equal([403, "forbidden"]);
    });

    it("403 not_your_payout when another member answers a payout", async function () {
      for (const action of ["confirm", "contest"]) {
        const r = await members[2].client.post(`/api/v1/payouts/${ids.cash}/${action}`);
        expect([r.status, r.body.code]).to.deep.equal([403, "not_your_payout"]);
      }
      const admin = await coopAdmin.post(`/api/v1/payouts/${ids.cash}/confirm`);
      expect([admin.status, admin.body.code]).to.deep.equal([403, "not_your_payout"]);
    });

    it("409 when a payout is confirmed twice or contested twice, 404 for an unknown payout", async function () {
      const twice = await members[0].client.post(`/api/v1/payouts/${ids.mwallet}/confirm`);
      expect([twice.status, twice.body.code]).to.deep.equal([409, "payout_already_confirmed"]);
      const contestConfirmed = await members[0].client.post(`/api/v1/payouts/${ids.mwallet}/contest`, {});
      expect([contestConfirmed.status, contestConfirmed.body.code]).to.deep.equal([409, "payout_already_confirmed"]);
      const again = await members[1].client.post(`/api/v1/payouts/${ids.cash}/contest`, {});
      expect([again.status, again.body.code]).to.deep.equal([409, "payout_already_contested"]);
      const unknown = await members[0].client.post(`/api/v1/payouts/${ZeroHash}/confirm`);
      expect([unknown.status, unknown.body.code]).to.deep.equal([404, "payout_not_found"]);
      const malformed = await members[0].client.post(`/api/v1/payouts/0x1234/confirm`);
      expect([malformed.status, malformed.body.code]).to.deep.equal([400, "invalid_field"]);
    });

    it("409 payout_duplicate for a reference already recorded, or twice in one request", async function () {
      const dup = await coopAdmin.post("/api/v1/cooperatives/1/payouts", {
        payouts: [{ ...good(), member: members[1].address, reference: "Reçu n° 42" }],
      });
      expect([dup.status, dup.body.code, dup.body.payoutId]).to.deep.equal([409, "payout_duplicate", ids.cash]);
      const twice = await coopAdmin.post("/api/v1/cooperatives/1/payouts", { payouts: [good(), good()] });
      expect([twice.status, twice.body.code]).to.deep.equal([409, "payout_duplicate"]);
    });

    it("400 for a bad amount, an unknown token, a non-member, a dirham token amount that does not match", async function () {
      for (const amount of ["12.345", "-5", "0", "0.00", "1,5", "12.", ""]) {
        const r = await coopAdmin.post("/api/v1/cooperatives/1/payouts", { payouts: [{ ...good(), amount }] });
        expect([r.status, r.body.code, r.body.errors?.[0]?.field], amount).to.deep.equal([
          400,
          "invalid_field",
          "payouts.0.amount",
        ]);
      }
      const token = await coopAdmin.post("/api/v1/cooperatives/1/payouts", {
        payouts: [{ ...good(), token: Wallet.createRandom().address }],
      });
      expect([token.status, token.body.code]).to.deep.equal([400, "not_a_settlement_token"]);
      const stranger = await coopAdmin.post("/api/v1/cooperatives/1/payouts", {
        payouts: [{ ...good(), member: Wallet.createRandom().address }],
      });
      expect([stranger.status, stranger.body.code]).to.deep.equal([400, "not_a_member"]);
      const units = await coopAdmin.post("/api/v1/cooperatives/1/payouts", {
        payouts: [{ ...good(), tokenAmount: "999" }],
      });
      expect([units.status, units.body.errors[0].field]).to.deep.equal([400, "payouts.0.tokenAmount"]);
      const method = await coopAdmin.post("/api/v1/cooperatives/1/payouts", {
        payouts: [{ ...good(), method: "crypto" }],
      });
      expect(method.status).to.equal(400);
      const none = await coopAdmin.post("/api/v1/cooperatives/1/payouts", { payouts: [] });
      expect(none.status).to.equal(400);
    });
  });

  it("closes the batch: the rounding leftover goes to the reserve and the reconciliation does not move", async function () {
    const before = await expectReconciliationMatchesChain();
    const notAdmin = await members[0].client.post(`/api/v1/batches/${batchId}/close`);
    expect(notAdmin.status).to.equal(403);
    const reserveBefore = await t.contracts.escrow.reserveOf(1, madAddress);
    const r = await coopAdmin.post(`/api/v1/batches/${batchId}/close`);
    expect(r.status, r.text).to.equal(201);
    expect(r.body.saleIds).to.deep.equal([1]);
    const released = await t.contracts.escrow.released(batchId, madAddress);
    const { rows } = await fromChain();
    const shares = rows.filter((x) => x.token === madAddress).reduce((s, x) => s + x.shares, 0n);
    expect(r.body.roundedOff).to.deep.equal([{ token: madAddress, amount: (released - shares).toString() }]);
    expect(released - shares).to.be.greaterThan(0n);
    expect(await t.contracts.escrow.reserveOf(1, madAddress)).to.equal(reserveBefore + released - shares);
    expect(t.gateway.ctx.db.prepare("SELECT batch_id, token, rounded_off FROM ix_batch_closures").all()).to.deep.equal([
      { batch_id: batchId, token: madAddress, rounded_off: (released - shares).toString() },
    ]);
    expect((await expectReconciliationMatchesChain()).members).to.deep.equal(before.members);
    const again = await coopAdmin.post(`/api/v1/batches/${batchId}/close`);
    expect([again.status, again.body.code]).to.deep.equal([409, "batch_closed"]);
  });

  it("the verifier, from the chain alone, finds the same reconciliation, the closure and each payout's status", async function () {
    const deployment = { ...t.gateway.ctx.deployment, source: "the test gateway" };
    const snap = await collect(new RpcClient(t.gateway.ctx.rpcUrl), deployment, {
      kind: "batchId",
      input: batchId,
      batchId,
    });
    const checks = runChecks(snap).filter((c) => c.section === "money");
    expect(checks.map((c) => [c.id.replace(/^closed-.*/, "closed"), c.ok])).to.deep.equal([
      ["closed", true],
      ["payouts", true],
      ["reconciliation", true],
    ]);
    const api = await expectReconciliationMatchesChain();
    for (const row of snap.money!.rows.filter((r) => r.token === madAddress)) {
      const got = api.members.find(
        (m: { member: string; token: string }) => m.member === row.member && m.token === row.token,
      );
      for (const k of ["entitled", "paid", "confirmed", "contested", "outstanding"] as const) {
        expect(got[k], `${row.member} ${k}`).to.equal(row[k].toString());
      }
    }
    // The reconciliation pack carries the verifier's own figures: the same, to the centime.
    const pack = await t.admin.get("/api/v1/audit/sales/1/pack");
    expect(pack.status, pack.text).to.equal(200);
    for (const row of snap.money!.rows) {
      const got = pack.body.payouts.rows.find(
        (r: { member: string; token: string }) => r.member === row.member && r.token === row.token,
      );
      expect(got.outstanding).to.equal(row.outstanding.toString());
      expect(got.confirmed).to.equal(row.confirmed.toString());
    }
    expect(pack.body.payouts.payouts.map((p: { status: string }) => p.status)).to.include.members([
      "confirmed",
      "contested",
    ]);
    // A payout whose stored status disagrees with its events is reported (a forged snapshot).
    snap.money!.payouts[0].storedStatus = "recorded";
    expect(runChecks(snap).find((c) => c.id === "payouts")!.ok).to.equal(false);
  });

  it("keeps these tables through a reorganisation and a reindex", async function () {
    const { indexer } = t.gateway.ctx;
    const platformAdmin = anvilWallet(0).connect(t.provider);
    await indexer.syncOnce();
    const kept = dump();
    const snapshot = await t.provider.send("evm_snapshot", []);
    await (
      await t.contracts.payouts.connect(platformAdmin).setReferenceRate("0x555344", 9_900_000n, 1_768_435_200n, "gone")
    ).wait();
    await indexer.syncOnce();
    expect(dump().ix_reference_rates).to.have.length(kept.ix_reference_rates.length + 1);

    await t.provider.send("evm_revert", [snapshot]);
    await (
      await t.contracts.payouts.connect(platformAdmin).setReferenceRate("0x555344", 9_950_000n, 1_768_435_200n, "kept")
    ).wait();
    await t.provider.send("evm_mine", []);
    await indexer.syncOnce();
    const after = dump();
    const sources = after.ix_reference_rates.map((r) => (r as { source: string }).source).sort();
    expect(sources).to.deep.equal(["Bank Al-Maghrib", "kept"]);
    for (const table of PAYOUT_TABLES)
      if (table !== "ix_reference_rates") expect(after[table], table).to.deep.equal(kept[table]);

    await indexer.reindex();
    expect(dump()).to.deep.equal(after);
    await expectReconciliationMatchesChain();
  });

  it("lets a member who holds her own key confirm her payout with her own signature (self-custody)", async function () {
    const { client, address } = members[2];
    const premium = (await fromChain()).recorded.find(
      (e) => e.args.member === address && e.args.tokenAmount === 5000n,
    )!;
    const exported = await client.post("/api/v1/me/export-key", { confirm: EXPORT_CONFIRMATION });
    expect(exported.status, exported.text).to.equal(201);
    const wallet = new Wallet(exported.body.privateKey);
    expect(wallet.address).to.equal(address);
    const template = await client.get("/api/v1/me/forward-request");
    expect(template.status, template.text).to.equal(200);
    expect(template.body.contracts.PayoutLedger).to.equal(t.gateway.ctx.deployment.contracts.PayoutLedger.address);
    const allowed = (template.body.allowed as { contract: string; function: string }[])
      .filter((a) => a.contract === "PayoutLedger")
      .map((a) => a.function);
    expect(allowed).to.have.members(["confirm", "contest"]);
    const data = PayoutLedger__factory.createInterface().encodeFunctionData("confirm", [premium.args.payoutId]);
    const request = {
      from: address,
      to: template.body.contracts.PayoutLedger,
      value: 0n,
      gas: 100_000n, // within the relayer's bound: its estimate (~30k) plus at most max(50 %, 100k)
      nonce: BigInt(template.body.nonce),
      deadline: BigInt(Math.floor(Date.now() / 1000) + 3600),
      data,
    };
    const signature = await wallet.signTypedData(
      template.body.domain,
      { ForwardRequest: template.body.types.ForwardRequest },
      request,
    );
    const r = await client.post("/api/v1/me/forward-requests", {
      to: request.to,
      gas: "100000",
      deadline: String(request.deadline),
      data,
      signature,
    });
    expect(r.status, r.text).to.equal(201);
    const confirmed = await t.contracts.payouts.queryFilter(t.contracts.payouts.filters.PayoutConfirmed());
    expect(confirmed.map((e) => e.args.payoutId)).to.include(premium.args.payoutId);
    await t.gateway.ctx.indexer.syncOnce();
    const body = await expectReconciliationMatchesChain();
    const row = body.members.find(
      (m: { member: string; token: string }) => m.member === address && m.token === eurAddress,
    );
    expect(row.confirmed).to.equal("5000");
  });
});
