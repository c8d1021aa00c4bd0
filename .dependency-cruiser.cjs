/**
 * The gateway's layer rules, checked by `npm run lint` (dependency-cruiser): a wrong arrow fails CI
 * instead of waiting for a review. Data flows one way: HTTP → services → chain / store / relayer /
 * index; the domain core depends on nothing of ours; the verifier reads only the chain.
 */
const HTTP = "^server/(api|pages)/|^server/[^/]+/(routes|pages|http)\\.ts$|^server/web/[^/]+/(routes|pages|http)\\.ts$";

module.exports = {
  forbidden: [
    {
      name: "no-cycles",
      severity: "error",
      comment: "An import cycle hides which layer depends on which.",
      from: { path: "^(server|domain|scripts)/" },
      to: { circular: true },
    },
    {
      name: "server-not-scripts",
      severity: "error",
      comment: "scripts/ (start, deploy, benchmarks) builds on the server, never the reverse.",
      from: { path: "^server/" },
      to: { path: "^scripts/" },
    },
    {
      name: "domain-is-pure",
      severity: "error",
      comment: "domain/ holds the rules (GS1, split, contributors, text): it imports nothing of ours but itself.",
      from: { path: "^domain/" },
      to: { path: "^(server|scripts|test|typechain-types)/" },
    },
    {
      name: "express-only-in-http",
      severity: "error",
      comment: "Only the HTTP layer (server/api, server/pages, routes.ts, pages.ts, http.ts) knows Express.",
      from: { path: "^(server|domain)/", pathNot: HTTP },
      to: { path: "node_modules/(express|express-rate-limit|helmet|cors|pino-http)/" },
    },
    {
      name: "verifier-reads-only-the-chain",
      severity: "error",
      comment: "The verifier trusts no gateway state: not the store, the index, the relayer, custody nor the services.",
      from: { path: "^server/verifier/" },
      to: { path: "^server/(store|index|relayer|custody|services|api|pages|sessions)/" },
    },
    {
      name: "index-not-relayer",
      severity: "error",
      comment: "The index follows the chain; it never depends on what the relayer sends.",
      from: { path: "^server/index/" },
      to: { path: "^server/relayer/" },
    },
    {
      name: "runtime-on-viem-only",
      severity: "error",
      comment:
        "The gateway, the domain rules and the verifier run on viem: ethers and TypeChain are devDependencies, for Hardhat tests and scripts only (npm ci --omit=dev does not install them).",
      from: { path: "^(server|domain|bin)/" },
      to: { path: "(^|/)node_modules/(ethers|typechain|@typechain)/|^typechain-types/" },
    },
    {
      name: "lower-layers-not-http",
      severity: "error",
      comment: "chain, store, custody, relayer, index, sessions and services never import the HTTP layer.",
      from: { path: "^server/(chain|store|custody|relayer|index|sessions|services|epcis|verifier)/", pathNot: HTTP },
      to: { path: HTTP },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^(dist|artifacts|cache|coverage|data)/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    combinedDependencies: false,
  },
};
