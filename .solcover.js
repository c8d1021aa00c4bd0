// Coverage counts our contracts only: test doubles and the gas-comparison imports are not product code.
// `npm run coverage` runs the contract tier (test/contracts/**) only, then scripts/coverage-check.ts reads
// coverage/coverage-summary.json (the json-summary reporter) and fails under 95 % of lines or branches.
module.exports = {
  skipFiles: ["mocks/", "bench/"],
  // EAS (bench only) pins solc 0.8.29; instrumenting it is pointless and slow.
  configureYulOptimizer: false,
  // The defaults (html, lcov, text, json) plus json-summary for the threshold check.
  istanbulReporter: ["html", "lcov", "text", "json", "json-summary"],
};
