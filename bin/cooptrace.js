#!/usr/bin/env node
/**
 * The `cooptrace` command (package.json "bin"). It runs the compiled CLI (dist/server/verifier/cli.js):
 * build it once with `npm run build` (or `npm start`, which builds when sources changed).
 */
"use strict";
const path = require("node:path");
const { existsSync } = require("node:fs");

const cli = path.join(__dirname, "..", "dist", "server", "verifier", "cli.js");
if (!existsSync(cli)) {
  process.stderr.write("cooptrace: the CLI is not built yet: run `npm run build` in the CoopTrace folder first.\n");
  process.exit(2);
}
require(cli)
  .main(process.argv)
  .then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`cooptrace: ${err && err.stack ? err.stack : err}\n`);
      process.exitCode = 2;
    },
  );
