/**
 * Accounts (server/services/users.ts) through the real gateway: the platform's own transactions never
 * use the relayer's key (and without a platform key, platform writes are refused with 503
 * platform_key_missing); a revoked or rotated token ends its user's browser sessions, and only its.
 */
import { expect } from "chai";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ConfigError, loadConfig } from "../../server/config";
import { writeDeployment } from "../../server/chain/deploy";
import { createSessionStore } from "../../server/sessions";
import { anvilWallet, startTestChain, type TestChain } from "../helpers/chain";
import { startTestGateway, type TestGateway } from "../helpers/gateway";

describe("accounts", function () {
  this.timeout(180_000);

  describe("configuration", function () {
    const KEY = "0x" + "ab".repeat(32);
    const rpc = { RPC_URL: "http://127.0.0.1:8545", CHAIN_ID: "31337" };

    it("refuses a DEPLOYER_KEY that is the RELAYER_KEY, however it is written", function () {
      for (const deployer of [KEY, KEY.slice(2), KEY.toUpperCase().replace("0X", "0x")]) {
        let error: unknown;
        try {
          loadConfig({ ...rpc, RELAYER_KEY: KEY, DEPLOYER_KEY: deployer });
        } catch (err) {
          error = err;
        }
        expect(error, deployer).to.be.instanceOf(ConfigError);
        expect((error as ConfigError).problems).to.deep.equal([
          { variable: "DEPLOYER_KEY", message: "must not be the RELAYER_KEY" },
        ]);
      }
      const ok = loadConfig({ ...rpc, RELAYER_KEY: KEY, DEPLOYER_KEY: "0x" + "cd".repeat(32) });
      expect(ok.deployerKey).to.equal("0x" + "cd".repeat(32));
    });
  });

  describe("on the embedded chain", function () {
    let t: TestGateway;
    before(async function () {
      t = await startTestGateway();
    });
    after(async function () {
      await t?.stop();
    });

    it("grants a certifier's on-chain role from the platform's account, not the relayer's", async function () {
      const r = await t.admin.post("/api/v1/users", { role: "certifier", displayName: "Certifier" });
      expect(r.status, r.text).to.equal(201);
      expect(r.headers.get("cache-control")).to.equal("no-store");
      const tx = await t.provider.getTransaction(r.body.txHash);
      expect(tx!.from).to.equal(anvilWallet(0).address); // the deployer: DEFAULT_ADMIN on-chain
      expect(tx!.from).to.not.equal(anvilWallet(1).address); // the relayer
      const registry = t.contracts.registry;
      expect(await registry.hasRole(await registry.CERTIFIER_ROLE(), r.body.user.address)).to.equal(true);
    });

    it("ends the browser sessions of a user whose token is rotated or revoked, and no one else's", async function () {
      const store = createSessionStore({ db: t.gateway.ctx.db, ...t.gateway.ctx.sessions });
      const auditor = async (name: string) => {
        const r = await t.admin.post("/api/v1/users", { role: "auditor", displayName: name });
        expect(r.status, r.text).to.equal(201);
        expect(r.body.txHash).to.equal(null);
        return { id: r.body.user.id as string, client: t.api.as(r.body.token as string) };
      };
      const [rotating, revoked, bystander] = [await auditor("A1"), await auditor("A2"), await auditor("A3")];
      const session = (userId: string) => store.create(userId).id;
      const sessions = {
        rotating: session(rotating.id),
        revoked: session(revoked.id),
        bystander: session(bystander.id),
      };
      const auditHome = (id: string) =>
        fetch(`${t.gateway.url}/audit?lang=en`, { headers: { cookie: `ct_session=${id}` }, redirect: "manual" });
      const signedIn = async (id: string) => store.touch(id) !== null;
      for (const id of Object.values(sessions)) expect(await signedIn(id)).to.equal(true);

      const rotated = await rotating.client.post("/api/v1/me/token");
      expect(rotated.status, rotated.text).to.equal(201);
      expect(await signedIn(sessions.rotating)).to.equal(false);
      expect((await rotating.client.get("/api/v1/me")).status).to.equal(401);
      expect((await t.api.as(rotated.body.token).get("/api/v1/me")).body.id).to.equal(rotating.id);

      const r = await t.admin.post(`/api/v1/users/${revoked.id}/revoke`);
      expect(r.status, r.text).to.equal(201);
      expect(r.body).to.deep.equal({ revoked: revoked.id });
      expect(await signedIn(sessions.revoked)).to.equal(false);
      expect((await revoked.client.get("/api/v1/me")).status).to.equal(401);

      expect(await signedIn(sessions.bystander)).to.equal(true);
      expect((await bystander.client.get("/api/v1/me")).status).to.equal(200);
      // Over HTTP too: the ended session's cookie leads to the sign-in, the bystander's still opens the page.
      const gone = await auditHome(sessions.revoked);
      expect(gone.status).to.equal(303);
      expect(gone.headers.get("location")).to.equal("/audit/login?lang=en");
      expect((await auditHome(sessions.bystander)).status).to.equal(200);
    });
  });

  describe("against a node without DEPLOYER_KEY (RPC_URL)", function () {
    let chain: TestChain | undefined;
    let t: TestGateway | undefined;
    after(async function () {
      await t?.stop();
      await chain?.stop();
    });

    it("refuses platform writes with 503 platform_key_missing and never uses the relayer's key", async function () {
      chain = await startTestChain();
      const dataDir = mkdtempSync(path.join(tmpdir(), "cooptrace-gw-"));
      writeDeployment(dataDir, chain.deployed.deployment);
      const relayer = chain.wallets[1];
      t = await startTestGateway({
        dataDir,
        env: { RPC_URL: chain.chain.rpcUrl, CHAIN_ID: "31337", RELAYER_KEY: relayer.privateKey },
      });
      const relayerNonce = await chain.provider.getTransactionCount(relayer.address);
      for (const role of ["registrar", "certifier", "arbiter"]) {
        const r = await t.admin.post("/api/v1/users", { role, displayName: `${role} without key` });
        expect(r.status, r.text).to.equal(503);
        expect(r.headers.get("content-type")).to.match(/^application\/problem\+json/);
        expect(r.body.code).to.equal("platform_key_missing");
      }
      // No account was left behind, and the relayer sent nothing.
      for (const role of ["registrar", "certifier", "arbiter"] as const) {
        expect(t.gateway.ctx.users.list({ role })).to.deep.equal([]);
      }
      expect(await chain.provider.getTransactionCount(relayer.address)).to.equal(relayerNonce);
      expect(t.logs.join("")).to.include("platform_key_missing");
      // Auditors have no on-chain role: they are still created.
      const auditor = await t.admin.post("/api/v1/users", { role: "auditor", displayName: "Auditor" });
      expect(auditor.status, auditor.text).to.equal(201);
      expect(auditor.body.txHash).to.equal(null);
    });
  });
});
