/**
 * A seeded fast-check barrage of malformed requests over every route of the OpenAPI document, each
 * sent with a token of a role the route allows (so validation, not authorization, answers). Every
 * answer must be a 4xx problem+json with a `code`, never a 5xx or a stack trace, and the state
 * (contract counters, nonces, block number, index and gateway row counts) must not move.
 */
import { expect } from "chai";
import fc from "fast-check";
import { closeRawAgent, buildWorld, raw, report, stateDigest, type RawResponse, type World } from "./hostile-world";

const SEED = 0xc0097ace;
const RUNS = 1200;

type JsonSchema = {
  type?: string | string[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  const?: unknown;
  enum?: unknown[];
};
interface Param {
  name: string;
  in: "path" | "query" | "header";
  required: boolean;
  schema: JsonSchema;
}
interface Route {
  method: "get" | "post";
  path: string;
  roles: string[];
  params: Param[];
  body?: JsonSchema;
}

/** JSON types a schema accepts (empty: anything). */
function typesOf(s: JsonSchema | undefined): Set<string> {
  const out = new Set<string>();
  if (!s) return out;
  if (s.const !== undefined) out.add(typeof s.const === "number" ? "number" : typeof s.const);
  if (s.enum) for (const v of s.enum) out.add(typeof v === "number" ? "number" : typeof v);
  if (typeof s.type === "string") out.add(s.type);
  if (Array.isArray(s.type)) for (const x of s.type) out.add(x);
  for (const sub of [...(s.anyOf ?? []), ...(s.oneOf ?? []), ...(s.allOf ?? [])]) {
    const inner = typesOf(sub);
    if (inner.size === 0) return new Set();
    for (const x of inner) out.add(x);
  }
  if (out.has("integer")) out.add("number");
  return out;
}

/** Raw JSON values, hostile: huge numbers (as JSON literals), negatives, control/bidi text, bad hex and addresses. */
const HOSTILE_VALUES: string[] = [
  "18446744073709551616", // 2^64
  "115792089237316195423570985008687907853269984665640564039457584007913129639936", // 2^256
  '"115792089237316195423570985008687907853269984665640564039457584007913129639936"',
  "1e400",
  "-1e400",
  "-1",
  '"-5"',
  "-0.5",
  "12.5",
  '"12"',
  '"NaN"',
  '"Infinity"',
  '"0x"',
  '"0xzz"',
  '"0x12345"',
  '"0x1234567890123456789012345678901234567890"', // bad checksum-less? valid lowercase: kept as decoration
  '"0xG234567890123456789012345678901234567890"',
  '"not-an-address"',
  JSON.stringify("a\u0000b"),
  JSON.stringify("label\u202Egnp.exe"),
  JSON.stringify("\u2066isolate\u2069"),
  JSON.stringify("\u001b[31mred"),
  JSON.stringify("x".repeat(5000)),
  JSON.stringify("ⵜⴰⵎⴰⵣⵉⵖⵜ العربية"),
  '""',
  "null",
  "true",
  "[]",
  "{}",
  '{"__proto__":{"admin":true}}',
  "[1,2,3]",
  '"2024-13-45T99:99:99Z"',
];

/** A JSON value whose type the schema refuses, if there is one. */
function wrongTypeValues(s: JsonSchema): string[] {
  const ok = typesOf(s);
  if (ok.size === 0) return [];
  const candidates: [string, string][] = [
    ["object", '{"role":"platform_admin"}'],
    ["array", "[]"],
    ["boolean", "true"],
    ["null", "null"],
    ["number", "18446744073709551616"],
    ["string", '"a string"'],
  ];
  const out = candidates.filter(([ty]) => !ok.has(ty)).map(([, v]) => v);
  if (ok.has("number") && !ok.has("string") && !ok.has("object")) out.push("1e400", "-1e400");
  return out;
}

const UNKNOWN_FIELDS = ["role", "reserveBps", "admin", "__proto__", "constructor", "prototype", "isAdmin", "userId"];

interface Planned {
  route: string;
  kind: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

function objectJson(pairs: [string, string][]): string {
  return `{${pairs.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(",")}}`;
}

function pathArb(route: Route, valid: Record<string, string>, needInvalid: boolean): fc.Arbitrary<string> {
  const names = route.params.filter((p) => p.in === "path").map((p) => p.name);
  if (names.length === 0) return fc.constant(route.path);
  const invalid = fc.constantFrom(
    "0",
    "-1",
    "abc",
    "1e400",
    "18446744073709551616",
    "0x",
    "0xzz",
    "%00",
    "%E2%80%AE",
    "%20",
    "9007199254740993",
    "1.5",
    "NaN",
    "00000000-0000-0000-0000-00000000000g",
    "x".repeat(300),
    "%25",
    "%",
    "%zz",
    "%C0%AE",
  );
  return fc.record({ v: fc.boolean(), i: invalid }).map(({ v, i }) => {
    let p = route.path;
    for (const n of names) {
      const value = needInvalid || !v ? i : (valid[`${route.path}:${n}`] ?? valid[n] ?? i);
      p = p.replace(`{${n}}`, value);
    }
    return p;
  });
}

/** Invalid query strings for routes with constrained query parameters. */
function badQueryArb(route: Route): fc.Arbitrary<string> | undefined {
  const q = route.params.filter((p) => p.in === "query");
  const numeric = q.filter((p) => typesOf(p.schema).has("number"));
  if (numeric.length === 0) return undefined;
  return fc
    .record({
      p: fc.constantFrom(...numeric.map((p) => p.name)),
      // Values no numeric parameter accepts ("0" or "101" may be fine for some).
      v: fc.constantFrom("abc", "1e400", "18446744073709551616", "NaN", "%00"),
    })
    .map(({ p, v }) => `?${p}=${v}`);
}

function bodyArb(route: Route): fc.Arbitrary<{ body: string; kind: string }> {
  const s = route.body!;
  const props = Object.entries(s.properties ?? {});
  const required = s.required ?? [];
  const strict = s.additionalProperties === false;
  const field = fc.oneof(
    ...props.map(([name, ps]) => {
      const wrong = wrongTypeValues(ps);
      return fc
        .record({
          sure: wrong.length > 0 ? fc.boolean() : fc.constant(false),
          w: wrong.length > 0 ? fc.constantFrom(...wrong) : fc.constant(""),
          h: fc.constantFrom(...HOSTILE_VALUES),
        })
        .map(({ sure, w, h }) => ({ name, value: sure ? w : h, sure }));
    }),
    { arbitrary: fc.constant({ name: "", value: "", sure: false }), weight: props.length === 0 ? 1 : 0 },
  );
  return fc
    .record({
      fields: fc.array(field, { maxLength: 4 }),
      unknown: fc.subarray(UNKNOWN_FIELDS, { maxLength: 3 }),
      unknownValue: fc.constantFrom('"platform_admin"', "10000", "true", '{"admin":true}', "null"),
      shape: fc.constantFrom("object", "object", "object", "object", "array", "scalar"),
    })
    .map(({ fields, unknown, unknownValue, shape }) => {
      if (shape === "array")
        return { body: `[${fields.map((f) => f.value || "1").join(",")}]`, kind: "body-not-object" };
      if (shape === "scalar") return { body: fields[0]?.value || '"x"', kind: "body-not-object" };
      const pairs: [string, string][] = fields.filter((f) => f.name).map((f) => [f.name, f.value]);
      const kinds: string[] = [];
      let sure = fields.some((f) => f.sure && f.name);
      if (sure) kinds.push("wrong-type");
      if (fields.some((f) => !f.sure && f.name)) kinds.push("hostile-value");
      const present = new Set(pairs.map(([k]) => k));
      if (required.some((r) => !present.has(r))) {
        sure = true;
        kinds.push("missing-required");
      }
      if (strict) {
        for (const u of unknown) pairs.push([u, unknownValue]);
        if (unknown.length > 0) {
          sure = true;
          kinds.push("unknown-field");
        }
      }
      if (!sure) {
        // Nothing certainly invalid yet: add a refused field.
        if (strict) {
          pairs.push(["role", '"platform_admin"']);
          kinds.push("unknown-field");
        } else {
          const typed = props.find(([, ps]) => wrongTypeValues(ps).length > 0);
          if (typed) {
            pairs.push([typed[0], wrongTypeValues(typed[1])[0]]);
            kinds.push("wrong-type");
          } else return { body: "{not json", kind: "invalid-json" };
        }
      }
      return { body: objectJson(pairs), kind: kinds.join("+") };
    });
}

function plan(route: Route, valid: Record<string, string>, tokenFor: (r: Route) => string): fc.Arbitrary<Planned> {
  const key = `${route.method.toUpperCase()} ${route.path}`;
  const auth = { authorization: `Bearer ${tokenFor(route)}` };
  const hasPath = route.params.some((p) => p.in === "path");
  const badQuery = badQueryArb(route);
  const json = { "content-type": "application/json" };
  const mk = (kind: string, path: string, headers: Record<string, string>, body?: string): Planned => ({
    route: key,
    kind,
    method: route.method.toUpperCase(),
    path,
    headers: { ...auth, ...headers },
    body,
  });
  const byKind: fc.Arbitrary<Planned>[] = [
    // Bodies the parser refuses, on every route (GET included: JSON bodies are parsed on any method).
    fc
      .record({
        p: pathArb(route, valid, false),
        b: fc.constantFrom("{", "{'a':1}", '{"a":}', "nul", '{"a":1,}', "\u0000", '"unterminated', "[1,2", "{}}"),
      })
      .map(({ p, b }) => mk("invalid-json", p, json, b)),
    fc
      .record({ p: pathArb(route, valid, false), n: fc.integer({ min: 65 * 1024, max: 200 * 1024 }) })
      .map(({ p, n }) => mk("oversized-body", p, json, `{"pad":"${"A".repeat(n)}"}`)),
    fc
      .record({ p: pathArb(route, valid, false), f: fc.constantFrom("koi8-r", "x-unknown", "latin1", "ucs-2") })
      .map(({ p, f }) => mk("bad-charset", p, { "content-type": `application/json; charset=${f}` }, "{}")),
  ];
  if (hasPath) {
    byKind.push(
      fc
        .record({
          p: pathArb(route, valid, true),
          b: route.method === "post" ? bodyArb(route) : fc.constant(undefined),
        })
        .map(({ p, b }) => mk("invalid-path-param", p, b ? json : {}, b?.body)),
    );
  }
  if (badQuery) byKind.push(badQuery.map((q) => mk("invalid-query", route.path.replace(/\{\w+\}/g, "x") + q, {})));
  if (badQuery && hasPath)
    byKind.push(
      fc
        .record({ p: pathArb(route, valid, false), q: badQuery })
        .map(({ p, q }) => mk("invalid-query", p + q, {}, undefined)),
    );
  if (route.method === "post") {
    byKind.push(
      fc
        .record({
          p: pathArb(route, valid, false),
          ct: fc.constantFrom(
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/xml",
          ),
        })
        .map(({ p, ct }) => mk("wrong-content-type", p, { "content-type": ct }, '{"role":"platform_admin"}')),
      fc
        .record({
          p: pathArb(route, valid, false),
          k: fc.constantFrom("", " ", "a b", "x".repeat(129), "é-key", "key\u00ff", "tab\tkey"),
        })
        .map(({ p, k }) => mk("bad-idempotency-key", p, { ...json, "idempotency-key": k }, "{}")),
    );
    if (route.body) {
      // Body mutations are the point: as many as all other kinds together.
      const bodies = fc
        .record({ p: pathArb(route, valid, false), b: bodyArb(route) })
        .map(({ p, b }) => mk(b.kind, p, json, b.body));
      for (let i = 0; i < 5; i++) byKind.push(bodies);
    }
  }
  return fc.oneof(...byKind);
}

describe("chaos: hostile input", function () {
  this.timeout(180_000);
  let w: World;

  before(async function () {
    w = await buildWorld(3);
  });

  after(async function () {
    closeRawAgent();
    await w?.t.stop();
  });

  it(`answers ${RUNS} malformed requests over every route with a 4xx problem, changing nothing`, async function () {
    const docRes = await raw(w.t.gateway.url, "GET", "/api/v1/openapi.json");
    expect(docRes.status).to.equal(200);
    const doc = JSON.parse(docRes.text) as {
      paths: Record<string, Record<string, { "x-roles": string[]; parameters?: Param[]; requestBody?: any }>>;
    };
    const routes: Route[] = [];
    for (const [p, methods] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        routes.push({
          method: method as Route["method"],
          path: p,
          roles: op["x-roles"],
          params: op.parameters ?? [],
          body: op.requestBody?.content?.["application/json"]?.schema,
        });
      }
    }
    expect(routes.length).to.be.greaterThan(30);
    const valid: Record<string, string> = {
      "/api/v1/batches/{id}:id": w.batchId,
      "/api/v1/batches/{id}/events:id": w.batchId,
      "/api/v1/batches/{id}/epcis:id": w.batchId,
      "/api/v1/batches/{id}/certifications:id": w.batchId,
      "/api/v1/batches/{id}/split:id": w.batchId,
      "/api/v1/batches/{id}/qr.svg:id": w.batchId,
      "/api/v1/batches/{id}/qr.png:id": w.batchId,
      "/api/v1/certifications/{id}/revoke:id": w.certificationId,
      "/api/v1/users/{id}/revoke:id": w.members[2].userId,
      "/api/v1/operations/{id}:id": "00000000-0000-4000-8000-000000000000",
    };
    for (const r of routes) {
      if (r.path.includes("/sales/{id}")) valid[`${r.path}:id`] = String(w.saleId);
      if (r.path.includes("/cooperatives/{id}")) valid[`${r.path}:id`] = String(w.cooperativeId);
    }
    const tokenFor = (r: Route): string => {
      if (r.roles.length === 0 || r.roles.includes("any")) return w.tokens.member;
      const role = r.roles.find((x) => w.tokens[x]);
      if (!role) throw new Error(`no token for ${r.method} ${r.path} (${r.roles.join(",")})`);
      return w.tokens[role];
    };

    // Every route gets its share: one arbitrary per route, picked uniformly.
    const arb = fc.oneof(...routes.map((r) => plan(r, valid, tokenFor)));
    const planned = fc.sample(arb, { seed: SEED, numRuns: RUNS });
    // And every route at least a few times, whatever the sampling did.
    routes.forEach((r, i) => planned.push(...fc.sample(plan(r, valid, tokenFor), { seed: SEED + i, numRuns: 5 })));

    const before = await settledDigest(w);
    const answers: { p: Planned; r: RawResponse }[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < planned.length) {
          const p = planned[next++];
          const r = await raw(w.t.gateway.url, p.method, p.path, { body: p.body, headers: p.headers });
          answers.push({ p, r });
        }
      }),
    );
    const after = await settledDigest(w);

    const failures: string[] = [];
    const byStatus: Record<string, number> = {};
    const byRoute = new Map<string, number>();
    const byKind: Record<string, number> = {};
    for (const { p, r } of answers) {
      byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
      byRoute.set(p.route, (byRoute.get(p.route) ?? 0) + 1);
      const k = p.kind.split("+")[0];
      byKind[k] = (byKind[k] ?? 0) + 1;
      let body: any;
      try {
        body = JSON.parse(r.text);
      } catch {
        body = undefined;
      }
      const problems: string[] = [];
      if (r.status < 400 || r.status >= 500) problems.push(`status ${r.status}`);
      if (!/^application\/problem\+json/.test(r.contentType)) problems.push(`content-type ${r.contentType}`);
      if (typeof body?.code !== "string") problems.push("no code");
      if (/\n\s+at |node_modules|\.ts:\d+:\d+|\.js:\d+:\d+/.test(r.text)) problems.push("stack trace");
      if (problems.length > 0) {
        failures.push(
          `${p.method} ${p.path.slice(0, 120)} [${p.kind}] body=${(p.body ?? "").slice(0, 160)} → ${problems.join(", ")}: ${r.text.slice(0, 200)}`,
        );
      }
    }
    const fivexx = answers.filter((a) => a.r.status >= 500).length;
    console.log(`    hostile: ${answers.length} requests over ${byRoute.size}/${routes.length} routes`);
    console.log(`    statuses: ${JSON.stringify(byStatus)}`);
    console.log(`    kinds: ${JSON.stringify(byKind)}`);
    if (failures.length > 0) {
      const distinct = [...new Set(failures.map((f) => f.replace(/body=.*→/, "→")))];
      console.log(`    ${failures.length} failures, e.g.:\n      ${distinct.slice(0, 15).join("\n      ")}`);
    }
    await report([
      {
        scenario: "hostile input barrage (fast-check)",
        result: failures.length === 0 && before.digest === after.digest ? "pass" : "FAIL",
        requests: answers.length,
        landed: 0,
        lost: 0,
        duplicated: 0,
        fivexx,
        notes: Object.entries(byStatus)
          .map(([s, n]) => `${s}×${n}`)
          .join(" "),
      },
    ]);

    expect(answers.length).to.be.at.least(1000);
    expect(byRoute.size, "every documented route was hit").to.equal(routes.length);
    expect(after.parts, "state digest parts").to.deep.equal(before.parts);
    expect(after.digest).to.equal(before.digest);
    expect(failures, failures.slice(0, 20).join("\n")).to.deep.equal([]);
  });
});

/** The digest once the indexer has caught up (two equal readings 300 ms apart). */
async function settledDigest(w: World) {
  let prev = await stateDigest(w.t);
  for (let i = 0; i < 50; i++) {
    await new Promise((r) => setTimeout(r, 300));
    const cur = await stateDigest(w.t);
    if (cur.digest === prev.digest) return cur;
    prev = cur;
  }
  return prev;
}
