/**
 * Sessions and guessing, as a hostile visitor would try them against a real gateway (embedded anvil,
 * SQLite, HTTP from several local addresses): the cookie never carries a token, sign-out ends the
 * session on the server, forged forms change nothing, idle and absolute expiry hold, and failed
 * tokens and sign-ins are throttled per address (429 with Retry-After) without a secret in the logs.
 */
import { expect } from "chai";
import { createHash, randomBytes } from "node:crypto";
import http from "node:http";
import { startTestGateway, type TestGateway } from "../helpers/gateway";
import { record, type ChaosRow } from "./summary";

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

const LIMIT = 20;

describe("chaos: sessions and guessing", function () {
  this.timeout(240_000);
  let t: TestGateway;
  let url: string;
  let auditorToken: string;
  /** Every Set-Cookie the gateway sent during this file. */
  const setCookies: string[] = [];
  /** Every session id handed out. */
  const sessionIds: string[] = [];
  let row: ChaosRow;

  /** One request from a chosen local address (Linux routes all of 127/8 to the loopback). */
  function send(
    method: string,
    path: string,
    options: { from?: string; headers?: Record<string, string>; form?: Record<string, string> } = {},
  ): Promise<Answer> {
    const body = options.form ? new URLSearchParams(options.form).toString() : undefined;
    const target = new URL(url);
    row.requests += 1;
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: target.hostname,
          port: target.port,
          method,
          path,
          localAddress: options.from ?? "127.0.0.1",
          agent: false,
          headers: {
            ...(body !== undefined
              ? {
                  "content-type": "application/x-www-form-urlencoded",
                  "content-length": String(Buffer.byteLength(body)),
                }
              : {}),
            ...options.headers,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const status = res.statusCode ?? 0;
            if (status >= 500) row.fivexx += 1;
            for (const c of res.headers["set-cookie"] ?? []) setCookies.push(c);
            resolve({ status, headers: res.headers, text: Buffer.concat(chunks).toString("utf8") });
          });
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      if (body !== undefined) req.write(body);
      req.end();
    });
  }

  const fromUs = () => ({ origin: url });
  const sessionCount = () => (t.gateway.ctx.db.prepare("SELECT count(*) AS n FROM sessions").get() as { n: number }).n;

  async function signIn(from = "127.0.0.1"): Promise<string> {
    const r = await send("POST", "/audit/login", {
      from,
      headers: fromUs(),
      form: { token: auditorToken, lang: "en" },
    });
    expect(r.status, r.text).to.equal(303);
    const cookie = (r.headers["set-cookie"] ?? [])[0].split(";")[0];
    expect(cookie).to.match(/^ct_session=[A-Za-z0-9_-]{43}$/);
    sessionIds.push(cookie.slice("ct_session=".length));
    return cookie;
  }

  async function csrfOf(cookie: string): Promise<string> {
    const r = await send("GET", "/audit?lang=en", { headers: { cookie } });
    expect(r.status).to.equal(200);
    return /name="csrf" value="([^"]+)"/.exec(r.text)![1];
  }

  /** Runs a scenario and records its row, as 'fail' (with the error) if it throws. */
  async function scenario(name: string, body: () => Promise<string>) {
    row = { scenario: name, result: "fail", requests: 0, landed: 0, lost: 0, duplicated: 0, fivexx: 0, notes: "" };
    try {
      row.notes = await body();
      expect(row.fivexx, "5xx answers").to.equal(0);
      row.result = "pass";
    } catch (err) {
      row.notes = `${row.notes} ERROR: ${(err as Error).message.split("\n")[0].slice(0, 160)}`.trim();
      throw err;
    } finally {
      record(row);
    }
  }

  before(async function () {
    t = await startTestGateway({
      env: { SESSION_IDLE_MINUTES: "1", SESSION_TTL_HOURS: "12", AUTH_FAILURES_PER_MINUTE: String(LIMIT) },
    });
    url = t.gateway.url;
    const r = await t.admin.post("/api/v1/users", { role: "auditor", displayName: "Auditor" });
    expect(r.status, r.text).to.equal(201);
    auditorToken = r.body.token;
  });

  after(async function () {
    await t?.stop();
  });

  it("the session cookie holds no token, the database no session id, and the API ignores the cookie", async function () {
    await scenario("session cookie carries no API token", async () => {
      const cookie = await signIn();
      const admin = await send("POST", "/audit/login", { headers: fromUs(), form: { token: t.adminToken } });
      expect(admin.status).to.equal(303);
      sessionIds.push((admin.headers["set-cookie"] ?? [])[0].split(";")[0].slice("ct_session=".length));
      const secrets = [auditorToken, t.adminToken];
      const hashes = secrets.map((s) => createHash("sha256").update(s).digest("hex"));
      for (const c of setCookies) {
        for (const s of [...secrets, ...secrets.map((x) => x.slice(3)), ...hashes]) expect(c).to.not.include(s);
      }
      const rows = t.gateway.ctx.db.prepare("SELECT * FROM sessions").all() as Record<string, unknown>[];
      const dump = JSON.stringify(
        rows.map((r) =>
          Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Buffer.isBuffer(v) ? v.toString("hex") : v])),
        ),
      );
      for (const s of [...secrets, ...hashes]) expect(dump).to.not.include(s);
      for (const id of sessionIds) {
        expect(dump).to.not.include(id);
        expect(dump).to.include(createHash("sha256").update(id).digest("hex")); // stored hashed
      }
      // A cookie never authorizes the API: only a bearer token does.
      const api = await send("GET", "/api/v1/me", { headers: { cookie } });
      expect(api.status).to.equal(401);
      return `${setCookies.length} Set-Cookie and ${rows.length} session rows scanned; no token, no id in clear`;
    });
  });

  it("after sign-out the old cookie opens nothing", async function () {
    await scenario("sign-out revokes server-side", async () => {
      const cookie = await signIn();
      const csrf = await csrfOf(cookie);
      const out = await send("POST", "/audit/logout", { headers: { ...fromUs(), cookie }, form: { csrf, lang: "en" } });
      expect(out.status).to.equal(303);
      expect(out.headers["set-cookie"]).to.deep.equal(["ct_session=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0"]);
      // A browser (or a thief) presenting the old value again:
      for (const path of ["/audit", "/audit/sales/1", "/audit/cooperatives/1", "/audit/logout"]) {
        const r = await send("GET", path, { headers: { cookie } });
        expect(r.status, path).to.equal(303);
        expect(r.headers.location, path).to.match(/^\/audit\/login\?lang=/);
      }
      const id = cookie.slice("ct_session=".length);
      const left = t.gateway.ctx.db
        .prepare("SELECT count(*) AS n FROM sessions WHERE id_hash = ?")
        .get(createHash("sha256").update(id).digest()) as { n: number };
      expect(left.n).to.equal(0);
      return "old cookie → sign-in page on 4 paths; its row is gone";
    });
  });

  it("forged forms are refused and change nothing: Origin null, another origin, no origin, no or wrong CSRF token", async function () {
    await scenario("forged forms (Origin null, CSRF)", async () => {
      let refused = 0;
      const before = sessionCount();
      for (const headers of [
        { origin: "null" },
        { origin: "https://evil.example" },
        { referer: "https://evil.example/page" },
        {},
      ] as Record<string, string>[]) {
        const r = await send("POST", "/audit/login", { headers, form: { token: auditorToken } });
        expect(r.status, JSON.stringify(headers)).to.equal(403);
        expect(r.headers["set-cookie"], JSON.stringify(headers)).to.equal(undefined);
        refused += 1;
      }
      expect(sessionCount()).to.equal(before);

      const cookie = await signIn();
      const csrf = await csrfOf(cookie);
      const other = await csrfOf(await signIn());
      for (const [form, headers] of [
        [{}, fromUs()],
        [{ csrf: "" }, fromUs()],
        [{ csrf: other }, fromUs()], // a token of another session
        [{ csrf: csrf.slice(0, -1) }, fromUs()],
        [{ csrf }, { origin: "null" }],
        [{ csrf }, { origin: "https://evil.example" }],
        [{ csrf }, {}],
      ] as [Record<string, string>, Record<string, string>][]) {
        const r = await send("POST", "/audit/logout", { headers: { ...headers, cookie }, form });
        expect(r.status, JSON.stringify([form, headers])).to.equal(403);
        expect(r.text).to.include('id="refused"');
        refused += 1;
      }
      // Nothing changed: the session is still there and works.
      const still = await send("GET", "/audit", { headers: { cookie } });
      expect(still.status).to.equal(200);
      return `${refused} forged POSTs answered 403; no session created or ended`;
    });
  });

  it("honours the idle timeout and the absolute expiry", async function () {
    await scenario("session idle and absolute expiry", async () => {
      const db = t.gateway.ctx.db;
      const key = (cookie: string) => createHash("sha256").update(cookie.slice("ct_session=".length)).digest();
      // Idle for 61 s with SESSION_IDLE_MINUTES=1: ended.
      const idle = await signIn();
      db.prepare("UPDATE sessions SET last_seen_at = last_seen_at - 61000 WHERE id_hash = ?").run(key(idle));
      const r1 = await send("GET", "/audit", { headers: { cookie: idle } });
      expect(r1.status).to.equal(303);
      expect(r1.headers["set-cookie"]).to.deep.equal(["ct_session=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0"]);
      // Idle for 45 s: still alive, and the request restarts the idle clock.
      const active = await signIn();
      db.prepare("UPDATE sessions SET last_seen_at = last_seen_at - 45000 WHERE id_hash = ?").run(key(active));
      expect((await send("GET", "/audit", { headers: { cookie: active } })).status).to.equal(200);
      const seen = db.prepare("SELECT last_seen_at FROM sessions WHERE id_hash = ?").get(key(active)) as {
        last_seen_at: number;
      };
      expect(Date.now() - seen.last_seen_at).to.be.lessThan(5_000);
      // Past its absolute expiry, however recently used: ended.
      db.prepare("UPDATE sessions SET expires_at = ? WHERE id_hash = ?").run(Date.now() - 1, key(active));
      expect((await send("GET", "/audit", { headers: { cookie: active } })).status).to.equal(303);
      const left = db
        .prepare("SELECT count(*) AS n FROM sessions WHERE id_hash IN (?, ?)")
        .get(key(idle), key(active)) as {
        n: number;
      };
      expect(left.n).to.equal(0);
      return "61 s idle → ended; 45 s idle → kept and refreshed; past expires_at → ended";
    });
  });

  it("100 bad bearer tokens from one address: 429 auth_rate_limited past the limit, nothing leaks to the logs", async function () {
    await scenario("bad bearer token flood (one address)", async () => {
      const attacker = "127.0.0.3";
      const bad = Array.from({ length: 100 }, (_, i) =>
        i % 10 === 9 ? `x!${randomBytes(16).toString("hex")}` : `ct_${randomBytes(32).toString("base64url")}`,
      );
      const answers: Answer[] = [];
      // Ten at a time, concurrently: the count is exact whatever the interleaving.
      for (let i = 0; i < bad.length; i += 10) {
        answers.push(
          ...(await Promise.all(
            bad
              .slice(i, i + 10)
              .map((token) =>
                send("GET", "/api/v1/me", { from: attacker, headers: { authorization: `Bearer ${token}` } }),
              ),
          )),
        );
      }
      const unauthorized = answers.filter((a) => a.status === 401);
      const limited = answers.filter((a) => a.status === 429);
      expect(unauthorized).to.have.length(LIMIT);
      expect(limited).to.have.length(100 - LIMIT);
      for (const a of limited) {
        expect(a.headers["content-type"]).to.match(/^application\/problem\+json/);
        expect(JSON.parse(a.text)).to.include({ status: 429, code: "auth_rate_limited" });
        expect(Number(a.headers["retry-after"])).to.be.within(1, 60);
      }
      // A good token from another address is not slowed; from the throttled address it waits too
      // (answering right tokens there would keep the guessing useful).
      const good = await send("GET", "/api/v1/me", {
        from: "127.0.0.4",
        headers: { authorization: `Bearer ${auditorToken}` },
      });
      expect(good.status).to.equal(200);
      const sameAddress = await send("GET", "/api/v1/me", {
        from: attacker,
        headers: { authorization: `Bearer ${auditorToken}` },
      });
      expect(sameAddress.status).to.equal(429);
      // Public reads without a token are not affected; page sign-ins share the budget.
      expect((await send("GET", "/api/v1/openapi.json", { from: attacker })).status).to.equal(200);
      const page = await send("POST", "/audit/login", {
        from: attacker,
        headers: fromUs(),
        form: { token: auditorToken, lang: "en" },
      });
      expect(page.status).to.equal(429);
      // Logs: one warning per failure with the address and a reason; never a token.
      const logs = t.logs.join("");
      for (const token of bad) expect(logs).to.not.include(token);
      const failures = logs
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => JSON.parse(l) as { msg?: string; ip?: string; reason?: string; level?: number })
        .filter((l) => l.msg === "authentication failed" && l.ip === attacker);
      expect(failures).to.have.length(LIMIT);
      expect(
        failures.every((l) => l.level === 40 && /^(unknown_token|malformed_authorization)$/.test(l.reason!)),
      ).to.equal(true);
      return `${unauthorized.length}×401 then ${limited.length}×429 (Retry-After ≤ 60 s); good token from another address 200; ${failures.length} warnings, 0 tokens in logs`;
    });
  });

  it("failed page sign-ins are throttled per address with a readable 429 page", async function () {
    await scenario("page sign-in guessing", async () => {
      const attacker = "127.0.0.5";
      const wrong = Array.from({ length: 25 }, () => `ct_${randomBytes(32).toString("base64url")}`);
      const statuses: number[] = [];
      let last: Answer | undefined;
      for (const token of wrong) {
        last = await send("POST", "/audit/login", { from: attacker, headers: fromUs(), form: { token, lang: "fr" } });
        statuses.push(last.status);
        expect(last.headers["set-cookie"]).to.equal(undefined);
      }
      expect(statuses.slice(0, LIMIT).every((s) => s === 401)).to.equal(true);
      expect(statuses.slice(LIMIT).every((s) => s === 429)).to.equal(true);
      const wait = Number(last!.headers["retry-after"]);
      expect(wait).to.be.within(1, 60);
      expect(last!.headers["content-type"]).to.match(/^text\/html/);
      expect(last!.text).to.include(`Réessayez dans ${wait} secondes`);
      // The auditor, from her own address, signs in as usual.
      await signIn("127.0.0.6");
      const logs = t.logs.join("");
      for (const token of wrong) expect(logs).to.not.include(token);
      // No session id or token of this whole file ever reached a log line.
      for (const id of sessionIds) expect(logs).to.not.include(id);
      expect(logs).to.not.include(auditorToken);
      // And no Set-Cookie of this whole file carried a token.
      for (const c of setCookies) for (const s of [auditorToken, t.adminToken]) expect(c).to.not.include(s);
      return `${LIMIT}×401 then ${statuses.length - LIMIT}×429 page (Retry-After ${wait} s); other address signs in; no secret in logs`;
    });
  });
});
