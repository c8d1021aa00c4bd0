/**
 * Bearer tokens. A token identifies one user and its role; routes state which roles may call them.
 * Failed tokens count per client address in the limiter shared with the pages' sign-ins: past its
 * limit every token from that address, right or wrong, answers 429 `auth_rate_limited` with
 * Retry-After until the minute is over (answering the right ones would keep guessing useful).
 */
import type { RequestHandler } from "express";
import type { Role, User, UserStore } from "../custody/users";
import type { AuthLimiter } from "../sessions/authLimit";
import { ApiError } from "./problem";

/**
 * Sets `req.user` from a bearer token. The gateway always passes the shared `limiter`; without one
 * (a test composing its own router) failures are not counted.
 */
export function authenticate(users: Pick<UserStore, "authenticate">, limiter?: AuthLimiter): RequestHandler {
  return (req, res, next) => {
    const header = req.get("authorization");
    if (header === undefined) return next();
    const wait = limiter?.retryAfter(req.ip) ?? 0;
    if (wait > 0) {
      res.set("Retry-After", String(wait));
      return next(
        new ApiError(429, "auth_rate_limited", "too many failed tokens from this address; try again later", {
          retryAfter: wait,
        }),
      );
    }
    const match = /^Bearer ([A-Za-z0-9_\-.~+/=]{10,200})$/.exec(header);
    if (!match) {
      limiter?.fail(req.ip, "malformed_authorization");
      return next(new ApiError(401, "invalid_token", "malformed Authorization header (expected: Bearer <token>)"));
    }
    const user = users.authenticate(match[1]);
    if (!user) {
      limiter?.fail(req.ip, "unknown_token");
      return next(new ApiError(401, "invalid_token", "unknown or revoked token"));
    }
    req.user = user;
    next();
  };
}

/** The authenticated user, holding one of `roles`. */
export function requireUser(user: User | undefined, ...roles: Role[]): User {
  if (!user) throw new ApiError(401, "unauthenticated", "this route needs a bearer token");
  if (roles.length > 0 && !roles.includes(user.role)) {
    throw new ApiError(403, "forbidden", `this route is for: ${roles.join(", ")}`);
  }
  return user;
}
