/**
 * Demo data for the embedded chain, seeded on the very first start through the gateway's own API
 * (so the demo exercises exactly what users do): a women's rose cooperative of Kelaat M'Gouna, its
 * members' harvest, a distillation into rose water, a certification, and a sale that is funded,
 * shipped, confirmed, released and claimed. Each member gets a member card with a PIN, as her manager
 * would print it; the tokens, the card links and the PINs go to DATA_DIR/demo-tokens.json (0600).
 */
import { randomInt } from "node:crypto";
import { chmodSync, writeFileSync } from "node:fs";
import path from "node:path";
import { isObviousPin } from "../services/cards";

export interface DemoResult {
  cooperativeId: number;
  harvestBatchId: string;
  roseWaterBatchId: string;
  saleId: number;
  tokensFile: string;
}

class Client {
  constructor(
    private readonly base: string,
    private readonly token?: string,
  ) {}
  as(token: string): Client {
    return new Client(this.base, token);
  }
  async post<T = Record<string, unknown>>(path: string, body: unknown = {}): Promise<T> {
    const res = await fetch(this.base + "/api/v1" + path, {
      method: "POST",
      headers: { "content-type": "application/json", ...(this.token ? { authorization: `Bearer ${this.token}` } : {}) },
      body: JSON.stringify(body),
    });
    const json = (await res.json()) as T;
    if (!res.ok) throw new Error(`demo seed: POST ${path} answered ${res.status}: ${JSON.stringify(json)}`);
    return json;
  }
  async get<T = Record<string, unknown>>(path: string): Promise<T> {
    const res = await fetch(this.base + "/api/v1" + path, {
      headers: this.token ? { authorization: `Bearer ${this.token}` } : {},
    });
    const json = (await res.json()) as T;
    if (!res.ok) throw new Error(`demo seed: GET ${path} answered ${res.status}: ${JSON.stringify(json)}`);
    return json;
  }
}

/**
 * The demo's money: Aicha and Khadija choose to be paid in dirhams by the cooperative; a dirham sale is
 * released and claimed; the cooperative records what it paid them (M-Wallet, confirmed; cash, not yet);
 * a euro reference rate and an open offer in euros.
 */
async function sellAndPay(x: {
  admin: Client;
  coopAdmin: Client;
  asBuyer: Client;
  coop: { cooperativeId: number; admin: { address: string } };
  members: { token: string; address: string }[];
  buyer: { user: { address: string } };
  batchId: string;
  currency: (code: string) => string;
  day: (offset: number) => string;
}): Promise<number> {
  const { admin, coopAdmin, asBuyer, coop, members, buyer, currency, day } = x;
  const mad = currency("MAD");
  const roseWater = { batchId: x.batchId };
  await coopAdmin.post(`/cooperatives/${coop.cooperativeId}/payout-account`, { account: coop.admin.address });
  for (const m of members.slice(0, 2)) await admin.as(m.token).post("/me/payout-route", { throughCooperative: true });

  const sale = await coopAdmin.post<{ saleId: string }>("/sales", {
    batchId: roseWater.batchId,
    quantity: "24000",
    token: mad,
    price: "1200000", // 12,000.00 MAD
    buyer: buyer.user.address,
  });
  const saleId = Number(sale.saleId);
  await asBuyer.post(`/sales/${saleId}/fund`);
  await coopAdmin.post(`/sales/${saleId}/ship`, {});
  await asBuyer.post(`/sales/${saleId}/confirm`, {});
  for (const m of members.slice(0, 2)) {
    await admin.as(m.token).post("/claims", { batchId: roseWater.batchId, token: mad });
  }
  type Row = { member: string; token: string; outstanding: string };
  const due = await coopAdmin.get<{ members: Row[] }>(`/audit/cooperatives/${coop.cooperativeId}/reconciliation`);
  const outstanding = (address: string) =>
    BigInt(
      due.members.find((r) => r.member.toLowerCase() === address.toLowerCase() && r.token === mad)?.outstanding ?? "0",
    );
  const centimes = (c: bigint) => `${c / 100n}.${(c % 100n).toString().padStart(2, "0")}`;
  const recorded = await coopAdmin.post<{ payoutIds: string[] }>(`/cooperatives/${coop.cooperativeId}/payouts`, {
    payouts: [
      {
        member: members[0].address,
        amount: centimes(outstanding(members[0].address)),
        token: mad,
        method: "mwallet",
        reference: "M-WALLET DEMO-0001",
      },
      {
        member: members[1].address,
        amount: centimes(outstanding(members[1].address)),
        token: mad,
        method: "cash",
        reference: "RECU DEMO-0002",
      },
    ],
  });
  await admin.as(members[0].token).post(`/payouts/${recorded.payoutIds[0]}/confirm`, {});

  // The euro: a reference rate for showing dirham equivalents, and an open offer priced in euros.
  await admin.post("/reference-rates", {
    currency: "EUR",
    rate: "10.85",
    asOf: day(-1).slice(0, 10),
    source: "Bank Al-Maghrib (démo)",
  });
  await coopAdmin.post("/sales", {
    batchId: roseWater.batchId,
    quantity: "6000",
    token: currency("EUR"),
    price: "90000",
  });
  return saleId;
}

const DAY_MS = 86_400_000;

/** A random 4-digit PIN that is not an obvious one (as a manager would help a member choose). */
function demoPin(): string {
  for (;;) {
    const pin = String(randomInt(0, 10_000)).padStart(4, "0");
    if (!isObviousPin(pin)) return pin;
  }
}

export async function seedDemo(baseUrl: string, adminToken: string, dataDir: string): Promise<DemoResult> {
  const admin = new Client(baseUrl, adminToken);
  const day = (offset: number) => new Date(Date.now() + offset * DAY_MS).toISOString();
  type Created = { token: string; user: { id: string; address: string } };
  const registrar = await admin.post<Created>("/users", {
    role: "registrar",
    displayName: "ODCO Drâa-Tafilalet (démo)",
  });
  const certifier = await admin.post<Created>("/users", {
    role: "certifier",
    displayName: "Organisme de certification (démo)",
  });
  const auditor = await admin.post<Created>("/users", { role: "auditor", displayName: "Auditeur régional (démo)" });
  const arbiter = await admin.post<Created>("/users", {
    role: "arbiter",
    displayName: "Bureau de médiation (démo)",
  });

  const coop = await admin
    .as(registrar.token)
    .post<{ cooperativeId: number; admin: { token: string; address: string } }>("/cooperatives", {
      name: "Coopérative Tighmert des Roses",
      region: "MA-TIN", // Tinghir (domain/regions.ts): the cooperative is in Kelaat M'Gouna
      registrationNumber: "DEMO-KMG-2019-0042",
      reserveBps: 1000,
      womenLed: true,
      admin: { displayName: "Fatima (présidente)" },
    });
  const coopAdmin = admin.as(coop.admin.token);
  const names = ["Aicha", "Khadija", "Itto", "Zahra"];
  type NewMember = { userId: string; token: string; address: string; cardUrl: string; pin: string };
  const members: NewMember[] = [];
  for (const [i, displayName] of names.entries()) {
    const pin = demoPin();
    const m = await coopAdmin.post<{ member: Omit<NewMember, "pin"> }>(`/cooperatives/${coop.cooperativeId}/members`, {
      displayName,
      reference: `card-${1001 + i}`,
      pin,
    });
    members.push({ ...m.member, pin });
  }
  // Kilograms of fresh petals each member delivered (in grams).
  const delivered = [42_000n, 35_500n, 28_000n, 19_500n];
  const harvest = await admin.as(members[0].token).post<{ batchId: string }>("/batches", {
    cooperativeId: coop.cooperativeId,
    productCode: "rose-petals-fresh",
    lotCode: "KMG-ROSE-2026-05",
    quantity: String(delivered.reduce((a, b) => a + b, 0n)),
    unit: "g",
    origin: "Kelaat M'Gouna, vallée du Dadès",
    productionDate: day(-10).slice(0, 10),
    contributors: members.map((m, i) => ({ memberId: m.userId, weight: String(delivered[i]) })),
  });
  await coopAdmin.post(`/batches/${harvest.batchId}/events`, {
    bizStep: "https://cooptrace.example/voc/bizstep/harvesting",
    location: "Kelaat M'Gouna",
    eventTime: day(-10),
  });
  const roseWater = await coopAdmin.post<{ batchId: string }>("/batches/merge", {
    cooperativeId: coop.cooperativeId,
    inputs: [{ batchId: harvest.batchId, quantity: "100000" }],
    productCode: "rose-water",
    gtin: "06111234567895",
    lotCode: "KMG-RW-2026-05",
    quantity: "100000",
    unit: "ml",
    origin: "Kelaat M'Gouna",
    productionDate: day(-5).slice(0, 10),
  });
  await coopAdmin.post(`/batches/${roseWater.batchId}/events`, {
    bizStep: "packing",
    location: "Kelaat M'Gouna",
    eventTime: day(-3),
  });
  await admin.as(certifier.token).post(`/batches/${roseWater.batchId}/certifications`, {
    scheme: "AOP Rose de Kelaat M'Gouna-Dades",
    validUntil: day(365).slice(0, 10),
  });

  const buyer = await admin.post<Created>("/buyers", { displayName: "Boutique Casablanca (démo)" });
  const asBuyer = admin.as(buyer.token);
  const faucet = await asBuyer.post<{ money: { currency: string; address: string }[] }>("/faucet");
  // Sales are priced in the demo dirham (the euro too, for an importer): what members are paid in.
  const currency = (code: string) => faucet.money.find((m) => m.currency === code)?.address ?? "ETH";

  const saleId = await sellAndPay({
    admin,
    coopAdmin,
    asBuyer,
    coop,
    members,
    buyer,
    batchId: roseWater.batchId,
    currency,
    day,
  });

  const tokensFile = path.join(dataDir, "demo-tokens.json");
  writeFileSync(
    tokensFile,
    JSON.stringify(
      {
        note:
          "Demo accounts of the embedded chain. These tokens and PINs act as the users: keep this file private. " +
          "Sign in at /signin with a token; a member opens her card link and types her PIN.",
        registrar: registrar.token,
        certifier: certifier.token,
        auditor: auditor.token,
        arbiter: arbiter.token,
        cooperativeAdmin: coop.admin.token,
        members: members.map((m, i) => ({ name: names[i], card: m.cardUrl, pin: m.pin, token: m.token })),
        buyer: buyer.token,
      },
      null,
      2,
    ) + "\n",
    { mode: 0o600 },
  );
  chmodSync(tokensFile, 0o600); // a file left by an earlier start keeps its mode otherwise
  return {
    cooperativeId: coop.cooperativeId,
    harvestBatchId: harvest.batchId,
    roseWaterBatchId: roseWater.batchId,
    saleId,
    tokensFile,
  };
}
