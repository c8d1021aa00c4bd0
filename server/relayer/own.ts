/**
 * Accounts' own transactions, through the same outbox as forward requests: a buyer paying into escrow
 * must send its own money (the escrow takes msg.value from msg.sender), so the payment cannot be a
 * forward request the relayer pays for. An operation of kind 'own' (outbox_requests) has steps
 * (own_steps: an ERC-20 approval, then the payment); each step is one transaction of the account,
 * recorded in relayer_txs under the account's address with the account's nonce (relayer_nonces keyed
 * by that address) and every signed version in relayer_tx_attempts — so the rules of the relayer's own
 * transactions apply unchanged: replacement.ts decides each round (settle, resend, replace with
 * pricing.ts's fees, look in the pool), a broadcast refusal means what broadcastFailure says, and
 * settling writes through the outbox's settleTx.
 *
 * - Accepting (submit): the first step is simulated as the account on the pending block (a revert:
 *   RelayRejectedError with the decoded error, nothing recorded), signed by custody with the
 *   account's next nonce (max of the node's pending count and the allocator), recorded with the
 *   operation in one SQLite transaction, then broadcast. The signed raw transaction is stored: it is
 *   public once broadcast, and it is what lets a restarted gateway send it again.
 * - Later steps (due): once every earlier step mined successfully, the next is simulated (a revert
 *   fails the operation with the decoded error and sends nothing more), signed, recorded, broadcast.
 * - Settling: a receipt with status 1 mines the step (the operation when it is the last); status 0
 *   fails the operation with the reason replayed at its block (the error's name as the code); a
 *   nonce the chain passed with no receipt of ours (after NONCE_USED_GRACE_MS) fails it 'nonce_used'.
 *   Nothing is ever re-signed at another nonce: a step runs at most once, so nothing is paid twice.
 * - Recovery (recover): every open step is broadcast again (the node may have lost its pool).
 *
 * A reorganisation that takes back a mined step: reconcile.ts reopens it (and the operation, when the
 * step had settled it) like a relayer transaction; the next round sends the same signed version again.
 */
import { randomUUID } from "node:crypto";
import { getAddress, parseTransaction, type Hex } from "viem";
import { estimateOwn, ownFailureReason } from "./calls";
import { RelayRejectedError } from "./errors";
import { describeError, nodeAnswered } from "./nodeErrors";
import { releasesNonce } from "./nonces";
import type { DueStepRow, OwnTxRow, Settlement } from "./outbox";
import type { RelayerParts } from "./parts";
import { initialFees, replacementFees } from "./pricing";
import { broadcastFailure, nonceUsedStep, openTxStep, shouldLookInPool } from "./replacement";
import type { OwnSubmission, SignTransaction } from "./types";
import type { RelayerTxFields } from "./txsign";

/** The gas limit of a step: the estimate + 25%, as forward requests get. */
const withMargin = (estimate: bigint) => (estimate * 125n) / 100n;

export type OwnTransactions = ReturnType<typeof createOwnTransactions>;

export function createOwnTransactions(parts: RelayerParts, signTransaction: SignTransaction | undefined) {
  const { store, chain, client, log } = parts;
  const { broadcast, fail } = ownBroadcaster(parts);
  const { step } = ownSettler(parts, { broadcast, fail }, () => signer());
  /** Sends of one account, one at a time (two would read the same next nonce). */
  const accountLocks = new Map<string, Promise<unknown>>();

  function serial<T>(account: string, fn: () => Promise<T>): Promise<T> {
    const before = accountLocks.get(account) ?? Promise.resolve();
    const run = before.then(fn, fn);
    const tail = run.catch(() => undefined);
    accountLocks.set(account, tail);
    void tail.then(() => accountLocks.get(account) === tail && accountLocks.delete(account));
    return run;
  }

  function signer(): SignTransaction {
    if (signTransaction === undefined)
      throw new Error("this relayer has no custody to sign accounts' own transactions");
    return signTransaction;
  }

  /** A step's transaction: simulated as the account, signed by custody at the account's next nonce (not recorded yet). */
  async function signStep(
    userId: string,
    from: string,
    call: { to: string; data: string; value: bigint },
  ): Promise<{
    fields: RelayerTxFields;
    raw: string;
    hash: string;
    fromBlock: number;
    fees: ReturnType<typeof initialFees>;
  }> {
    const gas = withMargin(await estimateOwn(chain, client, { from, ...call }));
    const [{ fees: feeData, blockNumber }, pending] = await Promise.all([
      chain.currentPrices(),
      chain.rpc("getTransactionCount", client.getTransactionCount(from, "pending")),
    ]);
    const nonce = Math.max(pending, store.nextNonce(from) ?? 0);
    const fees = initialFees(feeData);
    const fields: RelayerTxFields = { ...fees, chainId: BigInt(client.chainId), nonce, gasLimit: gas, ...call };
    const { raw, hash } = await signer()(userId, from, fields);
    return { fields, raw, hash, fromBlock: blockNumber, fees };
  }

  const attemptOf = (s: Awaited<ReturnType<typeof signStep>>) => ({
    hash: s.hash,
    raw: s.raw,
    maxFeePerGas: s.fees.type === 2 ? s.fees.maxFeePerGas : null,
    maxPriorityFeePerGas: s.fees.type === 2 ? s.fees.maxPriorityFeePerGas : null,
    gasPrice: s.fees.type === 0 ? s.fees.gasPrice : null,
  });

  async function submit(req: OwnSubmission): Promise<{ id: string }> {
    if (req.steps.length === 0) throw new RelayRejectedError("invalid_request", "an operation needs a step");
    const from = getAddress(req.from);
    const steps = req.steps.map((s) => ({ target: getAddress(s.to), data: s.data, value: s.value ?? 0n }));
    await chain.ensureAvailable();
    const id = randomUUID();
    const sent = await serial(from, async () => {
      const first = steps[0];
      const s = await signStep(req.userId, from, { to: first.target, data: first.data, value: first.value });
      const recorded = store.recordOwn(
        { id, userId: req.userId, signer: from, steps },
        {
          account: from,
          nonce: s.fields.nonce,
          gasLimit: s.fields.gasLimit,
          value: s.fields.value,
          fromBlock: s.fromBlock,
          attempt: attemptOf(s),
        },
      );
      if (!recorded)
        throw new RelayRejectedError("invalid_request", `the nonce of ${from} was taken meanwhile: try again`);
      return s;
    });
    const tx = store.openOwnTxs().find((t) => t.request_id === id);
    log.info({ id, userId: req.userId, from, steps: steps.length, txHash: sent.hash }, "own transaction sent");
    if (tx !== undefined) await broadcast(tx, sent.raw, true);
    parts.wake();
    return { id };
  }

  /** The next step of an operation whose earlier steps mined: simulated, signed, recorded, broadcast. */
  async function sendDue(due: DueStepRow): Promise<void> {
    const call = { to: due.target, data: due.data, value: BigInt(due.value) };
    await serial(due.signer, async () => {
      let s: Awaited<ReturnType<typeof signStep>>;
      try {
        s = await signStep(due.user_id, due.signer, call);
      } catch (err) {
        if (describeError(err).code === "INSUFFICIENT_FUNDS") {
          fail(due.request_id, { code: "insufficient_funds", message: "the account does not hold enough to pay" });
          return;
        }
        if (!(err instanceof RelayRejectedError)) throw err; // the node's: tried again on the next round
        // Refused by the contract now (a sale cancelled meanwhile): nothing more is sent.
        const error = { code: err.decoded?.name ?? err.code, message: err.message, decoded: err.decoded };
        fail(due.request_id, error);
        return;
      }
      const txId = store.recordOwnStep({
        requestId: due.request_id,
        step: due.step,
        account: due.signer,
        nonce: s.fields.nonce,
        gasLimit: s.fields.gasLimit,
        value: s.fields.value,
        fromBlock: s.fromBlock,
        attempt: attemptOf(s),
      });
      if (txId === undefined) return; // taken meanwhile: signed again on the next round
      log.info({ id: due.request_id, step: due.step, txHash: s.hash }, "own transaction sent");
      const tx = store.openOwnTxs().find((t) => t.id === txId);
      if (tx !== undefined) await broadcast(tx, s.raw, true);
    });
  }

  /** One round: every open step looked at (replacement.ts's step), then the steps now due sent. */
  async function round(): Promise<void> {
    // One account's trouble (its node answer, its custody) must not hold back the others, nor the relayer.
    for (const tx of store.openOwnTxs()) await step(tx).catch((err: unknown) => warn(tx.request_id, err));
    for (const due of store.dueOwnSteps()) await sendDue(due).catch((err: unknown) => warn(due.request_id, err));
  }

  function warn(id: string, err: unknown): void {
    log.warn({ id, ...describeError(err) }, "own operation: round failed, tried again on the next");
  }

  /** After a restart: every open step broadcast again (the node may have lost its pool), then a round. */
  async function recover(): Promise<void> {
    const open = store.openOwnTxs();
    for (const tx of open) await broadcast(tx, store.attempts(tx.id).at(-1)!.raw, false);
    if (open.length > 0) log.info({ open: open.length }, "own transactions sent again after a restart");
    await round();
  }

  return { submit, round, recover, pending: () => store.openOwnTxs().length + store.dueOwnSteps().length };
}

type Fail = (requestId: string, error: NonNullable<Settlement["error"]>, txId?: number) => void;
type Broadcast = (tx: OwnTxRow, raw: string, firstVersion: boolean) => Promise<void>;

/** Putting a step's signed version in front of the node, and failing an operation. */
function ownBroadcaster(parts: RelayerParts): { broadcast: Broadcast; fail: Fail } {
  const { store, chain, log } = parts;

  /** Fails an operation and its open step's transaction (dropped) or only the operation. */
  function fail(requestId: string, error: NonNullable<Settlement["error"]>, txId?: number) {
    const settlement: Settlement = { id: requestId, state: "failed", error };
    if (txId === undefined) store.settle(settlement);
    else store.settleTx(txId, "dropped", [settlement], [], false);
    parts.settled([requestId]);
    log.warn({ id: requestId, code: error.code }, "own operation failed");
  }

  async function broadcast(tx: OwnTxRow, raw: string, firstVersion: boolean): Promise<void> {
    try {
      await chain.sendRaw(raw);
      store.setBroadcast(tx.id, true);
      return;
    } catch (err) {
      const { code, message } = describeError(err);
      const meaning = broadcastFailure({ answered: nodeAnswered(err), code, message, firstVersion });
      if (meaning === "retry") store.setBroadcast(tx.id, false);
      else if (meaning !== "dropped") store.setBroadcast(tx.id, true);
      else {
        // Refused for good (the account cannot pay value and gas, a fee cap): its nonce was not used.
        const error =
          code === "INSUFFICIENT_FUNDS"
            ? { code: "insufficient_funds", message: "the account does not hold enough to pay" }
            : { code: "node_refused", message };
        fail(tx.request_id, error, tx.id);
        if (releasesNonce(store.nextNonce(tx.relayer), tx.nonce)) store.setNextNonce(tx.relayer, tx.nonce);
      }
    }
  }

  return { broadcast, fail };
}

/** Each round's step for an open transaction of a step (replacement.ts), and settling it once mined. */
function ownSettler(
  parts: RelayerParts,
  { broadcast, fail }: { broadcast: Broadcast; fail: Fail },
  signer: () => SignTransaction,
) {
  const { store, chain, client, log, opts } = parts;
  /** Open steps whose nonce the node counts as used while no version has a receipt, since when. */
  const nonceUsedSince = new Map<number, number>();
  const poolLooks = new Map<number, number>();

  async function replace(tx: OwnTxRow): Promise<void> {
    const last = store.attempts(tx.id).at(-1)!;
    const prev = parseTransaction(last.raw as Hex);
    const fees = replacementFees(
      {
        type: prev.type === "eip1559" ? 2 : 0,
        maxFeePerGas: prev.maxFeePerGas ?? null,
        maxPriorityFeePerGas: prev.maxPriorityFeePerGas ?? null,
        gasPrice: prev.gasPrice ?? null,
      },
      await chain.feeData(),
    );
    const fields: RelayerTxFields = {
      chainId: BigInt(prev.chainId!),
      nonce: prev.nonce ?? 0,
      to: prev.to!,
      data: prev.data ?? "0x",
      value: prev.value ?? 0n,
      gasLimit: prev.gas!,
      ...fees,
    };
    const { raw, hash } = await signer()(tx.user_id, tx.relayer, fields);
    store.recordReplacement(tx.id, {
      hash,
      raw,
      maxFeePerGas: fields.maxFeePerGas ?? undefined,
      maxPriorityFeePerGas: fields.maxPriorityFeePerGas ?? undefined,
      gasPrice: fields.gasPrice ?? undefined,
    });
    log.info(
      { txId: tx.id, nonce: tx.nonce, txHash: hash, replaces: last.hash },
      "own transaction replaced with higher fees",
    );
    await broadcast(tx, raw, false);
  }

  /** A step's transaction mined (`receipt`): the step settled, the operation too when it ends here. */
  async function settleMined(tx: OwnTxRow, receipt: { hash: string; blockNumber: number; status: number | null }) {
    const mined = { minedHash: receipt.hash, blockNumber: receipt.blockNumber, status: receipt.status === 1 ? 1 : 0 };
    const at = { txHash: receipt.hash, blockNumber: receipt.blockNumber };
    if (receipt.status !== 1) {
      const step = store.ownSteps(tx.request_id)[tx.step];
      const call = { from: tx.relayer, to: step.target, data: step.data, value: BigInt(step.value) };
      const error = await ownFailureReason(chain, client, call, receipt.blockNumber);
      store.settleTx(tx.id, mined, [{ id: tx.request_id, state: "failed", ...at, error }], []);
      log.warn({ id: tx.request_id, step: tx.step, ...at, code: error.code }, "own transaction reverted");
    } else if (tx.step === tx.last_step) {
      store.settleTx(tx.id, mined, [{ id: tx.request_id, state: "mined", ...at }], []);
      log.info({ id: tx.request_id, step: tx.step, ...at }, "own operation mined");
    } else {
      store.settleTx(tx.id, mined, [], []);
      log.info({ id: tx.request_id, step: tx.step, ...at }, "own operation step mined");
    }
    parts.settled([tx.request_id]);
  }

  async function step(tx: OwnTxRow): Promise<void> {
    const hashes = store.attempts(tx.id).map((a) => a.hash);
    const [minedCount, receipt] = await Promise.all([
      chain.rpc("getTransactionCount", client.getTransactionCount(tx.relayer, "latest")),
      chain.minedReceipt(hashes),
    ]);
    const now = Date.now();
    const next = openTxStep(
      { nonce: tx.nonce, broadcast: tx.broadcast, lastSentAt: tx.last_sent_at },
      { receiptInHand: receipt !== null, minedCount, now, replaceAfterMs: opts.replaceAfterMs },
    );
    if (next !== "nonce_used") nonceUsedSince.delete(tx.id);
    if (next === "settle") await settleMined(tx, receipt!);
    else if (next === "nonce_used") {
      const decision = nonceUsedStep(nonceUsedSince.get(tx.id), now);
      if (decision === "start") nonceUsedSince.set(tx.id, now);
      else if (decision === "resolve") {
        nonceUsedSince.delete(tx.id);
        const message = `nonce ${tx.nonce} of ${tx.relayer} was used by another transaction`;
        fail(tx.request_id, { code: "nonce_used", message }, tx.id);
      }
    } else if (next === "broadcast") await broadcast(tx, store.attempts(tx.id).at(-1)!.raw, false);
    else if (next === "replace") await replace(tx);
    else if (shouldLookInPool(now, tx.last_sent_at, poolLooks.get(tx.id))) {
      poolLooks.set(tx.id, now);
      const latest = store.attempts(tx.id).at(-1)!;
      if (!(await chain.knows(latest.hash))) await broadcast(tx, latest.raw, false);
    }
  }

  return { step };
}
