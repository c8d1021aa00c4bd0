/**
 * The HTTP side of a write (the write itself is the service layer's: server/services/writes.ts): by
 * default the request waits for the receipt and answers 201 with the transaction hash, block and the
 * decoded events; with `?wait=false` (or when the chain is slow) it answers 202 with a status URL.
 */
import type { Request, Response } from "express";
import type { WriteOutcome } from "../services/writes";

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
