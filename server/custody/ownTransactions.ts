/**
 * Custody signing a user's own transaction (a buyer paying into escrow from its custodial account),
 * for the relayer's outbox (server/relayer/own.ts): the key is decrypted for this one signature, and
 * only for the address the outbox recorded.
 */
import { keccak256, type Hex, type TransactionSerializable } from "viem";
import type { UserStore } from "./users";

/** The fields of the transaction to sign (the relayer's RelayerTxFields, structurally). */
export interface OwnTransactionFields {
  type: 0 | 2;
  chainId: bigint;
  nonce: number;
  to: string;
  data: string;
  value: bigint;
  gasLimit: bigint;
  maxFeePerGas?: bigint | null;
  maxPriorityFeePerGas?: bigint | null;
  gasPrice?: bigint | null;
}

export function ownTransactionSigner(users: Pick<UserStore, "withAccount">) {
  return (userId: string, signer: string, tx: OwnTransactionFields): Promise<{ raw: string; hash: string }> =>
    users.withAccount(userId, async (account) => {
      // The outbox recorded the address the transaction is from: never sign it with another key.
      if (account.address.toLowerCase() !== signer.toLowerCase()) {
        throw new Error(`the key of user ${userId} is not ${signer}'s`);
      }
      const base = {
        chainId: Number(tx.chainId),
        nonce: tx.nonce,
        gas: tx.gasLimit,
        to: tx.to as Hex,
        data: tx.data as Hex,
        value: tx.value,
      };
      const serializable: TransactionSerializable =
        tx.type === 2
          ? {
              ...base,
              type: "eip1559",
              maxFeePerGas: tx.maxFeePerGas ?? 0n,
              maxPriorityFeePerGas: tx.maxPriorityFeePerGas ?? 0n,
            }
          : { ...base, type: "legacy", gasPrice: tx.gasPrice ?? 0n };
      const raw = await account.signTransaction!(serializable);
      return { raw, hash: keccak256(raw) };
    });
}
