/**
 * Accepting requests (submit, submitSigned): the checks of admission.ts and policy.ts that need no
 * node first, then the node's (forwarder deployed, relayer funded, target trusting the forwarder,
 * the call simulated as the forwarder makes it), then the row — the daily budget checked again in
 * the same SQLite transaction that records it, so that concurrent requests cannot overspend it.
 */
import { randomUUID } from "node:crypto";
import { recoverTypedDataAddress, type Hex } from "viem";
import type { Role } from "../custody/users";
import { budgetMessage, checkCommon, checkSignedRequest, checkedAddress, chooseGas, withinBudget } from "./admission";
import { simulate } from "./calls";
import { RelayRefusedError, RelayRejectedError } from "./errors";
import { tooCloseToDeadline } from "./limits";
import { nextForwarderNonce } from "./nonces";
import type { NewRequest } from "./outbox";
import type { RelayerParts } from "./parts";
import { secondsUntilNextUtcDay, utcDayStart } from "./policy";
import { FORWARD_REQUEST_TYPES, type SignedSubmission, type SubmitRequest } from "./types";

export function createIntake(parts: RelayerParts) {
  const { store, chain, log, opts } = parts;

  function budgetExceeded(userId: string, used: bigint, gas: bigint): RelayRefusedError {
    const budget = opts.userDailyGas;
    log.warn(
      { userId, used: used.toString(), gas: gas.toString(), budget: budget.toString() },
      "relay refused: daily gas budget spent",
    );
    const message = budgetMessage(used, gas, budget);
    return new RelayRefusedError("gas_budget_exceeded", "daily_budget", message, secondsUntilNextUtcDay());
  }

  /**
   * The checks that need no node: the allow-list, then the budget without this request's gas when
   * it is not known yet (a user with nothing left is refused before any simulation).
   */
  function admit(userId: string, role: Role, call: { to: string; data: string; value: bigint; gas?: bigint }): void {
    try {
      parts.policy.check(role, call.to, call.data, call.value);
    } catch (err) {
      if (err instanceof RelayRefusedError) {
        const fields = { userId, role, to: call.to, selector: call.data.slice(0, 10), reason: err.reason };
        log.warn(fields, "relay refused: not allowed");
      }
      throw err;
    }
    const used = store.gasSince(userId, utcDayStart());
    const gas = call.gas ?? 0n;
    if (!withinBudget(used, gas, opts.userDailyGas)) throw budgetExceeded(userId, used, gas);
  }

  /** Records the request if the user's budget still holds it (checked again, atomically). */
  function record(r: NewRequest): void {
    const { used, inserted } = store.insertWithinBudget(r, opts.userDailyGas, utcDayStart());
    if (!inserted) throw budgetExceeded(r.userId, used, r.gas);
  }

  async function submit(req: SubmitRequest): Promise<{ id: string }> {
    const from = checkedAddress(req.from, "from");
    const to = checkedAddress(req.to, "to");
    const value = req.value ?? 0n;
    checkCommon(req.userId, req.data, value);
    admit(req.userId, req.role, { to, data: req.data, value, gas: req.gas });
    await chain.ensureAvailable();
    await chain.ensureTrusted(to);
    const estimate = await simulate(chain, parts.client, { from, to, data: req.data, value });
    const gas = chooseGas(req.gas, estimate, req.data);
    const id = randomUUID();
    record({ id, userId: req.userId, signer: from, target: to, value, gas, data: req.data, custodial: true });
    const selector = req.data.slice(0, 10);
    log.info({ id, userId: req.userId, from, to, selector, gas: gas.toString() }, "relay request queued");
    parts.wake();
    return { id };
  }

  async function submitSigned(req: SignedSubmission): Promise<{ id: string }> {
    const r = req.request;
    // The fields and the allow-list need no node; the deadline is the chain's clock's (the forwarder's).
    const { from, to, value, gas, deadline } = checkSignedRequest(req.userId, r, 0);
    admit(req.userId, req.role, { to, data: r.data, value, gas });
    await chain.ensureAvailable();
    if (tooCloseToDeadline(deadline, await chain.now())) {
      throw new RelayRejectedError("expired", "the request's deadline is past or too close");
    }
    await chain.ensureTrusted(to);
    const { domain } = await chain.forwarderContext();
    chooseGas(gas, await simulate(chain, parts.client, { from, to, data: r.data, value }), r.data);
    const chainNonce = Number(await chain.forwarderNonce(from));
    // From here on synchronous: no other request of this signer can take the same nonce.
    const nonce = nextForwarderNonce(chainNonce, store.maxHeldNonce(from));
    let recovered = "";
    try {
      const message = { from, to, value, gas, nonce, deadline, data: r.data };
      recovered = await recoverTypedDataAddress({
        domain,
        types: FORWARD_REQUEST_TYPES,
        primaryType: "ForwardRequest",
        message,
        signature: r.signature as Hex,
      });
    } catch {
      // malformed signature: rejected below
    }
    if (recovered !== from) {
      throw new RelayRejectedError("invalid_signature", `the signature is not ${from}'s for forwarder nonce ${nonce}`);
    }
    const id = randomUUID();
    record({
      id,
      userId: req.userId,
      signer: from,
      target: to,
      value,
      gas,
      data: r.data,
      custodial: false,
      nonce,
      deadline: Number(deadline),
      signature: r.signature,
    });
    log.info({ id, userId: req.userId, from, to, nonce, selector: r.data.slice(0, 10) }, "signed relay request queued");
    parts.wake();
    return { id };
  }

  return { submit, submitSigned };
}
