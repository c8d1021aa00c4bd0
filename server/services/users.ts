/**
 * Accounts and custody: the platform admin creates registrars, certifiers, arbiters and auditors (with
 * the on-chain role, granted by the platform's own account); buyers sign up themselves; every user can
 * see itself and rotate its token; a token revoked or rotated also ends that user's browser sessions;
 * members take custody of their key and then sign their own forward requests; on the embedded chain a
 * buyer may ask the faucet once a day. Called by the API and the workspace pages alike: input is the
 * parsed output of the schemas below, the actor is the signed-in user, errors are DomainErrors (or
 * custody's and the relayer's own, mapped by the HTTP layer).
 */
import { z } from "zod";
import { encodeCall } from "../chain/calldata";
import type { DeploymentFile } from "../chain/deploy";
import { DISPLAY_NAME_MAX, EXPORT_CONFIRMATION, type User, type UserStore } from "../custody/users";
import { FORWARD_REQUEST_TYPES, allowedCalls, type AllowedCall } from "../relayer";
import type { SessionStore } from "../sessions/store";
import type { FaucetGrants } from "../store/faucet";
import { cooperativeRegistryAbi, demoMoneyAbi, mockStablecoinAbi } from "../chain/abis.generated";
import { requireRole } from "./access";
import { DomainError, notFound } from "./errors";
import { address, hexBytes, signature65, text, uint } from "./schemas";
import type { WriteOptions, WriteOutcome, Writer } from "./writes";

/** Roles the platform admin creates; cooperative admins and members come with their cooperative. */
export const PLATFORM_CREATED_ROLES = ["registrar", "certifier", "arbiter", "auditor"] as const;

export const createUserInput = z
  .object({ role: z.enum(PLATFORM_CREATED_ROLES), displayName: text(DISPLAY_NAME_MAX) })
  .strict();
export type CreateUserInput = z.output<typeof createUserInput>;

export const buyerSignUpInput = z.object({ displayName: text(DISPLAY_NAME_MAX) }).strict();
export type BuyerSignUpInput = z.output<typeof buyerSignUpInput>;

export const userIdInput = z.string().uuid();

export const exportKeyInput = z.object({ confirm: z.literal(EXPORT_CONFIRMATION) }).strict();
export type ExportKeyInput = z.output<typeof exportKeyInput>;

/** A forward request the member signed with its own key (from is the member; no value is ever relayed). */
export const forwardRequestInput = z
  .object({
    to: address,
    gas: uint(64, 1n),
    deadline: uint(48, 1n),
    data: hexBytes,
    signature: signature65,
  })
  .strict();
export type ForwardRequestInput = z.output<typeof forwardRequestInput>;

/** The registry's constant holding the on-chain role of each platform-created role that has one. */
const ONCHAIN_ROLE = { registrar: "REGISTRAR_ROLE", certifier: "CERTIFIER_ROLE", arbiter: "ARBITER_ROLE" } as const;

/** Who may sign forward requests themselves: the roles whose keys can be exported. */
const SELF_SIGNERS = ["member", "coop_admin", "buyer"] as const;

const FAUCET_WEI = 10n ** 18n; // 1 test ETH
const FAUCET_COINS = 1_000n;
/** Demo dirhams and euros a buyer receives a day (whole units; the tokens have 2 decimals). */
const FAUCET_MONEY: ["MAD" | "EUR", bigint][] = [
  ["MAD", 200_000n],
  ["EUR", 20_000n],
];
const STABLECOIN_UNIT = 10n ** 6n; // the demo stablecoin has 6 decimals, like the e-money tokens it stands for

/**
 * An account that sends its own transactions and pays their gas: the platform (DEFAULT_ADMIN on-chain)
 * and the demo faucet (server/chain/accounts.ts: clientAccount).
 */
export interface ChainAccount {
  /** eth_call from this account: the raw return data ("0x" when there is no contract at `to`). */
  call(tx: { to: string; data: string }): Promise<string>;
  sendTransaction(tx: {
    to: string;
    data?: string;
    value?: bigint;
  }): Promise<{ hash: string; wait(): Promise<unknown> }>;
}

/** The forwarder's reads a self-custody member needs (server/chain/accounts.ts: forwarderReads). */
export interface ForwarderReads {
  eip712Domain(): Promise<{ name: string; version: string; chainId: bigint; verifyingContract: string }>;
  nonces(owner: string): Promise<bigint>;
}

export interface UserServiceDeps {
  users: UserStore;
  /** Browser sessions: a revoked or rotated token ends its user's sessions too. */
  sessions: Pick<SessionStore, "revokeAllForUser">;
  writer: Writer;
  deployment: DeploymentFile;
  forwarder: ForwarderReads;
  /**
   * The platform's own account (DEPLOYER_KEY, DEFAULT_ADMIN on-chain), never the relayer's: the relayer
   * counts its nonces in its database, and a transaction it did not send would break its sequence.
   * Undefined: platform writes answer 503 `platform_key_missing`.
   */
  platform: ChainAccount | undefined;
  /** Embedded demo chain only: the faucet's account, the demo stablecoin and the daily grants. */
  faucet?: { account: ChainAccount; stablecoin: string; money?: { MAD: string; EUR: string }; grants: FaucetGrants };
}

/** What a self-custody member signs: the forwarder's EIP-712 domain and types, its nonce, what is relayed. */
export interface ForwardRequestInfo {
  domain: { name: string; version: string; chainId: string; verifyingContract: string };
  types: typeof FORWARD_REQUEST_TYPES;
  from: string;
  nonce: string;
  contracts: { CooperativeRegistry: string; BatchRegistry: string; SaleEscrow: string; PayoutLedger: string };
  allowed: AllowedCall[];
}

export interface FaucetPayment {
  eth: string;
  stablecoin: { address: string; amount: string };
  /** Demo dirhams and euros (2 decimals): amounts in whole units. */
  money: { currency: string; address: string; amount: string }[];
  transactions: string[];
}

export interface UserService {
  /** A registrar, certifier or arbiter gets its on-chain role too; the token is shown once. */
  create(
    actor: User | undefined,
    input: CreateUserInput,
  ): Promise<{ user: User; token: string; txHash: string | null }>;
  /** Public sign-up (the HTTP layer limits it per address); the token is shown once. */
  signUpBuyer(input: BuyerSignUpInput): { user: User; token: string };
  me(actor: User | undefined): User;
  /** The user a bearer token (or a token typed at a sign-in) belongs to; null when unknown or revoked. */
  authenticate(token: string): User | null;
  /** A new token for the caller, shown once; the old one and every browser session end. */
  rotateToken(actor: User | undefined): { token: string };
  /** Ends every token and browser session of a user (the platform admin; a cooperative admin for its members). */
  revoke(actor: User | undefined, userId: string): { revoked: string };
  /** The caller's key, once; the gateway no longer signs for it. */
  exportKey(actor: User | undefined, input: ExportKeyInput): { address: string | null; privateKey: string };
  forwardRequestInfo(actor: User | undefined): Promise<ForwardRequestInfo>;
  /** Relays a forward request the caller signed with its own key; the relayer pays the gas. */
  relaySigned(actor: User | undefined, input: ForwardRequestInput, options?: WriteOptions): Promise<WriteOutcome>;
  /**
   * The public name of a certifier, by address (a certifier signs certifications in public, under its
   * name); null for anyone else: a member, a buyer or a manager is never named on a public page.
   */
  certifierName(address: string): string | null;
  /** True on the embedded demo chain, where the faucet exists. */
  readonly hasFaucet: boolean;
  /** 1 test ETH and 1,000 demo stablecoins for a buyer, once per UTC day. */
  useFaucet(actor: User | undefined): Promise<FaucetPayment>;
}

/** Sends `tx` from `account` and waits until it is mined (a revert throws); the transaction hash. */
async function sendMined(account: ChainAccount, tx: Parameters<ChainAccount["sendTransaction"]>[0]): Promise<string> {
  const sent = await account.sendTransaction(tx);
  await sent.wait();
  return sent.hash;
}

/** The faucet's day for one buyer: test ETH for gas, demo dollars, dirhams and euros, each mined. */
async function payFromFaucet(faucet: NonNullable<UserServiceDeps["faucet"]>, to: string): Promise<FaucetPayment> {
  const eth = await sendMined(faucet.account, { to, value: FAUCET_WEI });
  const data = encodeCall(mockStablecoinAbi, "mint", [to, FAUCET_COINS * STABLECOIN_UNIT]);
  const transactions = [eth, await sendMined(faucet.account, { to: faucet.stablecoin, data })];
  const money: FaucetPayment["money"] = [];
  for (const [currency, amount] of FAUCET_MONEY) {
    const address = faucet.money?.[currency];
    if (address === undefined) continue;
    const minted = encodeCall(demoMoneyAbi, "mint", [to, amount * 100n]);
    transactions.push(await sendMined(faucet.account, { to: address, data: minted }));
    money.push({ currency, address, amount: amount.toString() });
  }
  return { eth: "1", stablecoin: { address: faucet.stablecoin, amount: FAUCET_COINS.toString() }, money, transactions };
}

export function createUserService(deps: UserServiceDeps): UserService {
  const { users, sessions, writer } = deps;
  const contracts = deps.deployment.contracts;

  /** A self-signer with a key (auditors have none; the roles that may export have one from creation). */
  function requireKeyHolder(actor: User | undefined): User & { address: string } {
    const user = requireRole(actor, ...SELF_SIGNERS);
    if (user.address === null) throw new DomainError("forbidden", "no_key", "this account has no key");
    return user as User & { address: string };
  }

  async function grantOnChainRole(platform: ChainAccount, role: keyof typeof ONCHAIN_ROLE, account: string) {
    const to = contracts.CooperativeRegistry.address;
    const abi = cooperativeRegistryAbi;
    // The role id is read from the registry itself: on a chain reset under the gateway the read finds no
    // code and nothing is sent (a transaction to an empty address would succeed and grant nothing).
    const roleId = await platform.call({ to, data: encodeCall(abi, ONCHAIN_ROLE[role], []) });
    if (!/^0x[0-9a-fA-F]{64}$/.test(roleId)) {
      throw new DomainError(
        "unavailable",
        "contracts_missing",
        "the CoopTrace contracts are not on the chain any more (was it reset?); try again later",
      );
    }
    return sendMined(platform, { to, data: encodeCall(abi, "grantRole", [roleId, account]) });
  }

  return {
    authenticate: (token) => users.authenticate(token),
    async create(actor, input) {
      const admin = requireRole(actor, "platform_admin");
      // Refused before the account exists: without the platform's key the role could never be granted.
      const platform = deps.platform;
      if (input.role !== "auditor" && platform === undefined) {
        throw new DomainError(
          "unavailable",
          "platform_key_missing",
          "the gateway has no platform key (DEPLOYER_KEY) to grant on-chain roles; only auditors can be created",
        );
      }
      const { user, token } = users.create({ role: input.role, displayName: input.displayName, createdBy: admin.id });
      let txHash: string | null = null;
      if (input.role !== "auditor") {
        try {
          txHash = await grantOnChainRole(platform!, input.role, user.address!);
        } catch (err) {
          // No account without its role: the admin may simply try again.
          users.remove(user.id);
          throw err;
        }
      }
      return { user, token, txHash };
    },

    signUpBuyer: (input) => users.create({ role: "buyer", displayName: input.displayName }),

    me: (actor) => requireRole(actor),

    rotateToken(actor) {
      const user = requireRole(actor);
      const token = users.rotateToken(user.id);
      // A rotation answers a token that may have leaked: a session opened with it must not outlive it.
      sessions.revokeAllForUser(user.id);
      return { token };
    },

    revoke(actor, userId) {
      const caller = requireRole(actor, "platform_admin", "coop_admin");
      const target = users.get(userId);
      if (!target) throw notFound("user_not_found", "no such user");
      if (caller.role === "coop_admin" && (target.role !== "member" || target.createdBy !== caller.id)) {
        throw new DomainError("forbidden", "forbidden", "a cooperative admin may only revoke its own members' tokens");
      }
      users.revokeToken(target.id);
      sessions.revokeAllForUser(target.id);
      return { revoked: target.id };
    },

    exportKey(actor, input) {
      const user = requireRole(actor, ...SELF_SIGNERS);
      const privateKey = users.exportKey(user.id, input.confirm);
      return { address: user.address, privateKey };
    },

    async forwardRequestInfo(actor) {
      const user = requireKeyHolder(actor);
      const [domain, nonce] = await Promise.all([deps.forwarder.eip712Domain(), deps.forwarder.nonces(user.address)]);
      return {
        domain: {
          name: domain.name,
          version: domain.version,
          chainId: domain.chainId.toString(),
          verifyingContract: domain.verifyingContract,
        },
        types: FORWARD_REQUEST_TYPES,
        from: user.address,
        nonce: nonce.toString(),
        contracts: {
          CooperativeRegistry: contracts.CooperativeRegistry.address,
          BatchRegistry: contracts.BatchRegistry.address,
          SaleEscrow: contracts.SaleEscrow.address,
          // A member confirms or contests the payouts her cooperative records, with her own key too.
          PayoutLedger: contracts.PayoutLedger.address,
        },
        // The only calls the relayer pays for on this user's behalf (anything else: relay_not_allowed).
        allowed: allowedCalls(user.role),
      };
    },

    relaySigned(actor, input, options) {
      const user = requireKeyHolder(actor);
      // No value: the relayer's ether is never sent on a member's behalf.
      return writer.writeSigned(user, { from: user.address, value: 0n, ...input }, options);
    },

    certifierName(address) {
      const user = users.findByAddress(address);
      return user !== undefined && user.role === "certifier" ? user.displayName : null;
    },

    hasFaucet: deps.faucet !== undefined,

    async useFaucet(actor) {
      const user = requireRole(actor, "buyer");
      const faucet = deps.faucet;
      if (faucet === undefined)
        throw notFound("faucet_unavailable", "there is a faucet on the embedded demo chain only");
      // Taken before paying: a second request, concurrent or after a restart, finds it taken.
      const grant = faucet.grants.take(user.id);
      if (!grant.granted) {
        throw new DomainError(
          "rate_limited",
          "faucet_used",
          "the faucet pays each account once per day; it renews at 00:00 UTC",
          { retryAfterSeconds: grant.retryAfterSeconds },
        );
      }
      try {
        return await payFromFaucet(faucet, user.address!);
      } catch (err) {
        // Not paid in full: the buyer may ask again (a retry after a failed mint sends the test ETH once
        // more; the demo chain's ether, not worth a second table).
        faucet.grants.giveBack(user.id, grant.day);
        throw err;
      }
    },
  };
}
