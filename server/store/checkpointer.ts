/**
 * WAL checkpoints off the event loop. SQLite copies the write-ahead log back into the database
 * file every 1000 pages, inside whichever commit crosses that mark: on the gateway's thread, every
 * hundred or so writes, a pause of several milliseconds (a third of the time of an insert here).
 * With the checkpointer, the gateway's connection never checkpoints (wal_autocheckpoint = 0) and a
 * worker thread with its own connection runs PASSIVE checkpoints every `intervalMs`: they copy what
 * no reader still needs and never block a writer. If the worker stops for any reason, the
 * connection's automatic checkpoints come back, so the log cannot grow without bound.
 */
import { Worker } from "node:worker_threads";
import type { Db } from "./db";
import type { Logger } from "../log";

const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma("busy_timeout = 5000");
let checkpoints = 0;
const checkpoint = () => {
  try {
    db.pragma("wal_checkpoint(PASSIVE)");
    checkpoints++;
  } catch (err) {
    parentPort.postMessage({ error: String(err && err.message) });
  }
};
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on("message", (message) => {
  if (message === "stop") {
    clearInterval(timer);
    checkpoint();
    db.close();
    parentPort.postMessage({ stopped: true, checkpoints });
    parentPort.close();
  }
});
parentPort.postMessage({ ready: true });
`;

const DEFAULT_AUTOCHECKPOINT = 1000;

export interface Checkpointer {
  /** Runs a last checkpoint and stops the worker; resolves with the number of checkpoints it ran. */
  stop(): Promise<number>;
}

export async function startCheckpointer(db: Db, options: { log: Logger; intervalMs?: number }): Promise<Checkpointer> {
  const { log } = options;
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { driver: require.resolve("better-sqlite3"), file: db.name, intervalMs: options.intervalMs ?? 250 },
  });
  let stopping = false;
  let stoppedWith: ((checkpoints: number) => void) | undefined;
  const fallBack = (why: string) => {
    if (!db.open) return;
    db.pragma(`wal_autocheckpoint = ${DEFAULT_AUTOCHECKPOINT}`);
    if (!stopping) log.warn({ why }, "WAL checkpointer stopped: the connection checkpoints itself again");
  };
  worker.on("message", (message: { error?: string; stopped?: boolean; checkpoints?: number }) => {
    if (message.error) log.warn({ error: message.error }, "WAL checkpoint failed");
    if (message.stopped) stoppedWith?.(message.checkpoints ?? 0);
  });
  worker.on("error", (err) => fallBack(err.message));
  worker.on("exit", (code) => {
    fallBack(`worker exited with code ${code}`);
    stoppedWith?.(0);
  });
  await new Promise<void>((resolve, reject) => {
    const onMessage = (message: { ready?: boolean }) => {
      if (!message.ready) return;
      worker.off("message", onMessage);
      resolve();
    };
    worker.on("message", onMessage);
    worker.once("error", reject);
  });
  db.pragma("wal_autocheckpoint = 0");
  worker.unref();
  return {
    stop() {
      if (stopping) return Promise.resolve(0);
      stopping = true;
      const done = new Promise<number>((resolve) => (stoppedWith = resolve));
      worker.postMessage("stop");
      return done.finally(() => fallBack("stopped"));
    },
  };
}
