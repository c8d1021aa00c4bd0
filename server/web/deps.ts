/**
 * What the workspace's pages use of the gateway, gathered once (`webDeps`, called by routes.ts) so that
 * each area takes these few named parts rather than the whole gateway context: the services, the
 * once-only form writes, the index reads the pages make, token names, the relayer's word on a write, the
 * chain's time and the store of access tokens.
 */
import type { GatewayContext } from "../api/context";
import { ZERO_ADDRESS as ZeroAddress } from "../chain/address";
import type { User } from "../custody/users";
import type { Queries } from "../index";
import { createTokenLookup } from "../pages/tokens";
import type { OperationStatus } from "../relayer";
import type { Services } from "../services";
import { createFormOnce, type FormOnce } from "./forms";
import { createWebLookups, type WebLookups } from "./lookup";

/** A currency as pages show it: `param` is what a form sends back ("ETH" for the chain's own). */
export interface TokenView {
  param: string;
  symbol: string;
  /** null when the token's decimals cannot be read now: the amount is then shown in its smallest unit. */
  decimals: number | null;
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

export function webDeps(ctx: GatewayContext): WebDeps {
  const { queries } = ctx;
  const tokens = createTokenLookup(ctx.client);
  return {
    services: ctx.services,
    once: createFormOnce(ctx.db),
    lookups: createWebLookups(ctx.db),
    getBatch: (batchId) => queries.getBatch(batchId),
    getCooperative: (cooperativeId) => queries.getCooperative(cooperativeId),
    listBatches: (options) => queries.listBatches(options),
    balancesOf: (address) => queries.balancesOf(address),
    tokenView: async (address) => {
      const param = address === ZeroAddress ? "ETH" : address;
      // A token whose decimals cannot be read now is shown in its smallest unit rather than not at all.
      const info = await tokens(address).catch(() => null);
      return info === null
        ? { param, symbol: address.slice(0, 8), decimals: null }
        : { param, symbol: info.symbol, decimals: info.decimals };
    },
    status: (operationId) => ctx.relayer.status(operationId),
    chainNow: async () => (await ctx.client.getBlock("latest"))?.timestamp ?? Math.floor(Date.now() / 1000),
    authenticate: (token) => ctx.users.authenticate(token),
  };
}
