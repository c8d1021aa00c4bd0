/**
 * A member's call run as the forwarder runs it — from the forwarder's address with the signer
 * appended to the calldata (ERC-2771), so `_msgSender()` is the member and no forwarder nonce or
 * signature is needed: simulated before a request is accepted, replayed after one failed on chain
 * to say why.
 */
import { numberToHex } from "viem";
import type { ChainClient } from "../chain/client";
import { RelayRejectedError, type DecodedError } from "./errors";
import { decodeRevert, revertDataOf } from "./nodeErrors";
import type { RelayerChain } from "./chain";

/** Clients that refused the pending block tag in an estimate (asked with latest since). */
const pendingRefused = new WeakSet<ChainClient>();

/** A node's refusal of the block tag itself (a client without a pending block), not of the call. */
function blockTagRefused(err: unknown): boolean {
  const message = err instanceof Error ? err.message.toLowerCase() : "";
  return /pending|block tag|blocktag|unsupported|not supported/.test(message);
}

/** The call's gas estimate, or RelayRejectedError 'would_revert' with the decoded revert. */
export async function simulate(
  chain: RelayerChain,
  client: ChainClient,
  call: { from: string; to: string; data: string; value: bigint },
): Promise<bigint> {
  const { address } = await chain.forwarderContext();
  // Both are checked hex already: the ERC-2771 suffix is the signer's 20 bytes.
  const tx = {
    from: address,
    to: call.to,
    data: call.data + call.from.slice(2).toLowerCase(),
    value: numberToHex(call.value),
  };
  // Straight JSON-RPC (ethers' estimateGas would re-check and re-encode every field); a value is
  // lent to the forwarder, which holds no ether, with a state override.
  const estimate = (tag: "pending" | "latest") => {
    const params = call.value === 0n ? [tx, tag] : [tx, tag, { [address]: { balance: numberToHex(call.value * 2n) } }];
    return chain.rpc("estimateGas", client.request("eth_estimateGas", params));
  };
  try {
    // On the pending block: the one the request will be mined in, with the chain's clock of now. The
    // latest block of an idle chain is old: an event timed now would be "in the future" there.
    let hex: unknown;
    if (pendingRefused.has(client)) hex = await estimate("latest");
    else {
      try {
        hex = await estimate("pending");
      } catch (err) {
        if (revertDataOf(err).reverted || !blockTagRefused(err)) throw err;
        pendingRefused.add(client); // a client without a pending block: the latest one, from now on
        hex = await estimate("latest");
      }
    }
    return BigInt(hex as string);
  } catch (err) {
    const revert = revertDataOf(err);
    if (!revert.reverted) throw err;
    const decoded = decodeRevert(revert.data);
    throw new RelayRejectedError(
      "would_revert",
      decoded ? `the call would revert with ${decoded.name}` : "the call would revert",
      decoded,
    );
  }
}

/**
 * Why a request's call reverted at `blockNumber`: replayed on the state before the block, then on
 * the block's own (a request that failed because an earlier one in the same batch changed the
 * state shows its error only there).
 */
export async function failureReason(
  chain: RelayerChain,
  client: ChainClient,
  row: { signer: string; target: string; data: string; value: string },
  blockNumber: number,
): Promise<{ code: string; message: string; decoded?: DecodedError }> {
  const { address } = await chain.forwarderContext();
  let decoded: DecodedError | undefined;
  for (const blockTag of [blockNumber - 1, blockNumber]) {
    try {
      const call = {
        from: address,
        to: row.target,
        data: (row.data + row.signer.slice(2)).toLowerCase(),
        value: BigInt(row.value),
      };
      await chain.rpc("call", client.call(call, blockTag));
    } catch (err) {
      const revert = revertDataOf(err);
      if (!revert.reverted) break;
      decoded = decodeRevert(revert.data);
      if (decoded) break;
    }
  }
  return {
    code: "reverted",
    message: decoded ? `the call reverted with ${decoded.name}` : "the call reverted",
    decoded,
  };
}
