/**
 * Node.js flags of the gateway process: `npm start` passes them (package.json), and so does every
 * tool that runs the gateway as its own process (the benchmark, the fault tests); a test keeps the
 * two in step.
 *
 * --max-old-space-size=256: under load the gateway's live heap is ~55 MB, but with the default
 * limit (derived from the machine's memory, several GB here) V8 lets garbage pile up to ~170 MB
 * before collecting, and the process reaches ~300 MB resident. With a 256 MB limit V8 collects
 * sooner: ~70 MB of heap and ~205 MB resident at the same throughput (npm run bench:gateway).
 */
export const GATEWAY_NODE_FLAGS: readonly string[] = ["--max-old-space-size=256", "--enable-source-maps"];
