/**
 * Transactions the gateway sends from an account it holds a key for (deploying on the embedded
 * chain, minting demo tokens, a buyer paying into escrow from its custodial account): nonce, gas
 * and fees as ethers' Wallet filled them in (pending nonce, the node's estimate, EIP-1559 fees
 * when the chain has a base fee), signed with viem, sent raw, and waited for. The relayer signs its
 * own transactions (server/relayer/txsign.ts): it keeps its nonces in the outbox.
 */
import type { Hex, LocalAccount, TransactionSerializable } from "viem";
import { ChainError, type ChainClient, type ChainReceipt } from "./client";

export interface TxRequest {
  /** Absent for a contract creation. */
  to?: string;
  data: Hex;
  value?: bigint;
}

/** Signs and sends `tx` from `account`; its hash once the node took it. */
export async function sendFrom(client: ChainClient, account: LocalAccount, tx: TxRequest): Promise<Hex> {
  const [nonce, gas, fees] = await Promise.all([
    client.getTransactionCount(account.address, "pending"),
    client.estimateGas({ from: account.address, to: tx.to as string, data: tx.data, value: tx.value ?? 0n }),
    client.getFeeData(),
  ]);
  const base = {
    chainId: client.chainId,
    nonce,
    gas,
    to: tx.to as Hex | undefined,
    data: tx.data,
    value: tx.value ?? 0n,
  };
  const serializable: TransactionSerializable =
    fees.maxFeePerGas !== null && fees.maxPriorityFeePerGas !== null
      ? {
          ...base,
          type: "eip1559",
          maxFeePerGas: fees.maxFeePerGas,
          maxPriorityFeePerGas: fees.maxPriorityFeePerGas,
        }
      : { ...base, type: "legacy", gasPrice: fees.gasPrice ?? 0n };
  const raw = await account.signTransaction!(serializable);
  return client.sendRawTransaction(raw);
}

/** The receipt of `hash` once mined; a reverted transaction throws CALL_EXCEPTION. */
export async function mined(client: ChainClient, hash: Hex, timeoutMs = 120_000): Promise<ChainReceipt> {
  const receipt = await client.waitForReceipt(hash, timeoutMs);
  if (receipt.status !== 1) {
    throw new ChainError("CALL_EXCEPTION", `transaction ${hash} reverted (block ${receipt.blockNumber})`);
  }
  return receipt;
}

/** sendFrom, then mined. */
export async function sendAndWait(client: ChainClient, account: LocalAccount, tx: TxRequest): Promise<ChainReceipt> {
  return mined(client, await sendFrom(client, account, tx));
}
