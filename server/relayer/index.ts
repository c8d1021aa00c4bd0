/** The relayer: forward requests through the ERC-2771 forwarder with a durable SQLite outbox. */
export { outboxMigrations } from "./outbox";
export { createRelayer } from "./relayer";
export { TX_GAS_CAP } from "./limits";
export {
  FORWARD_REQUEST_TYPES,
  type ForwardRequestData,
  type OperationStatus,
  type Relayer,
  type RelayerDeps,
  type RelayerOptions,
  type RelayerProgress,
  type SignedSubmission,
  type SubmitRequest,
} from "./types";
export type { RequestStage, RequestState, TxState, VersionState } from "./states";
export {
  RelayRefusedError,
  RelayRejectedError,
  RelayerUnavailableError,
  type DecodedError,
  type RefusalCode,
  type RefusalReason,
  type RejectionCode,
  type UnavailableCode,
} from "./errors";
export { decodeRevert } from "./nodeErrors";
export {
  RELAY_ALLOW_LIST,
  RELAY_CONTRACTS,
  allowedCalls,
  createRelayPolicy,
  secondsUntilNextUtcDay,
  utcDayStart,
  type AllowedCall,
  type RelayContract,
  type RelayPolicy,
} from "./policy";
