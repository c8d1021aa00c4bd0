/**
 * Off-chain mirror of the contributors commitment of a batch (contracts/libraries/ContributorsMerkle.sol)
 * and of the merge rule documented in IBatchRegistry.mergeBatches. The gateway, the tests and the
 * verifier share these functions, so all three compute exactly what the contracts check.
 */
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { getAddress } from "viem";

export interface Contributor {
  account: string;
  weight: bigint;
}

export interface ContributorTree {
  /** Contributors in tree order (ascending address), as the contract requires and emits them. */
  contributors: Contributor[];
  root: string;
  totalWeight: bigint;
  /** Merkle proof of (account, weight) for a claim. */
  proof(account: string): string[];
  /** The weight of `account`, or 0n when it is not a contributor. */
  weightOf(account: string): bigint;
}

const LEAF_ENCODING = ["address", "uint256"];

/** Orders contributors as the contract expects: strictly ascending by address (numeric order). */
export function sortContributors(list: readonly Contributor[]): Contributor[] {
  return list
    .map((c) => ({ account: getAddress(c.account), weight: BigInt(c.weight) }))
    .sort((a, b) => (BigInt(a.account) < BigInt(b.account) ? -1 : BigInt(a.account) > BigInt(b.account) ? 1 : 0));
}

/**
 * Builds the commitment of a contributor list. The list is sorted first; duplicates and zero
 * weights are the contract's to reject, so they are kept here for tests of those errors.
 */
export function buildContributorTree(list: readonly Contributor[]): ContributorTree {
  const contributors = sortContributors(list);
  if (contributors.length === 0) throw new Error("a batch needs at least one contributor");
  // sortLeaves: false keeps the given order, the order the contract hashes them in.
  const tree = StandardMerkleTree.of(
    contributors.map((c) => [c.account, c.weight.toString()]),
    LEAF_ENCODING,
    { sortLeaves: false },
  );
  const index = new Map(contributors.map((c, i) => [c.account.toLowerCase(), i]));
  const totalWeight = contributors.reduce((sum, c) => sum + c.weight, 0n);
  return {
    contributors,
    root: tree.root,
    totalWeight,
    proof(account: string) {
      const i = index.get(account.toLowerCase());
      if (i === undefined) throw new Error(`${account} is not a contributor of this batch`);
      return tree.getProof(i);
    },
    weightOf(account: string) {
      const i = index.get(account.toLowerCase());
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
 * address, zeros are dropped, and the result is sorted by address. A member is thus weighted by the
 * quantity of its own delivery that went into the new batch.
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
  return sortContributors(
    [...sums.entries()].filter(([, w]) => w > 0n).map(([account, weight]) => ({ account, weight })),
  );
}
