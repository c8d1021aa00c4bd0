/**
 * Writes: a member's call goes to the relayer (validated, simulated, queued durably); by default the
 * request waits for the receipt and answers the transaction hash, block and the decoded events of
 * this request; with `?wait=false` (or when the chain is slow) it answers 202 with a status URL.
 */
import type { Request, Response } from "express";
import type { Log } from "ethers";
import { contractsByAddress, decodeLog } from "../index/decode";
import type { User } from "../custody/users";
import { RelayRejectedError, type ForwardRequestData } from "../relayer";
import type { GatewayContext } from "./context";
import { ApiError } from "./problem";

export interface DecodedEvent {
  contract: string;
  name: string;
  args: Record<string, unknown>;
  logIndex: number;
}

export interface WriteOutcome {
  operationId: string;
  status: "mined" | "queued" | "sent";
  txHash?: string;
  blockNumber?: number;
  events: DecodedEvent[];
}

export function createOperations(ctx: GatewayContext) {
  const known = contractsByAddress(ctx.deployment);

  /** The events of our contracts among `logs`, decoded by the indexer's decoder (one definition). */
  function decode(logs: readonly Log[]): DecodedEvent[] {
    const out: DecodedEvent[] = [];
    for (const log of logs) {
      const contract = known.get(log.address.toLowerCase());
      const event = contract ? decodeLog(log, contract, 0) : null;
      if (event) out.push({ contract: event.contract, name: event.name, args: event.args, logIndex: event.logIndex });
    }
    return out;
  }

  /** Waits for the request's receipt (unless `?wait=false`) and answers 201 with its events, or 202. */
  async function answer(req: Request, res: Response, id: string): Promise<WriteOutcome> {
    const statusUrl = `/api/v1/operations/${id}`;
    const wait = req.query.wait !== "false";
    const status = wait ? await ctx.relayer.waitFor(id, ctx.writeTimeoutMs) : ctx.relayer.status(id)!;
    if (status.state === "failed") {
      throw new ApiError(
        422,
        status.error?.code ?? "chain_rejected",
        status.error?.message ?? "the transaction failed",
        {
          operationId: id,
          txHash: status.txHash,
          error: status.error?.decoded,
        },
      );
    }
    if (status.state !== "mined") {
      res.status(202).location(statusUrl);
      return { operationId: id, status: status.state, events: [] };
    }
    const events = decode(await ctx.relayer.logs(id));
    // Reads right after a write should see it: let the index catch up to this block (bounded).
    await ctx.indexer.waitForBlock(status.blockNumber!, 5_000);
    res.status(201);
    return { operationId: id, status: "mined", txHash: status.txHash, blockNumber: status.blockNumber, events };
  }

  return {
    decode,
    /** Relays `data` to `to` as `user`, and answers per the request's `wait` preference. */
    async write(req: Request, res: Response, user: User, call: { to: string; data: string }): Promise<WriteOutcome> {
      if (user.address === null) throw new ApiError(403, "no_key", "this account cannot sign transactions");
      // Checked here, before anything is queued: the relayer would only find out when signing.
      if (user.custody === "self") {
        throw new ApiError(
          409,
          "self_custody",
          "you hold your own key: the gateway no longer signs for you; sign a forward request and POST it to /api/v1/me/forward-requests",
        );
      }
      const { id } = await ctx.relayer.submit({ userId: user.id, from: user.address, to: call.to, data: call.data });
      return answer(req, res, id);
    },
    /** Relays a forward request the user signed itself (self-custody), and answers like write(). */
    async writeSigned(req: Request, res: Response, user: User, request: ForwardRequestData): Promise<WriteOutcome> {
      let id: string;
      try {
        ({ id } = await ctx.relayer.submitSigned({ userId: user.id, request }));
      } catch (err) {
        // The request itself is wrong (signature, nonce, deadline, gas): say which, with the relayer's code.
        if (err instanceof RelayRejectedError && err.code !== "would_revert") {
          throw new ApiError(422, err.code, err.message);
        }
        throw err;
      }
      return answer(req, res, id);
    },
  };
}

export type Operations = ReturnType<typeof createOperations>;

export function eventArg(outcome: WriteOutcome, name: string, arg: string): unknown {
  return outcome.events.find((e) => e.name === name)?.args[arg];
}
