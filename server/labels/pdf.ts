/**
 * A printable sheet of batch labels: A4, 3 columns × 8 rows of 70 × 37 mm (the common 24-up sticker
 * sheet), each with a vector QR code of the batch's public URL, the product, lot, quantity and the
 * cooperative's name. Arabic and Tifinagh need fonts pdfkit does not carry: Noto fonts are embedded
 * (subset) from the system when found; a script without a font is printed transliterated with a note.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import PDFDocument from "pdfkit";
import { qrMatrix } from "./qr";
import { cleanText, isRtl, transliterate, toWinAnsi, visualRuns, type Script } from "./text";

export interface LabelInput {
  url: string;
  /** The product as a second line under `product`, in another script (Arabic under French). */
  productOther?: string;
  /** "Scan to verify" in the label's two languages. */
  scan?: string;
  /** The page's address people can read and type (no scheme). */
  shortUrl?: string;
  product: string;
  lot: string;
  cooperative: string;
  quantity: string;
}

export interface LabelSheetOptions {
  /** Folders searched for the Noto fonts; `[]` forces the Helvetica fallback. */
  fontDirs?: string[];
  /** Document title (PDF metadata). */
  title?: string;
}

/**
 * The Noto subsets the project ships (npm packages @fontsource/noto-sans-arabic and -tifinagh), so a
 * machine without system fonts still prints Arabic and Tifinagh; searched first.
 */
function shippedFontDirs(): string[] {
  const dirs: string[] = [];
  for (const pkg of ["@fontsource/noto-sans-arabic", "@fontsource/noto-sans-tifinagh"]) {
    try {
      dirs.push(path.join(path.dirname(require.resolve(`${pkg}/package.json`)), "files"));
    } catch {
      // Not installed (a trimmed install): the system's fonts, or transliteration.
    }
  }
  return dirs;
}

export const DEFAULT_FONT_DIRS = [
  ...shippedFontDirs(),
  "/usr/share/fonts/truetype/noto",
  "/usr/share/fonts/opentype/noto",
  "/usr/share/fonts/noto",
  "/usr/local/share/fonts",
  "/usr/share/fonts/truetype/dejavu",
];

const FONT_FILES: Record<Script, { regular: string[]; bold: string[] }> = {
  latin: { regular: ["NotoSans-Regular.ttf", "DejaVuSans.ttf"], bold: ["NotoSans-Bold.ttf", "DejaVuSans-Bold.ttf"] },
  arabic: {
    regular: [
      "noto-sans-arabic-arabic-400-normal.woff",
      "NotoSansArabic-Regular.ttf",
      "NotoNaskhArabic-Regular.ttf",
      "NotoKufiArabic-Regular.ttf",
    ],
    bold: [
      "noto-sans-arabic-arabic-700-normal.woff",
      "NotoSansArabic-Bold.ttf",
      "NotoNaskhArabic-Bold.ttf",
      "NotoKufiArabic-Bold.ttf",
    ],
  },
  tifinagh: { regular: ["noto-sans-tifinagh-tifinagh-400-normal.woff", "NotoSansTifinagh-Regular.ttf"], bold: [] },
};

export interface LabelFonts {
  /** Font file per script and weight; a missing script is transliterated (latin: Helvetica). */
  files: Partial<Record<Script, { regular: string; bold: string }>>;
}

/** Which fonts a label sheet would embed, found in `dirs`. */
export function findLabelFonts(dirs: string[] = DEFAULT_FONT_DIRS): LabelFonts {
  const find = (names: string[]) => {
    for (const name of names) for (const dir of dirs) if (existsSync(path.join(dir, name))) return path.join(dir, name);
    return undefined;
  };
  const files: LabelFonts["files"] = {};
  for (const script of ["latin", "arabic", "tifinagh"] as const) {
    const regular = find(FONT_FILES[script].regular);
    if (regular) files[script] = { regular, bold: find(FONT_FILES[script].bold) ?? regular };
  }
  return { files };
}

// Font files are read once per process (a few hundred kB; pdfkit embeds only the glyphs used).
const fontCache = new Map<string, Buffer>();
function fontData(file: string): Buffer {
  let data = fontCache.get(file);
  if (!data) {
    data = readFileSync(file);
    fontCache.set(file, data);
  }
  return data;
}

// Geometry, in PDF points (1/72 inch).
const MM = 72 / 25.4;
const A4 = { width: 210 * MM, height: 297 * MM };
export const LABEL_GRID = { columns: 3, rows: 8 } as const;
export const LABELS_PER_PAGE = LABEL_GRID.columns * LABEL_GRID.rows;

/**
 * At most this many labels in one PDF (10 pages): rendering takes a few milliseconds per label on
 * the event loop. A caller prints the next ones with an offset.
 */
export const MAX_LABELS_PER_SHEET = 10 * LABELS_PER_PAGE;

const CELL = { width: A4.width / LABEL_GRID.columns, height: A4.height / LABEL_GRID.rows };
const PAD = 3 * MM;
const QR_SIZE = CELL.height - 2 * PAD;
const GAP = 3 * MM;
const TEXT_WIDTH = CELL.width - 2 * PAD - QR_SIZE - GAP;
/** Longest text kept from any field before fitting (a label has room for far less). */
const MAX_FIELD_CHARS = 200;

type Weight = "regular" | "bold";

interface Field {
  text: string;
  prefix?: string;
  size: number;
  minSize: number;
  maxLines: number;
  weight: Weight;
  color: string;
}

class LabelWriter {
  private readonly scripts: Set<Script>;
  private readonly missing: Set<Script>;

  constructor(
    private readonly doc: PDFKit.PDFDocument,
    fonts: LabelFonts,
  ) {
    this.scripts = new Set(Object.keys(fonts.files) as Script[]);
    this.missing = new Set((["arabic", "tifinagh"] as const).filter((s) => !this.scripts.has(s)));
    for (const [script, f] of Object.entries(fonts.files)) {
      doc.registerFont(`${script}-regular`, fontData(f.regular));
      doc.registerFont(`${script}-bold`, fontData(f.bold));
    }
  }

  /** The text as this document can print it, and whether letters had to be transliterated. */
  printable(raw: unknown): { text: string; transliterated: boolean } {
    let text = cleanText(raw);
    if ([...text].length > MAX_FIELD_CHARS) text = [...text].slice(0, MAX_FIELD_CHARS).join("") + "…";
    const translit = transliterate(text, this.missing);
    const printable = this.scripts.has("latin") ? translit : toWinAnsi(translit);
    return { text: printable, transliterated: translit !== text };
  }

  private useFont(script: Script, weight: Weight, size: number): void {
    if (this.scripts.has(script)) this.doc.font(`${script}-${weight}`);
    else this.doc.font(weight === "bold" ? "Helvetica-Bold" : "Helvetica");
    this.doc.fontSize(size);
  }

  // Labels of one sheet repeat the same names: measure each text once.
  private readonly widths = new Map<string, number>();
  private readonly fits = new Map<string, { lines: string[]; size: number }>();

  width(text: string, weight: Weight, size: number): number {
    const key = `${weight}|${size}|${text}`;
    let w = this.widths.get(key);
    if (w === undefined) {
      w = this.measure(text, weight, size);
      this.widths.set(key, w);
    }
    return w;
  }

  private measure(text: string, weight: Weight, size: number): number {
    let w = 0;
    for (const run of visualRuns(text)) {
      this.useFont(run.script, weight, size);
      w += this.doc.widthOfString(run.text);
    }
    return w;
  }

  /** Greedy word wrap into lines no wider than `width` (a word wider than a line stays whole). */
  wrap(text: string, weight: Weight, size: number, width: number): string[] {
    const lines: string[] = [];
    let line = "";
    for (const word of text.split(" ")) {
      const candidate = line === "" ? word : `${line} ${word}`;
      if (line !== "" && this.width(candidate, weight, size) > width) {
        lines.push(line);
        line = word;
      } else line = candidate;
    }
    if (line !== "") lines.push(line);
    return lines;
  }

  /** Shortens a line with an ellipsis until it fits. */
  truncate(text: string, weight: Weight, size: number, width: number): string {
    if (this.width(text, weight, size) <= width) return text;
    const chars = [...text];
    let lo = 0;
    let hi = chars.length;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (this.width(chars.slice(0, mid).join("").trimEnd() + "…", weight, size) <= width) lo = mid;
      else hi = mid - 1;
    }
    return chars.slice(0, lo).join("").trimEnd() + "…";
  }

  /** Lines and size for a field: the largest size at which it fits, else the smallest, truncated. */
  fit(field: Field, width: number): { lines: string[]; size: number } {
    const key = JSON.stringify([
      field.text,
      field.prefix,
      field.size,
      field.minSize,
      field.maxLines,
      field.weight,
      width,
    ]);
    let fitted = this.fits.get(key);
    if (!fitted) {
      fitted = this.fitUncached(field, width);
      this.fits.set(key, fitted);
    }
    return fitted;
  }

  private fitUncached(field: Field, width: number): { lines: string[]; size: number } {
    const text = field.prefix ? `${field.prefix}${field.text}` : field.text;
    for (let size = field.size; size >= field.minSize; size -= 0.5) {
      const lines = this.wrap(text, field.weight, size, width);
      if (lines.length <= field.maxLines && lines.every((l) => this.width(l, field.weight, size) <= width)) {
        return { lines, size };
      }
    }
    const size = field.minSize;
    const lines = this.wrap(text, field.weight, size, width);
    const kept = lines.slice(0, field.maxLines);
    if (lines.length > field.maxLines) kept[kept.length - 1] += " " + lines.slice(field.maxLines).join(" ");
    return { lines: kept.map((l) => this.truncate(l, field.weight, size, width)), size };
  }

  /** One line at baseline `y`, runs in visual order; right-aligned when it reads right to left. */
  line(
    text: string,
    x: number,
    y: number,
    width: number,
    weight: Weight,
    size: number,
    color: string,
    rtl = isRtl(text),
  ): void {
    let cursor = rtl ? x + width - this.width(text, weight, size) : x;
    this.doc.fillColor(color);
    for (const run of visualRuns(text, rtl)) {
      this.useFont(run.script, weight, size);
      this.doc.text(run.text, cursor, y, { lineBreak: false, baseline: "alphabetic" });
      cursor += this.doc.widthOfString(run.text);
    }
  }

  qr(url: string, x: number, y: number, size: number): void {
    let m: ReturnType<typeof qrMatrix>;
    try {
      m = qrMatrix(url);
    } catch {
      // No URL, or too long for a QR code: a crossed box says so rather than losing the whole sheet.
      this.doc.save().lineWidth(0.5).strokeColor("#999999").rect(x, y, size, size).moveTo(x, y);
      this.doc
        .lineTo(x + size, y + size)
        .moveTo(x + size, y)
        .lineTo(x, y + size)
        .stroke()
        .restore();
      return;
    }
    // The cell's padding is the quiet zone; the symbol fills the square.
    const module = size / m.size;
    this.doc.save().fillColor("#000000");
    for (let row = 0; row < m.size; row++) {
      for (let col = 0; col < m.size;) {
        if (!m.dark(row, col)) {
          col++;
          continue;
        }
        let end = col;
        while (end < m.size && m.dark(row, end)) end++;
        // A hair of overlap so no white seams show between modules when printed.
        this.doc.rect(x + col * module, y + row * module, (end - col) * module + 0.05, module + 0.05);
        col = end;
      }
    }
    this.doc.fill().restore();
  }

  label(input: LabelInput, x: number, y: number): void {
    const doc = this.doc;
    // Cut guide: a light dashed outline.
    doc
      .save()
      .lineWidth(0.3)
      .dash(2, { space: 2 })
      .strokeColor("#bbbbbb")
      .rect(x + 0.5, y + 0.5, CELL.width - 1, CELL.height - 1)
      .stroke()
      .undash()
      .restore();
    const quietZone = QR_SIZE / 12; // about 3 modules of a typical symbol, plus the cell padding
    this.qr(String(input.url ?? ""), x + PAD + quietZone / 2, y + PAD + quietZone / 2, QR_SIZE - quietZone);

    const product = this.printable(input.product);
    const other = this.printable(input.productOther ?? "");
    const lot = this.printable(input.lot);
    const quantity = this.printable(input.quantity);
    const cooperative = this.printable(input.cooperative);
    const scan = this.printable(input.scan ?? "");
    const address = this.printable(input.shortUrl ?? "");
    const fields: Field[] = [
      { text: product.text, size: 9.5, minSize: 6, maxLines: 2, weight: "bold", color: "#000000" },
      { text: other.text, size: 9, minSize: 6, maxLines: 1, weight: "bold", color: "#000000" },
      { text: lot.text, prefix: "Lot ", size: 8.5, minSize: 5.5, maxLines: 1, weight: "bold", color: "#000000" },
      { text: quantity.text, size: 8, minSize: 5.5, maxLines: 1, weight: "regular", color: "#222222" },
      { text: cooperative.text, size: 7.5, minSize: 5, maxLines: 2, weight: "regular", color: "#1b5e20" },
      // Under the code's side: what to do with it, and the address for a reader without a camera.
      { text: scan.text, size: 6.5, minSize: 4.5, maxLines: 2, weight: "bold", color: "#8a2846" },
      { text: address.text, size: 5.5, minSize: 4, maxLines: 2, weight: "regular", color: "#333333" },
    ];
    const tx = x + PAD + QR_SIZE + GAP;
    let ty = y + PAD;
    for (const field of fields) {
      if (field.text === "") continue;
      const { lines, size } = this.fit(field, TEXT_WIDTH);
      // A wrapped field keeps one direction: the second line of an Arabic name is right-aligned too.
      const rtl = isRtl(field.prefix ? `${field.prefix}${field.text}` : field.text);
      for (const l of lines) {
        ty += size * 1.2;
        this.line(l, tx, ty, TEXT_WIDTH, field.weight, size, field.color, rtl);
      }
      ty += size * 0.35;
    }
    if ([product, other, lot, quantity, cooperative, scan].some((f) => f.transliterated)) {
      const note = "* transliterated: font not installed";
      this.line(note, tx, y + CELL.height - PAD, TEXT_WIDTH, "regular", 4.5, "#777777");
    }
  }
}

/** The label sheet as a PDF: 24 labels per A4 page, in the order given. */
export async function labelSheetPdf(labels: LabelInput[], options: LabelSheetOptions = {}): Promise<Buffer> {
  const fonts = findLabelFonts(options.fontDirs);
  const doc = new PDFDocument({
    size: "A4",
    margin: 0,
    autoFirstPage: false,
    info: { Title: options.title ?? "CoopTrace labels", Creator: "CoopTrace", Producer: "CoopTrace" },
  });
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on("data", (c: Buffer) => chunks.push(c));
    doc.on("end", () => resolve(Buffer.concat(chunks)));
    doc.on("error", reject);
  });
  try {
    const writer = new LabelWriter(doc, fonts);
    if (labels.length === 0) {
      doc.addPage();
      writer.line("No batches to label.", 20 * MM, 30 * MM, 170 * MM, "regular", 14, "#000000");
    }
    labels.forEach((label, i) => {
      const slot = i % LABELS_PER_PAGE;
      if (slot === 0) doc.addPage();
      const col = slot % LABEL_GRID.columns;
      const row = Math.floor(slot / LABEL_GRID.columns);
      writer.label(label, col * CELL.width, row * CELL.height);
    });
  } finally {
    doc.end();
  }
  return done;
}
