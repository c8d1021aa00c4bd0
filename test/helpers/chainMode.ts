/**
 * The chain mode the gateway tests run on, chosen with COOPTRACE_TEST_CHAIN:
 *   - unset or "automine": the embedded anvil mines each transaction as it arrives, CONFIRMATIONS=0
 *     (fast; `npm test`);
 *   - "interval": anvil mines a block every 2 s (`--block-time 2`) and the gateway keeps CONFIRMATIONS=2,
 *     as on a real network (`npm run test:interval`): a write waits for the next block and the index
 *     stays two blocks behind the head.
 * Every helper that starts a chain or a gateway (test/helpers/chain.ts, gateway.ts, the chaos suite's
 * child processes) takes its settings from here, so a suite runs in either mode unchanged.
 */
const mode = process.env.COOPTRACE_TEST_CHAIN ?? "automine";
if (mode !== "automine" && mode !== "interval") {
  throw new Error(`COOPTRACE_TEST_CHAIN must be "automine" or "interval", not "${mode}"`);
}

export const INTERVAL_MODE = mode === "interval";

/** Seconds between blocks (0: automine). */
export const TEST_BLOCK_TIME = INTERVAL_MODE ? 2 : 0;

/** Blocks the index stays behind the head. */
export const TEST_CONFIRMATIONS = INTERVAL_MODE ? 2 : 0;

/** The gateway's settings for this mode (a test's own `env` still overrides them). */
export function chainModeEnv(): Record<string, string> {
  return INTERVAL_MODE
    ? { EMBEDDED_BLOCK_TIME: String(TEST_BLOCK_TIME), CONFIRMATIONS: String(TEST_CONFIRMATIONS) }
    : {};
}

/** The same for a gateway on RPC_URL (a chain the test started): only the depth applies. */
export function rpcModeEnv(): Record<string, string> {
  return INTERVAL_MODE ? { CONFIRMATIONS: String(TEST_CONFIRMATIONS) } : {};
}
