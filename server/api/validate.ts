/**
 * The zod building blocks, for the API routes: they live with the services (server/services/schemas.ts),
 * whose input schemas the API and the workspace forms share.
 */
export * from "../services/schemas";
export { isValidGtin } from "../../domain/gs1";
