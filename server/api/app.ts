/**
 * buildApp(ctx) returns the Express application without listening, so tests start it on port 0.
 */
import express, { Router, type Express } from "express";
import helmet from "helmet";
import cors from "cors";
import { rateLimit } from "express-rate-limit";
import { pinoHttp } from "pino-http";
import { randomUUID } from "node:crypto";
import { z } from "zod";
import type { GatewayContext } from "./context";
import { authenticate } from "./auth";
import { idempotency } from "./idempotency";
import { createOpenApi } from "./openapi";
import { createOperations } from "./operations";
import { ApiError, errorHandler, sendProblem, type ErrorMapper } from "./problem";
import { cooperativeRoutes } from "./routes/cooperatives";
import { batchRoutes } from "./routes/batches";
import { saleRoutes } from "./routes/sales";
import { userRoutes } from "./routes/users";
import { healthRoutes } from "./routes/health";
import { epcisRoutes } from "./routes/epcis";
import { labelRoutes } from "../labels";
import { pageRoutes } from "../pages";
import { statsRoutes } from "../stats";
import { auditRoutes } from "./routes/audit";
import { auditPageRoutes } from "../audit/pages";

export const API_PREFIX = "/api/v1";

/** Relayer, custody and chain errors, as problems. */
const domainErrors: ErrorMapper = (err) => {
  const e = err as {
    name?: string;
    code?: string;
    message?: string;
    decoded?: { name: string; args: unknown } | null;
    shortMessage?: string;
    revert?: { name: string; args: unknown };
  };
  switch (e?.name) {
    case "RelayRejectedError":
      return {
        status: 422,
        code: e.decoded?.name ?? e.code ?? "chain_rejected",
        detail: e.decoded ? `the contract refused: ${e.decoded.name}` : "the contract refused the call",
        extra: { error: e.decoded ?? null },
      };
    case "RelayerUnavailableError":
      return { status: 503, code: e.code ?? "relayer_unavailable", detail: e.message ?? "the relayer is unavailable" };
    case "CustodyError":
      return {
        status: e.code === "invalid_text" ? 400 : 409,
        code: e.code ?? "custody",
        detail: e.message ?? "custody error",
      };
  }
  // A direct call (buyer payment) reverted in simulation: ethers decodes our custom errors.
  if (e?.code === "CALL_EXCEPTION" && e.revert) {
    return {
      status: 422,
      code: e.revert.name,
      detail: `the contract refused: ${e.revert.name}`,
      extra: { error: { name: e.revert.name, args: String(e.revert.args) } },
    };
  }
  if (e?.code === "INSUFFICIENT_FUNDS")
    return { status: 422, code: "insufficient_funds", detail: "the account does not hold enough to pay" };
  if (e?.code === "NETWORK_ERROR" || e?.code === "TIMEOUT" || (e as { code?: string })?.code === "ECONNREFUSED") {
    return { status: 503, code: "chain_unavailable", detail: "the chain cannot be reached" };
  }
  return undefined;
};

export interface BuildOptions {
  /** Routes added before the 404 fallback (benchmarks add a static ceiling route this way). */
  extraRoutes?: (app: Express) => void;
  /** Public GETs per minute and address (API reads and pages); 0 turns the limit off. Default 600. */
  publicRateLimit?: number;
}

export function buildApp(ctx: GatewayContext, options: BuildOptions = {}): Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", false);
  app.use(
    pinoHttp({
      logger: ctx.log,
      genReqId: (req, res) => {
        const id = randomUUID();
        res.setHeader("X-Request-Id", id);
        return id;
      },
      // Only the method, path and status: no headers (tokens) and no bodies (keys on export).
      serializers: {
        req: (req: { id: string; method: string; url: string }) => ({
          id: req.id,
          method: req.method,
          path: req.url.split("?")[0],
        }),
        res: (res: { statusCode: number }) => ({ status: res.statusCode }),
      },
    }),
  );
  app.use(helmet());

  const publicLimit = options.publicRateLimit ?? 600;
  const limiter = () =>
    rateLimit({
      windowMs: 60_000,
      limit: publicLimit,
      standardHeaders: "draft-7",
      legacyHeaders: false,
      handler: (_req, res) => sendProblem(res, 429, "rate_limited", "too many requests; slow down"),
    });
  const publicLimiter = limiter();
  // The public pages (verify, market, stats) have their own budget per address, like the public API.
  if (publicLimit > 0) {
    const pagesLimiter = limiter();
    app.use(["/b", "/01", "/market", "/stats"], (req, res, next) =>
      req.method === "GET" || req.method === "HEAD" ? pagesLimiter(req, res, next) : next(),
    );
  }
  const signupLimiter = rateLimit({
    windowMs: 60 * 60_000,
    limit: 20,
    standardHeaders: "draft-7",
    legacyHeaders: false,
    handler: (_req, res) => sendProblem(res, 429, "rate_limited", "too many sign-ups from this address"),
  });

  const api = createOpenApi(API_PREFIX, {
    title: "CoopTrace gateway",
    version: "1.0.0",
    description:
      "Provenance and fair-revenue ledger for cooperatives. Errors are RFC 9457 problem details with a stable `code`.",
  });
  const ops = createOperations(ctx);
  const v1 = Router();
  // Public reads may be used from any web page (a shop showing provenance); writes are not CORS-enabled.
  const publicCors = cors({ origin: "*", methods: ["GET"], exposedHeaders: ["X-Request-Id"] });
  v1.use((req, res, next) => (req.method === "GET" || req.method === "HEAD" ? publicCors(req, res, next) : next()));
  v1.use((req, _res, next) => {
    // Public reads without a token are rate-limited per address; authenticated calls are not.
    if (publicLimit > 0 && req.method === "GET" && req.get("authorization") === undefined) {
      return publicLimiter(req, _res, next);
    }
    next();
  });
  v1.use((req, _res, next) => {
    if (
      req.method === "POST" &&
      req.headers["content-length"] !== "0" &&
      req.headers["content-type"] !== undefined &&
      !req.is("application/json")
    ) {
      return next(new ApiError(415, "unsupported_media_type", "send JSON (Content-Type: application/json)"));
    }
    next();
  });
  v1.use(express.json({ limit: "64kb", strict: true }));
  v1.use(authenticate(ctx.users));
  v1.use(idempotency(ctx.db));

  userRoutes(v1, api, ctx, signupLimiter);
  cooperativeRoutes(v1, api, ctx, ops);
  batchRoutes(v1, api, ctx, ops);
  saleRoutes(v1, api, ctx, ops);
  epcisRoutes(v1, api, ctx);
  labelRoutes(v1, api, ctx);

  api.defineRoute(v1, {
    method: "get",
    path: "/operations/:id",
    summary: "Status of a write (its owner or the platform admin)",
    tags: ["operations"],
    auth: ["any"],
    params: z.object({ id: z.string().uuid() }),
    responses: { 200: "the status", 401: "no token", 404: "unknown operation" },
    handler({ params, req }) {
      const status = ctx.relayer.status(params.id);
      // Someone else's operation is reported as unknown: its existence is not for others to learn.
      if (!status || (status.userId !== req.user!.id && req.user!.role !== "platform_admin")) {
        throw new ApiError(404, "operation_not_found", "no such operation");
      }
      return status;
    },
  });
  v1.get("/openapi.json", (_req, res) => res.json(api.document(ctx.publicUrl)));

  auditRoutes(v1, api, ctx);
  statsRoutes(app, v1, api, ctx);
  app.use(API_PREFIX, v1);
  healthRoutes(app, ctx);
  pageRoutes(app, ctx);
  auditPageRoutes(app, ctx);
  options.extraRoutes?.(app);
  app.use((req, res) => sendProblem(res, 404, "not_found", `no route for ${req.method} ${req.path}`));
  app.use(errorHandler(ctx.log, [domainErrors]));
  return app;
}
