/**
 * CSV exports (RFC 4180): a UTF-8 byte order mark so that spreadsheets read Arabic and Tifinagh
 * names right, CRLF line ends, fields quoted when they hold a comma, a quote or a line break.
 *
 * Formula injection (CWE-1236): toCsv is the one place that neutralises cells, for every column of
 * every CSV, so no row builder can forget one. The rule is decided by the cell's JavaScript type:
 *  - a `number` is a number cell and is written as is (a negative number stays a number);
 *  - every `string` is a text cell, whatever it looks like ("-5" included): if it starts with `=`, `+`,
 *    `-`, `@`, a tab or a carriage return, a spreadsheet could run it as a formula, so it gets a
 *    leading apostrophe, which spreadsheets show as text and do not display.
 * Our numeric strings (amounts as decimal integers, amount_decimal) are never negative, so they are
 * never changed; a value meant to be read as a number must therefore be given as a `number`.
 */
import { human, type SaleAudit } from "./sale";

export const BOM = "\uFEFF";

export const PAYOUT_COLUMNS = [
  "sale_id",
  "batch_id",
  "lot_code",
  "kind",
  "account",
  "display_name",
  "weight",
  "token",
  "symbol",
  "decimals",
  "amount",
  "amount_decimal",
  "tx_hash",
  "block_number",
  "log_index",
] as const;

export type PayoutRow = Record<(typeof PAYOUT_COLUMNS)[number], string | number | null>;

/** A text cell's first character that makes a spreadsheet evaluate it. */
const FORMULA_START = /^[=+\-@\t\r]/;

/** Text as a spreadsheet must show it, not evaluate it (idempotent: a neutralised text starts with '). */
export function safeText(s: string | null): string | null {
  return s !== null && FORMULA_START.test(s) ? `'${s}` : s;
}

function field(value: string | number | null): string {
  const s = value === null ? "" : typeof value === "number" ? String(value) : safeText(value)!;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(columns: readonly string[], rows: Record<string, string | number | null>[]): string {
  const lines = [columns.map(field).join(","), ...rows.map((r) => columns.map((c) => field(r[c] ?? null)).join(","))];
  return BOM + lines.join("\r\n") + "\r\n";
}

/** One row per payout of a sale: each contributor's share of it, then each claim since its release. */
export function salePayoutRows(audit: SaleAudit): PayoutRow[] {
  const release = [...audit.transactions].reverse().find((t) => t.step === "released");
  const base = {
    sale_id: audit.saleId,
    batch_id: audit.batchId,
    lot_code: audit.lotCode,
    token: audit.token.address,
    symbol: audit.token.symbol,
    decimals: audit.token.decimals,
  };
  const names = new Map(audit.contributors.map((c) => [c.account, c]));
  const rows: PayoutRow[] = [];
  if (release !== undefined) {
    for (const c of audit.contributors) {
      rows.push({
        ...base,
        kind: "share",
        account: c.account,
        display_name: c.displayName,
        weight: c.weight,
        amount: c.share,
        amount_decimal: c.shareHuman,
        tx_hash: release.txHash,
        block_number: release.blockNumber,
        log_index: release.logIndex,
      });
    }
  }
  for (const t of audit.transactions.filter((t) => t.step === "claim")) {
    const c = names.get(t.account!);
    rows.push({
      ...base,
      kind: "claim",
      account: t.account!,
      display_name: c?.displayName ?? null,
      weight: c?.weight ?? null,
      amount: t.amount!,
      amount_decimal: human(BigInt(t.amount!), audit.token.decimals),
      tx_hash: t.txHash,
      block_number: t.blockNumber,
      log_index: t.logIndex,
    });
  }
  return rows;
}
