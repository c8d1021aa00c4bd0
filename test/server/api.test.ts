/**
 * The gateway end to end over HTTP: a real embedded chain (anvil), a real SQLite file, a real server
 * on port 0. One cooperative's whole story, then every class of error.
 */
import { expect } from "chai";
import { startTestGateway, type ApiClient, type TestGateway } from "../helpers/gateway";
import { validateEpcis } from "../../server/epcis/validate";
import jsQR from "jsqr";
import { PNG } from "pngjs";

const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString();

describe("gateway API", function () {
  this.timeout(180_000);
  let t: TestGateway;
  let registrar: ApiClient;
  let certifier: ApiClient;
  let coopAdmin: ApiClient;
  let members: { client: ApiClient; userId: string; address: string }[];
  let cooperativeId: number;
  let batchId: string;

  before(async function () {
    t = await startTestGateway();
    const mk = async (role: string) => {
      const r = await t.admin.post("/api/v1/users", { role, displayName: `${role} one` });
      expect(r.status, r.text).to.equal(201);
      return t.api.as(r.body.token);
    };
    registrar = await mk("registrar");
    certifier = await mk("certifier");
    await mk("arbiter");
  });

  after(async function () {
    if (process.env.DEBUG_API) console.log(t.logs.filter((l) => /"level":(50|40)/.test(l)).join("\n"));
    await t?.stop();
  });

  describe("a cooperative's story", function () {
    it("registers a cooperative with its admin", async function () {
      const r = await registrar.post("/api/v1/cooperatives", {
        name: "Coopérative Tighmert des Roses",
        region: "Tinghir",
        registrationNumber: "ODCO-TGH-1",
        reserveBps: 1000,
        womenLed: true,
        admin: { displayName: "Fatima" },
      });
      expect(r.status, r.text).to.equal(201);
      expect(r.body.cooperativeId).to.equal(1);
      expect(r.body.txHash).to.match(/^0x[0-9a-f]{64}$/);
      expect(r.body.blockNumber).to.be.a("number");
      coopAdmin = t.api.as(r.body.admin.token);
      const pub = await t.api.get("/api/v1/cooperatives/1");
      expect(pub.status).to.equal(200);
      expect(pub.body.name).to.equal("Coopérative Tighmert des Roses");
    });

    it("adds members who hold no ETH", async function () {
      members = [];
      // A PIN set with the manager gives her a card to sign in with; without one, no card yet.
      const pins: Record<string, string | undefined> = { Aicha: "4719", Khadija: "5820", Itto: undefined };
      for (const name of ["Aicha", "Khadija", "Itto"]) {
        const r = await coopAdmin.post(`/api/v1/cooperatives/1/members`, {
          displayName: name,
          reference: `card-${name}`,
          ...(pins[name] ? { pin: pins[name] } : {}),
        });
        expect(r.status, r.text).to.equal(201);
        members.push({
          client: t.api.as(r.body.member.token),
          userId: r.body.member.userId,
          address: r.body.member.address,
        });
        expect(await t.provider.getBalance(r.body.member.address)).to.equal(0n);
        if (pins[name] === undefined) {
          expect(r.body.member.card).to.equal(null);
          continue;
        }
        expect(r.body.member.card).to.match(/^<svg[\s\S]*<\/svg>$/);
        expect(r.body.member.card).to.include(name);
        expect(r.body.member.card).not.to.include(r.body.member.token); // the QR names the card, not the token
        expect(r.body.member.card).not.to.include(pins[name]!);
      }
      cooperativeId = 1;
    });

    it("lets a member register a batch through the relayer", async function () {
      const r = await members[0].client.post("/api/v1/batches", {
        cooperativeId,
        productCode: "rose-petals",
        lotCode: "ROSE-1",
        quantity: "100000",
        unit: "g",
        origin: "Kelaat M'Gouna",
        productionDate: day(-2),
        contributors: members.map((m, i) => ({ memberId: m.userId, weight: String(1000 * (i + 1)) })),
      });
      expect(r.status, r.text).to.equal(201);
      batchId = r.body.batchId;
      expect(batchId).to.match(/^0x[0-9a-f]{64}$/);
      const registered = r.body.events.find((e: { name: string }) => e.name === "BatchRegistered");
      expect(registered.args.registeredBy).to.equal(members[0].address);
      const pub = await t.api.get(`/api/v1/batches/${batchId}`);
      expect(pub.status, pub.text).to.equal(200);
      expect(pub.body.contributors).to.have.length(3);
    });

    it("records events and a certification", async function () {
      const e = await members[1].client.post(`/api/v1/batches/${batchId}/events`, {
        bizStep: "packing",
        location: "KMG",
        eventTime: day(-1),
      });
      expect(e.status, e.text).to.equal(201);
      const c = await certifier.post(`/api/v1/batches/${batchId}/certifications`, {
        scheme: "AOP Rose",
        validUntil: day(300),
      });
      expect(c.status, c.text).to.equal(201);
      expect(c.body.certificationId).to.equal("1");
    });

    it("sells: offer, buyer funds from its own account, ship, confirm, members claim", async function () {
      const signup = await t.api.post("/api/v1/buyers", { displayName: "Shop" });
      expect(signup.status, signup.text).to.equal(201);
      const buyer = t.api.as(signup.body.token);
      expect((await buyer.post("/api/v1/faucet")).status).to.equal(201);
      const offer = await coopAdmin.post("/api/v1/sales", {
        batchId,
        quantity: "5000",
        token: "ETH",
        price: "600000",
        buyer: signup.body.user.address,
      });
      expect(offer.status, offer.text).to.equal(201);
      const saleId = Number(offer.body.saleId);
      expect((await buyer.post(`/api/v1/sales/${saleId}/fund`)).status).to.equal(201);
      expect((await coopAdmin.post(`/api/v1/sales/${saleId}/ship`, {})).status).to.equal(201);
      const confirm = await buyer.post(`/api/v1/sales/${saleId}/confirm`, {});
      expect(confirm.status, confirm.text).to.equal(201);
      const released = confirm.body.events.find((e: { name: string }) => e.name === "SaleReleased");
      // 600000 wei, fee 1% (deploy default) = 6000, reserve 10% of the rest = 59400, net 534600.
      expect(released.args).to.include({ gross: "600000", fee: "6000", reserve: "59400", net: "534600" });
      const claim = await members[2].client.post("/api/v1/claims", { batchId, token: "ETH" });
      expect(claim.status, claim.text).to.equal(201);
      expect(claim.body.amount).to.equal(String((534600n * 3000n) / 6000n));
      expect(await t.provider.getBalance(members[2].address)).to.equal((534600n * 3000n) / 6000n);
      const again = await members[2].client.post("/api/v1/claims", { batchId, token: "ETH" });
      expect(again.status).to.equal(422);
      expect(again.body.code).to.equal("SaleEscrowNothingDue");
    });
  });

  describe("errors", function () {
    it("400 names the invalid field", async function () {
      const r = await members[0].client.post("/api/v1/batches", {
        cooperativeId,
        productCode: "x",
        lotCode: "L",
        quantity: -1,
        unit: "g",
        productionDate: day(-1),
        contributors: [],
      });
      expect(r.status).to.equal(400);
      expect(r.headers.get("content-type")).to.match(/^application\/problem\+json/);
      expect(r.body.code).to.equal("invalid_field");
      expect(r.body.errors.map((e: { field: string }) => e.field)).to.include.members(["quantity", "contributors"]);
    });
    it("400 for malformed JSON, 415 for another content type, 413 over the body limit", async function () {
      const bad = await members[0].client.request("POST", "/api/v1/batches", "{not json", {
        "content-type": "application/json",
      });
      expect(bad.status).to.equal(400);
      expect(bad.body.code).to.equal("malformed_json");
      const form = await members[0].client.request("POST", "/api/v1/batches", "a=1", {
        "content-type": "application/x-www-form-urlencoded",
      });
      expect(form.status).to.equal(415);
      const big = await members[0].client.post("/api/v1/batches", { pad: "x".repeat(200_000) });
      expect(big.status).to.equal(413);
      expect(big.body.code).to.equal("body_too_large");
    });
    it("401 without or with a bad token, 403 for the wrong role or cooperative", async function () {
      expect((await t.api.post("/api/v1/cooperatives", {})).status).to.equal(401);
      expect((await t.api.as("ct_nottherealtoken").get("/api/v1/me")).status).to.equal(401);
      const r = await members[0].client.post("/api/v1/cooperatives/1/members", { displayName: "X", reference: "r" });
      expect(r.status).to.equal(403);
      expect(r.body.code).to.equal("forbidden");
    });
    it("404 for unknown resources", async function () {
      const r = await t.api.get(`/api/v1/batches/0x${"ab".repeat(32)}`);
      expect(r.status).to.equal(404);
      expect(r.body.code).to.equal("batch_not_found");
      expect((await t.api.get("/api/v1/nope")).status).to.equal(404);
    });
    it("422 with the decoded custom error, and nothing queued", async function () {
      const r = await members[0].client.post("/api/v1/batches", {
        cooperativeId,
        productCode: "rose-petals",
        lotCode: "ROSE-1",
        quantity: "10",
        unit: "g",
        productionDate: day(-2),
        contributors: [{ memberId: members[0].userId, weight: "1" }],
      });
      expect(r.status, r.text).to.equal(422);
      expect(r.body.code).to.equal("BatchRegistryDuplicateLot");
      expect(r.text).not.to.match(/at .*\.ts:\d+/); // no stack trace
    });
    it("rejects bidi-override characters in text", async function () {
      const r = await coopAdmin.post("/api/v1/cooperatives/1/members", {
        displayName: "Evil\u202Eman",
        reference: "r9",
      });
      expect(r.status).to.equal(400);
    });
  });

  describe("Idempotency-Key", function () {
    it("replays the stored response and has one effect; another body with the key is refused", async function () {
      const body = { bizStep: "inspecting", location: "KMG", eventTime: day(-1) };
      const first = await members[0].client.post(`/api/v1/batches/${batchId}/events`, body, {
        "idempotency-key": "evt-1",
      });
      expect(first.status, first.text).to.equal(201);
      const second = await members[0].client.post(`/api/v1/batches/${batchId}/events`, body, {
        "idempotency-key": "evt-1",
      });
      expect(second.status).to.equal(201);
      expect(second.body.txHash).to.equal(first.body.txHash);
      expect(second.headers.get("idempotent-replayed")).to.equal("true");
      const other = await members[0].client.post(
        `/api/v1/batches/${batchId}/events`,
        { ...body, location: "other" },
        { "idempotency-key": "evt-1" },
      );
      expect(other.status).to.equal(422);
      expect(other.body.code).to.equal("idempotency_key_reused");
      const batch = await t.api.get(`/api/v1/batches/${batchId}`);
      expect(batch.body.events.filter((e: { bizStep: string }) => e.bizStep === "inspecting")).to.have.length(1);
    });
  });

  describe("concurrency", function () {
    it("lands 50 concurrent batch registrations by 10 members, with distinct ids", async function () {
      const crew: ApiClient[] = [];
      for (let i = 0; i < 10; i++) {
        const r = await coopAdmin.post(`/api/v1/cooperatives/1/members`, {
          displayName: `M${i}`,
          reference: `crew-${i}`,
        });
        expect(r.status, r.text).to.equal(201);
        crew.push(t.api.as(r.body.member.token));
      }
      const me = await Promise.all(crew.map((c) => c.get("/api/v1/me")));
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          crew[i % 10].post("/api/v1/batches", {
            cooperativeId,
            productCode: "dates-mejhoul",
            lotCode: `DATES-${i}`,
            quantity: "1000",
            unit: "kg",
            productionDate: day(-1),
            contributors: [{ memberId: me[i % 10].body.id, weight: "1000" }],
          }),
        ),
      );
      for (const r of results) expect(r.status, r.text).to.equal(201);
      expect(new Set(results.map((r) => r.body.batchId)).size).to.equal(50);
      const txs = new Set(results.map((r) => r.body.txHash));
      console.log(`        50 registrations in ${txs.size} transactions`);
    });
  });

  describe("documents and health", function () {
    it("serves the OpenAPI 3.1 document", async function () {
      const r = await t.api.get("/api/v1/openapi.json");
      expect(r.status).to.equal(200);
      expect(r.body.openapi).to.equal("3.1.0");
      expect(r.body.paths).to.have.property("/api/v1/batches");
      expect(
        r.body.paths["/api/v1/batches"].post.requestBody.content["application/json"].schema.properties,
      ).to.have.property("lotCode");
    });
    it("exports a batch's history as a valid EPCIS 2.0 document", async function () {
      const r = await t.api.get(`/api/v1/batches/${batchId}/epcis`);
      expect(r.status, r.text).to.equal(200);
      expect(r.headers.get("content-type")).to.match(/^application\/ld\+json/);
      const check = validateEpcis(r.body);
      expect(check.errors).to.deep.equal([]);
      expect(check.valid).to.equal(true);
      const steps = r.body.epcisBody.eventList.map((e: { bizStep?: string }) => e.bizStep);
      expect(steps).to.include.members(["commissioning", "packing", "inspecting", "shipping"]);
    });
    it("prints a QR code that leads to the batch's public verify page", async function () {
      const r = await fetch(`${t.gateway.url}/api/v1/batches/${batchId}/qr.png?size=256`);
      expect(r.status).to.equal(200);
      expect(r.headers.get("content-type")).to.equal("image/png");
      const img = PNG.sync.read(Buffer.from(await r.arrayBuffer()));
      const decoded = jsQR(new Uint8ClampedArray(img.data), img.width, img.height);
      expect(decoded?.data).to.equal(`${t.gateway.url}/b/${batchId}`);
      const page = await fetch(decoded!.data, { headers: { "accept-language": "fr" } });
      expect(page.status).to.equal(200);
      const html = await page.text();
      expect(html).to.include("ROSE-1");
      expect(html).to.include('lang="fr"');
    });
    it("shows a lot's origin on its public page only when one was given", async function () {
      const withOrigin = await (await fetch(`${t.gateway.url}/b/${batchId}?lang=en`)).text();
      expect(withOrigin).to.include("<dt>Origin</dt>");
      const r = await members[0].client.post("/api/v1/batches", {
        cooperativeId,
        productCode: "rose-petals",
        lotCode: "ROSE-NO-ORIGIN",
        quantity: "1000",
        unit: "g",
        productionDate: day(-1),
        contributors: [{ memberId: members[0].userId, weight: "1" }],
      });
      expect(r.status, r.text).to.equal(201);
      const html = await (await fetch(`${t.gateway.url}/b/${r.body.batchId}?lang=en`)).text();
      expect(html).to.include("ROSE-NO-ORIGIN");
      expect(html).not.to.include("<dt>Origin</dt>");
    });
    it("answers a write with 202 and a status URL when asked not to wait", async function () {
      const r = await members[0].client.post(`/api/v1/batches/${batchId}/events?wait=false`, {
        bizStep: "storing",
        eventTime: day(-1),
      });
      expect(r.status, r.text).to.equal(202);
      expect(r.headers.get("location")).to.equal(`/api/v1/operations/${r.body.operationId}`);
      const deadline = Date.now() + 20_000;
      let status = r.body.status;
      while (status !== "mined" && Date.now() < deadline) {
        status = (await members[0].client.get(`/api/v1/operations/${r.body.operationId}`)).body.state;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(status).to.equal("mined");
      // Another user cannot read it.
      expect((await members[1].client.get(`/api/v1/operations/${r.body.operationId}`)).status).to.equal(404);
    });
    it("lets any web page read public data (CORS) but not write", async function () {
      const r = await t.api.get("/api/v1/cooperatives", { origin: "https://shop.example" });
      expect(r.headers.get("access-control-allow-origin")).to.equal("*");
    });
    it("answers /health with the chain id and the embedded RPC URL", async function () {
      const r = await t.api.get("/health");
      expect(r.status, r.text).to.equal(200);
      expect(r.body.chainId).to.equal(31337);
      expect(r.body.rpcUrl).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
    });
    it("never logs a token", async function () {
      const all = t.logs.join("\n");
      expect(all).not.to.include(t.adminToken);
      expect(all).not.to.match(/ct_[A-Za-z0-9_-]{20,}/);
    });
  });
});
