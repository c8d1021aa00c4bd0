/**
 * QR codes of a batch's public URL: SVG for the web and print, PNG for tools that need pixels,
 * and the raw module matrix for drawing vector QR codes into the PDF label sheet.
 */
import { deflateSync } from "node:zlib";
import QRCode from "qrcode";

/** Medium error correction (15%): readable after the small scuffs a label on a bottle gets. */
const ERROR_CORRECTION = "M" as const;
/** The quiet zone the QR standard asks for, in modules. */
const MARGIN = 4;

export const MIN_PNG_SIZE = 128;
export const MAX_PNG_SIZE = 1024;
export const DEFAULT_PNG_SIZE = 256;

export async function qrSvg(url: string): Promise<string> {
  const svg = await QRCode.toString(url, { type: "svg", errorCorrectionLevel: ERROR_CORRECTION, margin: MARGIN });
  return svg.trim();
}

/**
 * A PNG of exactly `size` × `size` pixels (128–1024). Every module is a whole number of pixels, the
 * symbol centred with at least the 4-module quiet zone: scaling by a fraction makes modules of
 * uneven width, which readers (and cheap phone cameras) decode less reliably.
 */
export async function qrPng(url: string, size: number = DEFAULT_PNG_SIZE): Promise<Buffer> {
  if (!Number.isInteger(size) || size < MIN_PNG_SIZE || size > MAX_PNG_SIZE) {
    throw new RangeError(`QR PNG size must be an integer between ${MIN_PNG_SIZE} and ${MAX_PNG_SIZE}`);
  }
  const m = qrMatrix(url);
  const scale = Math.floor(size / (m.size + 2 * MARGIN));
  if (scale < 1) {
    throw new RangeError(`this URL needs a QR code of at least ${m.size + 2 * MARGIN} px; asked for ${size}`);
  }
  const offset = Math.floor((size - m.size * scale) / 2);
  // 8-bit greyscale rows, each led by filter type 0.
  const raw = Buffer.alloc((size + 1) * size, 0xff);
  for (let y = 0; y < size; y++) {
    raw[y * (size + 1)] = 0;
    const row = Math.floor((y - offset) / scale);
    if (y < offset || row >= m.size) continue;
    for (let col = 0; col < m.size; col++) {
      if (!m.dark(row, col)) continue;
      const start = y * (size + 1) + 1 + offset + col * scale;
      raw.fill(0, start, start + scale);
    }
  }
  return encodePng(size, size, raw);
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(data: Buffer): number {
  let c = 0xffffffff;
  for (const byte of data) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, "latin1");
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** A greyscale PNG from filtered scanlines. */
function encodePng(width: number, height: number, scanlines: Buffer): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // greyscale
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(scanlines, { level: 9 })),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

/** The modules of the symbol, without quiet zone: `dark(row, col)`. */
export function qrMatrix(url: string): { size: number; dark(row: number, col: number): boolean } {
  const { modules } = QRCode.create(url, { errorCorrectionLevel: ERROR_CORRECTION });
  return { size: modules.size, dark: (row, col) => Boolean(modules.get(row, col)) };
}
