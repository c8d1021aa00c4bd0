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

/** `user`'s standing in a cooperative per the index (which a write waits for). */
function standing(queries: Pick<Queries, "standingIn">, user: User, cooperativeId: number) {
  const s = user.address === null ? null : queries.standingIn(cooperativeId, user.address);
  if (s === undefined) {
    throw new DomainError("not_found", "cooperative_not_found", `no cooperative ${cooperativeId}`);
  }
  return s;
}

/** The admin (manager) of `cooperativeId`. */
export function requireCoopAdmin(
  queries: Pick<Queries, "standingIn">,
  user: User | undefined,
  cooperativeId: number,
): User {
  const u = requireRole(user, "coop_admin");
  if (standing(queries, u, cooperativeId) !== "admin") {
    throw new DomainError("forbidden", "forbidden", "you are not the admin of this cooperative");
  }
  return u;
}

/** A member or the admin of `cooperativeId`. */
export function requireCoopActor(
  queries: Pick<Queries, "standingIn">,
  user: User | undefined,
  cooperativeId: number,
): User {
  const u = requireRole(user, "coop_admin", "member");
  if (standing(queries, u, cooperativeId) === null) {
    throw new DomainError("forbidden", "forbidden", "you do not belong to this cooperative");
  }
  return u;
}
