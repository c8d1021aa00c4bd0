/**
 * Text shaping helpers for the label sheet, which mixes Latin (French, English), Arabic (right to
 * left) and Tifinagh. pdfkit shapes a run of Arabic (letter forms, right-to-left glyph order) through
 * fontkit, but neither orders a line with several directions nor switches fonts by script: this
 * module splits a line into runs, one font each, in visual order (a reduced Unicode bidi algorithm:
 * strong letters, numbers kept left to right, neutrals resolved from their neighbours).
 */
import { printableLine } from "../../domain/text";

export type Script = "latin" | "arabic" | "tifinagh";

export interface Run {
  text: string;
  script: Script;
  /** Embedding level: even = left to right, odd = right to left. */
  level: number;
}

/** One line of printable text: NFC, no controls or bidi overrides, no lone surrogates, single spaces. */
export const cleanText = printableLine;

const ARABIC_BLOCKS = /[\u0600-\u06FF\u0750-\u077F\u0870-\u089F\u08A0-\u08FF\uFB50-\uFDFF\uFE70-\uFEFF]/;
const TIFINAGH = /[\u2D30-\u2D7F]/;
const LETTER = /\p{L}/u;
const MARK = /\p{M}/u;
const DIGIT = /\p{Nd}/u;

export function scriptOf(ch: string): Script {
  if (ARABIC_BLOCKS.test(ch)) return "arabic";
  if (TIFINAGH.test(ch)) return "tifinagh";
  return "latin";
}

const MIRROR: Record<string, string> = {
  "(": ")",
  ")": "(",
  "[": "]",
  "]": "[",
  "{": "}",
  "}": "{",
  "<": ">",
  ">": "<",
  "«": "»",
  "»": "«",
  "‹": "›",
  "›": "‹",
};

type Kind = "R" | "L" | "EN" | "WS" | "ON";

function kindOf(ch: string): Kind {
  if (ch === " ") return "WS";
  if (DIGIT.test(ch)) return "EN";
  if (LETTER.test(ch)) return ARABIC_BLOCKS.test(ch) ? "R" : "L";
  return "ON";
}

/** True when the first strong letter is right to left (Arabic). */
export function isRtl(text: string): boolean {
  for (const ch of text) {
    const k = kindOf(ch);
    if (k === "R") return true;
    if (k === "L") return false;
  }
  return false;
}

/**
 * The line as runs in visual (left to right) order, each in one script. Each Arabic run is still in
 * logical order: fontkit reverses it when it shapes it.
 */
export function visualRuns(text: string, rtl = isRtl(text)): Run[] {
  // 1. Logical segments of one kind and one script (marks join the character before them).
  const segs: { text: string; kind: Kind; script: Script }[] = [];
  for (const ch of text) {
    const last = segs[segs.length - 1];
    if (last && MARK.test(ch)) {
      last.text += ch;
      continue;
    }
    const kind = kindOf(ch);
    const script = scriptOf(ch);
    if (last && last.kind === kind && last.script === script) last.text += ch;
    else segs.push({ text: ch, kind, script });
  }
  // 2. Levels (rules W7, N1, N2, I1, I2 of UAX #9, without explicit embeddings). Numbers after
  //    left-to-right text (or at the start of a left-to-right line) are left to right; other numbers
  //    keep their digits left to right but sit in right-to-left order, and count as right to left for
  //    the neutrals around them; a neutral takes the direction its neighbours agree on, else the line's.
  const base = rtl ? 1 : 0;
  const dir: ("R" | "L" | "EN" | null)[] = [];
  let lastStrong: "R" | "L" = rtl ? "R" : "L";
  for (const seg of segs) {
    if (seg.kind === "R" || seg.kind === "L") lastStrong = seg.kind;
    dir.push(
      seg.kind === "R" || seg.kind === "L" ? seg.kind : seg.kind === "EN" ? (lastStrong === "L" ? "L" : "EN") : null,
    );
  }
  const asNeighbour = (d: "R" | "L" | "EN") => (d === "EN" ? "R" : d);
  const levels = segs.map((_, i) => {
    const d = dir[i];
    if (d === "R") return 1;
    if (d === "L") return rtl ? 2 : 0;
    if (d === "EN") return 2;
    let before: "R" | "L" = rtl ? "R" : "L";
    for (let j = i - 1; j >= 0; j--)
      if (dir[j] !== null) {
        before = asNeighbour(dir[j]!);
        break;
      }
    let after: "R" | "L" = rtl ? "R" : "L";
    for (let j = i + 1; j < segs.length; j++)
      if (dir[j] !== null) {
        after = asNeighbour(dir[j]!);
        break;
      }
    const resolved = before === after ? before : rtl ? "R" : "L";
    return resolved === "R" ? 1 : rtl ? 2 : 0;
  });
  // 3. Reverse every maximal sequence at or above each odd-or-higher level, highest first (rule L2).
  const order = segs.map((_, i) => i);
  const max = levels.reduce<number>((m, l) => Math.max(m, l), base);
  for (let lvl = max; lvl >= 1; lvl--) {
    for (let i = 0; i < order.length;) {
      if (levels[order[i]] < lvl) {
        i++;
        continue;
      }
      let j = i;
      while (j < order.length && levels[order[j]] >= lvl) j++;
      order.splice(i, j - i, ...order.slice(i, j).reverse());
      i = j;
    }
  }
  // 4. Mirrored characters in right-to-left runs (rule L4): "(" there is drawn as ")".
  const mirrored = (t: string) => t.replace(/[()[\]{}<>«»‹›]/g, (c) => MIRROR[c] ?? c);
  // 5. Merge neighbours that share script and level (fewer text operations, kerning kept).
  const runs: Run[] = [];
  for (const i of order) {
    const seg = segs[i];
    const last = runs[runs.length - 1];
    // Arabic runs are shaped as a whole and reversed by fontkit; merging two in visual order would
    // swap them, so only left-to-right runs merge.
    if (last && last.script === seg.script && last.level === levels[i] && levels[i] % 2 === 0) last.text += seg.text;
    else runs.push({ text: levels[i] % 2 === 1 ? mirrored(seg.text) : seg.text, script: seg.script, level: levels[i] });
  }
  return runs;
}

// A simple, readable transliteration for when no Arabic or Tifinagh font is installed.
const ARABIC_LATIN: Record<string, string> = {
  "\u0621": "'",
  "\u0622": "a",
  "\u0623": "a",
  "\u0624": "'",
  "\u0625": "i",
  "\u0626": "'",
  "\u0627": "a",
  "\u0628": "b",
  "\u0629": "a",
  "\u062A": "t",
  "\u062B": "th",
  "\u062C": "j",
  "\u062D": "h",
  "\u062E": "kh",
  "\u062F": "d",
  "\u0630": "dh",
  "\u0631": "r",
  "\u0632": "z",
  "\u0633": "s",
  "\u0634": "sh",
  "\u0635": "s",
  "\u0636": "d",
  "\u0637": "t",
  "\u0638": "z",
  "\u0639": "'",
  "\u063A": "gh",
  "\u0641": "f",
  "\u0642": "q",
  "\u0643": "k",
  "\u0644": "l",
  "\u0645": "m",
  "\u0646": "n",
  "\u0647": "h",
  "\u0648": "ou",
  "\u0649": "a",
  "\u064A": "i",
  "\u06A4": "v",
  "\u06AD": "g",
  "\u06AF": "g",
  "\u06CC": "i",
  "\u0640": "",
  "\u060C": ",",
  "\u061B": ";",
  "\u061F": "?",
  "\u066A": "%",
  "\u066B": ".",
  "\u066C": ",",
  "\u06D4": ".",
};
const TIFINAGH_LATIN: Record<string, string> = {
  "\u2D30": "a",
  "\u2D31": "b",
  "\u2D33": "g",
  "\u2D37": "d",
  "\u2D39": "d",
  "\u2D3B": "e",
  "\u2D3C": "f",
  "\u2D3D": "k",
  "\u2D40": "h",
  "\u2D43": "h",
  "\u2D44": "'",
  "\u2D45": "kh",
  "\u2D47": "q",
  "\u2D49": "i",
  "\u2D4A": "j",
  "\u2D4D": "l",
  "\u2D4E": "m",
  "\u2D4F": "n",
  "\u2D53": "u",
  "\u2D54": "r",
  "\u2D55": "r",
  "\u2D56": "gh",
  "\u2D59": "s",
  "\u2D5A": "s",
  "\u2D5B": "sh",
  "\u2D5C": "t",
  "\u2D5F": "t",
  "\u2D61": "w",
  "\u2D62": "y",
  "\u2D63": "z",
  "\u2D65": "z",
  "\u2D6F": "w",
  "\u2D70": " ",
};

/** Arabic and Tifinagh letters in Latin letters; Arabic-Indic digits as 0–9; vowel marks dropped. */
export function transliterate(text: string, scripts: ReadonlySet<Script>): string {
  let out = "";
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (scripts.has("arabic") && ARABIC_BLOCKS.test(ch)) {
      if (cp >= 0x0660 && cp <= 0x0669) out += String(cp - 0x0660);
      else if (cp >= 0x06f0 && cp <= 0x06f9) out += String(cp - 0x06f0);
      else if (MARK.test(ch)) continue;
      else out += ARABIC_LATIN[ch] ?? ARABIC_LATIN[ch.normalize("NFKC")[0]] ?? "?";
    } else if (scripts.has("tifinagh") && TIFINAGH.test(ch)) out += TIFINAGH_LATIN[ch] ?? "?";
    else out += ch;
  }
  return out;
}

// What Helvetica (WinAnsiEncoding) can print beyond Latin-1.
const WIN_ANSI_EXTRA = new Set("€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ");

/** Text Helvetica can print: Latin-1 and the WinAnsi extras; accents stripped where that helps; else "?". */
export function toWinAnsi(text: string): string {
  let out = "";
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if ((cp >= 0x20 && cp <= 0x7e) || (cp >= 0xa0 && cp <= 0xff) || WIN_ANSI_EXTRA.has(ch)) {
      out += ch;
      continue;
    }
    const bare = ch.normalize("NFKD").replace(/\p{M}/gu, "");
    out += [...bare].every((c) => c.codePointAt(0)! >= 0x20 && c.codePointAt(0)! <= 0xff) && bare !== "" ? bare : "?";
  }
  return out;
}
