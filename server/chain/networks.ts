/**
 * The names visitors know public EVM networks by, for the verify page's "check it yourself" section
 * (a chain id means nothing to a shopper). NETWORK_NAME overrides it, e.g. for a cooperatives' own
 * Besu network; a chain not listed here is named by the page from its catalog ("chain 1234").
 */
const KNOWN: Record<number, string> = {
  1: "Ethereum",
  10: "OP Mainnet",
  137: "Polygon",
  8453: "Base",
  42161: "Arbitrum One",
  11155111: "Sepolia (Ethereum test network)",
  84532: "Base Sepolia (test network)",
};

/** The network's name, or null when the page must name it (the embedded demo chain, an unknown chain). */
export function networkNameOf(chainId: number, embedded: boolean): string | null {
  if (embedded) return null;
  return KNOWN[chainId] ?? null;
}
