/**
 * Load against a real gateway (embedded anvil, SQLite): (a) 200 concurrent workers mixing reads and
 * writes for 30 s, by 12 members: no 5xx, every accepted write on-chain exactly once, distinct batch
 * ids, p95 per kind; (b) the public API flooded above its per-address limit (600/min): 429s, while
 * member writes are still served.
 */
import { wordToText } from "../../domain/words";
import { expect } from "chai";
import { closeRawAgent, buildWorld, day, p95, raw, report, type RawResponse, type World } from "./hostile-world";

const WORKERS = 200;
const DURATION_MS = 30_000;
const MEMBERS = 12;

describe("chaos: load", function () {
  this.timeout(240_000);
  let w: World;

  before(async function () {
    w = await buildWorld(MEMBERS);
  });

  after(async function () {
    closeRawAgent();
    await w?.t.stop();
  });

  it(`serves ${WORKERS} concurrent mixed reads and writes for ${DURATION_MS / 1000} s: no 5xx, writes landed once`, async function () {
    const url = w.t.gateway.url;
    const json = { "content-type": "application/json" };
    const auth = (token: string) => ({ authorization: `Bearer ${token}` });
    const lat: Record<string, number[]> = {};
    const statuses: Record<string, Record<number, number>> = {};
    const fivexx: string[] = [];
    const lots: { lot: string; status: number; batchId?: string; operationId?: string }[] = [];
    const events: { location: string; status: number; operationId?: string }[] = [];
    const batchIds: string[] = [w.batchId];
    let seq = 0;
    const note = (kind: string, r: RawResponse) => {
      (lat[kind] ??= []).push(r.ms);
      (statuses[kind] ??= {})[r.status] = ((statuses[kind] ??= {})[r.status] ?? 0) + 1;
      if (r.status >= 500) fivexx.push(`${kind} ${r.status} ${r.text.slice(0, 200)}`);
    };
    const kinds: [string, number, (worker: number) => Promise<void>][] = [
      [
        "GET /batches",
        3,
        async (i) =>
          note(
            "GET /batches",
            await raw(url, "GET", "/api/v1/batches?limit=20", { headers: auth(w.members[i % MEMBERS].token) }),
          ),
      ],
      [
        "GET /batches/:id",
        3,
        async (i) => {
          const id = batchIds[i % batchIds.length];
          note(
            "GET /batches/:id",
            await raw(url, "GET", `/api/v1/batches/${id}`, { headers: auth(w.members[i % MEMBERS].token) }),
          );
        },
      ],
      [
        "GET /sales",
        2,
        async () => note("GET /sales", await raw(url, "GET", "/api/v1/sales", { headers: auth(w.tokens.coop_admin) })),
      ],
      ["GET /b/:id", 3, async (i) => note("GET /b/:id", await raw(url, "GET", `/b/${batchIds[i % batchIds.length]}`))],
      [
        "GET /stats",
        1,
        async () => note("GET /stats", await raw(url, "GET", "/api/v1/stats", { headers: auth(w.tokens.auditor) })),
      ],
      [
        "POST /batches",
        2,
        async (i) => {
          const m = w.members[i % MEMBERS];
          const lot = `LOAD-${++seq}-${i}`;
          const r = await raw(url, "POST", "/api/v1/batches", {
            headers: { ...json, ...auth(m.token) },
            body: JSON.stringify({
              cooperativeId: w.cooperativeId,
              productCode: "saffron",
              lotCode: lot,
              quantity: "100",
              unit: "g",
              productionDate: day(-1),
              contributors: [{ memberId: m.userId, weight: "1" }],
            }),
          });
          note("POST /batches", r);
          const body = safeJson(r.text);
          lots.push({ lot, status: r.status, batchId: body?.batchId, operationId: body?.operationId });
          if (r.status === 201 && body?.batchId) batchIds.push(body.batchId);
        },
      ],
      [
        "POST /batches/:id/events",
        2,
        async (i) => {
          const m = w.members[i % MEMBERS];
          const location = `load-ev-${++seq}-${i}`;
          const r = await raw(url, "POST", `/api/v1/batches/${w.batchId}/events`, {
            headers: { ...json, ...auth(m.token) },
            body: JSON.stringify({ bizStep: "inspecting", location, eventTime: day(-1) }),
          });
          note("POST /batches/:id/events", r);
          events.push({ location, status: r.status, operationId: safeJson(r.text)?.operationId });
        },
      ],
    ];
    const total = kinds.reduce((a, [, wgt]) => a + wgt, 0);
    const pick = () => {
      let x = Math.random() * total;
      for (const k of kinds) if ((x -= k[1]) < 0) return k;
      return kinds[0];
    };
    const deadline = Date.now() + DURATION_MS;
    let errors = 0;
    await Promise.all(
      Array.from({ length: WORKERS }, async (_, i) => {
        while (Date.now() < deadline) {
          try {
            await pick()[2](i);
          } catch (err) {
            errors++;
            fivexx.push(`network error: ${String(err)}`);
          }
        }
      }),
    );

    // Accepted (202) writes settle: wait for their operations to end.
    const pendingOps = [...lots, ...events].filter((x) => x.status === 202 && x.operationId);
    for (const op of pendingOps) {
      for (let k = 0; k < 120; k++) {
        const s = await w.t.api.as(w.tokens.platform_admin).get(`/api/v1/operations/${op.operationId}`);
        if (s.status === 200 && !/queued|submitted|pending|sent/.test(String(s.body.state ?? s.body.status))) break;
        await new Promise((r) => setTimeout(r, 250));
      }
    }

    // Count on-chain: one BatchRegistered per accepted lot, one BatchEvent per accepted location.
    const reg = w.t.contracts.batches;
    const registered = await reg.queryFilter(reg.filters.BatchRegistered());
    const lotCount = new Map<string, number>();
    const idSet = new Set<string>();
    for (const e of registered) {
      const args = (e as any).args;
      const lot = wordToText(args.info.lotCode);
      lotCount.set(lot, (lotCount.get(lot) ?? 0) + 1);
      idSet.add(args.batchId);
    }
    const recorded = await reg.queryFilter(reg.filters.BatchEvent());
    const locCount = new Map<string, number>();
    for (const e of recorded) {
      const loc = (e as any).args.location as string;
      locCount.set(loc, (locCount.get(loc) ?? 0) + 1);
    }
    const acceptedLots = lots.filter((l) => l.status === 201 || l.status === 202);
    const acceptedEvents = events.filter((l) => l.status === 201 || l.status === 202);
    const lostLots = acceptedLots.filter((l) => (lotCount.get(l.lot) ?? 0) === 0).map((l) => l.lot);
    const dupLots = acceptedLots.filter((l) => (lotCount.get(l.lot) ?? 0) > 1).map((l) => l.lot);
    const lostEvents = acceptedEvents.filter((l) => (locCount.get(l.location) ?? 0) === 0).map((l) => l.location);
    const dupEvents = acceptedEvents.filter((l) => (locCount.get(l.location) ?? 0) > 1).map((l) => l.location);
    const refusedLanded = [...lots.filter((l) => l.status >= 400 && lotCount.has(l.lot))].length;
    const givenIds = acceptedLots.map((l) => l.batchId).filter(Boolean) as string[];

    const requests = Object.values(lat).reduce((a, v) => a + v.length, 0);
    console.log(
      `    load: ${requests} requests in ${DURATION_MS / 1000} s by ${WORKERS} workers; network errors ${errors}`,
    );
    for (const [k, v] of Object.entries(lat)) {
      console.log(
        `      ${k.padEnd(26)} n=${String(v.length).padStart(5)} p95=${p95(v).toFixed(0).padStart(5)} ms  ${JSON.stringify(statuses[k])}`,
      );
    }
    console.log(
      `    writes accepted: ${acceptedLots.length} batches, ${acceptedEvents.length} events; lost ${lostLots.length + lostEvents.length}, duplicated ${dupLots.length + dupEvents.length}`,
    );
    await report([
      {
        scenario: `load: ${WORKERS} concurrent mixed, ${DURATION_MS / 1000} s`,
        result:
          fivexx.length === 0 && lostLots.length + lostEvents.length + dupLots.length + dupEvents.length === 0
            ? "pass"
            : "FAIL",
        requests,
        landed: acceptedLots.length + acceptedEvents.length - lostLots.length - lostEvents.length,
        lost: lostLots.length + lostEvents.length,
        duplicated: dupLots.length + dupEvents.length,
        fivexx: fivexx.length,
        notes: Object.entries(lat)
          .map(([k, v]) => `${k} p95 ${p95(v).toFixed(0)}ms`)
          .join("; "),
      },
    ]);

    expect(fivexx, fivexx.slice(0, 10).join("\n")).to.deep.equal([]);
    expect(acceptedLots.length, "some batch registrations were accepted").to.be.greaterThan(10);
    expect(acceptedEvents.length, "some events were accepted").to.be.greaterThan(10);
    expect(lostLots, "accepted registrations missing on-chain").to.deep.equal([]);
    expect(dupLots, "registrations landed twice").to.deep.equal([]);
    expect(lostEvents, "accepted events missing on-chain").to.deep.equal([]);
    expect(dupEvents, "events landed twice").to.deep.equal([]);
    expect(refusedLanded, "refused registrations that landed anyway").to.equal(0);
    expect(new Set(givenIds).size, "distinct batch ids").to.equal(givenIds.length);
    for (const id of givenIds) expect(idSet.has(id), `batch ${id} on-chain`).to.equal(true);
  });

  it("answers a flood of public reads above 600/min with 429s, while member writes are served", async function () {
    const url = w.t.gateway.url;
    const floodPaths = [`/api/v1/batches/${w.batchId}`, "/api/v1/batches"];
    const flood: RawResponse[] = [];
    const pageFlood: RawResponse[] = [];
    const writes: RawResponse[] = [];
    let stop = false;
    const flooders = Array.from({ length: 50 }, async (_, i) => {
      while (!stop) flood.push(await raw(url, "GET", floodPaths[i % 2]));
    });
    const pageFlooders = Array.from({ length: 30 }, async () => {
      while (!stop || pageFlood.length < 700) pageFlood.push(await raw(url, "GET", `/b/${w.batchId}`));
    });
    // Let the flood pass the limit, then write as members while it goes on.
    while (flood.filter((r) => r.status === 429).length < 100) await new Promise((r) => setTimeout(r, 20));
    await Promise.all(
      w.members.slice(0, 10).map(async (m, i) => {
        for (let k = 0; k < 2; k++) {
          writes.push(
            await raw(url, "POST", `/api/v1/batches/${w.batchId}/events`, {
              headers: { "content-type": "application/json", authorization: `Bearer ${m.token}` },
              body: JSON.stringify({ bizStep: "shipping", location: `flood-${i}-${k}`, eventTime: day(-1) }),
            }),
          );
        }
      }),
    );
    stop = true;
    await Promise.all([...flooders, ...pageFlooders]);

    const count = (rs: RawResponse[]) =>
      rs.reduce<Record<number, number>>((a, r) => ((a[r.status] = (a[r.status] ?? 0) + 1), a), {});
    console.log(`    flood /api/v1 public GETs: ${flood.length} ${JSON.stringify(count(flood))}`);
    console.log(`    flood /b/:id page: ${pageFlood.length} ${JSON.stringify(count(pageFlood))}`);
    console.log(
      `    member writes during the flood: ${JSON.stringify(count(writes))}, p95 ${p95(writes.map((r) => r.ms)).toFixed(0)} ms`,
    );
    const limited = flood.filter((r) => r.status === 429);
    const served = flood.filter((r) => r.status === 200);
    await report([
      {
        scenario: "public flood above rate limit",
        result: writes.every((r) => r.status === 201) && limited.length > 0 ? "pass" : "FAIL",
        requests: flood.length + pageFlood.length + writes.length,
        landed: writes.filter((r) => r.status === 201).length,
        lost: 0,
        duplicated: 0,
        fivexx: [...flood, ...pageFlood, ...writes].filter((r) => r.status >= 500).length,
        notes: `api 200×${served.length} 429×${limited.length}; /b/:id ${JSON.stringify(count(pageFlood))}; writes ${JSON.stringify(count(writes))}`,
      },
    ]);

    expect(served.length, "the limit lets about 600 through").to.be.within(1, 600);
    expect(limited.length).to.be.greaterThan(100);
    for (const r of limited) {
      expect(r.contentType).to.match(/^application\/problem\+json/);
      expect(JSON.parse(r.text).code).to.equal("rate_limited");
    }
    expect([...flood, ...pageFlood].filter((r) => r.status >= 500)).to.deep.equal([]);
    expect(writes.map((r) => r.status)).to.deep.equal(writes.map(() => 201));
    // The HTML verify page is public too: flooded past 600 requests from one address, it should limit as well.
    expect(pageFlood.length, "page flood exceeded the limit").to.be.greaterThan(600);
    expect(
      pageFlood.filter((r) => r.status === 429).length,
      "the /b/:id page is rate-limited like the public API",
    ).to.be.greaterThan(0);
  });
});

function safeJson(text: string): any {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
