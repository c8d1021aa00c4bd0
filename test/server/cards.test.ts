/**
 * Member cards on a real SQLite file (with the custody, session and index tables they sit beside):
 * the PIN hashed with scrypt and a salt of its own, the attempt counter and the lock after
 * MAX_PIN_ATTEMPTS wrong PINs (also under parallel guesses), a right PIN resetting the counter,
 * revocation and replacement; and the card service over those stores: only the admin of the member's
 * cooperative (per the index) issues or revokes a card, a revoked card ends the member's sessions,
 * wrong PINs answer how many tries are left, and no PIN reaches a log.
 */
import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { openDatabase, type Db } from "../../server/store/db";
import { createLogger } from "../../server/log";
import { createKeystore } from "../../server/custody/keystore";
import { createUserStore, custodyMigrations, type User, type UserStore } from "../../server/custody/users";
import {
  createMemberCardStore,
  MAX_PIN_ATTEMPTS,
  memberCardMigrations,
  type MemberCardStore,
} from "../../server/custody/memberCards";
import { createSessionStore, sessionMigrations, type SessionStore } from "../../server/sessions";
import { createQueries, indexMigrations } from "../../server/index";
import { createCardService, isObviousPin, issueCardInput, type CardService } from "../../server/services/cards";
import { DomainError } from "../../server/services/errors";

const PIN = "4719";

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

/** Every key and value of every JSON log line (a PIN could only leak as one of them). */
function logged(lines: string[]): string[] {
  const out: string[] = [];
  const walk = (v: unknown, key?: string) => {
    if (key !== undefined) out.push(key);
    if (v !== null && typeof v === "object") for (const [k, x] of Object.entries(v)) walk(x, k);
    else out.push(String(v));
  };
  for (const l of lines) walk(JSON.parse(l));
  return out;
}

async function refusal(p: Promise<unknown>): Promise<DomainError> {
  try {
    await p;
  } catch (err) {
    expect(err).to.be.instanceOf(DomainError);
    return err as DomainError;
  }
  expect.fail("expected a refusal");
}

describe("member cards", function () {
  this.timeout(60_000);
  let dir: string;
  let db: Db;
  let users: UserStore;
  let cards: MemberCardStore;
  let lines: string[];
  let aicha: User;

  beforeEach(function () {
    dir = mkdtempSync(path.join(tmpdir(), "cooptrace-cards-"));
    db = openDatabase(path.join(dir, "gateway.sqlite"), [
      custodyMigrations,
      sessionMigrations,
      indexMigrations,
      memberCardMigrations,
    ]);
    const logged = memoryLog();
    lines = logged.lines;
    users = createUserStore({ db, keystore: createKeystore(randomBytes(32)), log: logged.log });
    cards = createMemberCardStore({ db, log: logged.log });
    aicha = users.create({ role: "member", displayName: "Aicha", cooperativeId: 1 }).user;
  });

  afterEach(function () {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  describe("the store", function () {
    it("keeps a scrypt hash with a salt of its own per card, never the PIN", async function () {
      const a = (await cards.issue(aicha.id, PIN)).card;
      const b = (await cards.issue(aicha.id, PIN)).card;
      expect(a.cardId).to.match(/^[A-Za-z0-9_-]{22}$/);
      const rows = db
        .prepare<[], { card_id: string; pin_hash: Buffer; pin_salt: Buffer; pin_params: string }>(
          "SELECT card_id, pin_hash, pin_salt, pin_params FROM member_cards ORDER BY rowid",
        )
        .all();
      expect(rows.map((r) => r.card_id)).to.deep.equal([a.cardId, b.cardId]);
      for (const r of rows) {
        expect(r.pin_hash).to.have.length(32);
        expect(r.pin_salt).to.have.length(16);
        expect(r.pin_params).to.equal("N=16384,r=8,p=1,len=32");
      }
      // The same PIN, two salts: two different hashes.
      expect(rows[0].pin_hash.equals(rows[1].pin_hash)).to.equal(false);
      expect(rows[0].pin_salt.equals(rows[1].pin_salt)).to.equal(false);
      expect(logged(lines)).not.to.include(PIN);
    });

    it("signs in with the right PIN and refuses a wrong one, saying how many tries are left", async function () {
      const { card } = await cards.issue(aicha.id, PIN);
      expect(await cards.verify(card.cardId, PIN)).to.deep.equal({ ok: true, userId: aicha.id });
      expect(await cards.verify(card.cardId, "4718")).to.deep.equal({
        ok: false,
        reason: "wrong_pin",
        triesLeft: MAX_PIN_ATTEMPTS - 1,
      });
      expect(await cards.verify(card.cardId, "0000")).to.deep.include({ triesLeft: MAX_PIN_ATTEMPTS - 2 });
      // A right PIN gives the tries back.
      expect(await cards.verify(card.cardId, PIN)).to.deep.equal({ ok: true, userId: aicha.id });
      expect(cards.get(card.cardId)!.failedAttempts).to.equal(0);
      expect(logged(lines)).not.to.include("4718");
    });

    it(`locks the card after ${MAX_PIN_ATTEMPTS} wrong PINs in a row, even against the right one`, async function () {
      const { card } = await cards.issue(aicha.id, PIN);
      const left: number[] = [];
      for (let i = 0; i < MAX_PIN_ATTEMPTS; i++) {
        const r = await cards.verify(card.cardId, String(1000 + i));
        expect(r.ok).to.equal(false);
        left.push((r as { triesLeft: number }).triesLeft);
      }
      expect(left).to.deep.equal([4, 3, 2, 1, 0]);
      expect(cards.get(card.cardId)!.locked).to.equal(true);
      expect(await cards.verify(card.cardId, PIN)).to.deep.equal({ ok: false, reason: "locked" });
      expect(lines.some((l) => l.includes("member card locked"))).to.equal(true);
    });

    it("compares no more PINs than the limit when guesses arrive in parallel", async function () {
      const { card } = await cards.issue(aicha.id, PIN);
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) => cards.verify(card.cardId, String(2000 + i))),
      );
      const compared = results.filter((r) => !r.ok && r.reason === "wrong_pin");
      const refused = results.filter((r) => !r.ok && r.reason === "locked");
      expect(compared).to.have.length(MAX_PIN_ATTEMPTS);
      expect(refused).to.have.length(12 - MAX_PIN_ATTEMPTS);
      expect(await cards.verify(card.cardId, PIN)).to.deep.equal({ ok: false, reason: "locked" });
    });

    it("revokes: a revoked card refuses even the right PIN; a new card replaces the old one", async function () {
      const first = (await cards.issue(aicha.id, PIN)).card;
      expect(cards.revokeAllOf(aicha.id)).to.equal(1);
      expect(await cards.verify(first.cardId, PIN)).to.deep.equal({ ok: false, reason: "revoked" });
      const second = await cards.issue(aicha.id, "8264");
      expect(second.replaced).to.equal(0); // the first was already revoked
      const third = await cards.issue(aicha.id, "5173");
      expect(third.replaced).to.equal(1);
      expect(await cards.verify(second.card.cardId, "8264")).to.deep.equal({ ok: false, reason: "revoked" });
      expect(await cards.verify(third.card.cardId, "5173")).to.deep.equal({ ok: true, userId: aicha.id });
      expect(cards.currentOf(aicha.id)!.cardId).to.equal(third.card.cardId);
    });

    it("answers unknown for a card id that is not one, without a lookup error", async function () {
      expect(await cards.verify("not-a-card", PIN)).to.deep.equal({ ok: false, reason: "unknown" });
      expect(await cards.verify(randomBytes(16).toString("base64url"), PIN)).to.deep.equal({
        ok: false,
        reason: "unknown",
      });
      expect(cards.get("../../etc")).to.equal(undefined);
    });
  });

  describe("the service", function () {
    let sessions: SessionStore;
    let service: CardService;
    let manager: User;
    let otherManager: User;

    beforeEach(function () {
      sessions = createSessionStore({ db, ttlMs: 3_600_000, idleMs: 1_800_000 });
      manager = users.create({ role: "coop_admin", displayName: "Fatima" }).user;
      otherManager = users.create({ role: "coop_admin", displayName: "Hassan" }).user;
      // The index as the indexer leaves it after two CooperativeRegistered events.
      const insert = db.prepare(
        `INSERT INTO ix_cooperatives (cooperative_id, name, region, registration_number, admin, reserve_bps, women_led,
           tx_hash, block_number, log_index, block_time) VALUES (?, ?, 'Tinghir', ?, ?, 1000, 1, ?, 1, ?, 0)`,
      );
      insert.run(1, "Tighmert", "R-1", manager.address, "0x" + "11".repeat(32), 0);
      insert.run(2, "Other", "R-2", otherManager.address, "0x" + "22".repeat(32), 1);
      service = createCardService({
        cards,
        users,
        queries: createQueries(db),
        sessions,
        publicUrl: () => "https://coop.example",
      });
    });

    it("issues a card for the admin of the member's cooperative only, with its sign-in link", async function () {
      const issued = await service.issueCard(manager, { memberUserId: aicha.id, pin: PIN });
      expect(issued.signInUrl).to.equal(`https://coop.example/c/${issued.cardId}`);
      const other = await refusal(service.issueCard(otherManager, { memberUserId: aicha.id, pin: PIN }));
      expect([other.kind, other.code]).to.deep.equal(["forbidden", "forbidden"]);
      const nobody = await refusal(service.issueCard(undefined, { memberUserId: aicha.id, pin: PIN }));
      expect(nobody.kind).to.equal("unauthenticated");
      const notMember = await refusal(service.issueCard(manager, { memberUserId: manager.id, pin: PIN }));
      expect(notMember.code).to.equal("member_not_found");
    });

    it("refuses PINs that are not 4 to 6 digits or too easy to guess", function () {
      const bad = ["123", "1234567", "12a4", "0000", "1234", "9876", "", " 4719x"];
      for (const pin of bad) {
        const r = issueCardInput.safeParse({ memberUserId: aicha.id, pin });
        expect(r.success, pin).to.equal(false);
      }
      expect(issueCardInput.safeParse({ memberUserId: aicha.id, pin: "472951" }).success).to.equal(true);
      expect(isObviousPin("1357")).to.equal(false);
      expect(isObviousPin("3333")).to.equal(true);
    });

    it("signs a member in, counts wrong PINs down, and a lost card ends her sessions", async function () {
      const { cardId } = await service.issueCard(manager, { memberUserId: aicha.id, pin: PIN });
      expect((await service.signInWithCard(cardId, PIN)).id).to.equal(aicha.id);
      const wrong = await refusal(service.signInWithCard(cardId, "4718"));
      expect([wrong.kind, wrong.code, wrong.extra.triesLeft]).to.deep.equal(["unauthenticated", "wrong_pin", 4]);
      expect(service.face(cardId)).to.deep.equal({ cardId, displayName: "Aicha", cooperativeId: 1, state: "ok" });

      const browser = sessions.create(aicha.id);
      const kiosk = sessions.create(aicha.id);
      const staff = sessions.create(manager.id);
      expect(service.revokeCard(manager, aicha.id)).to.deep.equal({ revoked: 1, sessionsEnded: 2 });
      expect(sessions.touch(browser.id)).to.equal(null);
      expect(sessions.touch(kiosk.id)).to.equal(null);
      expect(sessions.touch(staff.id)).not.to.equal(null);
      expect(service.face(cardId).state).to.equal("revoked");
      expect((await refusal(service.signInWithCard(cardId, PIN))).code).to.equal("card_revoked");
      expect((await refusal(service.signInWithCard("x".repeat(22), PIN))).code).to.equal("card_not_found");
      expect(() => service.revokeCard(otherManager, aicha.id)).to.throw(DomainError, "not the admin");
    });

    it("says a card is locked after the last wrong PIN, until a new one is issued", async function () {
      const { cardId } = await service.issueCard(manager, { memberUserId: aicha.id, pin: PIN });
      for (let i = 0; i < MAX_PIN_ATTEMPTS; i++) await refusal(service.signInWithCard(cardId, "1357"));
      expect(service.face(cardId).state).to.equal("locked");
      expect((await refusal(service.signInWithCard(cardId, PIN))).code).to.equal("card_locked");
      const reprint = await service.issueCard(manager, { memberUserId: aicha.id, pin: "2468" });
      expect(reprint.replaced).to.equal(1);
      expect((await service.signInWithCard(reprint.cardId, "2468")).id).to.equal(aicha.id);
      const values = logged(lines);
      for (const secret of ["pin", PIN, "2468", "1357"]) expect(values).not.to.include(secret);
      // The messages name the card and the tries left, never the PIN.
      expect(values.some((v) => v.includes("wrong PIN"))).to.equal(true);
    });
  });
});
