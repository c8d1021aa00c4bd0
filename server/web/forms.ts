/**
 * Workspace forms, the same way everywhere:
 *
 * - `parseForm(schema, fields)`: the service's own zod input schema (the API validates with it too)
 *   applied to the form's fields; on failure, one problem per field, in the reader's language (the
 *   zod messages are English; a few kinds of problem are named in each catalog), for the error
 *   summary and beside each field.
 * - `createFormOnce(db)`: a double submit never writes twice. Each rendered form carries a random
 *   `once` key (`formKey()`); the first POST with a key runs the write and records where it led (the
 *   confirmation page's URL); a repeat with the same key is sent to the same place; a repeat while
 *   the first still runs sees "in progress". Records live in the API's idempotency table (scope
 *   `form:<userId>`), so they expire with the same setting (IDEMPOTENCY_TTL_HOURS).
 * - `submitForm`: the write behind a form, the one sequence every page follows (below), and
 *   `writeOnce` for a button with no fields to get wrong.
 */
import { createHash, randomBytes } from "node:crypto";
import type { z } from "zod";
import type { Db } from "../store/db";
import { html, type Html } from "../pages/html";
import type { Catalog } from "../pages/i18n";
import { DomainError } from "../services/errors";
import type { FieldProblem } from "./views/components";
import { withLang, type Answer, type Body, type View } from "./page";

export const ONCE_FIELD = "once";

/** The hidden fields of every write form: the session's CSRF token and the form's once-key. */
export function onceFields(csrf: Html, once: string): Html {
  return html`${csrf}<input type="hidden" name="${ONCE_FIELD}" value="${once}" />`;
}

/** A new key for one rendering of a form. */
export function formKey(): string {
  return randomBytes(16).toString("base64url");
}

export type Parsed<T> = { ok: true; data: T } | { ok: false; problems: FieldProblem[] };

/** The message of one zod issue in the reader's language (generic, per kind: the label says which field). */
function messageOf(c: Catalog, issue: z.core.$ZodIssue): string {
  const f = c.form;
  switch (issue.code) {
    case "invalid_type":
      return issue.input === undefined ? f.required : f.invalid;
    case "too_small":
      return issue.origin === "string" && issue.minimum === 1 ? f.required : f.tooSmall;
    case "too_big":
      return f.tooBig;
    default:
      return f.invalid;
  }
}

/**
 * Parses `fields` with `schema`. Field ids are the schema's paths joined with "-" (`contributors-0-weight`),
 * so the error summary links to the input of the same id.
 */
export function parseForm<S extends z.ZodType>(c: Catalog, schema: S, fields: unknown): Parsed<z.output<S>> {
  const r = schema.safeParse(fields);
  if (r.success) return { ok: true, data: r.data };
  const seen = new Set<string>();
  const problems: FieldProblem[] = [];
  for (const issue of r.error.issues) {
    const field = issue.path.map(String).join("-") || "form";
    if (seen.has(field)) continue;
    seen.add(field);
    problems.push({ field, message: messageOf(c, issue) });
  }
  return { ok: false, problems };
}

/** A service's refusal of one field (DomainError with `errors`), as the form's problems. */
export function problemsOf(err: unknown): FieldProblem[] | null {
  if (!(err instanceof DomainError) || !err.extra.errors) return null;
  return err.extra.errors.map((e) => ({ field: e.field.replace(/\./g, "-"), message: e.message }));
}

export interface FormOnce {
  /**
   * Runs `write` once per (user, key) and returns where it led; a repeat returns the same place. A
   * failed write is forgotten, so the reader may correct the form and send it again with the same key.
   */
  run(userId: string, key: string | undefined, write: () => Promise<string>): Promise<string>;
}

export function createFormOnce(db: Db): FormOnce {
  const claim = db.prepare(
    `INSERT INTO idempotency (scope, key, method, path, body_hash, state) VALUES (?, ?, 'POST', 'form', '', 'running')
     ON CONFLICT DO NOTHING`,
  );
  const find = db.prepare<[string, string], { state: string; response: string | null }>(
    "SELECT state, response FROM idempotency WHERE scope = ? AND key = ?",
  );
  const finish = db.prepare(
    "UPDATE idempotency SET state = 'done', status = 303, content_type = 'text/uri-list', response = ? WHERE scope = ? AND key = ?",
  );
  const release = db.prepare("DELETE FROM idempotency WHERE scope = ? AND key = ? AND state = 'running'");

  return {
    async run(userId, key, write) {
      // No key (a hand-made POST): no protection asked for, the write runs.
      if (key === undefined || !/^[A-Za-z0-9_-]{16,64}$/.test(key)) return write();
      const scope = `form:${userId}`;
      const k = createHash("sha256").update(key).digest("hex");
      if (claim.run(scope, k).changes === 0) {
        const row = find.get(scope, k);
        if (row?.state === "done" && row.response) return row.response;
        throw new DomainError("conflict", "form_in_progress", "this form was sent already and is still being done");
      }
      try {
        const location = await write();
        finish.run(location, scope, k);
        return location;
      } catch (err) {
        release.run(scope, k);
        throw err;
      }
    },
  };
}

/** The parts of a page's request a write needs (page.ts's WebRequest has them). */
interface FormRequest {
  user: { id: string };
  c: Catalog;
  body: Body;
}

/**
 * A write with nothing to fill in (a button): once per once-key, then a 303 to where it led, in the
 * reader's language.
 */
export async function writeOnce(r: FormRequest, once: FormOnce, write: () => Promise<string>): Promise<Answer> {
  return { redirect: withLang(r.c, await once.run(r.user.id, r.body[ONCE_FIELD], write)) };
}

/**
 * The write behind a form, after the route's CSRF check: with any problem (the schema's, or those the page
 * found or reworded), the form again with them (400); else the write once per once-key and a 303 to where
 * it led (`writeOnce`). A refusal of a field by the service, or one the page can name (`refused`: a
 * contract's refusal said beside its field), brings the form back too; any other error goes on.
 */
export async function submitForm<T>(
  r: FormRequest,
  once: FormOnce,
  o: {
    parsed: Parsed<T>;
    /** Every problem found; by default the schema's own. */
    problems?: FieldProblem[];
    /** The form again, with these problems beside its fields. */
    form: (problems: FieldProblem[]) => View;
    write: (data: T) => Promise<string>;
    refused?: (err: unknown) => FieldProblem[] | null;
  },
): Promise<Answer> {
  const { parsed } = o;
  const problems = o.problems ?? (parsed.ok ? [] : parsed.problems);
  if (!parsed.ok || problems.length > 0) return { status: 400, view: o.form(problems) };
  try {
    return await writeOnce(r, once, () => o.write(parsed.data));
  } catch (err) {
    const fields = o.refused?.(err) ?? problemsOf(err);
    if (fields === null) throw err;
    return { status: 400, view: o.form(fields) };
  }
}
