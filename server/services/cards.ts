/**
 * Member cards, without HTTP: the manager issues a card with a PIN chosen with the member (the card's
 * QR code opens `/c/<cardId>`), revokes a lost one (its sessions end at once), and a member signs in
 * with her card and PIN. Called by the API (a card issued with a new member) and by the pages alike.
 */
import { z } from "zod";
import { MAX_PIN_ATTEMPTS, type MemberCardStore } from "../custody/memberCards";
import type { User, UserStore } from "../custody/users";
import type { Queries } from "../index";
import type { SessionStore } from "../sessions";
import { requireCoopAdmin } from "./access";
import { DomainError, invalidField } from "./errors";

export { MAX_PIN_ATTEMPTS };

/** True for PINs anyone would try first: one digit repeated (0000) or a straight run (1234, 9876). */
export function isObviousPin(pin: string): boolean {
  const d = [...pin].map(Number);
  const steps = new Set(d.slice(1).map((x, i) => x - d[i]));
  return steps.size === 1 && [0, 1, -1].includes([...steps][0]);
}

/** The PIN as typed on the card's page: digits only, checked against the card (never stored by the pages). */
export const typedPin = z
  .string()
  .trim()
  .regex(/^[0-9]{4,6}$/, "must be 4 to 6 digits");

/** A new PIN, chosen with the manager: 4 to 6 digits, not an obvious one. */
export const newPin = typedPin.refine((p) => !isObviousPin(p), "is too easy to guess (like 0000 or 1234)");

export const issueCardInput = z.object({ memberUserId: z.string().uuid(), pin: newPin }).strict();
export type IssueCardInput = z.output<typeof issueCardInput>;

export const cardSignInInput = z.object({ pin: typedPin }).strict();

export interface IssuedCard {
  cardId: string;
  /** What the card's QR code holds. */
  signInUrl: string;
  /** Earlier cards of the member that stopped working. */
  replaced: number;
}

/** What the card's own page may show before the PIN: the name printed on the card, and its state. */
export interface CardFace {
  cardId: string;
  displayName: string;
  cooperativeId: number | null;
  state: "ok" | "locked" | "revoked";
}

export interface CardService {
  issueCard(actor: User | undefined, input: IssueCardInput): Promise<IssuedCard>;
  /** A lost card: every card of the member stops working and her sessions end. */
  revokeCard(actor: User | undefined, memberUserId: string): { revoked: number; sessionsEnded: number };
  /** The card behind a card link; `card_not_found` when there is none. */
  face(cardId: string): CardFace;
  /**
   * The card of `memberUserId` that works now (possibly locked), with its link, for her manager to print
   * again (the member card PDF); null when she has none. Only the admin of her cooperative may ask.
   */
  currentCard(actor: User | undefined, memberUserId: string): (CardFace & { signInUrl: string }) | null;
  /**
   * The member behind a card and PIN. Refusals: `card_not_found` (not_found), `card_revoked` and
   * `card_locked` (forbidden), `wrong_pin` (unauthenticated, with `triesLeft`; 0 when it locked the card).
   */
  signInWithCard(cardId: string, pin: string): Promise<User>;
}

export interface CardServiceDeps {
  cards: MemberCardStore;
  users: Pick<UserStore, "get">;
  queries: Pick<Queries, "standingIn">;
  sessions: Pick<SessionStore, "revokeAllForUser">;
  /** The gateway's public URL, printed (as a QR code) on the cards. */
  publicUrl: () => string;
}

export function createCardService(deps: CardServiceDeps): CardService {
  const { cards, users, queries } = deps;

  /** The member `memberUserId`, whose cards only the admin of her cooperative may handle. */
  function memberOf(actor: User | undefined, memberUserId: string): User {
    const member = users.get(memberUserId);
    if (member === undefined || member.role !== "member" || member.cooperativeId === null) {
      // Before the actor's rights: the same answer for anyone, and no user id is confirmed to a stranger.
      throw invalidField("memberUserId", "is not a member of a cooperative", "member_not_found");
    }
    requireCoopAdmin(queries, actor, member.cooperativeId);
    return member;
  }

  function notFound(): DomainError {
    return new DomainError("not_found", "card_not_found", "no member card has this link");
  }

  return {
    async issueCard(actor, input) {
      const member = memberOf(actor, input.memberUserId);
      const { card, replaced } = await cards.issue(member.id, input.pin);
      // A replaced card may be the lost one: whoever holds it must not stay signed in.
      if (replaced > 0) deps.sessions.revokeAllForUser(member.id);
      return { cardId: card.cardId, signInUrl: `${deps.publicUrl()}/c/${card.cardId}`, replaced };
    },

    revokeCard(actor, memberUserId) {
      const member = memberOf(actor, memberUserId);
      const revoked = cards.revokeAllOf(member.id);
      const sessionsEnded = deps.sessions.revokeAllForUser(member.id);
      return { revoked, sessionsEnded };
    },

    currentCard(actor, memberUserId) {
      const member = memberOf(actor, memberUserId);
      const card = cards.currentOf(member.id);
      if (card === undefined) return null;
      return {
        cardId: card.cardId,
        displayName: member.displayName,
        cooperativeId: member.cooperativeId,
        state: card.locked ? "locked" : "ok",
        signInUrl: `${deps.publicUrl()}/c/${card.cardId}`,
      };
    },

    face(cardId) {
      const card = cards.get(cardId);
      const user = card === undefined ? undefined : users.get(card.userId);
      if (card === undefined || user === undefined) throw notFound();
      return {
        cardId: card.cardId,
        displayName: user.displayName,
        cooperativeId: user.cooperativeId,
        state: card.revokedAt !== null ? "revoked" : card.locked ? "locked" : "ok",
      };
    },

    async signInWithCard(cardId, pin) {
      const check = await cards.verify(cardId, pin);
      if (check.ok) {
        const user = users.get(check.userId);
        if (user === undefined) throw notFound();
        return user;
      }
      switch (check.reason) {
        case "unknown":
          throw notFound();
        case "revoked":
          throw new DomainError("forbidden", "card_revoked", "this card no longer works: the cooperative replaced it");
        case "locked":
          throw new DomainError(
            "forbidden",
            "card_locked",
            `this card is locked after ${MAX_PIN_ATTEMPTS} wrong PINs: the cooperative's manager prints a new one`,
          );
        case "wrong_pin":
          throw new DomainError("unauthenticated", "wrong_pin", "wrong PIN", {
            triesLeft: check.triesLeft,
            errors: [{ field: "pin", message: "wrong PIN" }],
          });
      }
    },
  };
}
