/**
 * Configuration: one validated schema, and a start that stops with a message naming the bad variable.
 */
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ConfigError, loadConfig } from "../../server/config";
import { GATEWAY_NODE_FLAGS } from "../../scripts/lib/nodeFlags";

const KEY = "0x" + "11".repeat(32);

/** The variables named by the ConfigError that `env` raises. */
function badVariables(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    const problems = (err as ConfigError).problems;
    for (const p of problems) expect((err as Error).message).to.include(p.variable);
    return problems.map((p) => p.variable);
  }
  expect.fail(`expected ${JSON.stringify(env)} to be refused`);
}

describe("configuration", function () {
  describe("loadConfig", function () {
    it("applies the documented defaults", function () {
      const config = loadConfig({});
      expect(config.port).to.equal(8080);
      expect(config.host).to.equal("127.0.0.1");
      expect(config.dataDir).to.equal(path.resolve("./data"));
      expect(config.env).to.equal("development");
      expect(config.rpcUrl).to.equal(undefined);
      expect(config.confirmations).to.equal(0);
    });

    it("treats an empty variable (`PORT=` in .env) as unset", function () {
      const config = loadConfig({ PORT: "", RPC_URL: "", KEYSTORE_KEY: "" });
      expect(config.port).to.equal(8080);
      expect(config.rpcUrl).to.equal(undefined);
      expect(config.keystoreKey).to.equal(undefined);
    });

    it("names PORT when it is not a port number", function () {
      expect(badVariables({ PORT: "abc" })).to.deep.equal(["PORT"]);
      expect(badVariables({ PORT: "70000" })).to.deep.equal(["PORT"]);
      expect(badVariables({ PORT: "80.5" })).to.deep.equal(["PORT"]);
    });

    it("names CHAIN_ID and RELAYER_KEY when RPC_URL comes without them", function () {
      expect(badVariables({ RPC_URL: "http://127.0.0.1:8545" })).to.have.members(["CHAIN_ID", "RELAYER_KEY"]);
      expect(badVariables({ RPC_URL: "http://127.0.0.1:8545", CHAIN_ID: "31337" })).to.deep.equal(["RELAYER_KEY"]);
      const ok = loadConfig({ RPC_URL: "http://127.0.0.1:8545", CHAIN_ID: "31337", RELAYER_KEY: KEY });
      expect(ok.chainId).to.equal(31337);
      expect(ok.relayerKey).to.equal(KEY);
    });

    it("names RPC_URL when it is not a URL", function () {
      expect(badVariables({ RPC_URL: "localhost 8545", CHAIN_ID: "1", RELAYER_KEY: KEY })).to.deep.equal(["RPC_URL"]);
    });

    it("names KEYSTORE_KEY (and the other keys) when they are not 32 bytes of hex", function () {
      expect(badVariables({ KEYSTORE_KEY: "0x1234" })).to.deep.equal(["KEYSTORE_KEY"]);
      expect(badVariables({ KEYSTORE_KEY: "zz".repeat(32) })).to.deep.equal(["KEYSTORE_KEY"]);
      expect(badVariables({ DEPLOYER_KEY: KEY + "00" })).to.deep.equal(["DEPLOYER_KEY"]);
      expect(loadConfig({ KEYSTORE_KEY: "ab".repeat(32) }).keystoreKey).to.equal("ab".repeat(32));
    });

    it("refuses production without KEYSTORE_KEY", function () {
      const env = { NODE_ENV: "production", RPC_URL: "http://127.0.0.1:8545", CHAIN_ID: "1", RELAYER_KEY: KEY };
      expect(badVariables(env)).to.deep.equal(["KEYSTORE_KEY"]);
      expect(loadConfig({ ...env, KEYSTORE_KEY: KEY }).env).to.equal("production");
    });

    it("refuses production on the embedded chain unless ALLOW_EMBEDDED_CHAIN=true", function () {
      expect(badVariables({ NODE_ENV: "production", KEYSTORE_KEY: KEY })).to.deep.equal(["RPC_URL"]);
      expect(badVariables({ NODE_ENV: "production", KEYSTORE_KEY: KEY, ALLOW_EMBEDDED_CHAIN: "yes" })).to.deep.equal([
        "ALLOW_EMBEDDED_CHAIN",
      ]);
      const demo = loadConfig({ NODE_ENV: "production", KEYSTORE_KEY: KEY, ALLOW_EMBEDDED_CHAIN: "true" });
      expect(demo.rpcUrl).to.equal(undefined);
    });

    it("reads the relayer's settings, and names a bad one", function () {
      expect(loadConfig({}).relayer).to.deep.equal({
        maxBatch: 20,
        maxInFlight: 4,
        replaceAfterMs: 30_000,
        minBalanceWei: 10n ** 16n,
        stallAfterMs: 120_000,
      });
      const set = loadConfig({
        RELAYER_MAX_BATCH: "50",
        RELAYER_MAX_IN_FLIGHT: "1",
        RELAYER_REPLACE_AFTER_SECONDS: "120",
        RELAYER_MIN_BALANCE: "0.5",
        RELAYER_STALL_SECONDS: "300",
      }).relayer;
      expect(set).to.deep.equal({
        maxBatch: 50,
        maxInFlight: 1,
        replaceAfterMs: 120_000,
        minBalanceWei: 5n * 10n ** 17n,
        stallAfterMs: 300_000,
      });
      expect(badVariables({ RELAYER_MAX_BATCH: "0" })).to.deep.equal(["RELAYER_MAX_BATCH"]);
      expect(badVariables({ RELAYER_MAX_BATCH: "201" })).to.deep.equal(["RELAYER_MAX_BATCH"]);
      expect(badVariables({ RELAYER_MAX_IN_FLIGHT: "two" })).to.deep.equal(["RELAYER_MAX_IN_FLIGHT"]);
      expect(badVariables({ RELAYER_REPLACE_AFTER_SECONDS: "1.5" })).to.deep.equal(["RELAYER_REPLACE_AFTER_SECONDS"]);
      expect(badVariables({ RELAYER_MIN_BALANCE: "-1" })).to.deep.equal(["RELAYER_MIN_BALANCE"]);
      expect(badVariables({ RELAYER_STALL_SECONDS: "0" })).to.deep.equal(["RELAYER_STALL_SECONDS"]);
      expect(badVariables({ RELAYER_MIN_BALANCE: "1e18" })).to.deep.equal(["RELAYER_MIN_BALANCE"]);
      expect(badVariables({ RELAYER_MIN_BALANCE: "0." + "1".repeat(19) })).to.deep.equal(["RELAYER_MIN_BALANCE"]);
    });

    it("documents every variable it reads in .env.example", function () {
      const example = readFileSync(path.join(__dirname, "..", "..", ".env.example"), "utf8");
      const source = readFileSync(path.join(__dirname, "..", "..", "server", "config.ts"), "utf8");
      const names = [...source.matchAll(/^\s{4}([A-Z][A-Z0-9_]+): /gm)].map((m) => m[1]);
      expect(names).to.include.members(["PORT", "RELAYER_MAX_BATCH", "RELAYER_MIN_BALANCE"]);
      for (const name of names) expect(example, name).to.match(new RegExp(`^#? ?${name}=`, "m"));
    });

    it("npm start runs the gateway with the Node flags the benchmark and fault tests use", function () {
      const pkg = JSON.parse(readFileSync(path.join(__dirname, "..", "..", "package.json"), "utf8")) as {
        scripts: Record<string, string>;
      };
      expect(pkg.scripts.start).to.include(`node ${GATEWAY_NODE_FLAGS.join(" ")} dist/scripts/start.js`);
    });

    it("names every bad variable at once", function () {
      expect(badVariables({ PORT: "x", LOG_LEVEL: "loud", NODE_ENV: "staging" })).to.have.members([
        "PORT",
        "LOG_LEVEL",
        "NODE_ENV",
      ]);
    });
  });

  describe("npm start with a bad variable", function () {
    this.timeout(30_000);
    let dataDir: string;
    before(() => (dataDir = mkdtempSync(path.join(tmpdir(), "cooptrace-cfg-"))));
    after(() => rmSync(dataDir, { recursive: true, force: true }));

    function start(env: Record<string, string>) {
      const root = path.resolve(__dirname, "../..");
      return spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", "scripts/start.ts"], {
        cwd: root,
        // Only what the test sets (and PATH): no .env variable of the developer's machine leaks in.
        env: { PATH: process.env.PATH ?? "", DATA_DIR: dataDir, ...env },
        encoding: "utf8",
        timeout: 20_000,
      });
    }

    it("exits with code 2 and names the variable, before starting anything", function () {
      const started = Date.now();
      const r = start({ PORT: "abc" });
      expect(r.status, r.stderr).to.equal(2);
      expect(r.stderr).to.match(/PORT/);
      expect(r.stderr).not.to.match(/\n\s+at /); // a message, not a stack trace
      expect(Date.now() - started).to.be.below(15_000);
    });

    it("names KEYSTORE_KEY and RPC_URL for production without them", function () {
      const r = start({ NODE_ENV: "production" });
      expect(r.status, r.stderr).to.equal(2);
      expect(r.stderr).to.match(/KEYSTORE_KEY/);
      expect(r.stderr).to.match(/RPC_URL/);
    });
  });
});
