/**
 * The shapes of the pages' own reads (a batch by GTIN and lot, labels of linked batches, the market's
 * open offers), answered by the read model (server/index/read/) through the services.
 */
export type { BatchLabel, Offer, OfferFilter } from "../index";
