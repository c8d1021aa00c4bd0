/**
 * /stats follows lineage (issue 14): a product made from other lots (the demo's rose water, distilled
 * from a harvest of petals and sold) counts its own lots and quantity and the cooperatives of the
 * harvests it comes from; a region still counts harvests only (no lot or quantity counted twice). The
 * expected figures are recomputed here from the index's own tables (ix_batches, ix_lineage), on a real
 * gateway seeded as `npm start` seeds it.
 */
import { expect } from "chai";
import { seedDemo, type DemoResult } from "../../server/demo/seed";
import { startTestGateway, type TestGateway } from "../helpers/gateway";

interface Cell {
  month: string;
  cooperatives: number;
  womenCooperatives: number;
  batches: number;
  quantities: { unit: string; total: string | null }[];
  sales: number;
}
interface Area {
  key: string;
  months: Cell[];
}

describe("regional figures follow lineage (stats)", function () {
  this.timeout(240_000);
  let t: TestGateway;
  let demo: DemoResult;

  before(async function () {
    t = await startTestGateway();
    demo = await seedDemo(t.gateway.url, t.adminToken, t.dataDir);
  });

  after(async function () {
    await t?.stop();
  });

  it("counts a made product's lots, quantity and the cooperatives of its harvests; regions count harvests", async function () {
    const db = t.gateway.ctx.db;
    const batch = (id: string) =>
      db
        .prepare<
          [string],
          { product_code: string; kind: string; cooperative_id: number; quantity: string; unit: string; month: string }
        >(
          `SELECT product_code, kind, cooperative_id, quantity, unit, strftime('%Y-%m', block_time, 'unixepoch') AS month
             FROM ix_batches WHERE batch_id = ?`,
        )
        .get(id)!;
    const made = batch(demo.roseWaterBatchId);
    expect(made.kind).to.not.equal("registered"); // the demo's rose water is made from other lots
    // Its harvests, through the lineage, and their cooperatives.
    const parentsOf = db.prepare<[string], { parent_id: string }>(
      `SELECT parent_id FROM ix_lineage WHERE child_id = ?`,
    );
    const roots = (id: string): string[] => {
      const ps = parentsOf.all(id).map((r) => r.parent_id);
      return ps.length === 0 ? [id] : ps.flatMap(roots);
    };
    const coops = new Set(roots(demo.roseWaterBatchId).map((id) => batch(id).cooperative_id));
    expect(coops.size).to.be.greaterThan(0);
    // Every lot of that product made in that month (the demo makes one).
    const sameProduct = db
      .prepare<[string, string], { quantity: string; unit: string }>(
        `SELECT quantity, unit FROM ix_batches
          WHERE product_code = ? AND strftime('%Y-%m', block_time, 'unixepoch') = ?`,
      )
      .all(made.product_code, made.month);

    const stats = await t.api.get("/api/v1/stats");
    expect(stats.status, stats.text).to.equal(200);
    const product = (stats.body.products as Area[]).find((a) => a.key === made.product_code)!;
    const cell = product.months.find((m) => m.month === made.month)!;
    expect(cell.batches).to.equal(sameProduct.length);
    expect(cell.cooperatives).to.equal(coops.size);
    expect(cell.sales).to.be.greaterThan(0); // sold: and no longer beside "0 lots, 0 cooperatives"
    const total = sameProduct.filter((b) => b.unit === made.unit).reduce((a, b) => a + BigInt(b.quantity), 0n);
    const shown = cell.quantities.find((q) => q.unit === made.unit)!;
    // Member-derived, so published only with enough members behind it (k-anonymity); exact when shown.
    if (shown.total !== null) expect(shown.total).to.equal(total.toString());

    // Regions count harvests only: the made lot adds no lot there.
    const harvests = db
      .prepare<[string], { n: number }>(
        `SELECT COUNT(*) AS n FROM ix_batches
          WHERE kind = 'registered' AND strftime('%Y-%m', block_time, 'unixepoch') = ?`,
      )
      .get(made.month)!.n;
    const regionLots = (stats.body.regions as Area[])
      .map((a) => a.months.find((m) => m.month === made.month)?.batches ?? 0)
      .reduce((a, b) => a + b, 0);
    expect(regionLots).to.equal(harvests);
  });
});
