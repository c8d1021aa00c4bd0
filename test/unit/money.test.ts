/**
 * domain/money.ts: amounts in money people read, exact to the smallest unit, and dirham equivalents.
 */
import { expect } from "chai";
import fc from "fast-check";
import { dirhamCentimes, formatMoney, MAD, sharesOf100, toDecimalString } from "../../domain/money";

const EUR = { code: "EUR", decimals: 2 };
const ETH = { code: "ETH", decimals: 18 };

// Intl puts invisible direction marks and no-break spaces in some locales: compare what a person sees.
const seen = (s: string) => s.replace(/[\u200e\u200f\u061c]/g, "").replace(/[\u00a0\u202f]/g, " ");

describe("domain: money", function () {
  it("shows dirhams and euros as the issue's examples, per locale", function () {
    expect(seen(formatMoney(125_000n, MAD, "fr-MA"))).to.equal("1.250,00 MAD");
    expect(seen(formatMoney(125_000n, MAD, "ar-MA"))).to.equal("1.250,00 د.م.");
    expect(seen(formatMoney(125_000n, MAD, "en"))).to.equal("MAD 1,250.00");
    expect(seen(formatMoney(125_000n, EUR, "fr-FR"))).to.equal("1 250,00 €");
  });

  it("keeps every unit of large amounts (no float) and shows ether with at most 6 decimals", function () {
    expect(seen(formatMoney(123_456_789_012_345_678_901n, MAD, "en"))).to.equal("MAD 1,234,567,890,123,456,789.01");
    expect(seen(formatMoney(1n, MAD, "en"))).to.equal("MAD 0.01");
    expect(seen(formatMoney(-250n, MAD, "en"))).to.equal("-MAD 2.50");
    expect(seen(formatMoney(120_000_000_000_000_000n, ETH, "en"))).to.equal("ETH 0.12");
  });

  it("writes the exact decimal string of any amount", function () {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), fc.integer({ min: 0, max: 18 }), (raw, d) => {
        const text = toDecimalString(raw, d);
        const [whole, fraction = ""] = text.replace("-", "").split(".");
        expect(fraction.length).to.equal(d);
        const back = BigInt(whole) * 10n ** BigInt(d) + BigInt(fraction || "0");
        expect(raw < 0n ? -back : back).to.equal(raw);
      }),
    );
  });

  it("converts to dirhams at a recorded rate, to the nearest centime", function () {
    // 100.00 EUR at 10.85 MAD/EUR = 1,085.00 MAD.
    expect(dirhamCentimes(10_000n, 2, 10_850_000n)).to.equal(108_500n);
    // 0.01 EUR at 10.854321 = 0.108543 MAD → 0.11 MAD.
    expect(dirhamCentimes(1n, 2, 10_854_321n)).to.equal(11n);
    // A 6-decimal token: 1.000001 units at 10.85 → 10.85001085 MAD → 10.85 MAD.
    expect(dirhamCentimes(1_000_001n, 6, 10_850_000n)).to.equal(1_085n);
  });

  it("shares a whole out of 100 in whole numbers that add up to 100, each within one point of exact", function () {
    // The demo sale: 1 % fee, 10 % of the rest to the reserve: 89.1 / 9.9 / 1 of each 100.
    expect(sharesOf100([1_069_200n, 118_800n, 12_000n])).to.deep.equal([89, 10, 1]);
    expect(sharesOf100([1n, 1n, 1n])).to.deep.equal([34, 33, 33]);
    expect(sharesOf100([0n, 0n])).to.deep.equal([0, 0]);
    expect(() => sharesOf100([-1n, 2n])).to.throw(RangeError);
    fc.assert(
      fc.property(fc.array(fc.bigInt({ min: 0n, max: 10n ** 30n }), { minLength: 1, maxLength: 6 }), (parts) => {
        const shares = sharesOf100(parts);
        const total = parts.reduce((a, p) => a + p, 0n);
        if (total === 0n) return shares.every((x) => x === 0);
        expect(shares.reduce((a, x) => a + x, 0)).to.equal(100);
        parts.forEach((p, i) => {
          // |share − exact| < 1, with exact = 100·p/total: compared in integers.
          const diff = BigInt(shares[i]) * total - 100n * p;
          expect(diff < total && -diff < total).to.equal(true);
        });
        return true;
      }),
    );
  });
});
