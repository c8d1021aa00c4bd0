/**
 * Settling relayer transactions whose nonce the chain has passed: the verdicts of settlement.ts
 * applied, with the chain asked what they need (the reason of a reverted call, a forwarder nonce,
 * an execution log), then written in one SQLite transaction. Also the logs each request's call
 * emitted, cut from the receipt (recently settled receipts are kept cut: every request of a batch
 * asks for its own slice of the same receipt).
 */
import type { ChainLog as Log, ChainReceipt as TransactionReceipt } from "../chain/client";
import { failureReason } from "./calls";
import type { RequestRow, Settlement, TxRow } from "./outbox";
import type { RelayerParts } from "./parts";
import {
  executionKey,
  executionVerdict,
  executionsIn,
  receiptVerdicts,
  retryOrFail,
  settlementOf,
  type Execution,
  type Verdict,
} from "./settlement";

/** Receipts kept cut per request. */
const RECENT_RECEIPTS = 64;

export type Settler = ReturnType<typeof createSettler>;

export function createSettler(parts: RelayerParts) {
  const { store, chain, log, opts } = parts;
  const recentReceipts = new Map<string, Map<string, Execution<Log>>>();

  async function executions(receipt: TransactionReceipt): Promise<Map<string, Execution<Log>>> {
    const { address } = await chain.forwarderContext();
    return executionsIn(receipt.logs, (l) => chain.executedEvent(l, address));
  }

  /** Settlements and requeues of one transaction, built row by row. */
  function outcome() {
    return { settlements: [] as Settlement[], requeue: [] as string[] };
  }

  async function apply(row: RequestRow, verdict: Verdict, out: ReturnType<typeof outcome>): Promise<void> {
    if (verdict.kind === "reverted") {
      const error = await failureReason(chain, parts.client, row, verdict.blockNumber);
      out.settlements.push({
        id: row.id,
        state: "failed",
        txHash: verdict.txHash,
        blockNumber: verdict.blockNumber,
        error,
      });
    } else if (verdict.kind === "retry") {
      const decision = retryOrFail(row, opts.maxAttempts, await chain.now());
      if (decision === "requeue") out.requeue.push(row.id);
      else out.settlements.push(decision);
    } else {
      const settlement = settlementOf(row.id, verdict);
      if (settlement !== undefined) out.settlements.push(settlement);
    }
  }

  /** Requests without an event of their own: decided by the forwarder's nonce and logs, one by one. */
  async function resolveOneByOne(rows: RequestRow[], fromBlock: number, out: ReturnType<typeof outcome>) {
    for (const row of rows) {
      if (row.nonce === null) {
        out.requeue.push(row.id); // never signed: requeued as it is
        continue;
      }
      const chainNonce = await chain.forwarderNonce(row.signer);
      if (chainNonce <= BigInt(row.nonce)) {
        await apply(row, { kind: "retry" }, out); // its nonce is unused: it never ran
        continue;
      }
      await apply(row, executionVerdict(await chain.executionOf(row.signer, row.nonce, fromBlock)), out);
    }
  }

  /** Settles a relayer transaction whose nonce the chain has passed (its receipt looked up unless given). */
  async function settleTx(tx: TxRow, found?: TransactionReceipt | null): Promise<void> {
    const rows = store.requestsOfTx(tx.id);
    const receipt = found !== undefined ? found : await chain.minedReceipt(store.attempts(tx.id).map((a) => a.hash));
    const executed = receipt === null ? undefined : await executions(receipt);
    if (receipt !== null) remember(receipt.hash, executed!);
    const verdicts = receiptVerdicts(rows, receipt, executed);
    const out = outcome();
    for (let i = 0; i < rows.length; i++) if (verdicts[i].kind !== "unexecuted") await apply(rows[i], verdicts[i], out);
    const unexecuted = rows.filter((_, i) => verdicts[i].kind === "unexecuted");
    await resolveOneByOne(unexecuted, tx.from_block, out);
    if (receipt === null) {
      store.settleTx(tx.id, "dropped", out.settlements, out.requeue);
      log.warn(
        { txId: tx.id, nonce: tx.nonce, requests: rows.length },
        "relayer nonce used by another transaction: requests resolved one by one",
      );
    } else {
      const status = receipt.status === 1 ? 1 : 0;
      const mined = { minedHash: receipt.hash, blockNumber: receipt.blockNumber, status };
      store.settleTx(tx.id, mined, out.settlements, out.requeue);
      logMined(tx, receipt, rows.length, out);
    }
    parts.settled(rows.map((r) => r.id));
  }

  function logMined(tx: TxRow, receipt: TransactionReceipt, requests: number, out: ReturnType<typeof outcome>): void {
    if (receipt.status !== 1) {
      log.warn({ txId: tx.id, txHash: receipt.hash, requests }, "relayer transaction reverted: requests requeued");
      return;
    }
    log.info(
      {
        txId: tx.id,
        txHash: receipt.hash,
        blockNumber: receipt.blockNumber,
        gasUsed: receipt.gasUsed.toString(),
        mined: out.settlements.filter((s) => s.state === "mined").length,
        failed: out.settlements.filter((s) => s.state === "failed").length,
        requeued: out.requeue.length,
      },
      "relayer transaction mined",
    );
  }

  function remember(hash: string, cut: Map<string, Execution<Log>>): void {
    recentReceipts.set(hash, cut);
    if (recentReceipts.size > RECENT_RECEIPTS) recentReceipts.delete(recentReceipts.keys().next().value!);
  }

  /** The logs a mined request's call emitted. */
  async function logs(id: string): Promise<Log[]> {
    const row = store.request(id);
    if (row === undefined || row.state !== "mined" || row.tx_hash === null || row.nonce === null) return [];
    let cut = recentReceipts.get(row.tx_hash);
    if (cut === undefined) {
      const receipt = await chain.receipt(row.tx_hash);
      if (receipt === null) return [];
      cut = await executions(receipt);
    }
    return cut.get(executionKey(row.signer, row.nonce))?.logs ?? [];
  }

  /** Forgets a receipt a reorganisation took back (the same hash mined again may emit other ids). */
  const forget = (hash: string) => void recentReceipts.delete(hash);

  return { settleTx, logs, forget };
}
