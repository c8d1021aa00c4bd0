/**
 * What the relayer pays for: the one allow-list of the gateway.
 *
 * The relayer's account pays the gas of every request it forwards, so it must not be a free
 * computer for whoever holds a key: a self-registered buyer can export its key, deploy a contract
 * whose isTrustedForwarder() answers true and ask the relayer to forward 14M gas to it. The relayer
 * therefore forwards only
 * - to CoopTrace's own contracts (the addresses of this deployment: CooperativeRegistry,
 *   BatchRegistry, SaleEscrow, PayoutLedger — not the forwarder itself, nor any other address),
 * - calls of a state-changing, non-payable function (a view or pure call changes nothing and costs
 *   the relayer a transaction; the relayer never sends its ether on anyone's behalf),
 * - that the caller's role may call: the functions below, per role.
 *
 * The table names functions, not hex: the selectors are derived from the contracts' ABIs (the
 * TypeChain factories) when this module loads, and a name that is missing, overloaded, view/pure
 * or payable makes the module throw at load (a test loads it), so the list cannot drift from the
 * contracts silently.
 *
 * The contracts remain the authority on who may do what to which record (a member cannot register
 * a batch for another cooperative; the relayer simulates every call first). This list only bounds
 * what the relayer's money is spent on: a role gets the functions its on-chain rights let it call,
 * whether the API exposes them or a self-custody member signs them itself.
 *
 * The daily gas budget's clock is here too: a budget day is a UTC day.
 */
import { toFunctionSelector, type Abi, type AbiFunction } from "viem";
import { batchRegistryAbi, cooperativeRegistryAbi, payoutLedgerAbi, saleEscrowAbi } from "../chain/abis.generated";
import { toAddress } from "../chain/address";
import type { Role } from "../custody/users";
import { RelayRefusedError } from "./errors";

/** The contracts the relayer forwards to. */
export const RELAY_CONTRACTS = ["CooperativeRegistry", "BatchRegistry", "SaleEscrow", "PayoutLedger"] as const;
export type RelayContract = (typeof RELAY_CONTRACTS)[number];

const ABIS: Record<RelayContract, Abi> = {
  CooperativeRegistry: cooperativeRegistryAbi,
  BatchRegistry: batchRegistryAbi,
  SaleEscrow: saleEscrowAbi,
  PayoutLedger: payoutLedgerAbi,
};

/** Batch work a cooperative's people do (the contract checks membership and contributors). */
const BATCH_WORK = ["registerBatch", "recordEvent", "splitBatch", "mergeBatches"] as const;

/**
 * Per role, per contract, the functions the relayer pays for. `Record<Role, …>`: a new role does
 * not compile until it is given its line here.
 *
 * Left out on purpose: `fund` (payable: a buyer pays from its own account, with its own gas), the
 * platform's own administration (fees, pause, tokens, roles: sent by the platform's account, not
 * relayed), `drawForSale`/`restoreForSale` (the escrow's), and OpenZeppelin's role management.
 */
export const RELAY_ALLOW_LIST: Record<Role, Partial<Record<RelayContract, readonly string[]>>> = {
  // Fee withdrawals (the fee recipient's credits) and releasing a sale anyone may release.
  platform_admin: { SaleEscrow: ["withdraw", "release"] },
  registrar: {
    CooperativeRegistry: ["registerCooperative", "setCooperativeAdmin"],
    SaleEscrow: ["release"],
  },
  coop_admin: {
    CooperativeRegistry: ["addMember", "removeMember", "setReserveRate", "setCooperativeAdmin"],
    BatchRegistry: BATCH_WORK,
    SaleEscrow: [
      "createSale",
      "markShipped",
      "cancel",
      "release",
      "claim",
      "claimFor",
      "withdrawReserve",
      "setPayoutAccount",
      "closeBatch",
    ],
    PayoutLedger: ["recordPayouts"],
  },
  member: {
    BatchRegistry: BATCH_WORK,
    // Her own choice to be paid through the cooperative, and her answer to each payout.
    SaleEscrow: ["claim", "claimFor", "release", "setPaidThroughCooperative"],
    PayoutLedger: ["confirm", "contest"],
  },
  buyer: { SaleEscrow: ["confirmDelivery", "openDispute", "cancel", "release", "withdraw"] },
  certifier: { BatchRegistry: ["certify", "revokeCertification"], SaleEscrow: ["release"] },
  arbiter: { SaleEscrow: ["resolveDispute", "release"] },
  // Auditors hold no key: nothing to relay.
  auditor: {},
};

export interface AllowedCall {
  contract: RelayContract;
  function: string;
  selector: string;
}

/** Each contract's functions, with their selectors. */
const INTERFACES = Object.fromEntries(
  RELAY_CONTRACTS.map((c) => [
    c,
    ABIS[c]
      .filter((item): item is AbiFunction => item.type === "function")
      .map((f) => ({
        name: f.name,
        selector: toFunctionSelector(f),
        stateMutability: f.stateMutability,
        constant: f.stateMutability === "view" || f.stateMutability === "pure",
      })),
  ]),
) as Record<RelayContract, { name: string; selector: string; stateMutability: string; constant: boolean }[]>;

/** Each contract's functions by selector, and which of them only read (view or pure). */
const FUNCTIONS = Object.fromEntries(
  RELAY_CONTRACTS.map((c) => [
    c,
    new Map(INTERFACES[c].map((f) => [f.selector, { name: f.name, readOnly: f.constant }])),
  ]),
) as Record<RelayContract, Map<string, { name: string; readOnly: boolean }>>;

/** The allow-list resolved to selectors, checked against the ABIs (throws on any mismatch). */
function resolve(): Map<Role, Map<RelayContract, Map<string, string>>> {
  const out = new Map<Role, Map<RelayContract, Map<string, string>>>();
  for (const [role, contracts] of Object.entries(RELAY_ALLOW_LIST) as [Role, (typeof RELAY_ALLOW_LIST)[Role]][]) {
    const byContract = new Map<RelayContract, Map<string, string>>();
    for (const [contract, names] of Object.entries(contracts) as [RelayContract, readonly string[]][]) {
      const bySelector = new Map<string, string>();
      for (const name of names) {
        const matches = INTERFACES[contract].filter((f) => f.name === name);
        if (matches.length !== 1) {
          throw new Error(`relay allow-list: ${contract}.${name} matches ${matches.length} functions in the ABI`);
        }
        const fn = matches[0];
        if (fn.stateMutability !== "nonpayable") {
          throw new Error(`relay allow-list: ${contract}.${name} is ${fn.stateMutability}, not nonpayable`);
        }
        bySelector.set(fn.selector, name);
      }
      byContract.set(contract, bySelector);
    }
    out.set(role, byContract);
  }
  return out;
}

const RESOLVED = resolve();

/** Every call `role` may have relayed, with its selector (what a self-custody client may sign). */
export function allowedCalls(role: string): AllowedCall[] {
  const byContract = RESOLVED.get(role as Role);
  if (byContract === undefined) return [];
  return [...byContract].flatMap(([contract, fns]) =>
    [...fns].map(([selector, fn]) => ({ contract, function: fn, selector })),
  );
}

export interface RelayPolicy {
  /**
   * Throws RelayRefusedError('relay_not_allowed') unless `role` may have the relayer call `data`
   * on `to` with `value`; returns the contract and function otherwise.
   */
  check(role: string, to: string, data: string, value: bigint): { contract: RelayContract; function: string };
}

/** The allow-list bound to one deployment's addresses (DeploymentFile.contracts fits). */
export function createRelayPolicy(addresses: Record<RelayContract, { address: string }>): RelayPolicy {
  const contractAt = new Map<string, RelayContract>(RELAY_CONTRACTS.map((c) => [toAddress(addresses[c].address), c]));
  const refuse = (reason: ConstructorParameters<typeof RelayRefusedError>[1], message: string): never => {
    throw new RelayRefusedError("relay_not_allowed", reason, message);
  };
  return {
    check(role, to, data, value) {
      const byContract = RESOLVED.get(role as Role);
      if (byContract === undefined) return refuse("unknown_role", `the relayer pays for no call of role ${role}`);
      let target: string;
      try {
        target = toAddress(to);
      } catch {
        return refuse("foreign_contract", "the target is not an address");
      }
      const contract = contractAt.get(target);
      if (contract === undefined) {
        return refuse("foreign_contract", `the relayer pays only for CoopTrace's contracts, not ${target}`);
      }
      if (value !== 0n) return refuse("value_not_allowed", "the relayer does not send ether on anyone's behalf");
      if (!/^0x[0-9a-fA-F]*$/.test(data) || data.length < 10) {
        return refuse("no_function", "the call names no function (4-byte selector)");
      }
      const selector = data.slice(0, 10).toLowerCase();
      const known = FUNCTIONS[contract].get(selector);
      if (known?.readOnly) {
        return refuse(
          "view_function",
          `${contract}.${known.name} is a read: call it yourself, the relayer pays only for writes`,
        );
      }
      const fn = byContract.get(contract)?.get(selector);
      if (fn === undefined) {
        return refuse(
          "function_not_allowed",
          `a ${role} may not have the relayer call ${contract}.${known?.name ?? selector}`,
        );
      }
      return { contract, function: fn };
    },
  };
}

const DAY_MS = 86_400_000;

/** Start of the UTC day holding `now` (ms): the daily gas budget counts from there. */
export function utcDayStart(now = Date.now()): number {
  return now - (((now % DAY_MS) + DAY_MS) % DAY_MS);
}

/** Whole seconds until the next UTC midnight (at least 1): the Retry-After of a spent daily budget. */
export function secondsUntilNextUtcDay(now = Date.now()): number {
  return Math.max(1, Math.ceil((utcDayStart(now) + DAY_MS - now) / 1000));
}
