/**
 * Issue 10, findings 2 and 3: a hostile self-registered buyer must not be able to spend the
 * relayer's ether, and every account has limits.
 *
 * - The drain attempt: a public sign-up, the faucet, an exported key, a contract of its own whose
 *   isTrustedForwarder() answers true, and signed forward requests to it with 14,000,000 gas; a
 *   relayed view call; a CoopTrace function the buyer's role may not call. All refused with a
 *   stable code, and the relayer spends 0 wei.
 * - A signed gas limit far above what the call needs: refused (gas_too_high).
 * - The daily gas budget: with a small USER_DAILY_GAS, writes beyond it are 429
 *   gas_budget_exceeded with Retry-After until 00:00 UTC, and the relayer's balance stops moving.
 * - The write rate: 40 concurrent writes of one member with USER_WRITES_PER_MINUTE=10 → exactly 10
 *   accepted, 30 × 429 user_rate_limited.
 * - The faucet: a second request the same day → 429 faucet_used.
 *
 * Real gateways (embedded anvil, SQLite, HTTP) built by hostile-world's buildWorld.
 */
import { expect } from "chai";
import { Wallet, ZeroHash, id as hashText } from "ethers";
import { buildWorld, day, ok, type World } from "./hostile-world";
import { record } from "./summary";
import type { ApiClient, ApiResponse } from "../helpers/gateway";
import { createProvider } from "../../scripts/ethers-provider";
import { EXPORT_CONFIRMATION } from "../../server/custody/users";
import { secondsUntilNextUtcDay } from "../../server/relayer";
import {
  BatchRegistry__factory,
  ForeignTrustingTarget__factory,
  SaleEscrow__factory,
  type ForeignTrustingTarget,
} from "../../typechain-types";

/** Gas the relayer pays each user per UTC day in the first gateway: room for the world's setup. */
const SMALL_DAILY_GAS = 1_500_000n;

interface Template {
  domain: { name: string; version: string; chainId: string; verifyingContract: string };
  types: { ForwardRequest: { name: string; type: string }[] };
  from: string;
  nonce: string;
  contracts: { CooperativeRegistry: string; BatchRegistry: string; SaleEscrow: string };
}

const fivexx = (rs: ApiResponse[]) => rs.filter((r) => r.status >= 500).length;

/** Signs a forward request with `wallet` and posts it to /me/forward-requests as `client`. */
async function relaySigned(
  client: ApiClient,
  wallet: Wallet,
  template: Template,
  call: { to: string; data: string; gas: bigint },
): Promise<ApiResponse> {
  const request = {
    from: wallet.address,
    to: call.to,
    value: 0n,
    gas: call.gas,
    nonce: BigInt(template.nonce),
    deadline: BigInt(Math.floor(Date.now() / 1000) + 3600),
    data: call.data,
  };
  const signature = await wallet.signTypedData(
    template.domain,
    { ForwardRequest: template.types.ForwardRequest },
    request,
  );
  return client.post("/api/v1/me/forward-requests", {
    to: call.to,
    gas: call.gas.toString(),
    deadline: request.deadline.toString(),
    data: call.data,
    signature,
  });
}

function expectProblem(r: ApiResponse, status: number, code: string, what: string) {
  expect(r.status, `${what}: ${r.text}`).to.equal(status);
  expect(r.headers.get("content-type"), what).to.match(/^application\/problem\+json/);
  expect(r.body.code, what).to.equal(code);
}

/** Retry-After of a refusal that lasts until the next UTC day: within a few seconds of it. */
function expectRetryUntilMidnight(r: ApiResponse, what: string) {
  const retryAfter = Number(r.headers.get("retry-after"));
  expect(Number.isInteger(retryAfter), `${what}: Retry-After ${r.headers.get("retry-after")}`).to.equal(true);
  expect(Math.abs(retryAfter - secondsUntilNextUtcDay()), what).to.be.at.most(5);
}

const recordEvent = (batchId: string, location: string) =>
  BatchRegistry__factory.createInterface().encodeFunctionData("recordEvent", [
    batchId,
    "urn:epcglobal:cbv:bizstep:inspecting",
    location,
    BigInt(Math.floor(Date.now() / 1000) - 3600),
    ZeroHash,
  ]);

describe("chaos: relayer abuse and per-user limits", function () {
  this.timeout(300_000);

  describe(`one gateway with USER_DAILY_GAS=${SMALL_DAILY_GAS}`, function () {
    let w: World;
    const provider = () => w.t.provider;
    const relayerBalance = () => w.t.gateway.ctx.relayer.balance();
    const outboxRowsOf = (userId: string) =>
      w.t.gateway.ctx.db
        .prepare<[string], { n: number; gas: number | null }>(
          "SELECT COUNT(*) AS n, SUM(CAST(gas AS INTEGER)) AS gas FROM outbox_requests WHERE user_id = ?",
        )
        .get(userId)!;

    before(async function () {
      w = await buildWorld(3, { USER_DAILY_GAS: SMALL_DAILY_GAS.toString() });
    });

    after(async function () {
      await w?.t.stop();
    });

    it("the drain attempt: a self-registered buyer's own contract, a view call and another role's function are refused, 0 wei spent", async function () {
      const responses: ApiResponse[] = [];
      const buyer = w.t.api.as(w.buyer.token);
      // The buyer signed up publicly (buildWorld: POST /api/v1/buyers) and takes test funds.
      const funds = await buyer.post("/api/v1/faucet");
      responses.push(funds);
      expect(funds.status, funds.text).to.equal(201);
      const exported = await ok(buyer.post("/api/v1/me/export-key", { confirm: EXPORT_CONFIRMATION }));
      const chainProvider = createProvider(w.t.gateway.ctx.rpcUrl, w.t.gateway.ctx.chainId, 20);
      let target: ForeignTrustingTarget;
      try {
        const wallet = new Wallet(exported.privateKey, chainProvider);
        target = await new ForeignTrustingTarget__factory(wallet).deploy();
        await target.waitForDeployment();
        const targetAddress = await target.getAddress();
        // It really does claim to trust the gateway's forwarder.
        expect(await target.isTrustedForwarder(w.t.gateway.ctx.deployment.contracts.Forwarder.address)).to.equal(true);
        const template = await ok<Template>(buyer.get("/api/v1/me/forward-request"), 200);
        const escrow = SaleEscrow__factory.createInterface();
        const attempts: { what: string; to: string; data: string; gas: bigint; reason: string }[] = [
          ...Array.from({ length: 5 }, (_, i) => ({
            what: `own contract, 14M gas #${i + 1}`,
            to: targetAddress,
            data: target.interface.encodeFunctionData("burn"),
            gas: 14_000_000n,
            reason: "foreign_contract",
          })),
          {
            what: "view call SaleEscrow.saleCount()",
            to: template.contracts.SaleEscrow,
            data: escrow.encodeFunctionData("saleCount"),
            gas: 100_000n,
            reason: "view_function",
          },
          {
            what: "an arbiter's function (SaleEscrow.resolveDispute)",
            to: template.contracts.SaleEscrow,
            data: escrow.encodeFunctionData("resolveDispute", [w.saleId, 10_000, hashText("mine")]),
            gas: 200_000n,
            reason: "function_not_allowed",
          },
          {
            what: "a member's function (BatchRegistry.recordEvent)",
            to: template.contracts.BatchRegistry,
            data: recordEvent(w.batchId, "buyer"),
            gas: 200_000n,
            reason: "function_not_allowed",
          },
        ];
        const balanceBefore = await relayerBalance();
        const nonceBefore = await w.t.contracts.forwarder.nonces(wallet.address);
        for (const a of attempts) {
          const r = await relaySigned(buyer, wallet, template, a);
          responses.push(r);
          expectProblem(r, 403, "relay_not_allowed", a.what);
          expect(r.body.reason, a.what).to.equal(a.reason);
        }
        const spent = balanceBefore - (await relayerBalance());
        expect(spent, "wei the relayer spent").to.equal(0n);
        expect(outboxRowsOf(w.buyer.userId).n, "outbox rows of the buyer").to.equal(0);
        expect(await w.t.contracts.forwarder.nonces(wallet.address)).to.equal(nonceBefore);
        record({
          scenario: "relayer drain attempt (own contract 14M gas, view call, other role's function)",
          result: "pass",
          requests: attempts.length,
          landed: 0,
          lost: 0,
          duplicated: 0,
          fivexx: fivexx(responses),
          notes: `${attempts.length} × 403 relay_not_allowed; relayer spent ${spent} wei; 0 outbox rows`,
        });
      } finally {
        chainProvider.destroy();
      }
    });

    it("refuses a signed gas limit far above the simulation (gas_too_high), accepts one within the margin", async function () {
      const member = w.members[2];
      const client = w.t.api.as(member.token);
      const exported = await ok(client.post("/api/v1/me/export-key", { confirm: EXPORT_CONFIRMATION }));
      const wallet = new Wallet(exported.privateKey);
      const template = await ok<Template>(client.get("/api/v1/me/forward-request"), 200);
      const to = template.contracts.BatchRegistry;
      const data = recordEvent(w.batchId, "self-signed");
      // The estimate as the relayer makes it: from the forwarder, the signer appended (ERC-2771).
      const estimate = await provider().estimateGas({
        from: template.domain.verifyingContract,
        to,
        data: data + wallet.address.slice(2).toLowerCase(),
      });
      const balanceBefore = await relayerBalance();
      const tooHigh = await relaySigned(client, wallet, template, { to, data, gas: 1_000_000n });
      expectProblem(tooHigh, 422, "gas_too_high", "1M gas for recordEvent");
      expect(await relayerBalance()).to.equal(balanceBefore);
      expect(outboxRowsOf(member.userId).n).to.equal(0);
      const fair = await relaySigned(client, wallet, template, { to, data, gas: estimate + estimate / 4n });
      expect(fair.status, fair.text).to.equal(201);
      record({
        scenario: "signed gas far above the simulation",
        result: "pass",
        requests: 2,
        landed: 1,
        lost: 0,
        duplicated: 0,
        fivexx: fivexx([tooHigh, fair]),
        notes: `1,000,000 gas for an estimate of ${estimate}: 422 gas_too_high, 0 wei; estimate + 25%: mined`,
      });
    });

    it("stops a member's writes at its daily gas budget: 429 gas_budget_exceeded with Retry-After, the relayer's balance stops", async function () {
      const member = w.members[1];
      const client = w.t.api.as(member.token);
      const responses: ApiResponse[] = [];
      let refused: ApiResponse | undefined;
      // Each recordEvent takes well under 1/10 of the budget: the budget must end this within 60.
      for (let i = 0; i < 60 && refused === undefined; i++) {
        const r = await client.post(`/api/v1/batches/${w.batchId}/events`, {
          bizStep: "inspecting",
          location: `budget ${i}`,
          eventTime: day(-1),
        });
        responses.push(r);
        if (r.status !== 201) refused = r;
      }
      expect(refused, "a write was refused").not.to.equal(undefined);
      const accepted = responses.length - 1;
      expect(accepted).to.be.greaterThan(1);
      expectProblem(refused!, 429, "gas_budget_exceeded", "write beyond the budget");
      expectRetryUntilMidnight(refused!, "gas_budget_exceeded");
      const used = outboxRowsOf(member.userId);
      expect(used.n).to.equal(accepted);
      expect(BigInt(used.gas!) <= SMALL_DAILY_GAS, `${used.gas} gas used of ${SMALL_DAILY_GAS}`).to.equal(true);

      // From here the relayer's balance does not move for this member, whatever it sends.
      const balance = await relayerBalance();
      const more: ApiResponse[] = [];
      for (let i = 0; i < 5; i++) {
        more.push(
          await client.post(`/api/v1/batches/${w.batchId}/events`, {
            bizStep: "inspecting",
            location: `over ${i}`,
            eventTime: day(-1),
          }),
        );
      }
      for (const r of more) {
        expectProblem(r, 429, "gas_budget_exceeded", "again beyond the budget");
        expectRetryUntilMidnight(r, "again");
      }
      expect(await relayerBalance(), "relayer balance after refusals").to.equal(balance);
      expect(outboxRowsOf(member.userId).n).to.equal(accepted);
      // Another member of the same cooperative still writes: the budget is per user.
      const other = await w.t.api
        .as(w.members[0].token)
        .post(`/api/v1/batches/${w.batchId}/events`, { bizStep: "inspecting", location: "other", eventTime: day(-1) });
      expect(other.status, other.text).to.equal(201);
      const batch = await ok(w.t.api.get(`/api/v1/batches/${w.batchId}`), 200);
      const landed = batch.events.filter((e: { location: string }) => /^budget /.test(e.location)).length;
      expect(landed).to.equal(accepted);
      record({
        scenario: "daily gas budget per user",
        result: "pass",
        requests: responses.length + more.length,
        landed,
        lost: accepted - landed,
        duplicated: 0,
        fivexx: fivexx([...responses, ...more, other]),
        notes: `USER_DAILY_GAS=${SMALL_DAILY_GAS}: ${accepted} writes (${used.gas} gas), then 6 × 429 gas_budget_exceeded; 0 wei after`,
      });
    });

    it("pays the faucet once per account and day: 429 faucet_used with Retry-After the second time", async function () {
      // The drain scenario took this buyer's grant; a new buyer takes its own, once.
      const signup = await ok(w.t.api.post("/api/v1/buyers", { displayName: "Second shop" }));
      const buyer = w.t.api.as(signup.token);
      const first = await buyer.post("/api/v1/faucet");
      expect(first.status, first.text).to.equal(201);
      const balance = await provider().getBalance(signup.user.address);
      const again = await Promise.all([buyer.post("/api/v1/faucet"), buyer.post("/api/v1/faucet")]);
      const earlier = await w.t.api.as(w.buyer.token).post("/api/v1/faucet");
      for (const r of [...again, earlier]) {
        expectProblem(r, 429, "faucet_used", "second faucet request");
        expectRetryUntilMidnight(r, "faucet_used");
      }
      expect(await provider().getBalance(signup.user.address)).to.equal(balance);
      record({
        scenario: "faucet twice",
        result: "pass",
        requests: 4,
        landed: 1,
        lost: 0,
        duplicated: 0,
        fivexx: fivexx([first, ...again, earlier]),
        notes: "1 × 201, then 3 × 429 faucet_used (two of them concurrent); balance unchanged",
      });
    });
  });

  describe("one gateway with USER_WRITES_PER_MINUTE=10", function () {
    let w: World;

    before(async function () {
      w = await buildWorld(3, { USER_WRITES_PER_MINUTE: "10" });
    });

    after(async function () {
      await w?.t.stop();
    });

    it("accepts exactly 10 of 40 concurrent writes of one member; 30 × 429 user_rate_limited with Retry-After", async function () {
      // members[1] has written nothing yet (buildWorld's batch is members[0]'s).
      const client = w.t.api.as(w.members[1].token);
      const before = (await ok(w.t.api.get(`/api/v1/batches/${w.batchId}`), 200)).events.length;
      const responses = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          client.post(`/api/v1/batches/${w.batchId}/events`, {
            bizStep: "inspecting",
            location: `rate ${i}`,
            eventTime: day(-1),
          }),
        ),
      );
      const accepted = responses.filter((r) => r.status === 201);
      const limited = responses.filter((r) => r.status === 429);
      expect(accepted.length, responses.map((r) => r.status).join(",")).to.equal(10);
      expect(limited.length).to.equal(30);
      for (const r of limited) {
        expectProblem(r, 429, "user_rate_limited", "write over the rate");
        const retryAfter = Number(r.headers.get("retry-after"));
        expect(retryAfter, "Retry-After").to.be.within(1, 60);
      }
      const after = (await ok(w.t.api.get(`/api/v1/batches/${w.batchId}`), 200)).events.length;
      // Other accounts are not slowed by this member's quota.
      const other = await w.t.api
        .as(w.members[2].token)
        .post(`/api/v1/batches/${w.batchId}/events`, { bizStep: "inspecting", location: "other", eventTime: day(-1) });
      expect(other.status, other.text).to.equal(201);
      expect(after - before).to.equal(10);
      record({
        scenario: "per-user write rate (40 concurrent writes, limit 10/min)",
        result: "pass",
        requests: 40,
        landed: after - before,
        lost: accepted.length - (after - before),
        duplicated: Math.max(0, after - before - accepted.length),
        fivexx: fivexx([...responses, other]),
        notes: "10 × 201, 30 × 429 user_rate_limited with Retry-After; another member unaffected",
      });
    });
  });
});
