/**
 * The chain follower: reads the logs of the three contracts, range by range (one eth_getLogs per
 * range for all three addresses), up to head − confirmations, and writes them with their
 * projections in one SQLite transaction per range together with the last indexed block and its hash.
 *
 * On every sync the stored block hash is checked against the chain first. A different hash means a
 * reorganisation (rewind to the highest journaled block that is still canonical and replay the
 * journal) or a chain that is not the one deployed to any more (no code at the deployment: report it
 * through status() and write nothing, so the index keeps what it knew instead of indexing garbage).
 */
import type { ChainBlock as Block, ChainClient, ChainLog as Log } from "../chain/client";
import type { DeploymentFile } from "../chain/deploy";
import type { Logger } from "../log";
import type { Db } from "../store/db";
import { contractsByAddress, decodeLog, INDEXED_CONTRACTS, type IndexedEvent } from "./decode";
import { createProjector } from "./project";
import { PROJECTION_TABLES } from "./schema";

export interface IndexerDeps {
  db: Db;
  client: ChainClient;
  deployment: DeploymentFile;
  /** Blocks below the head that are left alone until they are this deep. */
  confirmations: number;
  log: Logger;
  /** Pause between two syncs of the polling loop. Default 1000 ms. */
  pollMs?: number;
  /** Most blocks per eth_getLogs. Default 2000; halved on a node's "range too large" answer. */
  maxBlockRange?: number;
}

export interface SyncResult {
  /** First block of this sync; `to` < `from` when there was nothing to do. */
  from: number;
  to: number;
  /** Logs newly written to the index. */
  events: number;
}

export interface IndexerStatus {
  /** Last indexed block (the block before the deployment when nothing is indexed yet). */
  lastBlock: number;
  /** Chain head, or -1 when the node cannot be reached. */
  head: number;
  /** Blocks between the last indexed block and head − confirmations (0 = caught up), -1 when unknown. */
  lag: number;
  /** Why the index cannot follow the chain (unreachable node, no code at the deployment, pending rewind), else null. */
  problem: string | null;
}

export interface Indexer {
  syncOnce(): Promise<SyncResult>;
  start(): void;
  stop(): Promise<void>;
  reindex(): Promise<void>;
  status(): Promise<IndexerStatus>;
  /** The last indexed block as stored now (a local read, no node call): what cached pages compare against. */
  indexedBlock(): number;
  /** Syncs until `block` is indexed (true) or the time is up (false). */
  waitForBlock(block: number, timeoutMs: number): Promise<boolean>;
}

/** Most journaled blocks probed for a common ancestor before the index is rebuilt from scratch. */
const MAX_ANCESTOR_PROBES = 64;

const NO_CODE =
  "no contract code at the deployment addresses: the chain was reset or is not the one the deployment file describes";

interface FetchedRange {
  from: number;
  to: number;
  toHash: string;
  events: IndexedEvent[];
}

interface StateRow {
  deployment: string;
  last_block: number | null;
  last_hash: string | null;
}

class ChainMovedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ChainMovedError";
  }
}

export function createIndexer(deps: IndexerDeps): Indexer {
  const { client: provider, confirmations, log } = deps;
  const pollMs = deps.pollMs ?? 1000;
  const maxRange = Math.max(1, deps.maxBlockRange ?? 2000);
  const reader = createChainReader(deps);
  const store = createIndexStore(deps.db, deps.deployment, log);
  const { startBlock, lastIndexed } = store;

  let problem: string | null = null;
  let lock: Promise<unknown> = Promise.resolve();
  let pendingSync: Promise<SyncResult> | null = null;
  let running = false;
  let timer: NodeJS.Timeout | null = null;

  /** Runs `fn` after every earlier sync, rewind or reindex of this indexer. */
  function exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = lock.then(fn, fn);
    lock = run.catch(() => undefined);
    return run;
  }

  function setProblem(next: string | null): void {
    if (next !== problem) {
      if (next === null) log.info("index: chain problem cleared");
      else log.error({ problem: next }, "index: cannot follow the chain");
    }
    problem = next;
  }

  /** Rewinds to the highest journaled block that is still canonical (or to nothing) and replays. */
  async function rewind(): Promise<void> {
    const from = store.position().lastBlock;
    let ancestor: { number: number; hash: string } | null = null;
    for (const c of store.journalBlocks(MAX_ANCESTOR_PROBES)) {
      const b = await provider.getBlock(c.block_number);
      if (b !== null && b.hash?.toLowerCase() === c.block_hash) {
        ancestor = { number: c.block_number, hash: c.block_hash };
        break;
      }
    }
    const replayed = store.rewindTo(ancestor);
    log.warn({ from, to: ancestor?.number ?? null, replayed }, "index: chain reorganised, index rewound");
  }

  /** Checks that the stored position is still on the chain; rewinds if needed. False: do not index. */
  async function checkPosition(): Promise<boolean> {
    const { lastBlock, lastHash } = store.position();
    if (lastBlock !== null) {
      const b = await provider.getBlock(lastBlock);
      if (b !== null && b.hash?.toLowerCase() === lastHash) {
        setProblem(null);
        return true;
      }
    }
    const trouble = await reader.chainProblem();
    setProblem(trouble);
    if (trouble !== null) return false;
    if (lastBlock !== null) await rewind();
    return true;
  }

  async function doSync(): Promise<SyncResult> {
    store.claimDatabase();
    // Both settled before going on: checkPosition may rewind, which must not outlive this sync.
    const [headRead, positionRead] = await Promise.allSettled([provider.getBlockNumber(), checkPosition()]);
    if (positionRead.status === "rejected") throw positionRead.reason;
    if (headRead.status === "rejected") throw headRead.reason;
    const [head, positionOk] = [headRead.value, positionRead.value];
    const target = head - confirmations;
    if (!positionOk) {
      const last = lastIndexed();
      return { from: last + 1, to: last, events: 0 };
    }
    let last = lastIndexed();
    const from = last + 1;
    let events = 0;
    while (last < target) {
      const to = Math.min(last + maxRange, target);
      events += store.commit(await reader.fetchRange(last + 1, to));
      last = to;
    }
    if (events > 0) log.debug({ from, to: last, events }, "index: synced");
    return { from, to: last, events };
  }

  function syncOnce(): Promise<SyncResult> {
    // Callers that arrive while a sync waits for its turn share it: it has not read the head yet.
    if (pendingSync !== null) return pendingSync;
    const run: Promise<SyncResult> = exclusive(() => {
      if (pendingSync === run) pendingSync = null;
      return doSync();
    });
    pendingSync = run;
    return run;
  }

  async function reindex(): Promise<void> {
    await exclusive(async () => {
      const trouble = await reader.chainProblem();
      setProblem(trouble);
      if (trouble !== null) throw new Error(`cannot reindex: ${trouble}`);
      const target = (await provider.getBlockNumber()) - confirmations;
      const ranges: FetchedRange[] = [];
      for (let from = startBlock; from <= target; from += maxRange) {
        ranges.push(await reader.fetchRange(from, Math.min(from + maxRange - 1, target)));
      }
      store.rebuild(ranges);
      log.info(
        { from: startBlock, to: target, events: ranges.reduce((n, r) => n + r.events.length, 0) },
        "index: rebuilt",
      );
    });
  }

  function start(): void {
    if (running) return;
    running = true;
    const tick = async () => {
      timer = null;
      if (!running) return;
      try {
        await syncOnce();
      } catch (err) {
        log.warn({ err }, "index: sync failed; retrying");
      }
      if (running) timer = setTimeout(() => void tick(), pollMs);
    };
    timer = setTimeout(() => void tick(), 0);
  }

  async function stop(): Promise<void> {
    running = false;
    if (timer !== null) clearTimeout(timer);
    timer = null;
    await lock;
  }

  return {
    syncOnce,
    start,
    stop,
    reindex,
    status: () => readStatus(provider, store, reader, confirmations),
    indexedBlock: lastIndexed,
    waitForBlock: (target, timeoutMs) => waitForBlock(target, timeoutMs, { lastIndexed, syncOnce, log }),
  };
}

/** Syncs until `target` is indexed (true) or the time is up (false); a failed sync is retried. */
async function waitForBlock(
  target: number,
  timeoutMs: number,
  indexer: { lastIndexed(): number; syncOnce(): Promise<unknown>; log: Logger },
): Promise<boolean> {
  const { lastIndexed, syncOnce, log } = indexer;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (lastIndexed() >= target) return true;
    if (Date.now() >= deadline) return false;
    try {
      await syncOnce();
    } catch (err) {
      log.debug({ err }, "index: sync while waiting failed");
    }
    if (lastIndexed() >= target) return true;
    await sleep(Math.max(0, Math.min(25, deadline - Date.now())));
  }
}

/** Where the index stands against the chain, read without writing anything. */
async function readStatus(
  provider: ChainClient,
  store: IndexStore,
  reader: ChainReader,
  confirmations: number,
): Promise<IndexerStatus> {
  const { lastBlock, lastHash } = store.position();
  const last = lastBlock ?? store.startBlock - 1;
  let head: number;
  try {
    head = await provider.getBlockNumber();
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return { lastBlock: last, head: -1, lag: -1, problem: `chain unreachable: ${message}` };
  }
  let trouble: string | null = null;
  try {
    const b = lastBlock === null ? null : await provider.getBlock(lastBlock);
    if (lastBlock === null || b === null || b.hash?.toLowerCase() !== lastHash) {
      trouble = await reader.chainProblem();
      if (trouble === null && lastBlock !== null) trouble = "the chain reorganised below the last indexed block";
    }
  } catch (err) {
    trouble = `chain unreachable: ${err instanceof Error ? err.message : String(err)}`;
  }
  return { lastBlock: last, head, lag: Math.max(0, head - confirmations - last), problem: trouble };
}

/** The node side of indexing: whether the node serves the deployed chain, and the decoded logs of a range. */
interface ChainReader {
  /** Why the node cannot be followed (another chain, no code at the deployment), or null. */
  chainProblem(): Promise<string | null>;
  /** The logs of the three contracts in [from, to], decoded, with the hash of `to`; ChainMovedError if the range changed meanwhile. */
  fetchRange(from: number, to: number): Promise<FetchedRange>;
}

function createChainReader({ client: provider, deployment, log }: IndexerDeps): ChainReader {
  const addresses = INDEXED_CONTRACTS.map((name) => deployment.contracts[name].address);
  const byAddress = contractsByAddress(deployment);

  async function chainProblem(): Promise<string | null> {
    const chainId = Number(await provider.request("eth_chainId", []));
    if (chainId !== deployment.chainId) {
      return `the node serves chain ${chainId}, the deployment file is for chain ${deployment.chainId}`;
    }
    const codes = await Promise.all(addresses.map((address) => provider.getCode(address)));
    return codes.every((code) => code !== "0x") ? null : NO_CODE;
  }

  async function getLogs(from: number, to: number): Promise<Log[]> {
    try {
      return await provider.getLogs({ address: addresses, fromBlock: from, toBlock: to });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (to > from && /range|limit|too many|exceed|more than/i.test(message)) {
        const mid = from + Math.floor((to - from) / 2);
        log.debug({ from, to }, "index: eth_getLogs range refused, halving");
        return [...(await getLogs(from, mid)), ...(await getLogs(mid + 1, to))];
      }
      throw err;
    }
  }

  async function block(number: number): Promise<Block> {
    const b = await provider.getBlock(number);
    if (b === null || b.hash === null) throw new ChainMovedError(`block ${number} is not on the chain any more`);
    return b;
  }

  async function fetchRange(from: number, to: number): Promise<FetchedRange> {
    // Round trips to the node in parallel: under load each one waits its turn at a busy node.
    const [last, logs] = await Promise.all([block(to), getLogs(from, to)]);
    const blocks = new Map<number, Block>([[to, last]]);
    const missing = [...new Set(logs.map((l) => l.blockNumber))].filter((n) => n !== to);
    (await Promise.all(missing.map((n) => block(n)))).forEach((b, i) => blocks.set(missing[i], b));
    const events: IndexedEvent[] = [];
    for (const l of logs) {
      const b = blocks.get(l.blockNumber) as Block;
      if (l.removed || l.blockHash !== b.hash)
        throw new ChainMovedError(`block ${l.blockNumber} changed while indexing`);
      const contract = byAddress.get(l.address.toLowerCase());
      if (contract === undefined) continue;
      const event = decodeLog(l, contract, b.timestamp);
      if (event === null) {
        log.warn({ txHash: l.transactionHash, logIndex: l.index, contract }, "index: unknown event skipped");
        continue;
      }
      events.push(event);
    }
    events.sort((a, b) => a.blockNumber - b.blockNumber || a.logIndex - b.logIndex);
    if ((await block(to)).hash !== last.hash) throw new ChainMovedError(`block ${to} changed while indexing`);
    return { from, to, toHash: (last.hash as string).toLowerCase(), events };
  }

  return { chainProblem, fetchRange };
}

/** The SQLite side of indexing: where the index stands for this deployment, and the writes that move it. */
interface IndexStore {
  /** The lowest deployment block of the indexed contracts: where indexing starts. */
  startBlock: number;
  /** The stored position, for this deployment only (another deployment reads as "nothing indexed"). */
  position(): { lastBlock: number | null; lastHash: string | null };
  /** The last indexed block (the block before startBlock when nothing is). */
  lastIndexed(): number;
  /** A database indexed for another deployment is emptied before anything else is written. */
  claimDatabase(): void;
  /** Writes a fetched range that follows the stored position; returns the number of logs that were new. */
  commit(range: FetchedRange): number;
  /** Empties the index and writes these ranges, in one transaction. */
  rebuild(ranges: FetchedRange[]): void;
  /** The highest journaled blocks with their hashes, newest first. */
  journalBlocks(limit: number): { block_number: number; block_hash: string }[];
  /** Drops the journal above `ancestor` (all of it when null), replays the rest; returns the events replayed. */
  rewindTo(ancestor: { number: number; hash: string } | null): number;
}

function createIndexStore(db: Db, deployment: DeploymentFile, log: Logger): IndexStore {
  const startBlock = Math.min(...INDEXED_CONTRACTS.map((name) => deployment.contracts[name].blockNumber));
  const fingerprint = JSON.stringify({
    chainId: deployment.chainId,
    contracts: INDEXED_CONTRACTS.map((name) => [
      name,
      deployment.contracts[name].address.toLowerCase(),
      deployment.contracts[name].blockNumber,
    ]),
  });
  const projector = createProjector(db);
  const getState = db.prepare<[], StateRow>("SELECT deployment, last_block, last_hash FROM ix_state WHERE id = 1");
  const putState = db.prepare(
    `INSERT INTO ix_state (id, deployment, last_block, last_hash) VALUES (1, @deployment, @lastBlock, @lastHash)
     ON CONFLICT (id) DO UPDATE SET deployment = excluded.deployment, last_block = excluded.last_block,
       last_hash = excluded.last_hash`,
  );
  const deleteLogsAbove = db.prepare("DELETE FROM ix_logs WHERE block_number > ?");
  const journalBlocks = db.prepare<[number], { block_number: number; block_hash: string }>(
    "SELECT DISTINCT block_number, block_hash FROM ix_logs ORDER BY block_number DESC LIMIT ?",
  );

  function position(): { lastBlock: number | null; lastHash: string | null } {
    const row = getState.get();
    if (row === undefined || row.deployment !== fingerprint) return { lastBlock: null, lastHash: null };
    return { lastBlock: row.last_block, lastHash: row.last_hash };
  }

  function lastIndexed(): number {
    return position().lastBlock ?? startBlock - 1;
  }

  const wipe = db.transaction(() => {
    db.prepare("DELETE FROM ix_logs").run();
    for (const table of PROJECTION_TABLES) db.prepare(`DELETE FROM ${table}`).run();
    putState.run({ deployment: fingerprint, lastBlock: null, lastHash: null });
  });

  const commit = db.transaction((range: FetchedRange): number => {
    const expected = range.from - 1;
    if (lastIndexed() !== expected) {
      throw new ChainMovedError(`the index moved to block ${lastIndexed()} while block ${expected} was expected`);
    }
    let written = 0;
    for (const event of range.events) {
      if (projector.record(event)) {
        projector.apply(event);
        written += 1;
      }
    }
    putState.run({ deployment: fingerprint, lastBlock: range.to, lastHash: range.toHash });
    return written;
  });

  return {
    startBlock,
    position,
    lastIndexed,
    claimDatabase() {
      const row = getState.get();
      if (row === undefined) {
        putState.run({ deployment: fingerprint, lastBlock: null, lastHash: null });
      } else if (row.deployment !== fingerprint) {
        log.warn("index: the deployment changed; the index is rebuilt from its deployment block");
        wipe();
      }
    },
    commit,
    // One transaction: readers (and other processes) see the old index or the new one, never half.
    rebuild: db.transaction((ranges: FetchedRange[]) => {
      wipe();
      for (const range of ranges) commit(range);
    }),
    journalBlocks: (limit) => journalBlocks.all(limit),
    rewindTo: db.transaction((ancestor: { number: number; hash: string } | null): number => {
      deleteLogsAbove.run(ancestor?.number ?? -1);
      const replayed = projector.replay();
      putState.run({ deployment: fingerprint, lastBlock: ancestor?.number ?? null, lastHash: ancestor?.hash ?? null });
      return replayed;
    }),
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
