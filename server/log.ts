/**
 * Structured logs (pino). Secrets never reach a log: keys, tokens, signatures and authorization
 * headers are redacted wherever they appear in a logged object.
 */
import pino, { type Logger } from "pino";

export type { Logger };

export const REDACT_PATHS = [
  "privateKey",
  "*.privateKey",
  "key",
  "*.key",
  "token",
  "*.token",
  "signature",
  "*.signature",
  "*.*.signature",
  "masterKey",
  "*.masterKey",
  "req.headers.authorization",
  "req.headers.cookie",
  "headers.authorization",
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, redact: { paths: REDACT_PATHS, censor: "[redacted]" } }, destination);
}
