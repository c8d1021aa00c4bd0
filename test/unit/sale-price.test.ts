/**
 * The manager's price as typed in French, Arabic or English (server/web/sales/price.ts): every common
 * way of writing a thousand and a half reads the same; what reads two ways, or not at all, is refused.
 */
import { expect } from "chai";
import { parsePrice } from "../../server/web/sales/price";

describe("a price as people write it", function () {
  it("reads 1.000,50, 1000,50, 1 000,50, 1000.50, 1,000.50 and Arabic digits as 1000.50", function () {
    for (const text of [
      "1.000,50",
      "1000,50",
      "1 000,50",
      "1\u202f000,50",
      "1000.50",
      "1,000.50",
      "١٠٠٠٫٥٠",
      " 1000,5 ",
    ])
      expect(parsePrice(text, 2), text).to.deep.equal({ ok: true, raw: 100050n });
    expect(parsePrice("250", 2)).to.deep.equal({ ok: true, raw: 25000n });
    expect(parsePrice("1.000.000", 2)).to.deep.equal({ ok: true, raw: 100000000n });
    expect(parsePrice("0,001", 18)).to.deep.equal({ ok: true, raw: 10n ** 15n });
  });

  it("asks again for what reads two ways, and refuses what is not a price", function () {
    expect(parsePrice("1.000", 2)).to.deep.equal({ ok: false, problem: "ambiguous" });
    expect(parsePrice("2,500", 2)).to.deep.equal({ ok: false, problem: "ambiguous" });
    expect(parsePrice("0,500", 2)).to.deep.equal({ ok: false, problem: "decimals", decimals: 2 });
    expect(parsePrice("10,555", 2)).to.deep.equal({ ok: false, problem: "ambiguous" });
    expect(parsePrice("10,5555", 2)).to.deep.equal({ ok: false, problem: "decimals", decimals: 2 });
    for (const text of ["", "beaucoup", "1.000.50", "10 00", "1,2,3,4", "-5", "0", "0,00", "1 000,", "1e3", "12 MAD"])
      expect(parsePrice(text, 2).ok, text).to.equal(false);
  });
});
