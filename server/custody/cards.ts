/**
 * A printable member card: name, cooperative, and a QR code of the card's sign-in page
 * (`<gateway>/c/<cardId>`), for members without a smartphone (the cooperative's kiosk or a relative's
 * phone scans it). Like a bank card, the card names itself and holds no secret: the member types her
 * PIN on that page. A lost card is revoked by the manager, and a new one printed.
 */
import QRCode from "qrcode";

export interface MemberCard {
  displayName: string;
  cooperativeName: string;
  /** The card's sign-in page, which the QR code holds (from the card service's issueCard). */
  signInUrl: string;
  /** The line under the name, in the member's language (default English; the pages pass hers). */
  instruction?: string;
}

function escapeXml(text: string): string {
  return text.replace(
    /[<>&"']/g,
    (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c]!,
  );
}

/** The card as a standalone SVG (85.6 × 54 mm, the ID-1 card size). */
export async function memberCardSvg(card: MemberCard): Promise<string> {
  const qr = await QRCode.toString(card.signInUrl, { type: "svg", errorCorrectionLevel: "M", margin: 0 });
  const inner = qr.replace(/^[\s\S]*?<svg[^>]*>/, "").replace(/<\/svg>\s*$/, "");
  const viewBox = /viewBox="([^"]+)"/.exec(qr)?.[1] ?? "0 0 33 33";
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="85.6mm" height="54mm" viewBox="0 0 856 540">`,
    `<rect width="856" height="540" rx="32" fill="#fff" stroke="#1b5e20" stroke-width="6"/>`,
    `<text x="40" y="80" font-family="sans-serif" font-size="40" fill="#1b5e20">CoopTrace</text>`,
    `<text x="40" y="160" font-family="sans-serif" font-size="44" font-weight="bold">${escapeXml(card.displayName)}</text>`,
    `<text x="40" y="220" font-family="sans-serif" font-size="30">${escapeXml(card.cooperativeName)}</text>`,
    `<text x="40" y="480" font-family="sans-serif" font-size="22" fill="#555">${escapeXml(card.instruction ?? "Scan, then type your PIN. Never write the PIN on the card.")}</text>`,
    `<svg x="496" y="150" width="320" height="320" viewBox="${viewBox}">${inner}</svg>`,
    `</svg>`,
  ].join("");
}
