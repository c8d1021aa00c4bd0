/** The relayer: forward requests through the ERC-2771 forwarder with a durable SQLite outbox. */
export { outboxMigrations } from "./outbox";
export {
  createRelayer,
  FORWARD_REQUEST_TYPES,
  TX_GAS_CAP,
  type ForwardRequestData,
  type OperationStatus,
  type Relayer,
  type RelayerDeps,
  type RelayerOptions,
  type SubmitRequest,
} from "./relayer";
export {
  RelayRejectedError,
  RelayerUnavailableError,
  decodeRevert,
  type DecodedError,
  type RejectionCode,
  type UnavailableCode,
} from "./errors";
