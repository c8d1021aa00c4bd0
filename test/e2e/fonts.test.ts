/**
 * The shipped fonts (server/pages/assets.ts), in Debian's Chromium started under a fontconfig that holds
 * no font at all: a phone without a Tifinagh or Arabic font. The home page and the demo lot's verify page
 * in Tamazight and in Arabic must load the shipped face of their script and draw real letters (letters of
 * different widths), where the same letters in the system's fonts come out as equal missing-glyph boxes.
 * Screenshots at 360 × 800 are kept for a person to look at.
 *
 * Chromium cannot run under a fontconfig with no font at all, which no phone has: its browser process
 * aborts (SIGABRT, in ui/gfx) on a page with a text input or a select, and every web font ends in status
 * "error" (tried in this file's first version). So the pages are opened under a fontconfig that holds one
 * Latin font only, Noto Sans, which has neither Tifinagh nor Arabic: the first test checks that those
 * letters come out as equal boxes there, as under the empty configuration.
 */
import { expect } from "chai";
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { seedDemo, type DemoResult } from "../../server/demo/seed";
import { STYLESHEET } from "../../server/pages/assets";
import { PHONE, launchChromium, noSeriousViolation, screenshots } from "../helpers/browser";
import { startTestGateway, type TestGateway } from "../helpers/gateway";

const fontconfig = (body: string) =>
  `<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>${body}</fontconfig>`;
const LATIN_ONLY_FONT = "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf";

/**
 * Per script: the shipped family and six letters. Drawn from a font, they have several different widths;
 * drawn as missing-glyph boxes, one width.
 */
const SCRIPTS = {
  zgh: { family: "CoopTrace Tifinagh", letters: ["ⴰ", "ⵉ", "ⵎ", "ⵏ", "ⵜ", "ⵣ"], sample: "ⵜⴰⵎⴰⵣⵉⵖⵜ" },
  ar: { family: "CoopTrace Arabic", letters: ["ا", "ب", "ش", "م", "ل", "ه"], sample: "العربية" },
} as const;

const distinct = (values: number[]): number => new Set(values.map((v) => v.toFixed(1))).size;

/**
 * The rendered widths of runs of letters in the page's body font (or in `family` when given). The page
 * code is a string: this project's TypeScript has no DOM types, and the browser runs it, not Node.
 */
function widths(page: Page, letters: string[], family?: string): Promise<number[]> {
  return page.evaluate<number[]>(`(${JSON.stringify(letters)}).map((letter) => {
    const span = document.createElement("span");
    span.textContent = letter.repeat(8);
    ${family === undefined ? "" : `span.style.fontFamily = ${JSON.stringify(family)};`}
    document.body.appendChild(span);
    const width = span.getBoundingClientRect().width;
    span.remove();
    return width;
  })`);
}

describe("shipped fonts on a phone without them (e2e)", function () {
  this.timeout(300_000);
  let t: TestGateway;
  let demo: DemoResult;
  /** No font at all; one Latin font only. */
  const browsers: { empty?: Browser; latin?: Browser } = {};
  const { dir, shot } = screenshots("cooptrace-fonts");

  before(async function () {
    t = await startTestGateway();
    demo = await seedDemo(t.gateway.url, t.adminToken, t.dataDir);
    const folder = mkdtempSync(path.join(tmpdir(), "cooptrace-nofonts-"));
    mkdirSync(path.join(folder, "latin"));
    symlinkSync(LATIN_ONLY_FONT, path.join(folder, "latin", path.basename(LATIN_ONLY_FONT)));
    const empty = path.join(folder, "empty.conf");
    const latin = path.join(folder, "latin.conf");
    writeFileSync(empty, fontconfig(""));
    writeFileSync(latin, fontconfig(`<dir>${folder}/latin</dir><cachedir>${folder}/cache</cachedir>`));
    browsers.empty = await launchChromium({ env: { FONTCONFIG_FILE: empty } });
    browsers.latin = await launchChromium({ env: { FONTCONFIG_FILE: latin } });
  });

  after(async function () {
    await browsers.empty?.close();
    await browsers.latin?.close();
    await t?.stop();
    console.log(`        screenshots in ${dir}`);
  });

  it("has no system font for Tifinagh or Arabic (the letters are equal boxes without the shipped faces)", async function () {
    for (const browser of [browsers.empty!, browsers.latin!]) {
      const page = await browser.newPage({ viewport: PHONE });
      await page.setContent(`<!doctype html><body style="font-family:sans-serif"><p>Latin</p></body>`);
      for (const s of Object.values(SCRIPTS)) {
        const w = await widths(page, [...s.letters]);
        expect(distinct(w), `${s.family}: without the shipped face, ${w.join(" ")}`).to.equal(1);
      }
      await page.close();
    }
  });

  it("serves each font same-origin, as WOFF2, for a year", async function () {
    const css = await (await fetch(t.gateway.url + STYLESHEET.path)).text();
    const urls = [...css.matchAll(/url\((\/assets\/[^)]+\.woff2)\)/g)].map((m) => m[1]);
    expect(urls.length).to.be.at.least(3);
    expect(css).to.include("font-display:swap");
    for (const url of urls) {
      const res = await fetch(t.gateway.url + url);
      expect(res.status, url).to.equal(200);
      expect(res.headers.get("content-type"), url).to.equal("font/woff2");
      expect(res.headers.get("cache-control"), url).to.include("immutable");
      const body = new Uint8Array(await res.arrayBuffer());
      expect(new TextDecoder().decode(body.slice(0, 4)), url).to.equal("wOF2");
    }
  });

  for (const lang of ["zgh", "ar"] as const) {
    const s = SCRIPTS[lang];
    for (const [name, fonts, at] of [
      ["home", "latin", (_: DemoResult) => `/?lang=${lang}`],
      ["verify", "latin", (d: DemoResult) => `/b/${d.roseWaterBatchId}?lang=${lang}`],
    ] as const) {
      it(`${lang} ${name} page (system fonts: ${fonts}): draws ${s.family} from this origin, with real letters`, async function () {
        const context = await browsers[fonts]!.newContext({ viewport: PHONE });
        const page = await context.newPage();
        const downloads: string[] = [];
        page.on("response", (r) => {
          if (r.url().endsWith(".woff2")) downloads.push(`${r.status()} ${new URL(r.url()).origin}`);
        });
        const response = await page.goto(t.gateway.url + at(demo));
        expect(response?.status()).to.equal(200);
        expect(response?.headers()["content-security-policy"]).to.include("font-src 'self'");
        const loaded = await page.evaluate<string[]>(
          `document.fonts.ready.then((fonts) => [...fonts].filter((f) => f.status === "loaded").map((f) => f.family.replace(/"/g, "")))`,
        );
        expect(loaded, "faces loaded").to.include(s.family);
        expect(downloads.length).to.be.at.least(1);
        for (const d of downloads) expect(d).to.equal(`200 ${t.gateway.url}`);
        const w = await widths(page, [...s.letters]);
        expect(distinct(w), `letters of different widths: ${w.join(" ")}`).to.be.at.least(3);
        expect(await page.locator("body").innerText()).to.include(s.sample);
        // The language switch names the other language in its script: on this phone without fonts, from
        // the other shipped face.
        const other = lang === "zgh" ? SCRIPTS.ar.family : SCRIPTS.zgh.family;
        expect(loaded, "the language switch's other script").to.include(other);
        await noSeriousViolation(page, `${lang} ${name}`);
        await shot(page, `${lang}-${name}`);
        await page.screenshot({ path: path.join(dir, `${lang}-${name}-first-screen.png`) });
        await context.close();
      });
    }
  }
});
