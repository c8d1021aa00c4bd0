/**
 * A member card as a PDF, for the manager to print on any printer: an A4 page with the card at the top
 * (ID-1 size, 85.6 × 54 mm, a dashed line to cut along), its QR code (the card's sign-in link), her name,
 * the cooperative, and one sentence in her language saying what the card is for. The same library and
 * fonts as the label sheet (pdfkit; Noto Sans, Noto Sans Arabic, Noto Sans Tifinagh from the system,
 * embedded as subsets), and its text helpers: pdfkit shapes a run of Arabic through fontkit; the runs of
 * a line are put in visual order by server/labels/text.ts. A script without a font is transliterated.
 */
import { readFileSync } from "node:fs";
import PDFDocument from "pdfkit";
import { findLabelFonts } from "../../labels/pdf";
import { qrMatrix } from "../../labels/qr";
import { cleanText, isRtl, transliterate, visualRuns, type Script } from "../../labels/text";

export interface MemberCardPdfInput {
  url: string;
  name: string;
  cooperative: string;
  /** What the card is for, in her language. */
  line: string;
  /** The document's title (PDF metadata) and language tag. */
  title: string;
  lang: string;
}

const MM = 72 / 25.4;
const A4 = { width: 210 * MM, height: 297 * MM };
const CARD = { width: 85.6 * MM, height: 54 * MM };
const PAD = 4 * MM;
const QR = CARD.height - 2 * PAD;

type Weight = "regular" | "bold";

export async function memberCardPdf(input: MemberCardPdfInput): Promise<Buffer> {
  const fonts = findLabelFonts();
  const scripts = new Set(Object.keys(fonts.files) as Script[]);
  const missing = new Set((["arabic", "tifinagh"] as const).filter((s) => !scripts.has(s)));
  const doc = new PDFDocument({
    size: "A4",
    margin: 0,
    lang: input.lang,
    info: { Title: input.title, Creator: "CoopTrace", Producer: "CoopTrace" },
  });
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on("data", (c: Buffer) => chunks.push(c));
    doc.on("end", () => resolve(Buffer.concat(chunks)));
    doc.on("error", reject);
  });
  for (const [script, f] of Object.entries(fonts.files)) {
    doc.registerFont(`${script}-regular`, readFileSync(f.regular));
    doc.registerFont(`${script}-bold`, readFileSync(f.bold));
  }
  const useFont = (script: Script, weight: Weight, size: number) => {
    if (scripts.has(script)) doc.font(`${script}-${weight}`);
    else doc.font(weight === "bold" ? "Helvetica-Bold" : "Helvetica");
    doc.fontSize(size);
  };
  const printable = (raw: string) => transliterate(cleanText(raw), missing);
  const width = (text: string, weight: Weight, size: number) => {
    let w = 0;
    for (const run of visualRuns(text)) {
      useFont(run.script, weight, size);
      w += doc.widthOfString(run.text);
    }
    return w;
  };
  /** Greedy word wrap; a single word wider than the line stays whole. */
  const wrap = (text: string, weight: Weight, size: number, max: number) => {
    const lines: string[] = [];
    let line = "";
    for (const word of text.split(" ")) {
      const candidate = line === "" ? word : `${line} ${word}`;
      if (line !== "" && width(candidate, weight, size) > max) {
        lines.push(line);
        line = word;
      } else line = candidate;
    }
    if (line !== "") lines.push(line);
    return lines;
  };
  /** Lines at baseline `y`, right-aligned when the paragraph reads right to left; returns the next y. */
  const paragraph = (raw: string, x: number, y: number, max: number, weight: Weight, size: number, color: string) => {
    const text = printable(raw);
    const rtl = isRtl(text);
    let fit = size;
    let lines = wrap(text, weight, fit, max);
    while (lines.length > 3 && fit > 6) lines = wrap(text, weight, (fit -= 0.5), max);
    for (const l of lines.slice(0, 3)) {
      y += fit * 1.25;
      let cursor = rtl ? x + max - width(l, weight, fit) : x;
      doc.fillColor(color);
      for (const run of visualRuns(l, rtl)) {
        useFont(run.script, weight, fit);
        doc.text(run.text, cursor, y, { lineBreak: false, baseline: "alphabetic" });
        cursor += doc.widthOfString(run.text);
      }
    }
    return y + fit * 0.4;
  };

  try {
    const x0 = (A4.width - CARD.width) / 2;
    const y0 = 20 * MM;
    doc
      .save()
      .lineWidth(0.5)
      .dash(3, { space: 3 })
      .strokeColor("#999999")
      .roundedRect(x0, y0, CARD.width, CARD.height, 3 * MM)
      .stroke()
      .undash()
      .restore();
    doc
      .save()
      .fillColor("#8a2846")
      .rect(x0, y0, CARD.width, 1.5 * MM)
      .fill()
      .restore();
    // The QR code: the card's sign-in link, drawn module by module (vector, sharp at any printer).
    const m = qrMatrix(input.url);
    const module = QR / m.size;
    const qx = x0 + PAD;
    const qy = y0 + PAD;
    doc.save().fillColor("#000000");
    for (let row = 0; row < m.size; row++)
      for (let col = 0; col < m.size; col++)
        if (m.dark(row, col)) doc.rect(qx + col * module, qy + row * module, module + 0.05, module + 0.05);
    doc.fill().restore();
    const tx = qx + QR + 3 * MM;
    const tw = x0 + CARD.width - PAD - tx;
    let y = y0 + PAD - 1;
    y = paragraph(input.cooperative, tx, y, tw, "regular", 8, "#1b5e20");
    y = paragraph(input.name, tx, y + 1, tw, "bold", 13, "#000000");
    paragraph(input.line, tx, y + 2, tw, "regular", 8.5, "#222222");
  } finally {
    doc.end();
  }
  return done;
}
