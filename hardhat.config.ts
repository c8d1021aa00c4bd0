import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { subtask, task } from "hardhat/config";
import { TASK_COMPILE, TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD } from "hardhat/builtin-tasks/task-names";
import type { HardhatUserConfig } from "hardhat/config";
import "@nomicfoundation/hardhat-toolbox";

/**
 * The compiler download site is unreachable on our machines (and behind many firewalls), so
 * every compiler comes from an npm package pinned in package.json. The map below is the only
 * place that ties a compiler version to its package: keep them in step.
 *  - 0.8.28: our contracts (package `solc`).
 *  - 0.8.29: the Ethereum Attestation Service contracts, compiled only for the gas comparison
 *    (package alias `solc-0.8.29`).
 */
const SOLC_PACKAGES: Record<string, string> = {
  "0.8.28": "solc",
  "0.8.29": "solc-0.8.29",
};

subtask(TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD, async (args: { solcVersion: string }) => {
  const pkg = SOLC_PACKAGES[args.solcVersion];
  if (pkg === undefined) {
    throw new Error(`solc ${args.solcVersion} is not installed from npm; add it to SOLC_PACKAGES in hardhat.config.ts`);
  }
  const pkgJson = require.resolve(`${pkg}/package.json`);
  const { version } = JSON.parse(readFileSync(pkgJson, "utf8")) as { version: string };
  if (version !== args.solcVersion) {
    throw new Error(`npm package ${pkg} is solc ${version}, hardhat.config.ts expects ${args.solcVersion}`);
  }
  return {
    compilerPath: path.join(path.dirname(pkgJson), "soljson.js"),
    isSolcJs: true,
    version: args.solcVersion,
    longVersion: args.solcVersion,
  };
});

/**
 * Every compile also writes server/chain/abis.generated.ts (scripts/gen-abis.js): the run-time ABIs and
 * bytecode of the gateway and the verifier, which use viem and never typechain-types. From this run's
 * artifacts: under `hardhat coverage` the instrumented ones, as for TypeChain (see below).
 */
task(TASK_COMPILE, async (args, hre, runSuper) => {
  const result: unknown = await runSuper(args);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { writeAbis } = require("./scripts/gen-abis.js") as { writeAbis(artifactsDir: string): string };
  writeAbis(hre.config.paths.artifacts);
  return result;
});

const optimizer = { enabled: true, runs: 10_000 };
/** The escrow alone is optimized for fewer runs, to fit the contract size limit (EIP-170): 1,000 since the
 * payout route moved beside the account (issue 16), which leaves it 624 bytes under. */
const saleEscrowOptimizer = { enabled: true, runs: 1000 };

/** EAS (gas comparison only) is compiled with the solc it pins and the settings it ships with. */
const EAS_DIR = "@ethereum-attestation-service/eas-contracts/contracts";
const easCompiler = {
  version: "0.8.29",
  settings: { optimizer: { enabled: true, runs: 1_000_000 }, evmVersion: "cancun" },
};
function easOverrides(): Record<string, typeof easCompiler> {
  const root = path.dirname(require.resolve(`${EAS_DIR}/EAS.sol`));
  const files = readdirSync(root, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".sol"));
  const overrides: Record<string, typeof easCompiler> = {
    "contracts/bench/EASBench.sol": easCompiler,
    // Issue 16's claimMany and payAll took the escrow past the 24,576-byte limit at 10,000 runs.
    "contracts/SaleEscrow.sol": {
      version: "0.8.28",
      settings: { optimizer: saleEscrowOptimizer, evmVersion: "cancun" },
    },
  };
  for (const f of files) overrides[`${EAS_DIR}/${f.split(path.sep).join("/")}`] = easCompiler;
  return overrides;
}

/**
 * `hardhat coverage` compiles instrumented contracts. It gets its own artifacts and cache (solidity-coverage
 * deletes both when it ends) so that it never overwrites, or reads, the artifacts that tests, `npm run gas`
 * and the gateway use at the same time. The TypeChain factories (typechain-types/, imported by the tests) do
 * carry the instrumented bytecode during the run: `npm run coverage` regenerates them from artifacts/ after it.
 */
const coveragePaths = process.argv.includes("coverage")
  ? { paths: { artifacts: ".coverage_artifacts", cache: ".coverage_cache" } }
  : {};

const config: HardhatUserConfig = {
  ...coveragePaths,
  solidity: {
    compilers: [{ version: "0.8.28", settings: { optimizer, evmVersion: "cancun" } }],
    overrides: easOverrides(),
  },
  networks: {
    hardhat: {
      // Sale deadlines and dispute windows are tested with time travel; nothing else differs.
      allowUnlimitedContractSize: false,
    },
  },
  typechain: { outDir: "typechain-types", target: "ethers-v6" },
  gasReporter: { enabled: process.env.REPORT_GAS === "true", currency: "USD" },
  mocha: { timeout: 120_000 },
};

export default config;
