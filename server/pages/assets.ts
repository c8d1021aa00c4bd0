/**
 * The assets of the pages: one small style sheet and the fonts of the scripts a phone may lack, served
 * from this origin under names that change with their content, so browsers keep them for a year. Logical
 * properties (inline-start, inline-end) make the same rules work right-to-left.
 *
 * Fonts: many phones sold in Morocco have no Tifinagh font and show boxes, so the Tifinagh subset of Noto
 * Sans Tifinagh (and Noto Sans Arabic, with its Latin subset for the digits and codes of those pages) is
 * shipped as WOFF2 (@fontsource, OFL). The faces are named only in rules on `html[lang=zgh]` and
 * `html[lang=ar]`, and each has a `unicode-range`, so a browser downloads one only on a page in that
 * script (and, for the language switch on other pages, only on a phone without a font of that script);
 * `font-display: swap` shows the text at once in a system font while it loads.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";

export interface Asset {
  path: string;
  body: Buffer;
  contentType: string;
}

const versioned = (name: string, ext: string, body: string | Buffer): string =>
  `/assets/${name}.${createHash("sha256").update(body).digest("hex").slice(0, 12)}.${ext}`;

function font(name: string, file: string): Asset {
  const body = readFileSync(require.resolve(file));
  return { path: versioned(name, "woff2", body), body, contentType: "font/woff2" };
}

const FONT = {
  tifinagh: font("tifinagh", "@fontsource/noto-sans-tifinagh/files/noto-sans-tifinagh-tifinagh-400-normal.woff2"),
  arabic400: font("arabic-400", "@fontsource/noto-sans-arabic/files/noto-sans-arabic-arabic-400-normal.woff2"),
  arabic700: font("arabic-700", "@fontsource/noto-sans-arabic/files/noto-sans-arabic-arabic-700-normal.woff2"),
  latin400: font("latin-400", "@fontsource/noto-sans-arabic/files/noto-sans-arabic-latin-400-normal.woff2"),
  latin700: font("latin-700", "@fontsource/noto-sans-arabic/files/noto-sans-arabic-latin-700-normal.woff2"),
};

/** The ranges of the subsets, as @fontsource declares them (Tifinagh, Arabic, basic Latin). */
const RANGES = {
  tifinagh: "U+2D30-2D7F,U+200C-200D,U+202E,U+25CC",
  arabic:
    "U+0600-06FF,U+0750-077F,U+0870-088E,U+0890-0891,U+0897-08E1,U+08E3-08FF,U+200C-200E,U+2010-2011,U+204F,U+2E41,U+FB50-FDFF,U+FE70-FE74,U+FE76-FEFC",
  latin:
    "U+0000-00FF,U+0131,U+0152-0153,U+02BB-02BC,U+02C6,U+02DA,U+02DC,U+0304,U+0308,U+0329,U+2000-206F,U+20AC,U+2122,U+2191,U+2193,U+2212,U+2215,U+FEFF,U+FFFD",
};

const face = (family: string, asset: Asset, weight: number, range: string): string =>
  `@font-face{font-family:"${family}";src:url(${asset.path}) format("woff2");font-weight:${weight};font-style:normal;font-display:swap;unicode-range:${range}}`;

/** The shipped faces first (they cover only their script), then what the phone has. */
const FONT_CSS = [
  face("CoopTrace Tifinagh", FONT.tifinagh, 400, RANGES.tifinagh),
  face("CoopTrace Arabic", FONT.arabic400, 400, RANGES.arabic),
  face("CoopTrace Arabic", FONT.arabic700, 700, RANGES.arabic),
  face("CoopTrace Latin", FONT.latin400, 400, RANGES.latin),
  face("CoopTrace Latin", FONT.latin700, 700, RANGES.latin),
  `html[lang=ar] body{font-family:"CoopTrace Arabic","Noto Naskh Arabic","Noto Sans Arabic",Tahoma,"Segoe UI",system-ui,sans-serif,"CoopTrace Latin"}`,
  `html[lang=zgh] body{font-family:"CoopTrace Tifinagh","Noto Sans Tifinagh",Ebrima,system-ui,"Noto Sans",sans-serif,"CoopTrace Latin"}`,
  // The language switch names each language in its script on every page: there the shipped face comes
  // after the phone's own, so it is downloaded only by a phone that has none.
  `nav.langs a[lang=zgh]{font-family:"Noto Sans Tifinagh",Ebrima,"CoopTrace Tifinagh",sans-serif}`,
  `nav.langs a[lang=ar]{font-family:"Noto Naskh Arabic","Noto Sans Arabic",Tahoma,"Geeza Pro","Segoe UI","CoopTrace Arabic",sans-serif}`,
  // Form controls do not inherit the page's font by default.
  `html[lang=ar] :is(input,select,button,textarea),html[lang=zgh] :is(input,select,button,textarea){font-family:inherit}`,
].join("");

const CSS = `
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",Arial,sans-serif;color:#2b2118;background:#faf6f1}
:lang(ar) body,body:lang(ar){font-size:17px;line-height:1.7}
:lang(zgh) body,body:lang(zgh){line-height:1.7}
a{color:#8a2846}
a:focus-visible,summary:focus-visible,button:focus-visible,select:focus-visible{outline:3px solid #d9a441;outline-offset:2px}
header.top{background:#8a2846;color:#fff;padding:.5rem 1rem}
header.top a{color:#fff}
.top .brand{font-weight:700;text-decoration:none;font-size:1.1rem}
.top .tag{display:block;font-size:.85rem;opacity:.9}
nav.langs{display:flex;flex-wrap:wrap;gap:.25rem .75rem;margin-top:.35rem;font-size:.95rem}
nav.langs a[aria-current]{font-weight:700;text-decoration:none;border-bottom:2px solid #fff}
nav.langs .label{opacity:.85}
main{max-width:42rem;margin:0 auto;padding:1rem}
h1{font-size:1.5rem;line-height:1.25;margin:.25rem 0 .5rem}
h2{font-size:1.15rem;margin:0 0 .5rem;color:#5a1a2e}
section{background:#fff;border:1px solid #eadfd3;border-radius:10px;padding:.9rem 1rem;margin:0 0 1rem}
section p{margin:.35rem 0}
.banner{border-radius:10px;padding:.75rem 1rem;margin:0 0 1rem;border:2px solid}
.banner strong{display:block;font-size:1.05rem}
.ok{background:#eaf6ec;border-color:#2e7d32;color:#1b4d1f}
.warn{background:#fff4e0;border-color:#b26a00;color:#5c3700}
.bad{background:#fdecec;border-color:#b3261e;color:#6d1711}
.lead{font-size:1.05rem;margin:.25rem 0}
dl.facts{display:grid;grid-template-columns:fit-content(45%) minmax(0,1fr);gap:.25rem .9rem;margin:.5rem 0 0}
dl.facts dt{color:#6b5a4c}
dl.facts dd{margin:0;font-weight:600;min-width:0;overflow-wrap:break-word}
.code{white-space:nowrap;word-break:normal;overflow-wrap:normal}
ol.proofs{padding-inline-start:1.2rem}ol.proofs li{margin:.4rem 0}
.badge{display:inline-block;border-radius:999px;padding:.05rem .6rem;font-size:.85rem;font-weight:700;border:1px solid;white-space:nowrap}
.badge.women{background:#fbe7ef;color:#8a2846;border-color:#e3a9bf}
.badge.valid{background:#eaf6ec;color:#1b5e20;border-color:#8fc79a}
.badge.expired{background:#f1efec;color:#5d5348;border-color:#c9c0b6}
.badge.revoked{background:#fdecec;color:#8e1b14;border-color:#e8a19c}
.badge.state{background:#f5efe7;color:#5a4636;border-color:#dccfc0}
ol.timeline{list-style:none;margin:0;padding:0;border-inline-start:3px solid #d9a441}
ol.timeline li{position:relative;padding:0 0 .9rem;padding-inline-start:1rem}
ol.timeline li::before{content:"";position:absolute;inset-inline-start:-.5rem;top:.45rem;width:.7rem;height:.7rem;border-radius:50%;background:#d9a441}
.when{display:block;color:#6b5a4c;font-size:.9rem}
.what{font-weight:700}
ul.plain{list-style:none;margin:0;padding:0}
ul.plain>li{padding:.6rem 0;border-top:1px solid #f0e8df}
ul.plain>li:first-child{border-top:0;padding-top:0}
table.split{width:100%;border-collapse:collapse;margin:.4rem 0}
table.split caption{text-align:start}
ol.steps{list-style:none;margin:.5rem 0 0;padding:0;border-top:1px dashed #eadfd3}
ol.steps li{padding:.35rem 0 0}
ol.steps .when{display:inline;font-size:.85rem}
table.split th,table.split td{padding:.3rem 0;border-bottom:1px solid #f0e8df;text-align:start;vertical-align:top}
table.split td.num{text-align:end;font-variant-numeric:tabular-nums;white-space:nowrap;padding-inline-start:.75rem}
table.split thead th+th{padding-inline-start:.75rem}
table.split tr.members th,table.split tr.members td{font-weight:700;color:#1b4d1f}
.note{font-size:.9rem;color:#6b5a4c;margin:.25rem 0}
bdi.money{white-space:nowrap}
.equivalent{display:block;font-weight:400;font-size:.85rem;white-space:normal}
td.num .equivalent{white-space:nowrap}
td.num .advance{white-space:normal}
details.proof{font-size:.85rem;color:#5d5348;margin-top:.3rem}
details.proof summary{cursor:pointer}
details.proof dl{display:grid;grid-template-columns:max-content 1fr;gap:.1rem .6rem;margin:.3rem 0 0}
details.proof dd{margin:0;min-width:0}
code.addr{display:inline-block;font-size:.74rem;word-break:break-all}
code,.mono{font-family:ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:.85em;overflow-wrap:anywhere;word-break:break-all}
pre.cmd{background:#2b2118;color:#f6efe6;padding:.7rem;border-radius:8px;white-space:pre-wrap;word-break:break-all;font-size:.85rem;direction:ltr;text-align:left}
form.filters{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:end}
form.filters label{display:flex;flex-direction:column;font-size:.9rem}
select,button{font:inherit;padding:.35rem .5rem;border:1px solid #bfae9c;border-radius:6px;background:#fff;color:inherit}
button{background:#8a2846;color:#fff;border-color:#8a2846;cursor:pointer}
.offer .price{font-size:1.1rem;font-weight:700}
.pager{display:flex;justify-content:space-between;gap:1rem}
footer{max-width:42rem;margin:0 auto;padding:0 1rem 2rem;font-size:.85rem;color:#6b5a4c}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
nav.main ul{list-style:none;margin:.4rem 0 0;padding:0;display:flex;flex-wrap:wrap;gap:.25rem 1rem;align-items:center}
nav.main a{display:inline-block;padding:.3rem 0;font-weight:600}
nav.main a[aria-current]{text-decoration:none;border-bottom:2px solid #fff}
nav.main .account{display:flex;flex-wrap:wrap;align-items:center;gap:.25rem .6rem}
nav.main .who{font-size:.95rem}
header.top form.signout button{background:transparent;border:1px solid #fff;color:#fff;padding:.25rem .6rem}
.field{margin:0 0 1rem}
.field label{display:block;font-weight:700}
.field .hint{display:block;color:#6b5a4c;font-size:.9rem;margin:.1rem 0 .3rem}
.field .error-message{display:block;color:#b3261e;font-weight:700;margin:.1rem 0 .3rem}
.field.has-error{border-inline-start:4px solid #b3261e;padding-inline-start:.75rem}
input[type=text],input[type=password],input[type=search],.field textarea{font:inherit;width:100%;max-width:28rem;padding:.55rem .6rem;border:2px solid #5d5348;border-radius:6px;background:#fff;color:inherit}
.has-error input{border-color:#b3261e}
input:focus-visible{outline:3px solid #d9a441;outline-offset:1px}
button.big{font-size:1.15rem;font-weight:700;padding:.7rem 1.4rem;min-height:3rem;min-width:10rem}
.error-summary{border:3px solid #b3261e;border-radius:10px;background:#fff;padding:.75rem 1rem;margin:0 0 1rem}
.error-summary h2{color:#b3261e;margin:0 0 .35rem}
.error-summary ul{margin:0;padding-inline-start:1.2rem}
.error-summary a{color:#b3261e;font-weight:700}
input.pin{font-size:2rem;letter-spacing:.5em;text-align:center;max-width:12rem;padding:.4rem;font-variant-numeric:tabular-nums}
.cardface{display:flex;gap:.9rem;align-items:center;margin:0 0 1rem}
.cardface svg{flex:none}
.cardface .name{font-size:1.3rem;font-weight:700;display:block}
ul.links{list-style:none;margin:0;padding:0}
ul.links li{padding:.5rem 0;border-top:1px solid #f0e8df}
ul.links li:first-child{border-top:0}
ul.links a{font-weight:700;font-size:1.05rem}
ul.links .note{display:block}
dl.money{display:grid;grid-template-columns:1fr max-content;gap:.3rem .9rem;margin:.5rem 0 0}
dl.money dt{color:#5d5348}
dl.money dd{margin:0;font-weight:700;text-align:end;font-variant-numeric:tabular-nums}
dl.money .due{color:#1b4d1f;font-size:1.15rem}
ul.coops .note,ul.money-lines .note{display:block}
table.contributors{border-collapse:collapse;width:100%}
table.contributors th,table.contributors td{padding:.4rem;border-bottom:1px solid #d8cfc4;text-align:start}
table.contributors input{width:7rem;min-height:2.75rem}
select{min-height:2.75rem;font-size:1rem}
.member-card img{max-width:100%;height:auto;border:1px solid #d8cfc4}
@media print{header.top,body footer,.no-print{display:none}.member-card img{border:0}}
.button.big{width:100%;min-height:3.5rem;font-size:1.2rem}
svg.icon{vertical-align:middle}
figure.chart{margin:.5rem 0;overflow-x:auto;max-width:100%}figure.chart svg{display:block;max-width:none;height:auto}
label.choice{display:flex;align-items:center;gap:.6rem;min-height:2.75rem}
label.choice input{width:1.5rem;height:1.5rem}
code.token{word-break:break-all;font-size:1.1rem}
.scroll{overflow-x:auto;max-width:100%}
bdi.mono,bdi[dir=ltr],.code{white-space:nowrap;word-break:normal;overflow-wrap:normal}
.code{direction:ltr;unicode-bidi:isolate;font-family:ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:.85em}
html[lang=ar] :is(code,.mono,.code,pre),html[lang=zgh] :is(code,.mono,.code,pre){font-family:ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,monospace,"CoopTrace Latin"}
`
  .trim()
  .replace(/\n/g, "");

export const STYLESHEET = {
  body: CSS + FONT_CSS,
  path: versioned("cooptrace", "css", CSS + FONT_CSS),
};

/** The fonts, each served from its versioned path (server/pages/index.ts). */
export const FONTS: readonly Asset[] = Object.values(FONT);
