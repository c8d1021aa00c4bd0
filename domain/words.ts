/**
 * Short texts the batch registry keeps as one 32-byte word rather than a string (the product code,
 * the lot code, the unit): UTF-8, left-aligned, padded with zero bytes. A string would cost a length
 * word and an offset in calldata and in the log (issue 16). Everything off-chain keeps them as text
 * and converts at the contract's edge, with these two functions.
 */
import { hexToBytes, stringToHex, type Hex } from "viem";

/** The most bytes a lot code may take (GS1 AI 10: up to 20 characters). */
export const MAX_LOT_BYTES = 20;
/** The most bytes a word can hold. */
export const MAX_WORD_BYTES = 32;

/** UTF-8 bytes of `text`. */
export function utf8Length(text: string): number {
  return new TextEncoder().encode(text).length;
}

/** `text` as a padded word; throws a RangeError when it is empty or longer than `maxBytes`. */
export function textToWord(text: string, maxBytes = MAX_WORD_BYTES): Hex {
  const length = utf8Length(text);
  if (length === 0 || length > maxBytes) {
    throw new RangeError(`"${text}" takes ${length} bytes; 1 to ${maxBytes} fit`);
  }
  return stringToHex(text, { size: 32 });
}

/** The text of a padded word: its trailing zero bytes dropped (the zero word is ""), UTF-8 decoded. */
export function wordToText(word: string): string {
  const bytes = hexToBytes(word as Hex);
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end--;
  return new TextDecoder().decode(bytes.subarray(0, end));
}
