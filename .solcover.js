// Coverage counts our contracts only: test doubles and the gas-comparison imports are not product code.
module.exports = {
  skipFiles: ["mocks/", "bench/"],
  // EAS (bench only) pins solc 0.8.29; instrumenting it is pointless and slow.
  configureYulOptimizer: false,
};
