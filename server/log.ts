/**
 * Structured logs (pino). Secrets never reach a log: keys, tokens, signatures and authorization
 * headers are redacted wherever they appear in a logged object.
 */
import pino, { type Logger } from "pino";
import pretty from "pino-pretty";

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

/**
 * A logger writing to `destination`, or to standard output: one JSON object per line, except for a
 * person at a terminal in development, who reads lines (pino-pretty; redaction happens before it).
 */
export function createLogger(
  level: string,
  destination?: pino.DestinationStream,
  options: { env?: string } = {},
): Logger {
  const readable =
    destination === undefined &&
    process.stdout.isTTY === true &&
    (options.env ?? process.env.NODE_ENV) !== "production";
  const out = readable
    ? pretty({ colorize: true, translateTime: "SYS:HH:MM:ss", ignore: "pid,hostname" })
    : destination;
  return pino({ level, redact: { paths: REDACT_PATHS, censor: "[redacted]" } }, out);
}
