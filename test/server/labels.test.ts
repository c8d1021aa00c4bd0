/**
 * Labels: GTIN-14 and GS1 Digital Link URLs, QR codes read back with a QR decoder (jsqr), the PDF
 * label sheet (pages, fonts, any text), and the routes on a real gateway (anvil, SQLite, HTTP).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import express, { Router } from "express";
import fc from "fast-check";
import jsQR from "jsqr";
import { PNG } from "pngjs";
import {
  batchPublicUrl,
  encodeDigitalLinkValue,
  findLabelFonts,
  gtin14,
  labelSheetPdf,
  labelsPerPage,
  LABEL_STOCKS,
  MAX_LABELS_PER_PRINT,
  STOCK_LAYOUTS,
  qrMatrix,
  qrPng,
  qrSvg,
  type LabelInput,
} from "../../server/labels";
import { labelRoutes } from "../../server/labels/routes";
import { isRtl, visualRuns } from "../../server/labels/text";
import { createOpenApi } from "../../server/api/openapi";
import { errorHandler } from "../../server/api/problem";
import { isValidGtin } from "../../domain/gs1";
import { createLogger } from "../../server/log";
import { ApiClient, startTestGateway, type TestGateway } from "../helpers/gateway";
import { labelQrs, pdfText, type Grid } from "../helpers/labels";

const MM = 72 / 25.4;
/** A stock's grid in millimetres, for reading the rendered page back. */
const gridOf = (stock: (typeof LABEL_STOCKS)[number]): Grid => {
  const l = STOCK_LAYOUTS[stock];
  const mm = (p: { x: number; y: number }) => ({ x: p.x / MM, y: p.y / MM });
  return {
    columns: l.columns,
    rows: l.rows,
    cell: { width: l.cell.width / MM, height: l.cell.height / MM },
    origin: mm(l.origin),
    pitch: mm(l.pitch),
  };
};

// Valid GTINs, check digits worked out by hand (GS1 mod 10: weights 3,1,3,… from the left of a GTIN-14).
const GTIN13_MA = "6111234567895"; // 611 = GS1 Morocco
const GTIN13_MA_2 = "6110000000017";
const GTIN13_MA_3 = "6119876543215";
const GTIN8_MA = "61100008";
const GTIN12 = "012345678905"; // a UPC-A, stored on-chain as the integer 12345678905
const GTIN13_DE = "4006381333931"; // a real product's barcode
const GTIN14 = "16111234567892"; // indicator 1 + the GTIN-13 above

function decodePng(png: Buffer): { text: string; width: number; height: number } {
  const img = PNG.sync.read(png);
  const code = jsQR(
    new Uint8ClampedArray(img.data.buffer, img.data.byteOffset, img.data.length),
    img.width,
    img.height,
  );
  if (!code) throw new Error("no QR code found in the image");
  return { text: code.data, width: img.width, height: img.height };
}

/** The QR module matrix drawn into a PNG (4-module quiet zone), as the PDF draws it. */
function matrixPng(url: string, scale = 6): Buffer {
  const m = qrMatrix(url);
  const side = (m.size + 8) * scale;
  const png = new PNG({ width: side, height: side });
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const row = Math.floor(y / scale) - 4;
      const col = Math.floor(x / scale) - 4;
      const dark = row >= 0 && col >= 0 && row < m.size && col < m.size && m.dark(row, col);
      const i = (y * side + x) * 4;
      png.data[i] = png.data[i + 1] = png.data[i + 2] = dark ? 0 : 255;
      png.data[i + 3] = 255;
    }
  }
  return PNG.sync.write(png);
}

/** A small XML well-formedness check: one root, balanced tags, quoted attributes, known entities. */
function assertWellFormedXml(xml: string): string {
  let rest = xml.replace(/^\s*<\?xml[^?]*\?>/, "").trim();
  const stack: string[] = [];
  let root = "";
  while (rest.length > 0) {
    const lt = rest.indexOf("<");
    const text = lt === -1 ? rest : rest.slice(0, lt);
    if (stack.length === 0 && text.trim() !== "") throw new Error(`text outside the root: ${text.slice(0, 40)}`);
    if (/&(?!(amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);)/.test(text)) throw new Error("bare & in text");
    if (lt === -1) break;
    rest = rest.slice(lt);
    if (rest.startsWith("<!--")) {
      const end = rest.indexOf("-->");
      if (end === -1) throw new Error("unclosed comment");
      rest = rest.slice(end + 3);
      continue;
    }
    const m = /^<(\/?)([A-Za-z_][\w.:-]*)((?:\s+[\w.:-]+\s*=\s*(?:"[^"<]*"|'[^'<]*'))*)\s*(\/?)>/.exec(rest);
    if (!m) throw new Error(`malformed tag at: ${rest.slice(0, 60)}`);
    const [all, closing, name, , selfClosing] = m;
    if (closing) {
      if (stack.pop() !== name) throw new Error(`unbalanced </${name}>`);
    } else {
      if (stack.length === 0) {
        if (root !== "") throw new Error("more than one root element");
        root = name;
      }
      if (!selfClosing) stack.push(name);
    }
    rest = rest.slice(all.length);
  }
  if (stack.length > 0) throw new Error(`unclosed <${stack.join("><")}>`);
  return root;
}

function pdfPageCount(pdf: Buffer): number {
  return (pdf.toString("latin1").match(/\/Type\s*\/Page(?![s\w])/g) ?? []).length;
}

function hasCommand(cmd: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;
}

function label(i: number, over: Partial<LabelInput> = {}): LabelInput {
  return {
    url: `https://cooptrace.example/01/0${GTIN13_MA}/10/ROSE-${i}`,
    shortUrl: `cooptrace.example/01/0${GTIN13_MA}/10/ROSE-${i}`,
    names: [
      ["ماء الورد", "Eau de rose"],
      ["Eau de rose de Kelaat M'Gouna", "ماء الورد"],
      ["Dattes Mejhoul", "ⵜⴰⵎⵔⵜ"],
    ][i % 3],
    pack: `${100 + i} g`,
    lot: `ROSE-${i}`,
    date: "3 mai 2025",
    scan: ["امسح الرمز للتحقق", "Scannez pour vérifier"],
    mark: i % 2 === 0 ? "AOP Rose de Kelâat M'Gouna-Dadès" : null,
    cooperative: i % 2 === 0 ? "Coopérative Tighmert des Roses" : "تعاونية تغمرت للورد",
    ...over,
  };
}

describe("labels", function () {
  this.timeout(60_000);

  describe("gtin14", function () {
    it("pads GTIN-8/12/13/14 to 14 digits, from strings, integers and bigints", function () {
      expect(gtin14(GTIN13_MA)).to.equal("06111234567895");
      expect(gtin14(GTIN13_MA_2)).to.equal("06110000000017");
      expect(gtin14(GTIN13_MA_3)).to.equal("06119876543215");
      expect(gtin14(BigInt(GTIN13_MA))).to.equal("06111234567895");
      expect(gtin14(GTIN8_MA)).to.equal("00000061100008");
      expect(gtin14(GTIN12)).to.equal("00012345678905");
      expect(gtin14("12345678905")).to.equal("00012345678905"); // the same UPC after a round trip through uint
      expect(gtin14(GTIN13_DE)).to.equal("04006381333931");
      expect(gtin14(GTIN14)).to.equal(GTIN14);
      for (const g of [GTIN13_MA, GTIN13_MA_2, GTIN13_MA_3, GTIN8_MA, GTIN12, GTIN13_DE, GTIN14]) {
        expect(isValidGtin(g), g).to.equal(true); // agrees with the API's validation
      }
    });

    it("rejects wrong check digits, 0, non-digits and more than 14 digits", function () {
      for (const bad of [
        "6111234567890",
        "6111234567896",
        "61100009",
        "16111234567893",
        "0",
        "00000000000000",
        0n,
        "",
        "611123456789a",
        "-6111234567895",
        "6111234567895 ",
        "061112345678950",
        "1e13",
      ]) {
        expect(() => gtin14(bad as string), String(bad)).to.throw(RangeError);
      }
    });

    it("accepts exactly one check digit for any 13 digits (property)", function () {
      fc.assert(
        fc.property(fc.stringMatching(/^[0-9]{13}$/), fc.integer({ min: 0, max: 9 }), (first13, digit) => {
          const valid = isValidGtin(first13 + digit);
          if (valid) expect(gtin14(first13 + digit)).to.equal(first13 + digit);
          else expect(() => gtin14(first13 + digit)).to.throw(RangeError);
        }),
        { numRuns: 300 },
      );
    });
  });

  describe("batchPublicUrl", function () {
    const batchId = `0x${"ab".repeat(32)}`;
    const base = "https://cooptrace.ma";

    it("is the GS1 Digital Link when the batch has a valid GTIN, with the GTIN padded to 14", function () {
      expect(batchPublicUrl(base, { batchId, gtin: GTIN13_MA, lotCode: "ROSE-1" })).to.equal(
        "https://cooptrace.ma/01/06111234567895/10/ROSE-1",
      );
      expect(batchPublicUrl(base + "/", { batchId, gtin: "12345678905", lotCode: "L1" })).to.equal(
        "https://cooptrace.ma/01/00012345678905/10/L1",
      );
    });

    it("is /b/<batchId> without a GTIN, with an invalid one, or with a lot that is no AI (10)", function () {
      expect(batchPublicUrl(base, { batchId, gtin: "0", lotCode: "ROSE-1" })).to.equal(`${base}/b/${batchId}`);
      expect(batchPublicUrl(base, { batchId, gtin: "6111234567890", lotCode: "ROSE-1" })).to.equal(
        `${base}/b/${batchId}`,
      );
      expect(batchPublicUrl(base, { batchId, gtin: GTIN13_MA, lotCode: "" })).to.equal(`${base}/b/${batchId}`);
      expect(batchPublicUrl(base, { batchId, gtin: GTIN13_MA, lotCode: "X".repeat(21) })).to.equal(
        `${base}/b/${batchId}`,
      );
      expect(
        batchPublicUrl(base, { batchId: batchId.toUpperCase().replace("0X", "0x"), gtin: "0", lotCode: "L" }),
      ).to.equal(`${base}/b/${batchId}`);
    });

    it("percent-encodes the lot: everything outside A-Z a-z 0-9 - . _ ~", function () {
      const url = (lotCode: string) => batchPublicUrl(base, { batchId, gtin: GTIN13_MA, lotCode });
      const prefix = `${base}/01/06111234567895/10/`;
      expect(url("LOT 7")).to.equal(prefix + "LOT%207");
      expect(url("R/2024")).to.equal(prefix + "R%2F2024");
      expect(url("50%")).to.equal(prefix + "50%25");
      expect(url("a-b.c_d~e")).to.equal(prefix + "a-b.c_d~e");
      expect(url("!'()*+,;=:?#&\"")).to.equal(prefix + "%21%27%28%29%2A%2B%2C%3B%3D%3A%3F%23%26%22");
      expect(url("ورد-1")).to.equal(prefix + "%D9%88%D8%B1%D8%AF-1");
      // Every encoded value decodes back to the lot, and holds only unreserved characters and %XX.
      fc.assert(
        fc.property(fc.string({ unit: "grapheme", minLength: 1, maxLength: 20 }), (lot) => {
          const enc = encodeDigitalLinkValue(lot);
          expect(enc).to.match(/^([A-Za-z0-9\-._~]|%[0-9A-F]{2})*$/);
          expect(decodeURIComponent(enc)).to.equal(lot);
        }),
        { numRuns: 200 },
      );
    });
  });

  describe("QR codes", function () {
    const urls = [
      "https://cooptrace.ma/01/06111234567895/10/ROSE%2F24%25A",
      `https://cooptrace.ma/b/0x${"7f".repeat(32)}`,
      "https://cooptrace.ma/01/06111234567895/10/%D9%88%D8%B1%D8%AF-1",
    ];

    it("PNG decodes to exactly the URL, at the size asked", async function () {
      for (const url of urls) {
        for (const size of [128, 256, 1024]) {
          const decoded = decodePng(await qrPng(url, size));
          expect(decoded.text).to.equal(url);
          expect([decoded.width, decoded.height]).to.deep.equal([size, size]);
        }
      }
      const def = decodePng(await qrPng(urls[0]));
      expect(def.width).to.equal(256);
      // A symbol with more modules than pixels is refused rather than blurred.
      let err: unknown;
      await qrPng(`https://cooptrace.ma/${"x".repeat(1500)}`, 128).catch((e) => (err = e));
      expect(String(err)).to.match(/RangeError: this URL needs a QR code of at least \d+ px/);
    });

    it("PNG refuses sizes outside 128..1024", async function () {
      for (const size of [0, 127, 1025, 200.5, NaN]) {
        let err: unknown;
        await qrPng(urls[0], size).catch((e) => (err = e));
        expect(err, String(size)).to.be.instanceOf(RangeError);
      }
    });

    it("SVG is well-formed XML with an svg root", async function () {
      const svg = await qrSvg(urls[0]);
      expect(assertWellFormedXml(svg)).to.equal("svg");
      expect(svg).to.match(/^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
      expect(svg).to.match(/viewBox="0 0 \d+ \d+"/);
      // A real XML parser, when one is on the machine.
      const py = spawnSync("python3", ["-c", "import sys, xml.dom.minidom as m; m.parseString(sys.stdin.read())"], {
        input: svg,
      });
      if (py.error === undefined) expect(py.status, py.stderr?.toString()).to.equal(0);
    });

    it("the module matrix the PDF draws decodes to the URL", function () {
      for (const url of urls) expect(decodePng(matrixPng(url)).text).to.equal(url);
    });
  });

  describe("bidirectional text", function () {
    it("orders Arabic right to left, keeps numbers and Latin left to right", function () {
      const order = (t: string) => visualRuns(t).map((r) => r.text);
      expect(isRtl("تعاونية تغمرت")).to.equal(true);
      expect(isRtl("2024 Coopérative تغمرت")).to.equal(false);
      expect(order("تعاونية تغمرت")).to.deep.equal(["تغمرت", " ", "تعاونية"]);
      expect(order("Rose وردة 500 g")).to.deep.equal(["Rose ", "500", " ", "وردة", " g"]);
      expect(order("تعاونية (ROSE-1)")).to.deep.equal(["(", "ROSE-1", ")", " ", "تعاونية"]);
      expect(visualRuns("ماء الورد").every((r) => r.script === "arabic" || r.text === " ")).to.equal(true);
    });

    it("loses no character (property)", function () {
      // A right-to-left run shows a bracket mirrored (its pair): both of a pair count as one character.
      const PAIRS: Record<string, string> = { ")": "(", "]": "[", "}": "{", ">": "<", "»": "«", "›": "‹" };
      const mirror = (s: string) => s.replace(/[)\]}>»›]/g, (ch) => PAIRS[ch]);
      fc.assert(
        fc.property(fc.string({ unit: "grapheme", maxLength: 40 }), (s) => {
          const runs = visualRuns(s);
          const sorted = (t: string) => [...mirror(t)].sort().join("");
          expect(sorted(runs.map((r) => r.text).join(""))).to.equal(sorted(s));
        }),
        { numRuns: 200 },
      );
    });
  });

  describe("label sheet PDF", function () {
    const fonts = findLabelFonts();
    let pdf30: Buffer;

    before(async function () {
      pdf30 = await labelSheetPdf(Array.from({ length: 30 }, (_, i) => label(i)));
    });

    it(`is a PDF with ${labelsPerPage("a4-24")} labels per A4 page`, async function () {
      expect(pdf30.subarray(0, 5).toString("latin1")).to.equal("%PDF-");
      expect(pdf30.subarray(-6).toString("latin1")).to.match(/%%EOF\s*$/);
      expect(pdfPageCount(pdf30)).to.equal(2);
      expect(pdf30.toString("latin1")).to.match(/\/MediaBox \[0 0 595\.2\d* 841\.8\d*\]/);
      expect(pdfPageCount(await labelSheetPdf([label(0)]))).to.equal(1);
      expect(pdfPageCount(await labelSheetPdf(Array.from({ length: 24 }, (_, i) => label(i))))).to.equal(1);
      expect(pdfPageCount(await labelSheetPdf(Array.from({ length: 49 }, (_, i) => label(i))))).to.equal(3);
      expect(pdfPageCount(await labelSheetPdf([]))).to.equal(1); // a page that says there is nothing
    });

    it("embeds the system's Noto fonts for Latin, Arabic and Tifinagh when installed", function () {
      const text = pdf30.toString("latin1");
      if (!fonts.files.arabic || !fonts.files.latin) {
        console.log("      (Noto fonts not installed: only the Helvetica fallback is checked)");
        this.skip();
      }
      expect(text).to.match(/\/FontName \/[A-Z]{6}\+NotoSans-Regular/);
      expect(text).to.match(/\/FontName \/[A-Z]{6}\+NotoSansArabic/);
      if (fonts.files.tifinagh) expect(text).to.match(/\/FontName \/[A-Z]{6}\+NotoSansTifinagh/);
      expect(text).not.to.match(/\/BaseFont \/Helvetica/);
    });

    it("falls back to Helvetica, transliterating Arabic and Tifinagh, without fonts", async function () {
      const pdf = await labelSheetPdf(
        [label(1), label(2, { cooperative: "ⵜⴰⵎⵙⵎⵓⵏⵜ ⵜⵉⵖⵎⵔⵜ", names: ["Amandes 🌰 木 ء"], lot: "L-١٢" })],
        { fontDirs: [] },
      );
      const text = pdf.toString("latin1");
      expect(pdfPageCount(pdf)).to.equal(1);
      expect(text).to.match(/\/BaseFont \/Helvetica/);
      expect(text).not.to.match(/\/FontFile2/);
    });

    it("does not fail on any text (property): controls, bidi overrides, lone surrogates, emoji, very long", async function () {
      await fc.assert(
        fc.asyncProperty(
          fc.record({
            names: fc.array(fc.string({ unit: "binary", maxLength: 60 }), { maxLength: 3 }),
            lot: fc.string({ unit: "binary", maxLength: 30 }),
            cooperative: fc.oneof(fc.string({ unit: "grapheme", maxLength: 60 }), fc.constant("ب".repeat(5000))),
            pack: fc.string({ maxLength: 20 }),
            date: fc.string({ maxLength: 20 }),
            scan: fc.array(fc.string({ unit: "grapheme", maxLength: 30 }), { maxLength: 2 }),
            mark: fc.option(fc.string({ maxLength: 80 })),
            url: fc.oneof(fc.webUrl(), fc.constant(""), fc.constant("x".repeat(5000))),
            shortUrl: fc.oneof(fc.webUrl(), fc.constant("/".repeat(300))),
          }),
          fc.boolean(),
          fc.constantFrom(...LABEL_STOCKS),
          async (l, withFonts, stock) => {
            const pdf = await labelSheetPdf([l], withFonts ? { stock } : { fontDirs: [], stock });
            expect(pdfPageCount(pdf)).to.equal(1);
          },
        ),
        { numRuns: 40 },
      );
      const odd = "\u202Eevil\u202C \u0000\u0007 \uD800 \uDFFF ﷽ 𝕏 \u0301 \t\n";
      const pdf = await labelSheetPdf([label(0, { names: [odd], lot: odd, cooperative: odd, pack: odd, scan: [odd] })]);
      expect(pdfPageCount(pdf)).to.equal(1);
    });

    for (const stock of LABEL_STOCKS) {
      it(`${stock}: one label per pack, QR codes decode to the page, text in two scripts (pdftotext)`, async function () {
        const perPage = labelsPerPage(stock);
        const labels = Array.from({ length: perPage + 1 }, (_, i) => label(i));
        const pdf = await labelSheetPdf(labels, { stock });
        expect(pdfPageCount(pdf)).to.equal(2);
        const text = pdfText(pdf);
        const qrs = labelQrs(pdf, gridOf(stock), Math.min(perPage, 7), stock === "a4-65" ? 300 : 200);
        if (text === null || qrs === null) {
          console.log("      pdftoppm (poppler-utils) is not installed: the sheet is not read back");
          this.skip();
        }
        expect(qrs).to.deep.equal(labels.slice(0, qrs!.length).map((l) => l.url));
        expect(text).to.include("Eau de rose");
        expect(text).to.include("الورد");
        expect(text).to.include("Scannez pour vérifier");
        expect(text).to.include("ROSE-0");
      });
    }

    it("renders page 1 (pdftoppm) with readable QR codes", async function () {
      if (!hasCommand("pdftoppm")) {
        console.log("      pdftoppm (poppler-utils) is not installed: page 1 not rendered to PNG");
        this.skip();
      }
      const dir = mkdtempSync(path.join(tmpdir(), "cooptrace-labels-"));
      try {
        const pdfFile = path.join(dir, "sheet.pdf");
        writeFileSync(pdfFile, pdf30);
        execFileSync("pdftoppm", [
          "-png",
          "-r",
          "150",
          "-f",
          "1",
          "-l",
          "1",
          "-singlefile",
          pdfFile,
          path.join(dir, "p"),
        ]);
        const page = PNG.sync.read(readFileSync(path.join(dir, "p.png")));
        expect(page.width).to.be.closeTo(1240, 2); // A4 at 150 dpi
        // The first label's cell (70 × 37 mm at the top left) holds the first URL's QR code.
        const cellW = Math.floor(page.width / 3);
        const cellH = Math.floor(page.height / 8);
        const crop = new Uint8ClampedArray(cellW * cellH * 4);
        for (let y = 0; y < cellH; y++) {
          for (let x = 0; x < cellW; x++) {
            for (let k = 0; k < 4; k++) crop[(y * cellW + x) * 4 + k] = page.data[(y * page.width + x) * 4 + k];
          }
        }
        const code = jsQR(crop, cellW, cellH);
        expect(code?.data).to.equal(label(0).url);
        if (process.env.KEEP_LABEL_PNG) console.log(`      page 1: ${path.join(dir, "p.png")}`);
      } finally {
        if (!process.env.KEEP_LABEL_PNG) rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe("routes on a gateway", function () {
    this.timeout(180_000);
    const PUBLIC_URL = "https://labels.cooptrace.example";
    const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString();
    let t: TestGateway;
    let server: Server;
    let client: ApiClient;
    let withGtin: string;
    let withoutGtin: string;

    before(async function () {
      t = await startTestGateway({ env: { PUBLIC_URL } });
      const r = await t.admin.post("/api/v1/users", { role: "registrar", displayName: "registrar" });
      expect(r.status, r.text).to.equal(201);
      const registrar = t.api.as(r.body.token);
      const coop = await registrar.post("/api/v1/cooperatives", {
        name: "تعاونية تغمرت للورد — Tighmert",
        region: "Tinghir",
        registrationNumber: "ODCO-LBL-1",
        reserveBps: 1000,
        admin: { displayName: "Fatima" },
      });
      expect(coop.status, coop.text).to.equal(201);
      const admin = t.api.as(coop.body.admin.token);
      const m = await admin.post(`/api/v1/cooperatives/${coop.body.cooperativeId}/members`, {
        displayName: "Aicha",
        reference: "card-1",
      });
      expect(m.status, m.text).to.equal(201);
      const member = t.api.as(m.body.member.token);
      const register = async (lotCode: string, gtin?: string) => {
        const b = await member.post("/api/v1/batches", {
          cooperativeId: coop.body.cooperativeId,
          productCode: "rose-water",
          ...(gtin ? { gtin } : {}),
          lotCode,
          quantity: "250",
          unit: "l",
          productionDate: day(-1),
          contributors: [{ memberId: m.body.member.userId, weight: "1" }],
        });
        expect(b.status, b.text).to.equal(201);
        return b.body.batchId as string;
      };
      withGtin = await register("ROSE/24%A", GTIN13_MA);
      withoutGtin = await register("DATE-1");
      await register("ROSE-2", GTIN12);

      // Mounted as app.ts will mount them.
      const app = express();
      const router = Router();
      labelRoutes(
        router,
        createOpenApi("/api/v1", { title: "t", version: "1", description: "d" }),
        t.gateway.ctx.services,
      );
      app.use("/api/v1", router);
      app.use(errorHandler(createLogger("silent"), []));
      server = await new Promise<Server>((resolve) => {
        const s = app.listen(0, "127.0.0.1", () => resolve(s));
      });
      // A sheet of hundreds of labels takes seconds on these 2 cores: fetch reuses the idle socket, which
      // Node's default 5 s keep-alive would have closed under it (ECONNRESET).
      server.keepAliveTimeout = 60_000;
      client = new ApiClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    });

    after(async function () {
      await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
      await t?.stop();
    });

    async function raw(p: string): Promise<{ status: number; type: string; body: Buffer; json?: any }> {
      const res = await fetch(client.baseUrl + p);
      const body = Buffer.from(await res.arrayBuffer());
      const type = res.headers.get("content-type") ?? "";
      return { status: res.status, type, body, json: type.includes("json") ? JSON.parse(body.toString()) : undefined };
    }

    it("qr.png encodes the Digital Link on PUBLIC_URL, at ?size=", async function () {
      const r = await raw(`/api/v1/batches/${withGtin}/qr.png?size=512`);
      expect(r.status).to.equal(200);
      expect(r.type).to.match(/^image\/png/);
      const decoded = decodePng(r.body);
      expect(decoded.text).to.equal(`${PUBLIC_URL}/01/06111234567895/10/ROSE%2F24%25A`);
      expect(decoded.width).to.equal(512);
      expect(decodePng((await raw(`/api/v1/batches/${withGtin}/qr.png`)).body).width).to.equal(256);
    });

    it("qr.svg of a batch without GTIN encodes /b/<batchId>", async function () {
      const r = await raw(`/api/v1/batches/${withoutGtin}/qr.svg`);
      expect(r.status).to.equal(200);
      expect(r.type).to.match(/^image\/svg\+xml/);
      expect(assertWellFormedXml(r.body.toString("utf8"))).to.equal("svg");
      // Same URL in the PNG of the same batch (the SVG itself is checked as XML above).
      const png = await raw(`/api/v1/batches/${withoutGtin.toUpperCase().replace("0X", "0x")}/qr.png?size=300`);
      expect(decodePng(png.body).text).to.equal(`${PUBLIC_URL}/b/${withoutGtin.toLowerCase()}`);
    });

    it("404 problem for an unknown batch or cooperative, 400 for a malformed id or a bad size", async function () {
      const unknown = `0x${"cd".repeat(32)}`;
      for (const p of [`/api/v1/batches/${unknown}/qr.svg`, `/api/v1/batches/${unknown}/qr.png`]) {
        const r = await raw(p);
        expect(r.status, p).to.equal(404);
        expect(r.type).to.match(/^application\/problem\+json/);
        expect(r.json.code).to.equal("batch_not_found");
      }
      const coop = await raw("/api/v1/cooperatives/999/labels.pdf");
      expect(coop.status).to.equal(404);
      expect(coop.json.code).to.equal("cooperative_not_found");
      for (const p of [
        "/api/v1/batches/0x1234/qr.svg",
        `/api/v1/batches/${withGtin}/qr.png?size=64`,
        `/api/v1/batches/${withGtin}/qr.png?size=1025`,
        `/api/v1/batches/${withGtin}/qr.png?size=big`,
        `/api/v1/batches/${withGtin}/qr.png?size=300.5`,
        "/api/v1/cooperatives/abc/labels.pdf",
        "/api/v1/cooperatives/1/labels.pdf?limit=0",
      ]) {
        const r = await raw(p);
        expect(r.status, p).to.equal(400);
        expect(r.type).to.match(/^application\/problem\+json/);
        expect(r.json.code).to.equal("invalid_field");
      }
    });

    const sheet = async (query: string) => {
      const r = await fetch(`${client.baseUrl}/api/v1/cooperatives/1/labels.pdf?${query}`);
      const body = Buffer.from(await r.arrayBuffer());
      const type = r.headers.get("content-type") ?? "";
      return { r, body, json: type.includes("json") ? JSON.parse(body.toString()) : undefined };
    };

    it("labels.pdf: one label per pack of the lot, at each stock size, readable back", async function () {
      const url = `${PUBLIC_URL}/01/06111234567895/10/ROSE%2F24%25A`;
      for (const [stock, query, labels, pages] of [
        ["a4-65", "pack=1&packUnit=l", 250, 4],
        ["a4-24", "pack=0,5&packUnit=l&languages=fr,ar,zgh", 500, 21],
        ["roll-62", "pack=250&packUnit=ml&count=3&languages=ar,fr", 3, 3],
      ] as const) {
        const { r, body } = await sheet(`batch=${withGtin}&stock=${stock}&${query}`).catch((e) => {
          throw new Error(`${stock}: ${String(e.cause ?? e)}`);
        });
        expect(r.status, `${stock} ${body.toString().slice(0, 200)}`).to.equal(200);
        expect(r.headers.get("x-label-count")).to.equal(String(labels));
        expect(pdfPageCount(body)).to.equal(pages);
        const text = pdfText(body);
        // The first two labels of page 1 (a roll's page holds one).
        const onPage = Math.min(2, labelsPerPage(stock));
        const qrs = labelQrs(body, gridOf(stock), onPage, stock === "a4-65" ? 400 : 300);
        if (text === null || qrs === null) continue;
        expect(qrs, stock).to.deep.equal(Array(onPage).fill(url));
        expect(text, stock).to.include("Eau de rose");
        expect(text, stock).to.include("الورد");
        expect(text, stock).to.match(/Scannez pour vérifier|امسح الرمز للتحقق/);
        expect(text, stock).to.include("labels.cooptrace.example/01/");
      }
    });

    it("labels.pdf refuses a pack that does not fit, too many labels and bad options, with a code", async function () {
      for (const [query, code, extra] of [
        ["", "too_many_labels", { labels: 1000, max: MAX_LABELS_PER_PRINT }], // 250 l in the default 250 ml bottles
        ["pack=300&packUnit=l", "not_enough_in_lot", { packs: 0 }],
        ["pack=1&packUnit=l&count=251", "not_enough_in_lot", { packs: 250 }],
        ["pack=1&packUnit=kg", "pack_unit_mismatch", { unit: "l" }],
        ["pack=0&packUnit=l", "invalid_field", {}],
        ["stock=a5", "invalid_field", {}],
        ["languages=ar", "invalid_field", {}],
        ["languages=ar,ar", "invalid_field", {}],
      ] as const) {
        const { r, json } = await sheet(`batch=${withGtin}&${query}`);
        expect(r.status, query).to.equal(400);
        expect(json.code, query).to.equal(code);
        expect(json, query).to.include(extra);
        expect(json.errors?.[0]?.field, query).to.be.a("string");
      }
    });

    it("labels.pdf without ?batch= lists only the lots offered for sale (none here)", async function () {
      const { r, body } = await sheet("");
      expect(r.status).to.equal(200);
      expect(r.headers.get("x-total-count")).to.equal("0");
      expect(r.headers.get("x-label-count")).to.equal("0");
      expect(pdfPageCount(body)).to.equal(1);
    });

    it("labels.pdf?batch=… holds only the lots asked for, of this cooperative", async function () {
      const one = await fetch(
        `${client.baseUrl}/api/v1/cooperatives/1/labels.pdf?batch=${withGtin}&pack=50&packUnit=l`,
      );
      expect(one.status).to.equal(200);
      expect(one.headers.get("x-total-count")).to.equal("1");
      const two = await fetch(
        `${client.baseUrl}/api/v1/cooperatives/1/labels.pdf?batch=${withGtin}&batch=${withoutGtin}&batch=${withGtin}&pack=50&packUnit=l`,
      );
      expect(two.headers.get("x-total-count")).to.equal("2"); // each lot once
      expect((await raw(`/api/v1/cooperatives/1/labels.pdf?batch=0x${"ab".repeat(32)}`)).status).to.equal(404);
      expect((await raw(`/api/v1/cooperatives/1/labels.pdf?batch=nope`)).status).to.equal(400);
    });

    it("the routes are in the OpenAPI document, public", function () {
      const api = createOpenApi("/api/v1", { title: "t", version: "1", description: "d" });
      labelRoutes(Router(), api, t.gateway.ctx.services);
      const doc = api.document(PUBLIC_URL) as { paths: Record<string, Record<string, { security: unknown[] }>> };
      expect(Object.keys(doc.paths)).to.include.members([
        "/api/v1/batches/{id}/qr.svg",
        "/api/v1/batches/{id}/qr.png",
        "/api/v1/cooperatives/{id}/labels.pdf",
      ]);
      expect(doc.paths["/api/v1/batches/{id}/qr.png"].get.security).to.deep.equal([]);
    });
  });
});
