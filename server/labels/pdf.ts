/**
 * Printable batch labels for a shelf: on a common label stock (an A4 sheet of 24 or of 65 stickers, or a
 * 62 mm thermal roll, one page per label), each with a vector QR code of the batch's public URL, the
 * product's name in two or three languages (scripts mixed, Arabic shaped and right to left), the pack,
 * lot and date, the AOP/IGP mark when the lot holds a valid one, "scan to verify" in two languages and
 * the readable address. Fonts: the Noto subsets the project ships (@fontsource, WOFF: pdfkit's fontkit
 * draws WOFF2 glyphs blank, checked with pdftoppm) first, so a server without system fonts still prints
 * Arabic and Tifinagh; system Noto second; a script without a font is transliterated with a note.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import PDFDocument from "pdfkit";
import { qrMatrix } from "./qr";
import { cleanText, isRtl, scriptOf, transliterate, toWinAnsi, visualRuns, type Script } from "./text";

/** What one label says; every text already in the words and scripts it is printed in. */
export interface LabelInput {
  /** Encoded in the QR code. */
  url: string;
  /** The address printed under the code, for a person to type (no scheme). */
  shortUrl: string;
  /** The product's name, one per language, most prominent first. */
  names: string[];
  /** "250 ml". */
  pack: string;
  lot: string;
  /** The production date, in words ("3 mai 2025"). */
  date: string;
  /** "Scan to verify", in two languages. */
  scan: string[];
  /** The AOP/IGP mark, when the lot holds a valid certification of one. */
  mark?: string | null;
  cooperative: string;
}

export const LABEL_STOCKS = ["a4-24", "a4-65", "roll-62"] as const;
export type LabelStock = (typeof LABEL_STOCKS)[number];

export interface LabelSheetOptions {
  /** Folders searched for the fonts; `[]` forces the Helvetica fallback. */
  fontDirs?: string[];
  /** Document title (PDF metadata). */
  title?: string;
  /** The label stock: "a4-24" unless said. */
  stock?: LabelStock;
  /** Printed when there is no label (e.g. "No lot to label."). */
  emptyText?: string;
}

/** The folder of a fontsource package's font files, or null when the package is not installed. */
function fontsourceDir(pkg: string): string | null {
  try {
    return path.dirname(require.resolve(`@fontsource/${pkg}/package.json`)) + "/files";
  } catch {
    return null;
  }
}

export const DEFAULT_FONT_DIRS = [
  ...[fontsourceDir("noto-sans-arabic"), fontsourceDir("noto-sans-tifinagh")].filter((d): d is string => d !== null),
  "/usr/share/fonts/truetype/noto",
  "/usr/share/fonts/opentype/noto",
  "/usr/share/fonts/noto",
  "/usr/local/share/fonts",
  "/usr/share/fonts/truetype/dejavu",
];

// Names searched in order (each in every folder): the shipped subsets first for Arabic and Tifinagh.
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

export interface StockLayout {
  page: { width: number; height: number };
  columns: number;
  rows: number;
  cell: { width: number; height: number };
  /** The top left corner of the first label, and the distance from one label to the next. */
  origin: { x: number; y: number };
  pitch: { x: number; y: number };
  /** Inner margin of a label, which is also the QR code's quiet zone. */
  pad: number;
  /** Type sizes relative to the 70 × 37 mm label's. */
  scale: number;
  /** A dashed cut guide around each label (sheets; a roll is cut by the printer). */
  guide: boolean;
}

export const STOCK_LAYOUTS: Record<LabelStock, StockLayout> = {
  // 3 × 8 of 70 × 37 mm, edge to edge (e.g. Avery 3475).
  "a4-24": {
    page: A4,
    columns: 3,
    rows: 8,
    cell: { width: A4.width / 3, height: A4.height / 8 },
    origin: { x: 0, y: 0 },
    pitch: { x: A4.width / 3, y: A4.height / 8 },
    pad: 3 * MM,
    scale: 1,
    guide: true,
  },
  // 5 × 13 of 38.1 × 21.2 mm, 2.54 mm between columns, margins 4.67 mm and 10.7 mm (e.g. Avery L7651).
  "a4-65": {
    page: A4,
    columns: 5,
    rows: 13,
    cell: { width: 38.1 * MM, height: 21.2 * MM },
    origin: { x: 4.67 * MM, y: 10.7 * MM },
    pitch: { x: 40.64 * MM, y: 21.2 * MM },
    pad: 1.5 * MM,
    scale: 0.62,
    guide: true,
  },
  // A 62 mm continuous roll (e.g. Brother DK-22205) cut at 40 mm: one page per label.
  "roll-62": {
    page: { width: 62 * MM, height: 40 * MM },
    columns: 1,
    rows: 1,
    cell: { width: 62 * MM, height: 40 * MM },
    origin: { x: 0, y: 0 },
    pitch: { x: 62 * MM, y: 40 * MM },
    pad: 2.5 * MM,
    scale: 1,
    guide: false,
  },
};

export function labelsPerPage(stock: LabelStock): number {
  return STOCK_LAYOUTS[stock].columns * STOCK_LAYOUTS[stock].rows;
}

/**
 * At most this many labels in one PDF (ten sheets of 65): rendering takes about a millisecond per label
 * on the event loop (measured in test/server/labels.test.ts). More packs than that are printed in parts.
 */
export const MAX_LABELS_PER_PRINT = 650;
/** At most this many lots in one request. */
export const MAX_LABELS_PER_SHEET = 240;

/**
 * A space the wrap never breaks at (cleanText folds U+00A0 into a plain space, so a private-use mark
 * stands for it until the line is drawn).
 */
const NO_BREAK = "\uE000";

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
  /** An address: wrapped after a "/" or a "." rather than at spaces, and never truncated mid-path. */
  url?: boolean;
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
    // Without a Latin font, Latin letters go through Helvetica's encoding; Arabic and Tifinagh keep theirs.
    const printable = this.scripts.has("latin")
      ? translit
      : [...translit].map((ch) => (scriptOf(ch) === "latin" && ch !== NO_BREAK ? toWinAnsi(ch) : ch)).join("");
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
    for (const run of visualRuns(text.replaceAll(NO_BREAK, " "))) {
      this.useFont(run.script, weight, size);
      w += this.doc.widthOfString(run.text);
    }
    return w;
  }

  /**
   * Greedy word wrap into lines no wider than `width` (a word wider than a line stays whole). An
   * address breaks after its "/" and "." (nothing is added: the reader types the lines end to end).
   */
  wrap(text: string, weight: Weight, size: number, width: number, url = false): string[] {
    const lines: string[] = [];
    let line = "";
    const words = url ? text.split(/(?<=[/.])/) : text.split(" ");
    const join = url ? "" : " ";
    for (const word of words) {
      const candidate = line === "" ? word : `${line}${join}${word}`;
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
      field.url,
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
    for (let size = field.size; size >= field.minSize; size -= 0.25) {
      const lines = this.wrap(text, field.weight, size, width, field.url);
      if (lines.length <= field.maxLines && lines.every((l) => this.width(l, field.weight, size) <= width)) {
        return { lines, size };
      }
    }
    const size = field.minSize;
    const lines = this.wrap(text, field.weight, size, width, field.url);
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
    for (const run of visualRuns(text.replaceAll(NO_BREAK, " "), rtl)) {
      this.useFont(run.script, weight, size);
      this.doc.text(run.text, cursor, y, { lineBreak: false, baseline: "alphabetic" });
      cursor += this.doc.widthOfString(run.text);
    }
  }

  private readonly matrices = new Map<string, ReturnType<typeof qrMatrix>>();

  qr(url: string, x: number, y: number, size: number): void {
    let m = this.matrices.get(url);
    try {
      // The packs of a lot share one code: the matrix is worked out once per sheet.
      m ??= qrMatrix(url);
      this.matrices.set(url, m);
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

  /** The fields of a label in the order they are printed; `keep` ranks which stay when space runs out. */
  private fields(input: LabelInput, k: number): (Field & { keep: number })[] {
    const out: (Field & { keep: number })[] = [];
    const add = (keep: number, raw: unknown, f: Omit<Field, "text">) => {
      const p = this.printable(raw);
      if (p.transliterated) this.transliterated = true;
      if (p.text !== "") out.push({ ...f, text: p.text, keep });
    };
    const names = Array.isArray(input.names) ? input.names : [];
    names.forEach((name, i) =>
      add(i === 0 ? 0 : i === 1 ? 3 : 6, name, {
        size: (i === 0 ? 8.5 : 8) * k,
        minSize: 4,
        maxLines: 2,
        weight: "bold",
        color: "#000000",
      }),
    );
    if (input.mark) add(4, input.mark, { size: 6 * k, minSize: 3.5, maxLines: 2, weight: "bold", color: "#7a1212" });
    // No-break spaces: "Lot" stays with its code and a figure with its unit when the line wraps.
    const nb = (t: unknown) => cleanText(t).replace(/ /g, NO_BREAK);
    const packLot = [nb(input.pack), cleanText(input.lot) === "" ? "" : `Lot${NO_BREAK}${cleanText(input.lot)}`]
      .filter((s) => s !== "")
      .join(" · ");
    add(1, packLot, { size: 7.5 * k, minSize: 4, maxLines: 2, weight: "bold", color: "#000000" });
    add(5, input.date, { size: 6 * k, minSize: 3.5, maxLines: 1, weight: "regular", color: "#222222" });
    const scan = Array.isArray(input.scan) ? input.scan : [];
    scan.forEach((s, i) =>
      add(2, s, { size: 6 * k, minSize: 3.5, maxLines: 1, weight: i === 0 ? "bold" : "regular", color: "#1b5e20" }),
    );
    add(7, input.cooperative, { size: 6 * k, minSize: 3.5, maxLines: 1, weight: "regular", color: "#444444" });
    return out;
  }

  private transliterated = false;

  label(input: LabelInput, x: number, y: number, layout: StockLayout): void {
    const doc = this.doc;
    const { cell, pad, scale: k } = layout;
    if (layout.guide) {
      // Cut guide: a light dashed outline.
      doc
        .save()
        .lineWidth(0.3)
        .dash(2, { space: 2 })
        .strokeColor("#bbbbbb")
        .rect(x + 0.5, y + 0.5, cell.width - 1, cell.height - 1)
        .stroke()
        .undash()
        .restore();
    }
    this.transliterated = false;
    // The address across the bottom, under code and text, as wide as the label allows.
    const urlField: Field = {
      text: this.printable(input.shortUrl).text,
      size: 6.5 * k,
      minSize: 3.5,
      maxLines: 2,
      weight: "regular",
      color: "#000000",
      url: true,
    };
    const fullWidth = cell.width - 2 * pad;
    const url = urlField.text === "" ? { lines: [], size: 0 } : this.fit(urlField, fullWidth);
    const urlHeight = url.lines.length * url.size * 1.2;
    let uy = y + cell.height - pad - urlHeight;
    for (const l of url.lines) {
      uy += url.size;
      this.line(l, x + pad, uy, fullWidth, "regular", url.size, urlField.color, false);
      uy += url.size * 0.2;
    }

    const qrSize = Math.min(cell.height - 2 * pad - urlHeight - (urlHeight > 0 ? pad / 2 : 0), cell.width * 0.45);
    this.qr(String(input.url ?? ""), x + pad, y + pad, qrSize);

    const gap = 2 * MM * k;
    const tx = x + pad + qrSize + gap;
    const textWidth = cell.width - pad - (tx - x);
    // Beside the code and down to the address.
    const textHeight = cell.height - 2 * pad - urlHeight;
    const fields = this.fields(input, k).map((f) => ({ field: f, ...this.fit(f, textWidth) }));
    const height = (fs: typeof fields) => fs.reduce((h, f) => h + f.lines.length * f.size * 1.2 + f.size * 0.3, 0);
    // Least needed first out until the rest fits beside the code.
    let shown = fields;
    while (shown.length > 1 && height(shown) > textHeight) {
      const worst = shown.reduce((a, b) => (b.field.keep > a.field.keep ? b : a));
      shown = shown.filter((f) => f !== worst);
    }
    let ty = y + pad;
    for (const { field, lines, size } of shown) {
      // A wrapped field keeps one direction: the second line of an Arabic name is right-aligned too.
      const rtl = isRtl(field.text);
      for (const l of lines) {
        ty += size * 1.05;
        this.line(l, tx, ty, textWidth, field.weight, size, field.color, rtl);
        ty += size * 0.15;
      }
      ty += size * 0.3;
    }
    if (this.transliterated) {
      this.line("* transliterated: font not installed", tx, y + pad + qrSize, textWidth, "regular", 3.5, "#777777");
    }
  }
}

/** The labels as a PDF on the stock asked for, in the order given. */
export async function labelSheetPdf(labels: LabelInput[], options: LabelSheetOptions = {}): Promise<Buffer> {
  const fonts = findLabelFonts(options.fontDirs);
  const layout = STOCK_LAYOUTS[options.stock ?? "a4-24"];
  const perPage = layout.columns * layout.rows;
  const doc = new PDFDocument({
    size: [layout.page.width, layout.page.height],
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
      const width = layout.page.width - 2 * layout.pad;
      writer.line(options.emptyText ?? "No lot to label.", layout.pad, 30, width, "regular", 10, "#000000");
    }
    labels.forEach((label, i) => {
      const slot = i % perPage;
      if (slot === 0) doc.addPage();
      const col = slot % layout.columns;
      const row = Math.floor(slot / layout.columns);
      writer.label(label, layout.origin.x + col * layout.pitch.x, layout.origin.y + row * layout.pitch.y, layout);
    });
  } finally {
    doc.end();
  }
  return done;
}
