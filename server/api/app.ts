/**
 * buildApp(deps) returns the Express application without listening, so tests start it on port 0.
 */
import express, { Router, type Express, type RequestHandler } from "express";
import helmet from "helmet";
import cors from "cors";
import { rateLimit } from "express-rate-limit";
import { pinoHttp } from "pino-http";
import { randomUUID } from "node:crypto";
import type { HttpDeps } from "./context";
import { authenticate } from "./auth";
import { idempotency } from "./idempotency";
import { verifyJsonBody } from "./body";
import { userWriteLimit } from "./quotas";
import { createOpenApi, type OpenApiBuilder } from "./openapi";
import { ApiError, errorHandler, sendProblem, type ErrorMapper } from "./problem";
import { cooperativeRoutes } from "./routes/cooperatives";
import { batchRoutes } from "./routes/batches";
import { saleRoutes } from "./routes/sales";
import { userRoutes } from "./routes/users";
import { healthRoutes } from "./routes/health";
import { operationRoutes } from "./routes/operations";
import { epcisRoutes } from "./routes/epcis";
import { labelRoutes } from "../labels/routes";
import { pageRoutes, type PageRouteOptions } from "../pages";
import { statsRoutes } from "../stats/routes";
import { auditRoutes } from "./routes/audit";
import { payoutRoutes } from "./routes/payouts";
import { auditPageRoutes } from "../audit/pages";
import type { PageSessions } from "../sessions/http";
import { personalizePages } from "../web/http";
import { webRoutes } from "../web/routes";

export const API_PREFIX = "/api/v1";

/**
 * The longest request target (path and query) answered: longer ones get 414 `uri_too_long` before
 * any route, logger or cache sees them. No route of ours needs more; an anonymous visitor's 16 KB of
 * junk parameters once made every public page big and distinct (issue 10, finding 1).
 */
export const MAX_URL_LENGTH = 2048;

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
    case "RelayRefusedError":
      // Not the relayer's to pay: off the allow-list (403), or the caller's daily gas spent (429;
      // operations.ts adds Retry-After).
      return {
        status: e.code === "gas_budget_exceeded" ? 429 : 403,
        code: e.code ?? "relay_not_allowed",
        detail: e.message ?? "the relayer does not pay for this call",
        extra: { reason: (err as { reason?: string }).reason ?? null },
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
  /** Options of the public pages (a test passes its own page cache to watch its size). */
  pages?: PageRouteOptions;
}

/** Request ids, the request log (method, path, status only) and the security headers. */
function baseMiddleware(app: Express, deps: Pick<HttpDeps, "log" | "settings">): void {
  // req.url is the request target as received (percent-encoded, so one character per byte).
  app.use((req, res, next) =>
    req.url.length > MAX_URL_LENGTH
      ? sendProblem(res, 414, "uri_too_long", `the URL is longer than ${MAX_URL_LENGTH} bytes`, {
          maxLength: MAX_URL_LENGTH,
        })
      : next(),
  );
  app.use(
    pinoHttp({
      logger: deps.log,
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
  // HSTS only when PUBLIC_URL is https: over plain HTTP the header is meaningless, and on a host later
  // put behind TLS it would pin browsers to https before the operator chose to.
  app.use(helmet({ strictTransportSecurity: deps.settings.https }));
}

function problemLimiter(windowMs: number, limit: number, detail: string): RequestHandler {
  return rateLimit({
    windowMs,
    limit,
    standardHeaders: "draft-7",
    legacyHeaders: false,
    handler: (_req, res) => sendProblem(res, 429, "rate_limited", detail),
  });
}

/**
 * /api/v1: public reads open to any origin and rate-limited per address, JSON bodies only, bearer
 * tokens (failures counted in the pages' limiter), per-user write limits, Idempotency-Key; then the routes.
 */
function apiRouter(deps: HttpDeps, api: OpenApiBuilder, limiter: PageSessions["limiter"], publicLimit: number) {
  const { services, settings } = deps;
  const v1 = Router();
  const publicLimiter = problemLimiter(60_000, publicLimit, "too many requests; slow down");
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
  // verifyJsonBody keeps the raw bytes (hashed by idempotency) and refuses deep nesting (400 json_too_deep).
  v1.use(express.json({ limit: "64kb", strict: true, verify: verifyJsonBody }));
  v1.use(authenticate(services.users, limiter));
  v1.use(userWriteLimit(settings));
  v1.use(idempotency(deps.stores.idempotency, { ttlMs: settings.idempotencyTtlMs }));

  const signupLimiter = problemLimiter(60 * 60_000, 20, "too many sign-ups from this address");
  userRoutes(v1, api, services, signupLimiter);
  cooperativeRoutes(v1, api, services);
  batchRoutes(v1, api, services);
  saleRoutes(v1, api, services);
  epcisRoutes(v1, api, services);
  labelRoutes(v1, api, services);
  operationRoutes(v1, api, services);
  payoutRoutes(v1, api, services);
  v1.get("/openapi.json", (_req, res) => res.json(api.document(settings.publicUrl)));
  auditRoutes(v1, api, { services });
  return v1;
}

export function buildApp(deps: HttpDeps, options: BuildOptions = {}): Express {
  const { services, log } = deps;
  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", false);
  baseMiddleware(app, deps);

  const publicLimit = options.publicRateLimit ?? 600;
  // The public pages (verify, market, stats) have their own budget per address, like the public API.
  if (publicLimit > 0) {
    const pagesLimiter = problemLimiter(60_000, publicLimit, "too many requests; slow down");
    app.use(["/b", "/01", "/market", "/stats", "/find", "/cooperatives"], (req, res, next) =>
      req.method === "GET" || req.method === "HEAD" ? pagesLimiter(req, res, next) : next(),
    );
  }

  const api = createOpenApi(API_PREFIX, {
    title: "CoopTrace gateway",
    version: "1.0.0",
    description:
      "Provenance and fair-revenue ledger for cooperatives. Errors are RFC 9457 problem details with a stable `code`.",
  });
  const sessions = deps.stores.pageSessions(); // the pages' sessions, and the failed-auth limit shared with the API
  // Every page (not the API, which never reads the cookie) knows who is signed in, and its header says so.
  const isPage = (path: string) => !/^\/(api|assets)\/|^\/health$/.test(path);
  const personalize = personalizePages(sessions);
  app.use((req, res, next) => (isPage(req.path) ? sessions.load(req, res, next) : next()));
  app.use((req, res, next) => (isPage(req.path) ? personalize(req, res, next) : next()));
  const v1 = apiRouter(deps, api, sessions.limiter, publicLimit);
  // Registered on v1 before it is mounted: GET /api/v1/stats is in the OpenAPI document.
  statsRoutes(app, v1, api, { services, log });
  app.use(API_PREFIX, v1);
  healthRoutes(app, { network: services.network, settings: deps.settings });
  pageRoutes(app, deps, options.pages);
  auditPageRoutes(
    app,
    {
      audit: services.audit,
      users: services.users,
      log,
      lists: { ...services, tokens: services.tokens },
      payouts: services.payouts,
    },
    sessions,
  );
  webRoutes(app, deps, sessions);
  options.extraRoutes?.(app);
  app.use((req, res) => sendProblem(res, 404, "not_found", `no route for ${req.method} ${req.path}`));
  app.use(errorHandler(log, [domainErrors]));
  return app;
}
