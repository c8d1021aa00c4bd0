/**
 * Off-chain mirror of the contributors commitment of a batch (contracts/libraries/ContributorsMerkle.sol)
 * and of the merge rule documented in IBatchRegistry.mergeBatches. The gateway, the tests and the
 * verifier share these functions, so all three compute exactly what the contracts check.
 */
import { SimpleMerkleTree } from "@openzeppelin/merkle-tree";
import { getAddress, keccak256, toHex } from "viem";

export interface Contributor {
  account: string;
  weight: bigint;
}

/** A contributor with her account index in the CooperativeRegistry. */
export interface IndexedContributor extends Contributor {
  index: number;
}

/** The account index of an address (CooperativeRegistry.indexOf, or the index's MemberAdded events). */
export type IndexOf = (account: string) => number | bigint;

export interface ContributorTree {
  /** Contributors in tree order (ascending account index), as the contract requires and emits them. */
  contributors: IndexedContributor[];
  /** The packed words registerBatch takes and BatchRegistered emits: index << 64 | weight. */
  words: bigint[];
  root: string;
  totalWeight: bigint;
  /** Merkle proof of the contributor word of `account`, for a claim. */
  proof(account: string): string[];
  /** The packed word of `account` (throws when she is not a contributor). */
  wordOf(account: string): bigint;
  /** The weight of `account`, or 0n when it is not a contributor. */
  weightOf(account: string): bigint;
}

const WEIGHT_BITS = 64n;
const WEIGHT_MASK = (1n << WEIGHT_BITS) - 1n;

/** The packed contributor word: index << 64 | weight (contracts/libraries/ContributorsMerkle.sol). */
export function packContributor(index: number | bigint, weight: bigint): bigint {
  return (BigInt(index) << WEIGHT_BITS) | BigInt(weight);
}

/** The index and weight of a packed contributor word. */
export function unpackContributor(word: bigint): { index: number; weight: bigint } {
  return { index: Number((BigInt(word) >> WEIGHT_BITS) & 0xffffffffn), weight: BigInt(word) & WEIGHT_MASK };
}

/** The leaf of a contributor word: keccak256(abi.encode(word)), one hash. */
export function contributorLeaf(word: bigint): string {
  return keccak256(toHex(BigInt(word), { size: 32 }));
}

/** Orders contributors as the contract expects: strictly ascending by account index. */
export function sortContributors(list: readonly IndexedContributor[]): IndexedContributor[] {
  return list
    .map((c) => ({ account: getAddress(c.account), weight: BigInt(c.weight), index: Number(c.index) }))
    .sort((a, b) => a.index - b.index);
}

/**
 * Builds the commitment of a contributor list, each account given its index by `indexOf`. The list is
 * sorted first; duplicates and zero weights are the contract's to reject, so they are kept here for
 * tests of those errors.
 */
export function buildContributorTree(list: readonly Contributor[], indexOf: IndexOf): ContributorTree {
  return treeOf(list.map((c) => ({ account: c.account, weight: BigInt(c.weight), index: Number(indexOf(c.account)) })));
}

/** The tree of an emitted word list (BatchRegistered), accounts given by `accountAt`, kept in the emitted order. */
export function treeFromWords(words: readonly bigint[], accountAt: (index: number) => string): ContributorTree {
  return treeOf(
    words.map((w) => {
      const { index, weight } = unpackContributor(BigInt(w));
      return { account: accountAt(index), weight, index };
    }),
    false,
  );
}

function treeOf(list: readonly IndexedContributor[], sort = true): ContributorTree {
  const contributors = sort
    ? sortContributors(list)
    : list.map((c) => ({ account: getAddress(c.account), weight: BigInt(c.weight), index: Number(c.index) }));
  if (contributors.length === 0) throw new Error("a batch needs at least one contributor");
  const words = contributors.map((c) => packContributor(c.index, c.weight));
  // sortLeaves: false keeps the given order, the order the contract hashes them in.
  const tree = SimpleMerkleTree.of(words.map(contributorLeaf), { sortLeaves: false });
  const position = new Map(contributors.map((c, i) => [c.account.toLowerCase(), i]));
  const totalWeight = contributors.reduce((sum, c) => sum + c.weight, 0n);
  const at = (account: string) => {
    const i = position.get(account.toLowerCase());
    if (i === undefined) throw new Error(`${account} is not a contributor of this batch`);
    return i;
  };
  return {
    contributors,
    words,
    root: tree.root,
    totalWeight,
    proof: (account) => tree.getProof(at(account)),
    wordOf: (account) => words[at(account)],
    weightOf(account: string) {
      const i = position.get(account.toLowerCase());
      return i === undefined ? 0n : contributors[i].weight;
    },
  };
}

/** One parent of a merge: its emitted contributors and total weight, and the quantity drawn from it. */
export interface MergeInput {
  contributors: readonly Contributor[];
  totalWeight: bigint;
  drawn: bigint;
}

/**
 * The merge rule (one rule, documented in IBatchRegistry.mergeBatches): for every parent p and each
 * of its contributors c, c earns ⌊weight(c, p) × drawn(p) / totalWeight(p)⌋; earnings are summed per
 * address, zeros are dropped (the result is sorted by address here; the tree orders it by account
 * index). A member is thus weighted by the quantity of its own delivery that went into the new batch.
 */
export function mergeContributors(inputs: readonly MergeInput[]): Contributor[] {
  const sums = new Map<string, bigint>();
  for (const input of inputs) {
    if (input.totalWeight <= 0n) throw new Error("parent total weight must be positive");
    for (const c of input.contributors) {
      const account = getAddress(c.account);
      const earned = (BigInt(c.weight) * input.drawn) / input.totalWeight;
      sums.set(account, (sums.get(account) ?? 0n) + earned);
    }
  }
  return [...sums.entries()]
    .filter(([, w]) => w > 0n)
    .map(([account, weight]) => ({ account, weight }))
    .sort((a, b) => (BigInt(a.account) < BigInt(b.account) ? -1 : BigInt(a.account) > BigInt(b.account) ? 1 : 0));
}
