/**
 * Errors of the services, without HTTP: a kind (what went wrong, for the caller), a stable code
 * (what the API's problem+json and the pages' messages key on) and, for invalid input, the fields.
 * The HTTP layer maps kinds to statuses in one place (server/api/problem.ts); a page shows the
 * message beside the field.
 */
export type ErrorKind =
  "invalid" | "unauthenticated" | "forbidden" | "not_found" | "conflict" | "rejected" | "rate_limited" | "unavailable";

export interface FieldError {
  field: string;
  message: string;
}

export class DomainError extends Error {
  constructor(
    readonly kind: ErrorKind,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> & { errors?: FieldError[] } = {},
  ) {
    super(message);
    this.name = "DomainError";
  }
}

/** An invalid field, named as the API names it (`contributors.0.memberId`). */
export function invalidField(field: string, message: string, code = "invalid_field"): DomainError {
  return new DomainError("invalid", code, `${field}: ${message}`, { errors: [{ field, message }] });
}

export const notFound = (code: string, message: string) => new DomainError("not_found", code, message);
export const forbidden = (message: string, code = "forbidden") => new DomainError("forbidden", code, message);
