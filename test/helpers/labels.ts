/**
 * Reads a label sheet back as a shopper's phone would: page 1 rendered by poppler's pdftoppm at 150 dpi,
 * then the QR code of the first label (the top-left cell of the 3 × 8 A4 grid) decoded with jsQR.
 * Null when pdftoppm is not installed (CI installs poppler-utils; .ci/run).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import jsQR from "jsqr";
import { PNG } from "pngjs";

export function hasPdftoppm(): boolean {
  return spawnSync("pdftoppm", ["-v"], { stdio: "ignore" }).error === undefined;
}

/** The first label's QR code on page 1 of `pdf`, decoded; null without pdftoppm or when unreadable. */
export function firstLabelQr(pdf: Buffer): string | null {
  if (!hasPdftoppm()) return null;
  const dir = mkdtempSync(path.join(tmpdir(), "cooptrace-labels-"));
  try {
    const pdfFile = path.join(dir, "sheet.pdf");
    writeFileSync(pdfFile, pdf);
    execFileSync("pdftoppm", ["-png", "-r", "150", "-f", "1", "-l", "1", "-singlefile", pdfFile, path.join(dir, "p")]);
    const page = PNG.sync.read(readFileSync(path.join(dir, "p.png")));
    const cellW = Math.floor(page.width / 3);
    const cellH = Math.floor(page.height / 8);
    const crop = new Uint8ClampedArray(cellW * cellH * 4);
    for (let y = 0; y < cellH; y++) {
      for (let x = 0; x < cellW; x++) {
        for (let k = 0; k < 4; k++) crop[(y * cellW + x) * 4 + k] = page.data[(y * page.width + x) * 4 + k];
      }
    }
    return jsQR(crop, cellW, cellH)?.data ?? null;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
