/**
 * The domain core (domain/): GS1 identifiers, text rules, the revenue split and the contributors'
 * commitment. Pure functions, no chain: part of `npm run test:unit`.
 */
import { expect } from "chai";
import fc from "fast-check";
import {
  batchPublicUrl,
  digitalLinkPath,
  encodeDigitalLinkValue,
  gs1CheckDigit,
  gtin14,
  isGtin,
  isValidGtin,
  LOT_PATTERN,
} from "../../domain/gs1";
import { isSafeName, isSafeText, printableLine } from "../../domain/text";
import { shareOf, splitRevenue } from "../../domain/split";
import { SimpleMerkleTree } from "@openzeppelin/merkle-tree";
import {
  buildContributorTree,
  contributorLeaf,
  mergeContributors,
  treeFromWords,
  unpackContributor,
} from "../../domain/contributors";
import { SALE_STATES } from "../../domain/saleStates";
import { batchIdOf } from "../../domain/batchId";
import { MAX_LOT_BYTES, textToWord, wordToText } from "../../domain/words";
import { AbiCoder, encodeBytes32String, keccak256, toUtf8Bytes, zeroPadBytes } from "ethers";

describe("domain: GS1", function () {
  // Check digits from GS1's own examples and from real Moroccan (611) GTIN-13s.
  const valid = ["6111234567895", "96385074", "036000291452", "00614141000036", "6110000000017"];
  it("computes the GS1 mod-10 check digit", function () {
    expect(gs1CheckDigit("0061414100003")).to.equal(6);
    expect(gs1CheckDigit("0611123456789")).to.equal(5);
  });
  it("accepts GTIN-8/12/13/14 with a valid check digit and nothing else", function () {
    for (const g of valid) expect(isValidGtin(g), g).to.equal(true);
    for (const g of ["6111234567891", "123", "61112345678951", "6111234567895 ", "61112345678a2", ""]) {
      expect(isValidGtin(g), g).to.equal(false);
    }
  });
  it("every 13-digit body has exactly one valid check digit", function () {
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9]{13}$/), (body) => {
        const ok = [...Array(10).keys()].filter((d) => isValidGtin(body + d));
        return ok.length === 1 && ok[0] === gs1CheckDigit(body);
      }),
      { seed: 4242, numRuns: 300 },
    );
  });
  it("pads stored GTINs (leading zeros lost) to 14 digits and refuses 0", function () {
    expect(gtin14(36000291452n)).to.equal("00036000291452");
    expect(gtin14("96385074")).to.equal("00000096385074");
    expect(() => gtin14("0")).to.throw(RangeError);
    expect(() => gtin14("6111234567891")).to.throw(/check digit/);
    expect(isGtin(6111234567895n)).to.equal(true);
  });
  it("percent-encodes every character outside the RFC 3986 unreserved set, !'()* included", function () {
    expect(encodeDigitalLinkValue("ROSE-2026/01")).to.equal("ROSE-2026%2F01");
    expect(encodeDigitalLinkValue("a!'()*~b")).to.equal("a%21%27%28%29%2A~b");
    expect(encodeDigitalLinkValue("ورد")).to.equal("%D9%88%D8%B1%D8%AF");
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 20 }), (lot) => {
        const encoded = encodeDigitalLinkValue(lot);
        return /^[A-Za-z0-9\-._~%]*$/.test(encoded) && decodeURIComponent(encoded) === lot;
      }),
      { seed: 7, numRuns: 300 },
    );
  });
  it("gives one Digital Link path, or none without a GTIN", function () {
    expect(digitalLinkPath("6111234567895", "R-1")).to.equal("/01/06111234567895/10/R-1");
    expect(digitalLinkPath("0", "R-1")).to.equal(null);
    expect(digitalLinkPath("6111234567895", "x".repeat(21))).to.equal(null);
    const id = "0x" + "ab".repeat(32);
    expect(batchPublicUrl("https://t.example/", { batchId: id, gtin: "0", lotCode: "R-1" })).to.equal(
      `https://t.example/b/${id}`,
    );
    expect(batchPublicUrl("https://t.example", { batchId: id, gtin: "6111234567895", lotCode: "A(1)" })).to.equal(
      "https://t.example/01/06111234567895/10/A%281%29",
    );
  });
  it("lot codes: GS1 AI encodable set 82, 1 to 20 characters", function () {
    expect(LOT_PATTERN.test("ROSE-2026/01")).to.equal(true);
    expect(LOT_PATTERN.test("a b")).to.equal(false);
    expect(LOT_PATTERN.test("x".repeat(21))).to.equal(false);
    expect(LOT_PATTERN.test('=HYPERLINK("x")')).to.equal(true);
  });
});

describe("domain: text", function () {
  it("refuses bidi overrides, controls and lone surrogates; keeps Arabic and Tifinagh", function () {
    expect(isSafeText("ورد قلعة مكونة\nⵜⴰⵡⵍⴰⴼⵜ")).to.equal(true);
    expect(isSafeText("abc\u202Edef")).to.equal(false);
    expect(isSafeText("a\u0000b")).to.equal(false);
    expect(isSafeText("a\uD800b")).to.equal(false);
    expect(isSafeName("Fatima\tZahra")).to.equal(false);
    expect(isSafeName("Fatima Zahra Aït")).to.equal(true);
  });
  it("prints one clean line", function () {
    expect(printableLine("  Rose\u200B  water\n\u202Edistilled ")).to.equal("Rose water distilled");
    expect(printableLine(undefined)).to.equal("");
  });
});

describe("domain: the split and shares", function () {
  it("fee + reserve + net = gross, the reserve takes the rounding remainder", function () {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 30n }),
        fc.bigInt({ min: 0n, max: 500n }),
        fc.bigInt({ min: 0n, max: 10_000n }),
        (gross, feeBps, reserveBps) => {
          const { fee, reserve, net } = splitRevenue(gross, feeBps, reserveBps);
          return fee + reserve + net === gross && fee >= 0n && reserve >= 0n && net >= 0n;
        },
      ),
      { seed: 11, numRuns: 500 },
    );
    expect(splitRevenue(1000n, 250n, 1000n)).to.deep.equal({ fee: 25n, reserve: 98n, net: 877n });
  });
  it("no member's share exceeds weight/total of what was released; the dust is below the member count", function () {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 24n }),
        fc.array(fc.bigInt({ min: 1n, max: 10n ** 6n }), { minLength: 1, maxLength: 30 }),
        (released, weights) => {
          const total = weights.reduce((a, b) => a + b, 0n);
          const shares = weights.map((w) => shareOf(released, w, total));
          const paid = shares.reduce((a, b) => a + b, 0n);
          return paid <= released && released - paid < BigInt(weights.length);
        },
      ),
      { seed: 12, numRuns: 300 },
    );
  });
});

describe("domain: contributors", function () {
  const a = "0x00000000000000000000000000000000000000aa";
  const b = "0x00000000000000000000000000000000000000Bb";
  it("sorts by account index, packs index << 64 | weight and builds a tree whose proofs name the words", function () {
    // b has index 2, a index 7: b comes first although its address is higher.
    const indexOf = (account: string) => (account.toLowerCase() === a ? 7 : 2);
    const tree = buildContributorTree(
      [
        { account: a, weight: 1n },
        { account: b, weight: 3n },
      ],
      indexOf,
    );
    expect(tree.contributors.map((c) => c.account.toLowerCase())).to.deep.equal([b.toLowerCase(), a]);
    expect(tree.words).to.deep.equal([(2n << 64n) | 3n, (7n << 64n) | 1n]);
    expect(tree.wordOf(a)).to.equal((7n << 64n) | 1n);
    expect(unpackContributor(tree.wordOf(b))).to.deep.equal({ index: 2, weight: 3n });
    expect(tree.totalWeight).to.equal(4n);
    expect(tree.weightOf(b.toLowerCase())).to.equal(3n);
    expect(tree.proof(a)).to.have.length(1);
    // The root is the simple tree of the single-hashed words, and the proof verifies against it.
    expect(SimpleMerkleTree.verify(tree.root, contributorLeaf(tree.wordOf(a)), tree.proof(a))).to.equal(true);
    expect(treeFromWords(tree.words, (i) => (i === 7 ? a : b)).root).to.equal(tree.root);
    expect(() => buildContributorTree([], indexOf)).to.throw(/at least one/);
  });
  it("merges by the quantity each parent gave", function () {
    const merged = mergeContributors([
      { contributors: [{ account: a, weight: 1n }], totalWeight: 1n, drawn: 10n },
      {
        contributors: [
          { account: a, weight: 1n },
          { account: b, weight: 1n },
        ],
        totalWeight: 2n,
        drawn: 5n,
      },
    ]);
    expect(merged.map((c) => [c.account.toLowerCase(), c.weight])).to.deep.equal([
      [a, 12n],
      [b.toLowerCase(), 2n],
    ]);
  });
  it("computes the batch id as the contract does (checked against ethers' ABI coder), the lot code as a word", function () {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.string({ maxLength: 40 }), (coop, lot) => {
        const bytes = new TextEncoder().encode(lot).length;
        const expected =
          bytes >= 1 && bytes <= 20
            ? keccak256(AbiCoder.defaultAbiCoder().encode(["uint64", "bytes32"], [coop, encodeBytes32String(lot)]))
            : `0x${"00".repeat(32)}`; // no batch can have it
        return batchIdOf(coop, lot) === expected;
      }),
      { seed: 13, numRuns: 300 },
    );
  });
  it("keeps a short code as a zero-padded word of its UTF-8 and reads it back, refusing what does not fit", function () {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 32, unit: "grapheme" }), (text) => {
        if (new TextEncoder().encode(text).length > 32) {
          expect(() => textToWord(text)).to.throw(RangeError);
          return true;
        }
        expect(textToWord(text)).to.equal(zeroPadBytes(toUtf8Bytes(text), 32));
        return wordToText(textToWord(text)) === text;
      }),
      { seed: 17, numRuns: 300 },
    );
    expect(() => textToWord("")).to.throw(RangeError);
    expect(() => textToWord("ROSE-2026-0001-ABCDEF", MAX_LOT_BYTES)).to.throw(RangeError, "21 bytes");
    expect(wordToText(textToWord("ماء الورد"))).to.equal("ماء الورد");
    // A split child's product code and unit are the zero word: no text at all.
    expect(wordToText(`0x${"00".repeat(32)}`)).to.equal("");
  });
  it("names the sale states in the contract's order", function () {
    expect(SALE_STATES[0]).to.equal("None");
    expect(SALE_STATES.indexOf("Refunded")).to.equal(8);
  });
});
