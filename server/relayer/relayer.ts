/**
 * The relayer: members' EIP-712 forward requests, sent through the ERC-2771 forwarder by one
 * relayer account that pays the gas, with a durable outbox in SQLite.
 *
 * Modules
 * -------
 * Pure decisions, each with fast unit tests (test/unit/relayer-*.test.ts), after the separation of
 * the OpenZeppelin Relayer (transaction states, nonce manager, price calculator, replacement
 * policy):
 *   states.ts       the states of requests, relayer transactions and their signed versions;
 *   admission.ts    request validation, gas choice, deadline and budget arithmetic (policy.ts: what
 *                   the relayer pays for at all);
 *   batching.ts     which queued requests go in the next executeBatch, at which forwarder nonces;
 *   nonces.ts       the next forwarder nonce of a signer, the relayer's nonce after recovery;
 *   pricing.ts      the fees of a first version and of a replacement;
 *   replacement.ts  what to do with an open transaction on each round, what a broadcast error means;
 *   settlement.ts   from a receipt's ExecutedForwardRequest events to each request's outcome.
 * The parts that act (chain.ts, calls.ts, rpc.ts: the node; outbox.ts: SQLite; intake.ts: accepting;
 * sender.ts, broadcaster.ts: sending; settler.ts: settling; loop.ts: the rounds) call them; this
 * file wires them and answers status queries.
 *
 * Design
 * ------
 * Outbox (outbox.ts). `outbox_requests` holds each accepted request under a random id that stays
 * the same across resubmissions: user, from, to, value, gas, data, and once signed the forwarder
 * nonce, deadline and signature; state queued → sent → mined | failed (states.ts; a mined request's
 * stage becomes confirmed at the configured depth); the relayer transaction it went out in, the hash
 * of the transaction that executed it, the error. `relayer_txs` holds the relayer's own transactions
 * (relayer nonce, gas limit, first block, state sent → mined | dropped) and `relayer_tx_attempts`
 * every signed version of each (raw transaction, fee fields, hash; each version sent, then replaced,
 * mined or dropped), so that after a crash we can rebroadcast or find whichever one was mined.
 * `relayer_nonces` is the relayer's nonce allocator: a nonce is taken in the same SQLite transaction
 * that records the signed transaction and moves its requests to 'sent', before anything is
 * broadcast.
 *
 * Accepting (submit / submitSigned: intake.ts). Before a row exists: the caller's role must be
 * allowed the call by the allow-list (policy.ts: CoopTrace's contracts only, no view function, per
 * role the functions it may call; 'relay_not_allowed', checked first, without asking the node
 * anything), the caller's gas of the current UTC day must leave room ('gas_budget_exceeded'), the
 * forwarder must have code ('contracts_missing'), the node must answer ('chain_unavailable'), the
 * relayer must hold minBalanceWei ('relayer_low_balance', logged as a warning), the target must
 * trust the forwarder, and the call must not revert. The call is simulated exactly as the forwarder
 * makes it: from the forwarder's address with the signer appended to the calldata (ERC-2771), so
 * `_msgSender()` is the member and no forwarder nonce or signature is needed; a revert is decoded
 * against all CoopTrace ABIs and thrown as RelayRejectedError. The same estimate gives the request
 * gas (+25%); a gas the member signed itself is accepted from the estimate up to the estimate + 50%
 * (at least +100k): the gas limit is what the relayer may have to pay, and the simulation says what
 * the call needs. The gas limit then counts against the caller's daily budget, checked again and
 * recorded in one SQLite transaction so that concurrent requests cannot overspend it.
 *
 * Sending (the loop: loop.ts, sender.ts). Custodial requests are signed at send time (custody
 * decrypts the key only then, through deps.signTypedData), with deadline = now + requestTtlSeconds
 * and the signer's next forwarder nonce: max(forwarder.nonces(from), highest nonce of its requests
 * in flight + 1), then +1 per request of the same signer in the batch. Custody signs only with the
 * key recorded for the request's from address (it checks that key against the address once per
 * stored key record). Queued requests (up to maxBatch, within the 2^24 gas cap of a transaction:
 * the sum of request gas × 64/63 plus per-request and calldata overhead) go out in one
 * `executeBatch(requests, refundReceiver = relayer)`. Always executeBatch, even for one request:
 * with a refund receiver it is non-atomic, so a request whose call reverts does not revert the
 * transaction, and the ExecutedForwardRequest(signer, nonce, success) events settle every request
 * the same way (`execute` would revert the whole transaction and leave us to guess why). At most
 * maxInFlight relayer transactions are pending at once; requests arriving meanwhile wait and go out
 * together.
 *
 * Settling (settlement.ts, settler.ts). Once the relayer's mined nonce passes a transaction's nonce,
 * the receipts of all its hashes are looked up. In a mined one: success → mined; success false →
 * failed 'reverted', the reason decoded by replaying the call at the previous block, then at the
 * block itself (a request that failed because an earlier one in the same batch changed the state
 * shows its error only there). A reverted transaction (status 0) executed nothing: its requests are
 * requeued. A request without an event (skipped by the forwarder: expired, or its nonce was not
 * current), or a transaction none of whose hashes was mined (the nonce was used by another
 * transaction), is resolved one by one: if forwarder.nonces(from) has not passed its nonce it never
 * ran and is requeued (custodial ones re-signed later with a fresh nonce; member-signed ones keep
 * their signature while it is valid); otherwise the ExecutedForwardRequest(from, nonce) log tells
 * whether and where it ran (someone may have relayed the signed request from the mempool). This
 * gives the invariant: a signed request can only run at its forwarder nonce, and a request is
 * re-signed only when the transaction carrying its old signature can no longer be mined and its
 * nonce is unused — so nothing accepted is lost and nothing runs twice.
 *
 * Replacement (replacement.ts, pricing.ts, broadcaster.ts). A transaction not mined replaceAfterMs
 * after its last broadcast is re-signed at the same nonce with maxFeePerGas and
 * maxPriorityFeePerGas raised by ≥ 12.5% (and at least to the current fee data); gas price for
 * legacy chains. Every hash is recorded; whichever is mined wins. A pending transaction the node no
 * longer knows (restart, eviction) is sent again within ~2 s.
 *
 * Recovery (start, or recover(): loop.ts). For each transaction in 'sent': if the relayer's mined
 * nonce has passed it, settle as above; otherwise rebroadcast its latest signed version (the node
 * may have restarted with an empty pool). Then the allocator is set to max(pending nonce on chain,
 * highest open nonce + 1), which adopts nonces used outside the gateway and closes gaps left by
 * transactions the node rejected.
 *
 * Logs never contain keys, signatures or raw transactions (ethers error messages embed the raw
 * transaction: only their short message is logged, with long hex cut).
 *
 * Not handled: a chain that loses blocks we already settled (the index's confirmations setting is
 * the guard there; the stage `confirmed` says when a request is that deep); a self-custody member
 * who also submits straight to the forwarder, or whose requests are mixed with custodial ones
 * (custodial requests of a signer wait while member-signed ones are queued); no fee ceiling on
 * replacements.
 */
import { getAddress, hexToBytes, type Hex } from "viem";
import { createBroadcaster } from "./broadcaster";
import { createRelayerChain } from "./chain";
import type { DecodedError } from "./errors";
import { createIntake } from "./intake";
import { createLoop } from "./loop";
import { createOutboxStore, type RequestRow } from "./outbox";
import type { RelayerParts } from "./parts";
import { createReconciler } from "./reconcile";
import { createRpc } from "./rpc";
import { createSender } from "./sender";
import { createSettler } from "./settler";
import { isSettled, stageOf, versionStates } from "./states";
import { stalled } from "./progress";
import { resolveOptions, type OperationStatus, type Relayer, type RelayerDeps, type RelayerProgress } from "./types";

/** waitFor looks at the outbox this often for requests another gateway on the same file settles. */
const WAIT_POLL_MS = 200;

export function createRelayer(deps: RelayerDeps): Relayer {
  const opts = resolveOptions(deps.options);
  const store = createOutboxStore(deps.db);
  const relayerAddress = getAddress(deps.relayer.address);
  const chain = createRelayerChain({
    client: deps.client,
    forwarder: deps.forwarder,
    relayerAddress,
    rpc: createRpc(opts.rpcTimeoutMs),
    minBalanceWei: opts.minBalanceWei,
    log: deps.log,
  });
  /** waitFor's sleepers by request id, woken when this instance settles that request. */
  const waiters = new Map<string, Set<() => void>>();
  /** When this instance last settled a request (or started), and the head it knew then. */
  let lastProgress: { at: number; head: number | undefined } = { at: Date.now(), head: undefined };
  const parts: RelayerParts = {
    opts,
    store,
    chain,
    client: deps.client,
    policy: deps.policy,
    log: deps.log,
    relayerAddress,
    privateKey: hexToBytes(deps.relayer.privateKey as Hex),
    signTypedData: deps.signTypedData,
    settled(ids) {
      lastProgress = { at: Date.now(), head: chain.head(false) };
      for (const id of ids) for (const wake of [...(waiters.get(id) ?? [])]) wake();
    },
    wake: () => loop.wake(),
  };
  const intake = createIntake(parts);
  const broadcaster = createBroadcaster(parts);
  const settler = createSettler(parts);
  const sender = createSender(parts, broadcaster);
  const reconciler = createReconciler(parts, settler);
  const loop = createLoop(parts, { sender, broadcaster, settler, reconciler });

  function toStatus(row: RequestRow): OperationStatus {
    const status: OperationStatus = {
      id: row.id,
      userId: row.user_id,
      state: row.state,
      stage: stageOf(row.state, row.block_number, chain.head(false), opts.confirmations),
      createdAt: new Date(row.created_at).toISOString(),
      updatedAt: new Date(row.updated_at).toISOString(),
    };
    // The node is asked for its head (in the background) only while a mined request may deepen.
    if (status.stage === "mined") chain.head(true);
    const hashes = row.tx_id === null ? [] : store.attempts(row.tx_id).map((a) => a.hash);
    if (row.tx_hash !== null) status.txHash = row.tx_hash;
    else if (row.state === "sent" && hashes.length > 0) status.txHash = hashes[hashes.length - 1];
    if (hashes.length > 0) {
      status.txHashes = hashes;
      const tx = store.tx(row.tx_id!);
      const states = versionStates(hashes, { state: tx?.state ?? "sent", minedHash: tx?.mined_hash ?? null });
      status.transactions = hashes.map((hash, i) => ({ hash, state: states[i] }));
    }
    if (row.block_number !== null) status.blockNumber = row.block_number;
    if (row.reorgs > 0) status.reorgs = row.reorgs;
    if (row.error_code !== null) {
      status.error = { code: row.error_code, message: row.error_message ?? "" };
      if (row.error_decoded !== null) status.error.decoded = JSON.parse(row.error_decoded) as DecodedError;
    }
    return status;
  }

  function status(id: string): OperationStatus | undefined {
    const row = store.request(id);
    return row === undefined ? undefined : toStatus(row);
  }

  /** Sleeps until this instance settles `id` or `ms` pass (another gateway on the same file may settle it). */
  function sleepOn(id: string, ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      let set = waiters.get(id);
      if (set === undefined) waiters.set(id, (set = new Set()));
      set.add(done);
      function done() {
        clearTimeout(timer);
        set!.delete(done);
        if (set!.size === 0 && waiters.get(id) === set) waiters.delete(id);
        resolve();
      }
    });
  }

  return {
    submit: intake.submit,
    submitSigned: intake.submitSigned,
    status,
    logs: settler.logs,
    async waitFor(id: string, timeoutMs: number): Promise<OperationStatus> {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const current = status(id);
        if (current === undefined) throw new Error(`unknown relay request ${id}`);
        if (isSettled(current.state)) return current;
        const left = end - Date.now();
        if (left <= 0) return current;
        await sleepOn(id, Math.min(left, WAIT_POLL_MS));
      }
    },
    start: loop.start,
    stop: loop.stop,
    recover: loop.recover,
    depth: () => store.depth(),
    async progress(): Promise<RelayerProgress> {
      const { queued, sent } = store.depth();
      const oldest = store.oldestPending();
      lastProgress.head ??= await chain.blockNumber();
      const head = await chain.blockNumber();
      const now = Date.now();
      return {
        pending: queued + sent,
        oldestPendingSeconds: oldest === null ? null : Math.floor((now - oldest) / 1000),
        stalled: stalled({ now, oldestPending: oldest, lastProgress, head, stallAfterMs: opts.stallAfterMs }),
      };
    },
    balance: () => chain.balance(),
  };
}
