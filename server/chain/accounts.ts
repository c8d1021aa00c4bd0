/**
 * Small typed handles over the client for the composition root: an account that sends its own
 * transactions (the platform's DEPLOYER_KEY, the demo faucet), and the contract reads the services
 * take as interfaces (the forwarder's domain and nonces, the escrow's views).
 */
import type { Hex, LocalAccount } from "viem";
import { forwarderAbi, saleEscrowAbi } from "./abis.generated";
import type { ChainClient } from "./client";
import { mined, sendFrom } from "./send";

/** An account of ours on the chain: eth_call from it, and transactions it signs and pays for. */
export function clientAccount(client: ChainClient, account: LocalAccount) {
  return {
    address: account.address,
    call: (tx: { to: string; data: string }) => client.call({ from: account.address, to: tx.to, data: tx.data }),
    async sendTransaction(tx: { to: string; data?: string; value?: bigint }) {
      const hash = await sendFrom(client, account, { to: tx.to, data: (tx.data ?? "0x") as Hex, value: tx.value });
      return { hash, wait: () => mined(client, hash) };
    },
  };
}

/** The forwarder's EIP-712 domain and nonces. */
export function forwarderReads(client: ChainClient, forwarder: string) {
  const address = forwarder as Hex;
  return {
    async eip712Domain() {
      const [, name, version, chainId, verifyingContract] = await client.read({
        address,
        abi: forwarderAbi,
        functionName: "eip712Domain",
      });
      return { name, version, chainId, verifyingContract };
    },
    nonces: (owner: string) =>
      client.read({ address, abi: forwarderAbi, functionName: "nonces", args: [owner as Hex] }),
  };
}

/** The escrow's views the audits read, at the node's head. */
export function escrowViews(client: ChainClient, escrow: string) {
  const address = escrow as Hex;
  return {
    saleCount: () => client.read({ address, abi: saleEscrowAbi, functionName: "saleCount" }),
    getSale: (saleId: number) =>
      client.read({ address, abi: saleEscrowAbi, functionName: "getSale", args: [BigInt(saleId)] }),
    reserveOf: (cooperativeId: number, token: string) =>
      client.read({
        address,
        abi: saleEscrowAbi,
        functionName: "reserveOf",
        args: [BigInt(cooperativeId), token as Hex],
      }),
  };
}
