/**
 * The WAL checkpointer: the gateway's connection stops checkpointing inside its own commits, a
 * worker thread keeps the write-ahead log from growing, and stopping gives the connection its
 * automatic checkpoints back.
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { openDatabase, type Db } from "../../server/store/db";
import { startCheckpointer } from "../../server/store/checkpointer";
import { captureLogs } from "../helpers/relayer";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("WAL checkpointer", function () {
  this.timeout(60_000);
  const dirs: string[] = [];
  const dbs: Db[] = [];
  function open(): { db: Db; wal: () => number } {
    const dir = mkdtempSync(path.join(tmpdir(), "cooptrace-wal-"));
    dirs.push(dir);
    const file = path.join(dir, "x.sqlite");
    const db = openDatabase(file, [
      { module: "test", steps: ["CREATE TABLE t (id INTEGER PRIMARY KEY, data TEXT NOT NULL)"] },
    ]);
    dbs.push(db);
    return { db, wal: () => statSync(`${file}-wal`).size };
  }
  after(function () {
    for (const db of dbs) if (db.open) db.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  /** ~16 MB in 400 commits of 40 kB, spread over ~2 s so that the worker gets its turns. */
  async function write(db: Db): Promise<void> {
    const insert = db.prepare("INSERT INTO t (data) VALUES (?)");
    const blob = "x".repeat(40_000);
    for (let i = 0; i < 400; i++) {
      insert.run(blob);
      if (i % 20 === 0) await sleep(100);
    }
  }

  it("keeps the log bounded from its own thread; the connection itself never checkpoints", async function () {
    // Control: with automatic checkpoints off and no checkpointer, the log holds everything written.
    const control = open();
    control.db.pragma("wal_autocheckpoint = 0");
    await write(control.db);
    expect(control.wal()).to.be.greaterThan(15_000_000);

    const { db, wal } = open();
    const { log, entries } = captureLogs();
    const checkpointer = await startCheckpointer(db, { log, intervalMs: 50 });
    expect(db.pragma("wal_autocheckpoint", { simple: true })).to.equal(0);
    await write(db);
    expect(wal()).to.be.lessThan(8_000_000);
    const ran = await checkpointer.stop();
    expect(ran).to.be.greaterThan(10);
    // Stopped: the connection checkpoints itself again, and nothing was lost.
    expect(db.pragma("wal_autocheckpoint", { simple: true })).to.equal(1000);
    expect((db.prepare("SELECT COUNT(*) AS n FROM t").get() as { n: number }).n).to.equal(400);
    expect(entries().filter((e) => e.level >= 40)).to.deep.equal([]);
    expect(await checkpointer.stop()).to.equal(0); // idempotent
  });
});
