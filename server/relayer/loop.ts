/**
 * The loop that orchestrates: each round settles, sends again or replaces the relayer transactions
 * still open (the step of each from replacement.ts), then sends new batches while fewer than
 * maxInFlight are pending. Rounds and recovery run one at a time. Between rounds it sleeps pollMs
 * (inFlightPollMs while a transaction is open), or less when a request arrives (wake).
 *
 * Recovery (start, or recover()): each open transaction whose nonce the chain has passed is
 * settled, the others sent again (the node may have restarted with an empty pool); then the
 * allocator is set to relayerNonceAfterRecovery (nonces.ts).
 */
import type { ChainReceipt as TransactionReceipt } from "../chain/client";
import type { Broadcaster } from "./broadcaster";
import { describeError } from "./nodeErrors";
import { relayerNonceAfterRecovery } from "./nonces";
import type { TxRow } from "./outbox";
import type { RelayerParts } from "./parts";
import { nonceUsedStep, openTxStep } from "./replacement";
import type { Reconciler } from "./reconcile";
import type { Sender } from "./sender";
import type { Settler } from "./settler";

/** New batches sent in one round at most (the queue is looked at again on the next). */
const BATCHES_PER_ROUND = 16;
/** The longest sleep after failed rounds (doubling from pollMs). */
const MAX_BACKOFF_MS = 5_000;

const hashesOf = (store: RelayerParts["store"], tx: TxRow) => store.attempts(tx.id).map((a) => a.hash);

/**
 * The relayer's mined nonce count, and the receipts in hand: of the transactions it has passed,
 * or with eagerReceipts of every broadcast one, in the same round trip (a node that mines on
 * arrival has them already; a receipt proves its transaction mined).
 */
async function receiptsInHand(
  { store, chain, opts }: RelayerParts,
  open: TxRow[],
): Promise<{ mined: number; receiptOf: Map<number, TransactionReceipt | null> }> {
  const receiptOf = new Map<number, TransactionReceipt | null>();
  if (opts.eagerReceipts) {
    const broadcast = open.filter((tx) => tx.broadcast === 1);
    const [mined, found] = await Promise.all([
      chain.accountNonce("latest"),
      Promise.all(broadcast.map((tx) => chain.minedReceipt(hashesOf(store, tx)))),
    ]);
    broadcast.forEach((tx, i) => found[i] !== null && receiptOf.set(tx.id, found[i]));
    return { mined, receiptOf };
  }
  const mined = await chain.accountNonce("latest");
  // The receipts of every transaction to settle are asked for together; settling stays in order.
  const settleable = open.filter((tx) => tx.nonce < mined);
  const found = await Promise.all(settleable.map((tx) => chain.minedReceipt(hashesOf(store, tx))));
  settleable.forEach((tx, i) => receiptOf.set(tx.id, found[i]));
  return { mined, receiptOf };
}

export type RelayerLoop = ReturnType<typeof createLoop>;

export function createLoop(
  parts: RelayerParts,
  w: { sender: Sender; broadcaster: Broadcaster; settler: Settler; reconciler: Reconciler },
) {
  const { store, chain, log, opts, relayerAddress } = parts;
  const { sender, broadcaster, settler, reconciler } = w;
  /** Relayer transactions whose nonce the node counts as used while none of their versions has a receipt, since when. */
  const nonceUsedSince = new Map<number, number>();
  let running = false;
  let loopDone: Promise<void> | undefined;
  let wakeSleep: (() => void) | undefined;
  let wakeRequested = false;
  let lock: Promise<unknown> = Promise.resolve();

  /** Runs rounds and recovery one at a time. */
  function exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = lock.then(fn, fn);
    lock = run.catch(() => undefined);
    return run;
  }

  function wake(): void {
    wakeRequested = true;
    wakeSleep?.();
  }

  async function step(tx: TxRow, mined: number, inHand: TransactionReceipt | null | undefined): Promise<void> {
    const now = Date.now();
    const next = openTxStep(
      { nonce: tx.nonce, broadcast: tx.broadcast, lastSentAt: tx.last_sent_at },
      { receiptInHand: Boolean(inHand), minedCount: mined, now, replaceAfterMs: opts.replaceAfterMs },
    );
    if (next === "settle") {
      nonceUsedSince.delete(tx.id);
      await settler.settleTx(tx, inHand);
    } else if (next === "nonce_used") {
      const receipt = await chain.minedReceipt(hashesOf(store, tx));
      if (receipt !== null) {
        nonceUsedSince.delete(tx.id);
        await settler.settleTx(tx, receipt);
        return;
      }
      const decision = nonceUsedStep(nonceUsedSince.get(tx.id), Date.now());
      if (decision === "start") nonceUsedSince.set(tx.id, Date.now());
      else if (decision === "resolve") {
        nonceUsedSince.delete(tx.id);
        await settler.settleTx(tx, null);
      }
    } else if (next === "broadcast") await broadcaster.resend(tx);
    else if (next === "replace") await broadcaster.replace(tx);
    else await broadcaster.resendIfForgotten(tx);
  }

  async function tick(): Promise<void> {
    // Before the open transactions are looked at: a reorganisation may have reopened some.
    await reconciler.run();
    const open = store.openTxs(relayerAddress);
    if (open.length > 0) {
      const { mined, receiptOf } = await receiptsInHand(parts, open);
      for (const tx of open) await step(tx, mined, receiptOf.get(tx.id));
    }
    for (let i = 0; running && i < BATCHES_PER_ROUND && !broadcaster.paused(); i++) {
      if (store.openTxs(relayerAddress).length >= opts.maxInFlight) break;
      if (!(await sender.sendNext())) break;
    }
  }

  async function loop(): Promise<void> {
    let delay = opts.pollMs;
    while (running) {
      wakeRequested = false;
      try {
        await exclusive(tick);
        // While a transaction is in flight, look again soon: on a local node it is mined at once.
        delay = store.openTxs(relayerAddress).length > 0 ? opts.inFlightPollMs : opts.pollMs;
      } catch (err) {
        log.warn(describeError(err), "relayer round failed: retrying");
        delay = Math.min(delay * 2, MAX_BACKOFF_MS);
      }
      if (!running || wakeRequested) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, delay);
        function done() {
          clearTimeout(timer);
          wakeSleep = undefined;
          resolve();
        }
        wakeSleep = done;
      });
    }
  }

  async function recover(): Promise<void> {
    // A reorganisation while the gateway was down: what it took back is open again first.
    await reconciler.run(true);
    const open = store.openTxs(relayerAddress);
    const mined = await chain.accountNonce("latest");
    let rebroadcast = 0;
    for (const tx of open) {
      if (tx.nonce < mined) await settler.settleTx(tx);
      else {
        await broadcaster.resend(tx);
        rebroadcast++;
      }
    }
    const pending = await chain.accountNonce("pending");
    const next = relayerNonceAfterRecovery(
      pending,
      store.openTxs(relayerAddress).map((tx) => tx.nonce),
    );
    const before = store.nextNonce(relayerAddress);
    if (before !== next) store.setNextNonce(relayerAddress, next);
    log.info(
      {
        relayer: relayerAddress,
        open: open.length,
        rebroadcast,
        nonceBefore: before ?? null,
        nonce: next,
        ...store.depth(),
      },
      "relayer outbox reconciled with the chain",
    );
  }

  return {
    wake,
    recover: () => exclusive(recover),
    async start(): Promise<void> {
      if (running) return;
      await exclusive(recover);
      running = true;
      loopDone = loop();
    },
    async stop(): Promise<void> {
      running = false;
      wake();
      await loopDone;
      loopDone = undefined;
    },
  };
}
