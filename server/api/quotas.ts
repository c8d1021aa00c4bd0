/**
 * Per-user limits of the API: a token must not buy unlimited work.
 *
 * - Writes: every POST under /api/v1 made with a token counts against its user's budget of
 *   USER_WRITES_PER_MINUTE (a fixed one-minute window per user, in memory: one gateway per data
 *   folder); beyond it, 429 `user_rate_limited` with Retry-After. Keyed on the user, not the
 *   address: one member behind many addresses is still one member, and a cooperative's office
 *   behind one address is many members. Requests without a token have their own per-address
 *   limits (sign-up, public reads).
 * - The relayer's gas per user and UTC day is enforced by the relayer itself (relayer.ts), so that
 *   no path around this module can spend it.
 * - The embedded chain's faucet (once per buyer and UTC day) is the user service's decision, over the
 *   grants of server/store/faucet.ts.
 */
import type { RequestHandler } from "express";
import { rateLimit } from "express-rate-limit";
import type { HttpSettings } from "./context";
import { sendProblem } from "./problem";

/** The per-user write rate (after authenticate, which sets req.user). */
export function userWriteLimit(settings: Pick<HttpSettings, "limits">): RequestHandler {
  const limit = settings.limits.userWritesPerMinute;
  return rateLimit({
    windowMs: 60_000,
    limit,
    // Only writes made with a token: reads are cheap, and anonymous POSTs are limited per address.
    skip: (req) => req.method !== "POST" || req.user === undefined,
    keyGenerator: (req) => `user:${req.user!.id}`,
    standardHeaders: "draft-7",
    legacyHeaders: false,
    handler: (_req, res) =>
      sendProblem(res, 429, "user_rate_limited", `at most ${limit} writes per minute per account; slow down`),
  });
}
