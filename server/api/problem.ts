/**
 * Errors as RFC 9457 problem details (`application/problem+json`) with a stable `code`. Handlers
 * throw ApiError (or a domain error mapped here); the error middleware is the only writer.
 */
import type { ErrorRequestHandler, Response } from "express";
import { ZodError } from "zod";
import type { Logger } from "../log";
import { DomainError, type ErrorKind } from "../services/errors";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = "ApiError";
  }
}

const TITLES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  409: "Conflict",
  413: "Content Too Large",
  414: "URI Too Long",
  415: "Unsupported Media Type",
  422: "Unprocessable Content",
  429: "Too Many Requests",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

export function sendProblem(
  res: Response,
  status: number,
  code: string,
  detail: string,
  extra: Record<string, unknown> = {},
): void {
  res
    .status(status)
    .type("application/problem+json")
    .send(JSON.stringify({ type: `about:blank`, title: TITLES[status] ?? "Error", status, code, detail, ...extra }));
}

/** Maps an error to (status, code, detail, extra). Other modules register mappers for their errors. */
export type ErrorMapper = (
  err: unknown,
) => { status: number; code: string; detail: string; extra?: Record<string, unknown> } | undefined;

export function zodIssues(err: ZodError): { field: string; message: string }[] {
  return err.issues.flatMap((i) =>
    // An unknown field is named itself, not the object that holds it.
    i.code === "unrecognized_keys"
      ? i.keys.map((key) => ({ field: [...i.path, key].join("."), message: "is not a known field" }))
      : [{ field: i.path.join(".") || "(body)", message: i.message }],
  );
}

/**
 * A contract read that came back empty (`0x`): ethers cannot decode it because there is no contract
 * at the address any more, i.e. the chain was reset under the gateway. Ours to fix, not the caller's.
 */
export const missingContracts: ErrorMapper = (err) => {
  const e = err as { code?: unknown; value?: unknown } | null;
  if (e?.code === "BAD_DATA" && e.value === "0x") {
    return {
      status: 503,
      code: "contracts_missing",
      detail: "the CoopTrace contracts are not on the chain any more (was it reset?); try again later",
    };
  }
  return undefined;
};

/** The one place where a service's error kind becomes an HTTP status. */
export const STATUS_OF_KIND: Record<ErrorKind, number> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  rejected: 422,
  rate_limited: 429,
  unavailable: 503,
};

const domainErrors: ErrorMapper = (err) =>
  err instanceof DomainError
    ? { status: STATUS_OF_KIND[err.kind], code: err.code, detail: err.message, extra: err.extra }
    : undefined;

/** Mappers every gateway applies after the ones it is given. */
const BUILT_IN_MAPPERS: ErrorMapper[] = [domainErrors, missingContracts];

export function errorHandler(log: Logger, given: ErrorMapper[]): ErrorRequestHandler {
  const mappers = [...given, ...BUILT_IN_MAPPERS];
  // Express recognises error middleware by its four parameters.
  return (err, req, res, _next) => {
    if (err instanceof ApiError) return sendProblem(res, err.status, err.code, err.message, err.extra);
    if (err instanceof ZodError) {
      const errors = zodIssues(err);
      return sendProblem(res, 400, "invalid_field", `invalid ${errors.map((e) => e.field).join(", ")}`, { errors });
    }
    const e = err as { type?: string; status?: number };
    if (e?.type === "entity.too.large") return sendProblem(res, 413, "body_too_large", "the request body is too large");
    if (e?.type === "entity.parse.failed") return sendProblem(res, 400, "malformed_json", "the body is not valid JSON");
    if (e?.type === "encoding.unsupported" || e?.type === "charset.unsupported") {
      return sendProblem(res, 415, "unsupported_encoding", "unsupported body encoding");
    }
    // A path that is not valid percent-encoding: Express 5 raises a URIError marked 400.
    if (err instanceof URIError) return sendProblem(res, 400, "malformed_url", "the URL is not valid percent-encoding");
    for (const map of mappers) {
      const m = map(err);
      if (m) {
        // A refusal that ends (a daily budget, a rate) says when: relayer and service errors alike.
        const retry =
          (err as { retryAfterSeconds?: unknown })?.retryAfterSeconds ??
          (err instanceof DomainError ? err.extra.retryAfterSeconds : undefined);
        if (typeof retry === "number") res.set("Retry-After", String(Math.max(1, Math.ceil(retry))));
        if (m.status >= 500)
          log.warn({ err: String((err as Error)?.message ?? err), code: m.code, reqId: req.id }, "request failed");
        return sendProblem(res, m.status, m.code, m.detail, m.extra ?? {});
      }
    }
    log.error({ err, reqId: req.id }, "unhandled error");
    // Never a stack trace or an internal message in a response.
    return sendProblem(res, 500, "internal", "an internal error occurred; it was logged");
  };
}
