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

/** The text of `pdf` as poppler's pdftotext reads it (null without poppler-utils). */
export function pdfText(pdf: Buffer): string | null {
  if (!hasPdftoppm()) return null;
  const dir = mkdtempSync(path.join(tmpdir(), "cooptrace-labels-"));
  try {
    const pdfFile = path.join(dir, "sheet.pdf");
    writeFileSync(pdfFile, pdf);
    return execFileSync("pdftotext", ["-enc", "UTF-8", pdfFile, "-"]).toString("utf8");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface Grid {
  columns: number;
  rows: number;
  /** Label size, first label's corner and pitch, in millimetres. */
  cell: { width: number; height: number };
  origin: { x: number; y: number };
  pitch: { x: number; y: number };
}

/**
 * Page 1 rendered at `dpi` (kept as PNG under os.tmpdir() when KEEP_LABEL_PNG is set, to look at) and
 * the QR code of each of its first `n` labels decoded with jsQR (null where unreadable).
 */
export function labelQrs(pdf: Buffer, grid: Grid, n: number, dpi = 200): (string | null)[] | null {
  if (!hasPdftoppm()) return null;
  const dir = mkdtempSync(path.join(tmpdir(), "cooptrace-labels-"));
  try {
    const pdfFile = path.join(dir, "sheet.pdf");
    writeFileSync(pdfFile, pdf);
    const args = ["-png", "-r", String(dpi), "-f", "1", "-l", "1", "-singlefile", pdfFile, path.join(dir, "p")];
    execFileSync("pdftoppm", args);
    const page = PNG.sync.read(readFileSync(path.join(dir, "p.png")));
    if (process.env.KEEP_LABEL_PNG) console.log(`      page 1: ${path.join(dir, "p.png")}`);
    const px = (mm: number) => Math.round((mm / 25.4) * dpi);
    const out: (string | null)[] = [];
    for (let i = 0; i < n; i++) {
      const x0 = px(grid.origin.x + (i % grid.columns) * grid.pitch.x);
      const y0 = px(grid.origin.y + Math.floor(i / grid.columns) * grid.pitch.y);
      const w = Math.min(px(grid.cell.width), page.width - x0);
      const h = Math.min(px(grid.cell.height), page.height - y0);
      const crop = new Uint8ClampedArray(w * h * 4);
      for (let y = 0; y < h; y++) {
        const from = ((y0 + y) * page.width + x0) * 4;
        crop.set(page.data.subarray(from, from + w * 4), y * w * 4);
      }
      out.push(jsQR(crop, w, h)?.data ?? null);
    }
    return out;
  } finally {
    if (!process.env.KEEP_LABEL_PNG) rmSync(dir, { recursive: true, force: true });
  }
}
