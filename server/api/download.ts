/**
 * Files the gateway hands out for download, sent the same way by the API and the audit pages.
 */
import type { Response } from "express";
import type { CsvFile } from "../services/audit";

/** A CSV export: as an attachment named by the service, never cached (it may name members). */
export function sendCsv(res: Response, { filename, csv }: CsvFile): void {
  res
    .status(200)
    .type("text/csv; charset=utf-8")
    .set("Content-Disposition", `attachment; filename="${filename}"`)
    .set("Cache-Control", "no-store")
    .send(csv);
}
