/**
 * The chain index: follows the contracts' events into SQLite (indexer) and serves the read model
 * (queries, over ./read/). The API, the pages and the audit read only through createQueries.
 */
export { indexMigrations, INDEX_TABLES } from "./schema";
export { createIndexer } from "./indexer";
export type { Indexer, IndexerDeps, IndexerStatus, SyncResult } from "./indexer";
export { createQueries, MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE, FIND_LIMIT } from "./queries";
export type * from "./queries";
