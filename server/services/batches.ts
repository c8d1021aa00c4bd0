/**
 * Batches: registration with the members who contributed (named by gateway user id or address, put in
 * the order the contract requires), lifecycle events, certifications and their revocation, splits,
 * merges, and the public reads (a batch, a page of batches, its EPCIS 2.0 document). Called by the API
 * and by the workspace pages alike: input is the parsed output of the schemas below, the actor is the
 * signed-in user, errors are DomainErrors (or the relayer's own, mapped by the HTTP layer).
 */
import { zeroHash } from "viem";
import { z } from "zod";
import { encodeCall } from "../chain/calldata";
import type { DeploymentFile } from "../chain/deploy";
import type { User, UserStore } from "../custody/users";
import { buildEpcisDocument } from "../epcis";
import type { Batch, BatchDetail, Page, Queries } from "../index";
import { RelayRejectedError } from "../relayer";
import { batchIdOf } from "../../domain/batchId";
import { MAX_LOT_BYTES, MAX_WORD_BYTES, textToWord } from "../../domain/words";
import { batchRegistryAbi } from "../chain/abis.generated";
import { mergeContributors, packContributor, sortContributors } from "../../domain/contributors";
import { LOT_PATTERN, MAX_LOT_LENGTH } from "../../domain/gs1";
import { requireCoopActor, requireRole } from "./access";
import { DomainError, invalidField, notFound } from "./errors";
import { address, bytes32, bytesText, gtin, id, paging, uint } from "./schemas";
import { eventArg, type WriteOptions, type Writer, type WriteOutcome } from "./writes";

/** A date or a date-time with an offset, as the contracts keep it: UTC seconds. */
const instant = z.iso
  .datetime({ offset: true })
  .or(z.iso.date())
  .transform((d) => BigInt(Math.floor(Date.parse(d) / 1000)));

/**
 * AI (10) characters. A code too long is refused once, by its length (bytesText), not a second time
 * here: LOT_PATTERN also bounds the length.
 */
export const lotCode = bytesText(MAX_LOT_LENGTH).refine(
  (s) => s.length > MAX_LOT_LENGTH || LOT_PATTERN.test(s),
  "must use GS1 AI (10) characters",
);

const contributor = z
  .object({ memberId: z.string().uuid().optional(), address: address.optional(), weight: uint(64, 1n) })
  .strict()
  .refine((c) => (c.memberId === undefined) !== (c.address === undefined), "give exactly one of memberId or address");

/** The fields of the contract's BatchInfo, shared by registration and merge. */
const batchInfoFields = {
  productCode: bytesText(MAX_WORD_BYTES),
  gtin: gtin.optional(),
  lotCode,
  quantity: uint(64, 1n),
  unit: bytesText(16),
  origin: bytesText(128, 0).default(""),
  productionDate: instant,
  metadataHash: bytes32.default(zeroHash),
};

export const registerBatchInput = z
  .object({ cooperativeId: id, ...batchInfoFields, contributors: z.array(contributor).min(1).max(1000) })
  .strict();
export type RegisterBatchInput = z.output<typeof registerBatchInput>;

export const listBatchesInput = paging.extend({
  cooperativeId: id.optional(),
  productCode: z.string().max(MAX_WORD_BYTES).optional(),
});
export type ListBatchesInput = z.output<typeof listBatchesInput>;

export const recordEventInput = z
  .object({
    bizStep: bytesText(256),
    location: bytesText(128, 0).default(""),
    eventTime: z.iso.datetime({ offset: true }).transform((d) => BigInt(Math.floor(Date.parse(d) / 1000))),
    documentHash: bytes32.default(zeroHash),
  })
  .strict();
export type RecordEventInput = z.output<typeof recordEventInput>;

export const certifyInput = z
  .object({ scheme: bytesText(128), certificateHash: bytes32.default(zeroHash), validUntil: instant })
  .strict();
export type CertifyInput = z.output<typeof certifyInput>;

export const revokeCertificationInput = z.object({ reasonHash: bytes32.default(zeroHash) }).strict();
export type RevokeCertificationInput = z.output<typeof revokeCertificationInput>;

export const splitBatchInput = z
  .object({
    children: z
      .array(z.object({ lotCode, quantity: uint(64, 1n), metadataHash: bytes32.default(zeroHash) }).strict())
      .min(1)
      .max(50),
  })
  .strict();
export type SplitBatchInput = z.output<typeof splitBatchInput>;

export const mergeBatchesInput = z
  .object({
    cooperativeId: id,
    inputs: z
      .array(z.object({ batchId: bytes32, quantity: uint(64, 1n) }).strict())
      .min(1)
      .max(20),
    ...batchInfoFields,
  })
  .strict();
export type MergeBatchesInput = z.output<typeof mergeBatchesInput>;

type BatchInfoInput = Pick<RegisterBatchInput, keyof typeof batchInfoFields>;

export interface BatchService {
  register(
    actor: User | undefined,
    input: RegisterBatchInput,
    options?: WriteOptions,
  ): Promise<{ outcome: WriteOutcome; batchId: string }>;
  list(options: ListBatchesInput): Page<Batch>;
  /** One batch with its contributors, history, certifications, lineage and sales. */
  get(batchId: string): BatchDetail;
  /** The batch's history as an EPCIS 2.0 document (JSON-LD). */
  epcis(batchId: string): Record<string, unknown>;
  recordEvent(
    actor: User | undefined,
    batchId: string,
    input: RecordEventInput,
    options?: WriteOptions,
  ): Promise<{ outcome: WriteOutcome }>;
  certify(
    actor: User | undefined,
    batchId: string,
    input: CertifyInput,
    options?: WriteOptions,
  ): Promise<{ outcome: WriteOutcome; certificationId: unknown }>;
  /** Only the certifier who issued it may (else forbidden, `not_issuer`). */
  revokeCertification(
    actor: User | undefined,
    certificationId: number,
    input: RevokeCertificationInput,
    options?: WriteOptions,
  ): Promise<{ outcome: WriteOutcome }>;
  split(
    actor: User | undefined,
    batchId: string,
    input: SplitBatchInput,
    options?: WriteOptions,
  ): Promise<{ outcome: WriteOutcome; childIds: unknown }>;
  merge(
    actor: User | undefined,
    input: MergeBatchesInput,
    options?: WriteOptions,
  ): Promise<{ outcome: WriteOutcome; batchId: unknown }>;
  /** The lots the signed-in member contributed to (registered ones, where contributors are listed), newest first. */
  memberDeliveries(actor: User | undefined): MemberDelivery[];
}

/** One lot a member delivered to, and her part of it. */
export interface MemberDelivery extends Batch {
  weight: string;
}

export interface BatchServiceDeps {
  users: Pick<UserStore, "get">;
  queries: Queries;
  writer: Writer;
  deployment: DeploymentFile;
  /** The gateway's public URL: our identifiers and vocabulary in EPCIS documents. */
  publicUrl: () => string;
}

/** The contract's BatchInfo: the product code, lot code and unit as padded words (domain/words.ts). */
function toInfo(b: BatchInfoInput) {
  return {
    productCode: textToWord(b.productCode),
    gtin: b.gtin ?? 0n,
    lotCode: textToWord(b.lotCode, MAX_LOT_BYTES),
    quantity: b.quantity,
    unit: textToWord(b.unit),
    origin: b.origin,
    productionDate: b.productionDate,
    metadataHash: b.metadataHash,
  };
}

/** A certifier's writes: certify a lot, revoke one's own certification. */
function certifications(
  write: (user: User, data: string, options?: WriteOptions) => Promise<WriteOutcome>,
  get: (batchId: string) => BatchDetail,
): Pick<BatchService, "certify" | "revokeCertification"> {
  const abi = batchRegistryAbi;
  return {
    async certify(actor, batchId, input, options) {
      const user = requireRole(actor, "certifier");
      get(batchId);
      const data = encodeCall(abi, "certify", [batchId, input.scheme, input.certificateHash, input.validUntil]);
      const outcome = await write(user, data, options);
      return { outcome, certificationId: eventArg(outcome, "BatchCertified", "certificationId") ?? null };
    },

    async revokeCertification(actor, certificationId, input, options) {
      const user = requireRole(actor, "certifier");
      const data = encodeCall(abi, "revokeCertification", [certificationId, input.reasonHash]);
      try {
        return { outcome: await write(user, data, options) };
      } catch (err) {
        // The contract stays the judge of who issued what (the simulation reverts); refusing another
        // certifier is a matter of permission, so it is forbidden, not rejected.
        if (err instanceof RelayRejectedError && err.decoded?.name === "BatchRegistryNotIssuer") {
          throw new DomainError(
            "forbidden",
            "not_issuer",
            "only the certifier who issued this certification may revoke it",
            {
              error: err.decoded,
            },
          );
        }
        throw err;
      }
    },
  };
}

export function createBatchService(deps: BatchServiceDeps): BatchService {
  const { users, queries, writer } = deps;
  const to = deps.deployment.contracts.BatchRegistry.address;
  const abi = batchRegistryAbi;
  const write = (user: User, data: string, options?: WriteOptions) => writer.write(user, { to, data }, options);

  function get(batchId: string): BatchDetail {
    const batch = queries.getBatch(batchId);
    if (!batch) throw notFound("batch_not_found", `no batch ${batchId}`);
    return batch;
  }

  /** Accounts and weights; a member named by user id must be a gateway user with a key. */
  function resolveContributors(list: RegisterBatchInput["contributors"]) {
    return list.map((c, i) => {
      if (c.address !== undefined) return { account: c.address, weight: c.weight };
      const user = users.get(c.memberId!);
      if (!user || user.address === null) throw invalidField(`contributors.${i}.memberId`, "unknown member");
      return { account: user.address, weight: c.weight };
    });
  }

  /** Each contributor's account index from the index (MemberAdded): one that never joined is refused here. */
  function packedContributors(list: { account: string; weight: bigint }[]): bigint[] {
    const indexed = list.map((c, i) => {
      const index = queries.accountIndexOf(c.account);
      if (index === null) {
        throw invalidField(`contributors.${i}`, "is not a member of this cooperative", "not_a_member");
      }
      return { ...c, index };
    });
    return sortContributors(indexed).map((c) => packContributor(c.index, c.weight));
  }

  return {
    async register(actor, input, options) {
      const user = requireCoopActor(queries, actor, input.cooperativeId);
      // Packed words (account index << 64 | weight) in the contract's order (ascending index); the
      // contract computes the commitment itself.
      const contributors = packedContributors(resolveContributors(input.contributors));
      const data = encodeCall(abi, "registerBatch", [input.cooperativeId, toInfo(input), contributors]);
      const outcome = await write(user, data, options);
      // Not mined yet (202): the id is known anyway, it is derived from the cooperative and the lot.
      const batchId =
        (eventArg(outcome, "BatchRegistered", "batchId") as string | undefined) ??
        batchIdOf(BigInt(input.cooperativeId), input.lotCode);
      return { outcome, batchId };
    },

    list: (options) => queries.listBatches(options),
    get,

    epcis(batchId) {
      return buildEpcisDocument(get(batchId), {
        publicUrl: deps.publicUrl(),
        chainId: deps.deployment.chainId,
        lookupBatch: (other) => queries.getBatch(other),
      });
    },

    async recordEvent(actor, batchId, input, options) {
      const batch = get(batchId);
      const user = requireCoopActor(queries, actor, Number(batch.cooperativeId));
      const data = encodeCall(abi, "recordEvent", [
        batchId,
        input.bizStep,
        input.location,
        input.eventTime,
        input.documentHash,
      ]);
      return { outcome: await write(user, data, options) };
    },

    ...certifications(write, get),

    async split(actor, batchId, input, options) {
      const batch = get(batchId);
      const user = requireCoopActor(queries, actor, Number(batch.cooperativeId));
      const children = input.children.map((c) => ({ ...c, lotCode: textToWord(c.lotCode, MAX_LOT_BYTES) }));
      const data = encodeCall(abi, "splitBatch", [batchId, children]);
      const outcome = await write(user, data, options);
      return { outcome, childIds: eventArg(outcome, "BatchSplit", "childIds") ?? [] };
    },

    async merge(actor, input, options) {
      const user = requireCoopActor(queries, actor, input.cooperativeId);
      const contributors = mergeContributors(
        input.inputs.map((drawn) => {
          const batch = get(drawn.batchId);
          return {
            contributors: batch.contributors.map((c) => ({ account: c.account, weight: BigInt(c.weight) })),
            totalWeight: BigInt(batch.totalWeight),
            drawn: drawn.quantity,
          };
        }),
      );
      if (contributors.length === 0) {
        throw new DomainError(
          "rejected",
          "merge_without_contributors",
          "the quantities drawn are too small to weight any contributor",
        );
      }
      const data = encodeCall(abi, "mergeBatches", [
        input.cooperativeId,
        input.inputs.map((i) => ({ batchId: i.batchId, quantity: i.quantity })),
        toInfo(input),
        packedContributors(contributors),
      ]);
      const outcome = await write(user, data, options);
      return { outcome, batchId: eventArg(outcome, "BatchesMerged", "batchId") ?? null };
    },

    memberDeliveries(actor) {
      const user = requireRole(actor, "member");
      if (user.address === null || user.cooperativeId === null) return [];
      const me = user.address.toLowerCase();
      // The index has no contributor filter: read her cooperative's lots page by page (a cooperative
      // registers tens of lots a season) and keep those whose contributor list names her.
      const out: MemberDelivery[] = [];
      for (let offset = 0; ;) {
        const p = queries.listBatches({ cooperativeId: user.cooperativeId, limit: 100, offset });
        for (const b of p.items) {
          const mine = queries.getBatch(b.batchId)?.contributors.find((c) => c.account.toLowerCase() === me);
          if (mine !== undefined) out.push({ ...b, weight: mine.weight });
        }
        offset += p.items.length;
        if (p.items.length === 0 || offset >= p.total) break;
      }
      return out;
    },
  };
}
