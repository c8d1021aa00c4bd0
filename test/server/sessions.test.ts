/**
 * Browser sessions on a real SQLite file (with the custody tables its rows point to): ids hashed at
 * rest, absolute and idle expiry on a moved clock, revoke and revoke-all, purge, the CSRF compare;
 * the per-address limiter; and the HTTP helpers on a real Express server over real sockets (cookie
 * attributes, the origin rule, the CSRF token, sign-in replacing a planted session).
 */
import { expect } from "chai";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import express from "express";
import { openDatabase, type Db } from "../../server/store/db";
import { createLogger } from "../../server/log";
import { createKeystore } from "../../server/custody/keystore";
import { createUserStore, custodyMigrations, type User, type UserStore } from "../../server/custody/users";
import {
  addressKey,
  createAuthLimiter,
  createSessionStore,
  csrfMatches,
  sessionMigrations,
  type SessionStore,
} from "../../server/sessions";
import { createPageSessions, type PageSessions } from "../../server/sessions/http";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

function memoryLog() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      lines.push(chunk.toString("utf8"));
      cb();
    },
  });
  return { log: createLogger("info", sink), lines };
}

describe("sessions", function () {
  let dir: string;
  let db: Db;
  let users: UserStore;
  let alice: User;
  let bob: User;
  let clock: number;
  let store: SessionStore;

  beforeEach(function () {
    dir = mkdtempSync(path.join(tmpdir(), "cooptrace-sessions-"));
    db = openDatabase(path.join(dir, "gateway.sqlite"), [custodyMigrations, sessionMigrations]);
    users = createUserStore({ db, keystore: createKeystore(randomBytes(32)), log: memoryLog().log });
    alice = users.create({ role: "auditor", displayName: "Alice" }).user;
    bob = users.create({ role: "auditor", displayName: "Bob" }).user;
    clock = Date.UTC(2025, 4, 1, 8);
    store = createSessionStore({ db, ttlMs: 12 * HOUR, idleMs: 30 * MINUTE, now: () => clock });
  });

  afterEach(function () {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const rows = () =>
    db.prepare("SELECT * FROM sessions").all() as {
      id_hash: Buffer;
      user_id: string;
      csrf_token: string;
      created_at: number;
      last_seen_at: number;
      expires_at: number;
    }[];

  describe("store", function () {
    it("gives the browser a random 32-byte id and keeps only its SHA-256", function () {
      const a = store.create(alice.id);
      const b = store.create(alice.id);
      expect(a.id).to.match(/^[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(a.id, "base64url")).to.have.length(32);
      expect(a.id).to.not.equal(b.id);
      expect(a.session.csrfToken).to.not.equal(b.session.csrfToken);
      const stored = rows();
      expect(stored).to.have.length(2);
      const hashes = stored.map((r) => r.id_hash.toString("hex")).sort();
      expect(hashes).to.deep.equal([a.id, b.id].map((id) => createHash("sha256").update(id).digest("hex")).sort());
      // The id is nowhere in clear, in any column or encoding.
      const dump = JSON.stringify(stored.map((r) => ({ ...r, id_hash: r.id_hash.toString("hex") })));
      for (const id of [a.id, b.id]) {
        expect(dump).to.not.include(id);
        expect(dump).to.not.include(Buffer.from(id, "base64url").toString("hex"));
      }
      expect(stored[0]).to.include({
        user_id: alice.id,
        created_at: clock,
        last_seen_at: clock,
        expires_at: clock + 12 * HOUR,
      });
    });

    it("finds a live session by its id, and nothing for an unknown or malformed id", function () {
      const { id, session } = store.create(alice.id);
      expect(store.touch(id)).to.deep.equal(session);
      for (const bad of [
        "",
        "x",
        id.slice(0, -1),
        id + "A",
        randomBytes(32).toString("base64url"),
        `${id.slice(0, 42)}=`,
      ]) {
        expect(store.touch(bad), bad).to.equal(null);
      }
      expect(store.touch(undefined as unknown as string)).to.equal(null);
    });

    it("ends a session after the idle timeout, and keeps an active one alive", function () {
      const { id } = store.create(alice.id);
      for (let i = 0; i < 10; i++) {
        clock += 20 * MINUTE; // 200 minutes of use, never 30 idle
        expect(store.touch(id), `after ${(i + 1) * 20} min`).to.not.equal(null);
      }
      expect(rows()[0].last_seen_at).to.equal(clock);
      clock += 30 * MINUTE;
      expect(store.touch(id)).to.equal(null);
      expect(rows()).to.have.length(0); // deleted on sight
      // Just under the limit is still alive.
      const other = store.create(alice.id);
      clock += 30 * MINUTE - 1;
      expect(store.touch(other.id)).to.not.equal(null);
    });

    it("ends a session at its absolute expiry, however active", function () {
      const { id, session } = store.create(alice.id);
      expect(session.expiresAt).to.equal(clock + 12 * HOUR);
      while (clock + 10 * MINUTE < session.expiresAt) {
        clock += 10 * MINUTE;
        expect(store.touch(id)).to.not.equal(null);
      }
      clock = session.expiresAt;
      expect(store.touch(id)).to.equal(null);
      expect(rows()).to.have.length(0);
    });

    it("writes last_seen_at at most every 30 s, not on every request", function () {
      const { id } = store.create(alice.id);
      clock += 10_000;
      store.touch(id);
      expect(rows()[0].last_seen_at).to.equal(clock - 10_000);
      clock += 25_000;
      store.touch(id);
      expect(rows()[0].last_seen_at).to.equal(clock);
    });

    it("revokes one session (the id no longer works, the row is gone) and not the others", function () {
      const a = store.create(alice.id);
      const b = store.create(alice.id);
      expect(store.revoke(a.id)).to.equal(true);
      expect(store.revoke(a.id)).to.equal(false);
      expect(store.touch(a.id)).to.equal(null);
      expect(store.touch(b.id)).to.not.equal(null);
      expect(rows()).to.have.length(1);
      expect(store.revoke("nonsense")).to.equal(false);
    });

    it("revokes every session of one user (a revoked card), leaving other users signed in", function () {
      const a1 = store.create(alice.id);
      const a2 = store.create(alice.id);
      const b1 = store.create(bob.id);
      expect(store.revokeAllForUser(alice.id)).to.equal(2);
      expect(store.touch(a1.id)).to.equal(null);
      expect(store.touch(a2.id)).to.equal(null);
      expect(store.touch(b1.id)?.userId).to.equal(bob.id);
      expect(store.revokeAllForUser(alice.id)).to.equal(0);
    });

    it("purges expired and idle rows in bounded batches, on sign-in, never a live one", function () {
      const live = store.create(alice.id);
      const stale = Array.from({ length: 5 }, () => store.create(bob.id));
      clock += 20 * MINUTE;
      expect(store.touch(live.id)).to.not.equal(null);
      clock += 20 * MINUTE; // the stale ones are 40 min idle, the live one 20
      expect(store.purgeExpired(2)).to.equal(2);
      expect(rows()).to.have.length(4);
      store.create(alice.id); // a sign-in purges the rest
      const left = rows();
      expect(left).to.have.length(2);
      expect(left.every((r) => r.user_id === alice.id)).to.equal(true);
      expect(store.touch(live.id)).to.not.equal(null);
      expect(stale.every((s) => store.touch(s.id) === null)).to.equal(true);
    });

    it("an instance over the same file sees the same sessions (services may create their own)", function () {
      const { id } = store.create(alice.id);
      const other = createSessionStore({ db, ttlMs: 12 * HOUR, idleMs: 30 * MINUTE, now: () => clock });
      expect(other.touch(id)?.userId).to.equal(alice.id);
      other.revokeAllForUser(alice.id);
      expect(store.touch(id)).to.equal(null);
    });

    it("compares CSRF tokens exactly, whatever is submitted", function () {
      const { session } = store.create(alice.id);
      expect(csrfMatches(session, session.csrfToken)).to.equal(true);
      const other = store.create(alice.id).session;
      for (const bad of [
        other.csrfToken,
        session.csrfToken.slice(0, -1),
        session.csrfToken + "x",
        session.csrfToken.toUpperCase(),
        "",
        undefined,
        null,
        42,
        [session.csrfToken],
        { toString: () => session.csrfToken },
      ]) {
        expect(csrfMatches(session, bad), String(bad)).to.equal(false);
      }
    });
  });

  describe("per-address limiter", function () {
    it("allows N failures a minute per address, then refuses with the seconds left, and forgets after the minute", function () {
      const { log, lines } = memoryLog();
      let now = 1_000_000;
      const limiter = createAuthLimiter({ perMinute: 3, log, now: () => now });
      expect(limiter.retryAfter("10.0.0.1")).to.equal(0);
      expect(limiter.fail("10.0.0.1", "unknown_token")).to.equal(0);
      now += 10_000;
      expect(limiter.fail("10.0.0.1", "unknown_token")).to.equal(0);
      expect(limiter.retryAfter("10.0.0.1")).to.equal(0);
      expect(limiter.fail("10.0.0.1", "unknown_token")).to.equal(50);
      expect(limiter.retryAfter("10.0.0.1")).to.equal(50);
      expect(limiter.retryAfter("10.0.0.2")).to.equal(0); // another address is not affected
      expect(limiter.retryAfter("::ffff:10.0.0.1")).to.equal(50); // the same address, IPv4-mapped
      now += 49_500;
      expect(limiter.retryAfter("10.0.0.1")).to.equal(1);
      now += 500;
      expect(limiter.retryAfter("10.0.0.1")).to.equal(0);
      const failures = lines.filter((l) => l.includes("authentication failed"));
      expect(failures).to.have.length(3);
      expect(JSON.parse(failures[0])).to.include({ level: 40, ip: "10.0.0.1", reason: "unknown_token" });
      // One line per refused address and minute, not one per refused request.
      limiter.fail("10.0.0.3", "x");
      limiter.fail("10.0.0.3", "x");
      limiter.fail("10.0.0.3", "x");
      for (let i = 0; i < 5; i++) limiter.retryAfter("10.0.0.3");
      expect(lines.filter((l) => l.includes("refused until the minute is over"))).to.have.length(2);
    });

    it("counts IPv6 per /64 and stays bounded in memory", function () {
      expect(addressKey("2001:db8:1:2:aaaa::1")).to.equal(addressKey("2001:0db8:0001:0002:ffff:1:2:3"));
      expect(addressKey("2001:db8:1:2::1")).to.not.equal(addressKey("2001:db8:1:3::1"));
      expect(addressKey("::1")).to.equal("0:0:0:0::/64");
      expect(addressKey("::ffff:192.0.2.7")).to.equal("192.0.2.7");
      const { log } = memoryLog();
      const limiter = createAuthLimiter({ perMinute: 1, log, maxEntries: 100 });
      for (let i = 0; i < 1000; i++) limiter.fail(`10.1.${i >> 8}.${i & 255}`, "x");
      // The newest addresses are remembered, the oldest were dropped to stay within 100 entries.
      expect(limiter.retryAfter("10.1.3.231")).to.be.greaterThan(0);
      expect(limiter.retryAfter("10.1.0.0")).to.equal(0);
    });
  });

  describe("HTTP helpers", function () {
    let server: Server;
    let url: string;
    let sessions: PageSessions;
    let lines: string[];
    const deps = (https: boolean) => {
      const m = memoryLog();
      lines = m.lines;
      return {
        db,
        users,
        log: m.log,
        publicUrl: "https://coop.example",
        https,
        sessions: { ttlMs: 12 * HOUR, idleMs: 30 * MINUTE },
        limits: { authFailuresPerMinute: 5 },
      };
    };

    async function serve(https: boolean) {
      sessions = createPageSessions(deps(https));
      const app = express();
      app.use(sessions.load);
      const form = express.urlencoded({ extended: false });
      app.post("/signin", form, sessions.requireSameOrigin, (req, res) => {
        if (!sessions.mayAttempt(req, res)) return;
        const who = users.get(String((req.body as Record<string, string>).user));
        if (!who) {
          sessions.failedAttempt(req, "unknown_user");
          res.status(401).send("no");
          return;
        }
        sessions.signIn(res, who);
        res.send("ok");
      });
      app.get("/me", (req, res) => {
        res.json({ user: req.user?.id ?? null, field: sessions.csrfField(req).value });
      });
      app.post("/change", form, sessions.requireCsrf, (_req, res) => {
        res.send("changed");
      });
      app.post("/signout", form, sessions.requireCsrf, (req, res) => {
        sessions.signOut(req, res);
        res.send("bye");
      });
      server = await new Promise<Server>((resolve) => {
        const s = app.listen(0, "127.0.0.1", () => resolve(s));
      });
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    }

    afterEach(async function () {
      await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    });

    const post = (p: string, body: Record<string, string>, headers: Record<string, string> = {}) =>
      fetch(url + p, {
        method: "POST",
        redirect: "manual",
        headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
        body: new URLSearchParams(body).toString(),
      });
    const me = async (cookie?: string) =>
      (await (await fetch(url + "/me", { headers: cookie ? { cookie } : {} })).json()) as {
        user: string | null;
        field: string;
      };
    const csrfOf = (field: string) => /value="([^"]+)"/.exec(field)![1];

    it("sets an HttpOnly, SameSite=Lax, Path=/ cookie holding the session id (Secure when https)", async function () {
      await serve(true);
      const r = await post("/signin", { user: alice.id }, { origin: url });
      expect(r.status).to.equal(200);
      const set = r.headers.get("set-cookie")!;
      expect(set).to.match(/^ct_session=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Lax; Path=\/; Max-Age=43200; Secure$/);
      expect(r.headers.get("cache-control")).to.equal("no-store");
      const cookie = set.split(";")[0];
      const seen = await me(cookie);
      expect(seen.user).to.equal(alice.id);
      expect(seen.field).to.match(/^<input type="hidden" name="csrf" value="[A-Za-z0-9_-]{43}" \/>$/);
      expect((await me()).field).to.equal("");
    });

    it("without https the cookie is not Secure; a dead cookie is cleared", async function () {
      await serve(false);
      const r = await post("/signin", { user: alice.id }, { origin: url });
      expect(r.headers.get("set-cookie")).to.not.include("Secure");
      const res = await fetch(url + "/me", {
        headers: { cookie: `ct_session=${randomBytes(32).toString("base64url")}` },
      });
      expect(res.headers.get("set-cookie")).to.equal("ct_session=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0");
      expect(((await res.json()) as { user: null }).user).to.equal(null);
    });

    it("accepts a form POST from its own origin (PUBLIC_URL's or the addressed one) or, without Origin, its own Referer", async function () {
      await serve(false);
      for (const headers of <Record<string, string>[]>[
        { origin: url },
        { origin: "https://coop.example" },
        { referer: `${url}/audit/login?lang=fr` },
      ]) {
        const r = await post("/signin", { user: alice.id }, headers);
        expect(r.status, JSON.stringify(headers)).to.equal(200);
      }
    });

    it("refuses Origin null, another origin, a foreign Referer, and neither header (403, no session)", async function () {
      await serve(false);
      const before = rows().length;
      for (const headers of <Record<string, string>[]>[
        { origin: "null" },
        { origin: "null", referer: `${url}/x` },
        { origin: "https://evil.example" },
        { origin: url.replace("127.0.0.1", "127.0.0.1.evil.example") },
        { origin: "https://coop.example.evil.example" },
        { referer: "https://evil.example/x" },
        { referer: "not a url" },
        {},
      ]) {
        const r = await post("/signin", { user: alice.id }, headers);
        expect(r.status, JSON.stringify(headers)).to.equal(403);
        expect(r.headers.get("set-cookie"), JSON.stringify(headers)).to.equal(null);
        expect(await r.text()).to.include('id="refused"');
      }
      expect(rows().length).to.equal(before);
      expect(lines.filter((l) => l.includes("form refused"))).to.have.length(8);
    });

    it("a state-changing POST needs the session's own CSRF token as well as the origin", async function () {
      await serve(false);
      const cookieOf = async (u: User) =>
        (await post("/signin", { user: u.id }, { origin: url })).headers.get("set-cookie")!.split(";")[0];
      const a = await cookieOf(alice);
      const b = await cookieOf(bob);
      const tokenA = csrfOf((await me(a)).field);
      const tokenB = csrfOf((await me(b)).field);
      const change = (cookie: string | undefined, body: Record<string, string>, headers: Record<string, string>) =>
        post("/change", body, { ...(cookie ? { cookie } : {}), ...headers });
      expect((await change(a, { csrf: tokenA }, { origin: url })).status).to.equal(200);
      expect((await change(a, { csrf: tokenA }, { referer: url + "/" })).status).to.equal(200);
      for (const [cookie, body, headers] of [
        [a, {}, { origin: url }],
        [a, { csrf: "" }, { origin: url }],
        [a, { csrf: tokenB }, { origin: url }], // another session's token
        [a, { csrf: tokenA + "x" }, { origin: url }],
        [a, { csrf: tokenA }, { origin: "null" }],
        [a, { csrf: tokenA }, { origin: "https://evil.example" }],
        [a, { csrf: tokenA }, {}],
        [undefined, { csrf: tokenA }, { origin: url }], // no session at all
      ] as const) {
        const r = await change(cookie, body, headers);
        expect(r.status, JSON.stringify([cookie !== undefined, body, headers])).to.equal(403);
        expect(await r.text()).to.not.include("changed");
      }
    });

    it("sign-out revokes the session server-side; sign-in replaces a session planted in the browser", async function () {
      await serve(false);
      const planted = (await post("/signin", { user: bob.id }, { origin: url })).headers
        .get("set-cookie")!
        .split(";")[0];
      const mine = (await post("/signin", { user: alice.id }, { origin: url, cookie: planted })).headers
        .get("set-cookie")!
        .split(";")[0];
      expect(mine).to.not.equal(planted);
      expect((await me(planted)).user).to.equal(null); // the planted id died at sign-in
      const token = csrfOf((await me(mine)).field);
      const out = await post("/signout", { csrf: token }, { origin: url, cookie: mine });
      expect(out.status).to.equal(200);
      expect(out.headers.get("set-cookie")).to.equal("ct_session=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0");
      expect((await me(mine)).user).to.equal(null);
      expect(rows()).to.have.length(0);
    });

    it("failed sign-ins past the limit answer 429 with Retry-After, for right and wrong credentials alike", async function () {
      await serve(false);
      for (let i = 0; i < 5; i++)
        expect((await post("/signin", { user: "nobody" }, { origin: url })).status).to.equal(401);
      for (const user of ["nobody", alice.id]) {
        const r = await post("/signin", { user }, { origin: url });
        expect(r.status).to.equal(429);
        const wait = Number(r.headers.get("retry-after"));
        expect(wait).to.be.within(1, 60);
        expect(await r.text()).to.include(`${wait} seconds`);
      }
      const warnings = lines.filter((l) => l.includes("authentication failed"));
      expect(warnings).to.have.length(5);
      expect(JSON.parse(warnings[0])).to.include({ ip: "127.0.0.1", reason: "unknown_user" });
    });
  });
});
