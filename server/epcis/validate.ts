/**
 * Validation of EPCIS documents against GS1's official EPCIS 2.0 JSON Schema, kept outside the repo
 * in `shared/standards/` (a sibling of the repository folder). The schema declares draft-07, which is
 * Ajv's default dialect; ajv-formats supplies the `uri` and `date-time` formats it relies on.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import Ajv, { type ErrorObject, type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";

const SCHEMA_FILE = path.join("shared", "standards", "epcis-2.0-json-schema.json");

/**
 * The schema file: the first `<ancestor>/shared/standards/...` above this module. From
 * `server/epcis` that is `../../../shared/...` (shared/ next to the repository folder, wherever it is
 * cloned); walking up also works from a compiled copy one level deeper (`dist/server/epcis`).
 */
function schemaPath(): string {
  let dir = __dirname;
  for (;;) {
    const candidate = path.join(dir, SCHEMA_FILE);
    if (existsSync(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new Error(`EPCIS JSON Schema not found: no ${SCHEMA_FILE} in any folder above ${__dirname}`);
}

let compiled: ValidateFunction | undefined;

function validator(): ValidateFunction {
  if (compiled === undefined) {
    const schema = JSON.parse(readFileSync(schemaPath(), "utf8")) as Record<string, unknown>;
    // strict: false — the official schema uses keywords and formats in ways strict mode refuses
    // (e.g. `if` without `then`, unknown formats); allErrors gives the caller every problem at once.
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    compiled = ajv.compile(schema);
  }
  return compiled;
}

function describe(error: ErrorObject): string {
  const params = Object.entries(error.params)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(", ");
  return `${error.instancePath || "/"} ${error.message ?? error.keyword}${params ? ` (${params})` : ""}`;
}

/** Validates `doc` against the EPCIS 2.0 JSON Schema; `errors` is empty when it is valid. */
export function validateEpcis(doc: unknown): { valid: boolean; errors: string[] } {
  const validate = validator();
  const valid = validate(doc) === true;
  return { valid, errors: valid ? [] : [...new Set((validate.errors ?? []).map(describe))] };
}
