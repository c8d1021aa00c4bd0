/**
 * Symbol and decimals of the tokens sales are priced in: ETH (the zero address) is known; an ERC-20
 * is asked once through `decimals()` and `symbol()` and remembered (they never change). A failed call
 * is not remembered, and the error reaches the page, which then says it cannot confirm.
 */
import { erc20Abi, hexToString, type Hex } from "viem";
import { saleEscrowAbi } from "../chain/abis.generated";
import { ZERO_ADDRESS as ZeroAddress } from "../chain/address";
import type { ChainClient } from "../chain/client";

export interface TokenInfo {
  address: string;
  symbol: string;
  decimals: number;
  /** The currency (ISO 4217) the escrow recorded with the token ("ETH" for ether), or null if none. */
  currency?: string | null;
}

export const ETH: TokenInfo = { address: ZeroAddress, symbol: "ETH", decimals: 18, currency: "ETH" };

export type TokenLookup = (address: string) => Promise<TokenInfo>;

/**
 * `escrow`: the SaleEscrow's address, whose `currencyOf` says a settlement token's currency (amounts
 * are then shown as money, "1.250,00 MAD"); without it, or for a token allowed without one, the symbol.
 */
export function createTokenLookup(client: ChainClient, escrow?: string): TokenLookup {
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
        escrow === undefined
          ? null
          : client
              .read({ address: escrow as Hex, abi: saleEscrowAbi, functionName: "currencyOf", args: [address as Hex] })
              .then(([code]) => (code === "0x000000" ? null : hexToString(code)))
              .catch(() => null),
      ])
        .then(([decimals, symbol, currency]) => {
          const info = {
            address,
            symbol: symbol.slice(0, 12) || address.slice(0, 8),
            decimals: Number(decimals),
            currency: currency !== null && /^[A-Z]{3}$/.test(currency) ? currency : null,
          };
          known.set(key, info);
          return info;
        })
        .finally(() => pending.delete(key));
      pending.set(key, p);
    }
    return p;
  };
}
