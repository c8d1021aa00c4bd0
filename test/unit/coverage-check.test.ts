/**
 * The threshold check behind `npm run coverage` (scripts/coverage-check.ts) on hand-made summaries:
 * pure and instant, so it runs with every `npm test`.
 */
import { expect } from "chai";
import { checkCoverage, formatResult, isProductContract, type CoverageSummary } from "../../scripts/coverage-check";

const ROOT = "/repo";

function file(lines: [number, number], branches: [number, number]) {
  const m = ([covered, total]: [number, number]) => ({ covered, total, skipped: 0, pct: 0 });
  return { lines: m(lines), statements: m(lines), functions: m([4, 4]), branches: m(branches) };
}

/** What solidity-coverage writes today, in shape: two contracts, `total`, keys relative to the root. */
function summary(): CoverageSummary {
  return {
    total: file([290, 300], [190, 200]),
    "contracts/SaleEscrow.sol": file([195, 200], [96, 100]),
    "contracts/libraries/RevenueSplit.sol": file([95, 100], [95, 100]),
  };
}

describe("coverage check (npm run coverage)", function () {
  it("passes at or above 95 % of lines and branches, summed over the product contracts", function () {
    const result = checkCoverage(summary(), 95, ROOT);
    expect(result.failures).to.deep.equal([]);
    expect(result.ok).to.equal(true);
    expect(result.files).to.deep.equal(["contracts/SaleEscrow.sol", "contracts/libraries/RevenueSplit.sol"]);
    expect(result.metrics.lines).to.include({ covered: 290, total: 300 });
    expect(result.metrics.branches).to.include({ covered: 191, total: 200 });
    expect(formatResult(result)).to.contain("coverage check passed");
  });

  it("fails when branches fall under 95 %, even by one branch", function () {
    const s = summary();
    s["contracts/SaleEscrow.sol"] = file([195, 200], [94, 100]); // 189/200 = 94.5 %
    const result = checkCoverage(s, 95, ROOT);
    expect(result.ok).to.equal(false);
    expect(result.failures).to.deep.equal(["branches 94.50 % (189/200) is under 95 %"]);
    expect(formatResult(result)).to.contain("coverage check FAILED");
  });

  it("fails when lines fall under 95 %, and does not round 94.99 % up", function () {
    const s: CoverageSummary = { "contracts/A.sol": file([9499, 10_000], [10, 10]) };
    const result = checkCoverage(s, 95, ROOT);
    expect(result.ok).to.equal(false);
    expect(result.failures).to.deep.equal(["lines 94.99 % (9499/10000) is under 95 %"]);
    expect(checkCoverage({ "contracts/A.sol": file([9500, 10_000], [10, 10]) }, 95, ROOT).ok).to.equal(true);
  });

  it("ignores `total`, mocks and bench: a well-covered test double cannot lift the figure", function () {
    const s: CoverageSummary = {
      total: file([1000, 1000], [1000, 1000]),
      "contracts/BatchRegistry.sol": file([90, 100], [100, 100]),
      "contracts/mocks/MockStablecoin.sol": file([1000, 1000], [1000, 1000]),
      "contracts/bench/EASBench.sol": file([1000, 1000], [1000, 1000]),
    };
    const result = checkCoverage(s, 95, ROOT);
    expect(result.files).to.deep.equal(["contracts/BatchRegistry.sol"]);
    expect(result.failures).to.deep.equal(["lines 90.00 % (90/100) is under 95 %"]);
  });

  it("fails on a summary without any contract (wrong folder, wrong reporter)", function () {
    const result = checkCoverage({ total: file([1, 1], [1, 1]) }, 95, ROOT);
    expect(result.ok).to.equal(false);
    expect(result.failures).to.deep.equal(["no contract of contracts/ in the coverage summary"]);
  });

  it("accepts absolute keys under the root and rejects contracts outside it", function () {
    expect(isProductContract("/repo/contracts/Forwarder.sol", ROOT)).to.equal(true);
    expect(isProductContract("/repo/contracts/mocks/ForceSend.sol", ROOT)).to.equal(false);
    expect(isProductContract("/elsewhere/contracts/Forwarder.sol", ROOT)).to.equal(false);
    expect(isProductContract("node_modules/@openzeppelin/contracts/token/ERC20/ERC20.sol", ROOT)).to.equal(false);
    expect(isProductContract("contracts/interfaces/ISaleEscrow.sol", ROOT)).to.equal(true);
  });
});
