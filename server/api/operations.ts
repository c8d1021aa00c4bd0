/**
 * The HTTP side of a write (the write itself is the service layer's: server/services/writes.ts): by
 * default the request waits for the receipt and answers 201 with the transaction hash, block and the
 * decoded events; with `?wait=false` (or when the chain is slow) it answers 202 with a status URL.
 */
import type { Request, Response } from "express";
import type { User } from "../custody/users";
import type { ForwardRequestData } from "../relayer";
import { createWriter, type Writer, type WriteOutcome } from "../services/writes";
import type { GatewayContext } from "./context";

export { eventArg, type DecodedEvent, type WriteOutcome } from "../services/writes";

/** 201 when mined, else 202 with the operation's status URL. */
export function answerWrite(res: Response, outcome: WriteOutcome): WriteOutcome {
  if (outcome.status === "mined") res.status(201);
  else res.status(202).location(`/api/v1/operations/${outcome.operationId}`);
  return outcome;
}

export function waitPreference(req: Request): { wait: boolean } {
  return { wait: req.query.wait !== "false" };
}

export function createOperations(ctx: GatewayContext, writer?: Writer) {
  const w =
    writer ??
    createWriter({
      relayer: ctx.relayer,
      indexer: ctx.indexer,
      deployment: ctx.deployment,
      writeTimeoutMs: ctx.writeTimeoutMs,
    });
  return {
    decode: w.decode,
    /** Relays `data` to `to` as `user`, and answers per the request's `wait` preference. */
    async write(req: Request, res: Response, user: User, call: { to: string; data: string }): Promise<WriteOutcome> {
      return answerWrite(res, await w.write(user, call, waitPreference(req)));
    },
    /** Relays a forward request the user signed itself (self-custody), and answers like write(). */
    async writeSigned(req: Request, res: Response, user: User, request: ForwardRequestData): Promise<WriteOutcome> {
      return answerWrite(res, await w.writeSigned(user, request, waitPreference(req)));
    },
  };
}

export type Operations = ReturnType<typeof createOperations>;
