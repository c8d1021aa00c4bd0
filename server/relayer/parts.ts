/** What the relayer's working modules (intake, sender, settler, loop) share, built once by createRelayer. */
import type { ChainClient } from "../chain/client";
import type { Logger } from "../log";
import type { RelayerChain } from "./chain";
import type { OutboxStore } from "./outbox";
import type { RelayPolicy } from "./policy";
import type { ResolvedOptions, SignTypedData } from "./types";

export interface RelayerParts {
  opts: ResolvedOptions;
  store: OutboxStore;
  chain: RelayerChain;
  client: ChainClient;
  policy: RelayPolicy;
  log: Logger;
  /** The paying account (checksummed) and its key, which signs the relayer's transactions. */
  relayerAddress: string;
  privateKey: Uint8Array;
  signTypedData: SignTypedData;
  /** Wakes waitFor's sleepers of requests this instance just settled. */
  settled(ids: Iterable<string>): void;
  /** Wakes the loop (a request was queued). */
  wake(): void;
}
