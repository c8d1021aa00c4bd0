/**
 * Symbol and decimals of the tokens sales are priced in: ETH (the zero address) is known; an ERC-20
 * is asked once through `decimals()` and `symbol()` and remembered (they never change). A failed call
 * is not remembered, and the error reaches the page, which then says it cannot confirm.
 */
import { erc20Abi, type Hex } from "viem";
import { ZERO_ADDRESS as ZeroAddress } from "../chain/address";
import type { ChainClient } from "../chain/client";

export interface TokenInfo {
  address: string;
  symbol: string;
  decimals: number;
}

export const ETH: TokenInfo = { address: ZeroAddress, symbol: "ETH", decimals: 18 };

export type TokenLookup = (address: string) => Promise<TokenInfo>;

export function createTokenLookup(client: ChainClient): TokenLookup {
  const known = new Map<string, TokenInfo>([[ZeroAddress.toLowerCase(), ETH]]);
  const pending = new Map<string, Promise<TokenInfo>>();
  return async (address) => {
    const key = address.toLowerCase();
    const hit = known.get(key);
    if (hit !== undefined) return hit;
    let p = pending.get(key);
    if (p === undefined) {
      const token = { address: address as Hex, abi: erc20Abi } as const;
      p = Promise.all([
        client.read({ ...token, functionName: "decimals" }),
        client.read({ ...token, functionName: "symbol" }).catch(() => ""),
      ])
        .then(([decimals, symbol]) => {
          const info = { address, symbol: symbol.slice(0, 12) || address.slice(0, 8), decimals: Number(decimals) };
          known.set(key, info);
          return info;
        })
        .finally(() => pending.delete(key));
      pending.set(key, p);
    }
    return p;
  };
}
