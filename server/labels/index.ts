/**
 * Labels: GS1 Digital Link URLs for batches, their QR codes (SVG, PNG) and printable PDF label sheets.
 * Their HTTP routes are in ./routes.ts (the HTTP layer), so this module stays free of Express.
 */
export { gtin14, isGtin, batchPublicUrl, encodeDigitalLinkValue, MAX_LOT_LENGTH } from "../../domain/gs1";
export { qrSvg, qrPng, qrMatrix, MIN_PNG_SIZE, MAX_PNG_SIZE, DEFAULT_PNG_SIZE } from "./qr";
export {
  labelSheetPdf,
  findLabelFonts,
  DEFAULT_FONT_DIRS,
  labelsPerPage,
  LABEL_STOCKS,
  STOCK_LAYOUTS,
  MAX_LABELS_PER_PRINT,
  MAX_LABELS_PER_SHEET,
  type LabelStock,
  type LabelInput,
  type LabelSheetOptions,
  type LabelFonts,
} from "./pdf";
