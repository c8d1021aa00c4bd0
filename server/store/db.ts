/**
 * The gateway's SQLite file (better-sqlite3, WAL). Each module owns its tables and declares them as
 * numbered migrations under its own name; openDatabase applies what a file has not seen yet, in one
 * transaction per migration.
 */
import { closeSync, mkdirSync, openSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { makePrivate } from "./lock";

export type Db = Database.Database;

export interface Migrations {
  /** Module name, e.g. "custody", "outbox", "index". */
  module: string;
  /** SQL scripts; index + 1 is the version. Never edit a released one: append. */
  steps: string[];
}

export function openDatabase(file: string, migrations: Migrations[]): Db {
  if (file !== ":memory:") {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    // Owner-only: the database holds encrypted keys, token hashes and the outbox. SQLite gives its
    // -wal and -shm files the mode of the database file, so the file is created 0600 before SQLite
    // opens it; files of earlier versions (0644) are tightened.
    closeSync(openSync(file, "a", 0o600));
    for (const f of [file, `${file}-wal`, `${file}-shm`]) makePrivate(f);
  }
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL"); // durable across a process crash; WAL keeps it consistent
  db.pragma("foreign_keys = ON");
  db.pragma("busy_timeout = 5000");
  db.exec("CREATE TABLE IF NOT EXISTS schema_migrations (module TEXT PRIMARY KEY, version INTEGER NOT NULL)");
  const current = db.prepare<[string], { version: number }>("SELECT version FROM schema_migrations WHERE module = ?");
  const save = db.prepare(
    "INSERT INTO schema_migrations (module, version) VALUES (?, ?) ON CONFLICT(module) DO UPDATE SET version = excluded.version",
  );
  for (const m of migrations) {
    const from = current.get(m.module)?.version ?? 0;
    m.steps.slice(from).forEach((sql, i) => {
      db.transaction(() => {
        db.exec(sql);
        save.run(m.module, from + i + 1);
      })();
    });
  }
  return db;
}
