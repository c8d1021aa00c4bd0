/**
 * Writes, without HTTP: a user's call goes to the relayer (checked against the relay policy,
 * simulated, queued durably); by default the write waits for the receipt and returns the transaction
 * hash, block and the decoded events of this request, else (asked not to wait, or the chain is slow)
 * the operation id to follow. The API answers 201 or 202 from the outcome; a page shows "done" or
 * "on its way".
 */
import type { ChainLog as Log } from "../chain/client";
import type { DeploymentFile } from "../chain/deploy";
import type { User } from "../custody/users";
import { contractsByAddress, decodeLog } from "../index/decode";
import type { Indexer } from "../index";
import { RelayRejectedError, type ForwardRequestData, type Relayer } from "../relayer";
import { DomainError } from "./errors";

export interface DecodedEvent {
  contract: string;
  name: string;
  args: Record<string, unknown>;
  logIndex: number;
}

export interface WriteOutcome {
  operationId: string;
  status: "mined" | "queued" | "sent";
  txHash?: string;
  blockNumber?: number;
  events: DecodedEvent[];
}

export interface WriteOptions {
  /** Wait for the receipt (default). false: return as soon as the request is queued. */
  wait?: boolean;
}

export interface WriterDeps {
  relayer: Relayer;
  indexer: Pick<Indexer, "waitForBlock">;
  deployment: DeploymentFile;
  /** How long a write waits for its receipt before returning "sent" or "queued". */
  writeTimeoutMs: number;
}

export interface Writer {
  /** Relays `data` to `to`, signed by the gateway with `user`'s custodial key. */
  write(user: User, call: { to: string; data: string }, options?: WriteOptions): Promise<WriteOutcome>;
  /** Relays a forward request the user signed itself (self-custody). */
  writeSigned(user: User, request: ForwardRequestData, options?: WriteOptions): Promise<WriteOutcome>;
  /**
   * The user's own transactions (custodial key, the user's nonce, the user pays gas and value), in
   * order, as one operation of the outbox: a buyer's approval and payment. `transactions` lists the
   * transaction of each step sent so far (the one mined, once mined).
   */
  writeOwn(
    user: User,
    steps: { to: string; data: string; value?: bigint }[],
    options?: WriteOptions,
  ): Promise<WriteOutcome & { transactions: string[] }>;
  /** The events of our contracts among `logs`, decoded by the indexer's decoder (one definition). */
  decode(logs: readonly Log[]): DecodedEvent[];
}

/** The named argument of the first `name` event of a write, if it was mined and emitted one. */
export function eventArg(outcome: WriteOutcome, name: string, arg: string): unknown {
  return outcome.events.find((e) => e.name === name)?.args[arg];
}

export function createWriter(deps: WriterDeps): Writer {
  const { relayer, indexer } = deps;
  const known = contractsByAddress(deps.deployment);

  function decode(logs: readonly Log[]): DecodedEvent[] {
    const out: DecodedEvent[] = [];
    for (const log of logs) {
      const contract = known.get(log.address.toLowerCase());
      const event = contract ? decodeLog(log, contract, 0) : null;
      if (event) out.push({ contract: event.contract, name: event.name, args: event.args, logIndex: event.logIndex });
    }
    return out;
  }

  async function outcomeOf(id: string, wait: boolean): Promise<WriteOutcome> {
    const status = wait ? await relayer.waitFor(id, deps.writeTimeoutMs) : relayer.status(id)!;
    if (status.state === "failed") {
      throw new DomainError(
        "rejected",
        status.error?.code ?? "chain_rejected",
        status.error?.message ?? "the transaction failed",
        {
          operationId: id,
          txHash: status.txHash,
          error: status.error?.decoded,
        },
      );
    }
    if (status.state !== "mined") return { operationId: id, status: status.state as "queued" | "sent", events: [] };
    const events = decode(await relayer.logs(id));
    // Reads right after a write should see it: let the index catch up to this block (bounded).
    await indexer.waitForBlock(status.blockNumber!, 5_000);
    return { operationId: id, status: "mined", txHash: status.txHash, blockNumber: status.blockNumber, events };
  }

  /** The user's custodial address; checked before anything is queued (the relayer would only find out when signing). */
  function custodial(user: User): string {
    if (user.address === null) throw new DomainError("forbidden", "no_key", "this account cannot sign transactions");
    if (user.custody === "self") {
      throw new DomainError(
        "conflict",
        "self_custody",
        "you hold your own key: the gateway no longer signs for you; sign a forward request and POST it to /api/v1/me/forward-requests",
      );
    }
    return user.address;
  }

  return {
    decode,
    async writeOwn(user, steps, options = {}) {
      const { id } = await relayer.submitOwn({ userId: user.id, from: custodial(user), steps });
      const outcome = await outcomeOf(id, options.wait ?? true);
      const versions = relayer.status(id)?.transactions ?? [];
      const transactions = versions.filter((t) => t.state === "mined" || t.state === "sent").map((t) => t.hash);
      return { ...outcome, transactions };
    },
    async write(user, call, options = {}) {
      const { id } = await relayer.submit({
        userId: user.id,
        role: user.role,
        from: custodial(user),
        to: call.to,
        data: call.data,
      });
      return outcomeOf(id, options.wait ?? true);
    },
    async writeSigned(user, request, options = {}) {
      let id: string;
      try {
        ({ id } = await relayer.submitSigned({ userId: user.id, role: user.role, request }));
      } catch (err) {
        // The request itself is wrong (signature, nonce, deadline, gas): say which, with the relayer's code.
        if (err instanceof RelayRejectedError && err.code !== "would_revert") {
          throw new DomainError("rejected", err.code, err.message);
        }
        throw err;
      }
      return outcomeOf(id, options.wait ?? true);
    },
  };
}
