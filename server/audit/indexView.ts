/**
 * What an audit reads of the index (the SQLite read model) to compare with the chain: a sale, a batch,
 * a cooperative, the claims of a batch and the sale ids of a cooperative.
 */
import type { Queries } from "../index";

export type { IndexClaim } from "../index";

export type IndexView = Pick<Queries, "getSale" | "getBatch" | "getCooperative" | "claimsOf" | "saleIdsOf">;
