#!/usr/bin/env node
/**
 * Builds the contracts and the gateway only when a source changed since the last build, so that
 * `npm start` starts at once the second time. The build's fingerprint (every source's path, size and
 * modification time) is kept in dist/.build-fingerprint.
 *
 * A production install (`npm ci --omit=dev`) has no compiler: there the build must already be in
 * dist/ (run `npm run build` before installing), and this script only checks that it is.
 *
 * Plain JavaScript on purpose: it runs before anything is compiled.
 */
"use strict";
const { createHash } = require("node:crypto");
const { spawnSync } = require("node:child_process");
const { existsSync, readdirSync, readFileSync, statSync, writeFileSync } = require("node:fs");
const path = require("node:path");

const root = path.join(__dirname, "..");
const SOURCES = [
  "contracts",
  "domain",
  "server",
  "scripts",
  "hardhat.config.ts",
  "tsconfig.json",
  "tsconfig.build.json",
];
const SKIP = new Set(["node_modules", "dist", "artifacts", "cache", "typechain-types", "data"]);
const FINGERPRINT = path.join(root, "dist", ".build-fingerprint");
const ENTRY = path.join(root, "dist", "scripts", "start.js");

function* files(p) {
  const s = statSync(p);
  if (!s.isDirectory()) {
    yield [path.relative(root, p), s.size, s.mtimeMs];
    return;
  }
  for (const name of readdirSync(p).sort()) if (!SKIP.has(name)) yield* files(path.join(p, name));
}

function fingerprint() {
  const hash = createHash("sha256");
  for (const source of SOURCES) {
    const p = path.join(root, source);
    if (existsSync(p)) for (const f of files(p)) hash.update(f.join("\0") + "\n");
  }
  return hash.digest("hex");
}

function run(command, args, quiet) {
  // Output is shown only when a step fails: a successful compile prints nothing (the test mocks'
  // compiler warnings are for the test suite, not for someone starting the gateway).
  const r = spawnSync(command, args, { cwd: root, encoding: "utf8", stdio: quiet ? "pipe" : "inherit" });
  if (r.status !== 0) {
    if (quiet) process.stderr.write((r.stdout || "") + (r.stderr || ""));
    process.stderr.write(`build failed: ${command} ${args.join(" ")}\n`);
    process.exit(r.status ?? 1);
  }
}

const hasCompiler =
  existsSync(path.join(root, "node_modules", "hardhat")) && existsSync(path.join(root, "node_modules", "typescript"));
if (!hasCompiler) {
  if (existsSync(ENTRY)) process.exit(0);
  process.stderr.write(
    "dist/ is missing and this install has no compiler: run `npm run build` before `npm ci --omit=dev`.\n",
  );
  process.exit(1);
}
// `npm run build` passes --force: always build (and record the fingerprint, so `npm start` does not build again).
const force = process.argv.includes("--force");
const now = fingerprint();
const fresh = existsSync(ENTRY) && existsSync(FINGERPRINT) && readFileSync(FINGERPRINT, "utf8").trim() === now;
if (fresh && !force) process.exit(0);
if (!force) process.stdout.write("Building (sources changed since the last build)…\n");
const bin = (name) => path.join(root, "node_modules", ".bin", name);
run(bin("hardhat"), ["compile", "--quiet"], true);
run(bin("tsc"), ["-p", "tsconfig.build.json"], false);
writeFileSync(FINGERPRINT, fingerprint() + "\n");
