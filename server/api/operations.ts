/**
 * The HTTP side of a write (the write itself is the service layer's: server/services/writes.ts): by
 * default the request waits for the receipt and answers 201 with the transaction hash, block and the
 * decoded events; with `?wait=false` (or when the chain is slow) it answers 202 with a status URL.
 */
import type { Request, Response } from "express";
import type { WriteOptions, WriteOutcome } from "../services/writes";

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

/**
 * Runs a service's write with the request's wait preference and answers it: 201 or 202 with the outcome,
 * then the write's own results (the new ids, the amount paid) after it.
 */
export async function answerWriteOf<R extends { outcome: WriteOutcome }>(
  req: Request,
  res: Response,
  write: (options: WriteOptions) => Promise<R>,
): Promise<WriteOutcome & Omit<R, "outcome">> {
  const { outcome, ...results } = await write(waitPreference(req));
  return { ...answerWrite(res, outcome), ...results };
}
