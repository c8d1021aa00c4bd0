/**
 * Who may do what, for the services: the same checks whether the call came from the API (a bearer
 * token) or from a page (a session). A quick, clear refusal; the contracts, which the relayer
 * simulates before queuing anything, remain the authority.
 */
import type { Role, User } from "../custody/users";
import type { Queries } from "../index";
import { DomainError } from "./errors";

/** The signed-in user, holding one of `roles` (any role when none is given). */
export function requireRole(user: User | undefined, ...roles: Role[]): User {
  if (!user) throw new DomainError("unauthenticated", "unauthenticated", "sign in first (a bearer token or a session)");
  if (roles.length > 0 && !roles.includes(user.role)) {
    throw new DomainError("forbidden", "forbidden", `this is for: ${roles.join(", ")}`);
  }
  return user;
}

type Standings = Pick<Queries, "standingIn">;
type Standing = "admin" | "member" | null;

/** `user`'s standing in a cooperative per the index (which a write waits for). */
function standing(queries: Standings, user: User, cooperativeId: number): Standing {
  const s = user.address === null ? null : queries.standingIn(cooperativeId, user.address);
  if (s === undefined) {
    throw new DomainError("not_found", "cooperative_not_found", `no cooperative ${cooperativeId}`);
  }
  return s;
}

/** The signed-in user, holding one of `roles` and a standing in `cooperativeId` that `accepts`; else `refusal`. */
function requireStanding(
  queries: Standings,
  user: User | undefined,
  cooperativeId: number,
  rule: { roles: Role[]; accepts: (s: Standing) => boolean; refusal: string },
): User {
  const u = requireRole(user, ...rule.roles);
  if (!rule.accepts(standing(queries, u, cooperativeId))) throw new DomainError("forbidden", "forbidden", rule.refusal);
  return u;
}

/** The admin (manager) of `cooperativeId`. */
export function requireCoopAdmin(queries: Standings, user: User | undefined, cooperativeId: number): User {
  return requireStanding(queries, user, cooperativeId, {
    roles: ["coop_admin"],
    accepts: (s) => s === "admin",
    refusal: "you are not the admin of this cooperative",
  });
}

/** A member or the admin of `cooperativeId`. */
export function requireCoopActor(queries: Standings, user: User | undefined, cooperativeId: number): User {
  return requireStanding(queries, user, cooperativeId, {
    roles: ["coop_admin", "member"],
    accepts: (s) => s !== null,
    refusal: "you do not belong to this cooperative",
  });
}
