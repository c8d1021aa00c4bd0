/**
 * Cooperatives and their members. The registrar registers a cooperative together with its admin (a
 * new user whose key the gateway keeps); the admin adds members the same way. Called by the API and
 * by the workspace pages alike: input is the parsed output of the schemas below, the actor is the
 * signed-in user, errors are DomainErrors (or the relayer's own, mapped by the HTTP layer).
 */
import { keccak256, stringToBytes } from "viem";
import { z } from "zod";
import { encodeCall } from "../chain/calldata";
import type { DeploymentFile } from "../chain/deploy";
import { memberCardSvg } from "../custody/cards";
import type { User, UserStore } from "../custody/users";
import type { Cooperative, CooperativeDetail, Member, Page, PageOptions, Queries } from "../index";
import { cooperativeRegistryAbi } from "../chain/abis.generated";
import { provinceCodeOf } from "../../domain/regions";
import { requireCoopAdmin, requireRole } from "./access";
import { newPin, type CardService } from "./cards";
import { DomainError } from "./errors";
import { bytesText, text } from "./schemas";
import { eventArg, type WriteOptions, type Writer, type WriteOutcome } from "./writes";

/**
 * Where the cooperative is: a province or prefecture of the fixed list (domain/regions.ts), by its code
 * ("MA-TIN") or by a name that is exactly one province's ("Tinghir"). The code is what goes on-chain in
 * the registry's `region` field, so figures per region never split between two spellings.
 */
export const provinceInput = z
  .string()
  .max(128)
  .transform((value, ctx) => {
    const code = provinceCodeOf(value);
    if (code !== undefined) return code;
    ctx.addIssue({
      code: "custom",
      message: "choose a province or prefecture of Morocco by its code (e.g. MA-TIN for Tinghir): GET /api/v1/regions",
    });
    return z.NEVER;
  });

export const registerCooperativeInput = z
  .object({
    name: bytesText(128),
    region: provinceInput,
    registrationNumber: bytesText(128),
    reserveBps: z.number().int().min(0).max(5_000),
    womenLed: z.boolean().default(false),
    admin: z.object({ displayName: text(200) }).strict(),
  })
  .strict();
export type RegisterCooperativeInput = z.output<typeof registerCooperativeInput>;

export const addMemberInput = z
  .object({
    displayName: text(200),
    reference: text(100),
    /**
     * The PIN of her member card, chosen with her (4–6 digits). With it a card is issued and `card` is its
     * printable SVG; without it no card is issued and `card` is null (the card names a card, not the
     * token, so there is nothing to print until a PIN is set).
     */
    pin: newPin.optional(),
  })
  .strict();
export type AddMemberInput = z.output<typeof addMemberInput>;

/** A user created with a write; its token is shown once (the caller must not cache the answer). */
export interface NewAccount {
  userId: string;
  address: string | null;
  token: string;
}

export interface CooperativeService {
  register(
    actor: User | undefined,
    input: RegisterCooperativeInput,
    options?: WriteOptions,
  ): Promise<{ outcome: WriteOutcome; cooperativeId: number | null; admin: NewAccount }>;
  list(options?: PageOptions): Page<Cooperative>;
  get(cooperativeId: number): CooperativeDetail;
  addMember(
    actor: User | undefined,
    cooperativeId: number,
    input: AddMemberInput,
    options?: WriteOptions,
  ): Promise<{ outcome: WriteOutcome; member: NewAccount & { card: string | null; cardUrl: string | null } }>;
  /** Members with their gateway user id and name (the admin of this cooperative, registrars, auditors). */
  listMembers(
    actor: User | undefined,
    cooperativeId: number,
  ): (Member & { userId: string | null; displayName: string | null })[];
}

export interface CooperativeServiceDeps {
  users: UserStore;
  queries: Queries;
  writer: Writer;
  /** Issues the member card of a new member given a PIN. */
  cards: Pick<CardService, "issueCard">;
  deployment: DeploymentFile;
  /** The gateway's public URL, printed on member cards. */
  publicUrl: () => string;
}

/** What goes on-chain for a member: a hash of the cooperative's own reference, never the reference itself. */
export function memberReferenceHash(cooperativeId: number, reference: string): string {
  return keccak256(stringToBytes(`cooptrace:member:${cooperativeId}:${reference}`));
}

export function createCooperativeService(deps: CooperativeServiceDeps): CooperativeService {
  const { users, queries, writer } = deps;
  const registry = deps.deployment.contracts.CooperativeRegistry.address;
  const abi = cooperativeRegistryAbi;

  /** Creates `user`, runs `write`; a refused write leaves no orphan account behind. */
  async function withNewUser<T>(created: { user: User }, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (err) {
      users.remove(created.user.id);
      throw err;
    }
  }

  function get(cooperativeId: number): CooperativeDetail {
    const coop = queries.getCooperative(cooperativeId);
    if (!coop) throw new DomainError("not_found", "cooperative_not_found", `no cooperative ${cooperativeId}`);
    return coop;
  }

  return {
    async register(actor, input, options) {
      const registrar = requireRole(actor, "registrar");
      const created = users.create({
        role: "coop_admin",
        displayName: input.admin.displayName,
        createdBy: registrar.id,
      });
      return withNewUser(created, async () => {
        const data = encodeCall(abi, "registerCooperative", [
          input.name,
          input.region,
          input.registrationNumber,
          created.user.address!,
          input.reserveBps,
          input.womenLed,
        ]);
        const outcome = await writer.write(registrar, { to: registry, data }, options);
        const cooperativeId = Number(eventArg(outcome, "CooperativeRegistered", "cooperativeId") ?? 0) || null;
        return {
          outcome,
          cooperativeId,
          admin: { userId: created.user.id, address: created.user.address, token: created.token },
        };
      });
    },

    list: (options) => queries.listCooperatives(options),
    get,

    async addMember(actor, cooperativeId, input, options) {
      const admin = requireCoopAdmin(queries, actor, cooperativeId);
      const created = users.create({
        role: "member",
        displayName: input.displayName,
        cooperativeId,
        createdBy: admin.id,
      });
      return withNewUser(created, async () => {
        const data = encodeCall(abi, "addMember", [
          cooperativeId,
          created.user.address!,
          memberReferenceHash(cooperativeId, input.reference),
        ]);
        const outcome = await writer.write(admin, { to: registry, data }, options);
        // With a PIN, a printable card (SVG) whose QR code opens her card's sign-in page (after the
        // write: a refused write leaves no card behind).
        const issued =
          input.pin === undefined
            ? null
            : await deps.cards.issueCard(admin, { memberUserId: created.user.id, pin: input.pin });
        const card =
          issued === null
            ? null
            : await memberCardSvg({
                displayName: created.user.displayName,
                cooperativeName: queries.getCooperative(cooperativeId)?.name ?? `#${cooperativeId}`,
                signInUrl: issued.signInUrl,
              });
        const cardUrl = issued?.signInUrl ?? null;
        return {
          outcome,
          member: { userId: created.user.id, address: created.user.address, token: created.token, card, cardUrl },
        };
      });
    },

    listMembers(actor, cooperativeId) {
      const user = requireRole(actor, "coop_admin", "registrar", "auditor");
      if (user.role === "coop_admin") requireCoopAdmin(queries, user, cooperativeId);
      const names = new Map(users.list({ role: "member" }).map((u) => [u.address?.toLowerCase(), u]));
      return queries.listMembers(cooperativeId).map((m) => {
        const u = names.get(m.account.toLowerCase());
        return { ...m, userId: u?.id ?? null, displayName: u?.displayName ?? null };
      });
    },
  };
}
