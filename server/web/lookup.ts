/**
 * The reads of the home page's product search and of the workspace: lots by lot code and/or GTIN, a
 * lot's GTIN, the cooperative a manager runs. Their SQL is in the read model (server/index/read/); this
 * keeps the name server/web/** calls. Once the workspace receives the services, `services.reads` (the
 * read model) answers the same three calls and this file can go.
 */
import { createQueries, FIND_LIMIT, type FoundLot, type Queries } from "../index";
import type { Db } from "../store/db";

export { FIND_LIMIT, type FoundLot };

export type WebLookups = Pick<Queries, "findLots" | "gtinOf" | "cooperativeOfAdmin">;

export function createWebLookups(db: Db): WebLookups {
  const { findLots, gtinOf, cooperativeOfAdmin } = createQueries(db);
  return { findLots, gtinOf, cooperativeOfAdmin };
}
