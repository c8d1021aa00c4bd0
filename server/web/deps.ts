/**
 * What the workspace's pages use of the gateway, gathered once (`webDeps`, called by routes.ts) from the
 * HTTP layer's dependencies (services and stores): the services, the once-only form writes, the reads the
 * pages make, token names, the relayer's word on a write, the chain's time and who an access token names.
 */
import type { HttpDeps } from "../api/context";
import { ZERO_ADDRESS as ZeroAddress } from "../chain/address";
import type { User } from "../custody/users";
import type { Queries } from "../index";
import type { OperationStatus } from "../relayer";
import type { Services } from "../services";
import type { FormOnce } from "./forms";

export type WebLookups = Pick<Queries, "findLots" | "gtinOf" | "cooperativeOfAdmin">;

/** A currency as pages show it: `param` is what a form sends back ("ETH" for the chain's own). */
export interface TokenView {
  param: string;
  symbol: string;
  /** null when the token's decimals cannot be read now: the amount is then shown in its smallest unit. */
  decimals: number | null;
  /** The currency the escrow recorded with the token (ISO 4217), or null. */
  currency: string | null;
}

export interface WebDeps {
  services: Services;
  /** A double submit writes once (forms.ts). */
  once: FormOnce;
  lookups: WebLookups;
  getBatch: Queries["getBatch"];
  getCooperative: Queries["getCooperative"];
  listBatches: Queries["listBatches"];
  balancesOf: Queries["balancesOf"];
  /** A currency's symbol and decimals (remembered once read). */
  tokenView: (address: string) => Promise<TokenView>;
  /** The relayer's word on an operation (progress.ts). */
  status: (operationId: string) => OperationStatus | undefined;
  /** The chain's time (latest block), which decides whether a dispute window has passed. */
  chainNow: () => Promise<number>;
  /** The user an access token names, if any. */
  authenticate: (token: string) => User | null;
}

export function webDeps(deps: Pick<HttpDeps, "services" | "stores">): WebDeps {
  const { services } = deps;
  const { reads, tokens } = services;
  return {
    services,
    once: deps.stores.formOnce,
    lookups: { findLots: reads.findLots, gtinOf: reads.gtinOf, cooperativeOfAdmin: reads.cooperativeOfAdmin },
    getBatch: (batchId) => reads.getBatch(batchId),
    getCooperative: (cooperativeId) => reads.getCooperative(cooperativeId),
    listBatches: (options) => reads.listBatches(options),
    balancesOf: (address) => reads.balancesOf(address),
    tokenView: async (address) => {
      const param = address === ZeroAddress ? "ETH" : address;
      // A token whose decimals cannot be read now is shown in its smallest unit rather than not at all.
      const info = await tokens(address).catch(() => null);
      return info === null
        ? { param, symbol: address.slice(0, 8), decimals: null, currency: null }
        : { param, symbol: info.symbol, decimals: info.decimals, currency: info.currency ?? null };
    },
    status: (operationId) => services.operations.find(operationId),
    chainNow: () => services.network.chainNow(),
    authenticate: (token) => services.users.authenticate(token),
  };
}
