/**
 * How the pages word money (fresh-tester defects, December 2026): the reference rate reads as an
 * exchange rate ("1 € = 10,85 MAD"), never as a unit price ("10,85 MAD l'unité"); the French share
 * sentence has no anglicism ("Sur 100 dirhams payés", not "Sur chaque"); an Arabic sentence ending
 * with an amount in dirhams ("… د.م.") gets no second full stop.
 */
import { expect } from "chai";
import { CATALOGS, LANGS } from "../../server/pages/i18n";
import { formatterFor } from "../../server/pages/format";
import { rateText, unitOf } from "../../server/pages/views/money";

const EUR = { symbol: "dEUR", decimals: 2, currency: "EUR" };
const MAD = { symbol: "MAD", decimals: 2, currency: "MAD" };
const rate = {
  currency: "EUR",
  rateE6: "10850000",
  asOf: String(Date.UTC(2026, 11, 3) / 1000),
  source: "Bank Al-Maghrib",
};
const plain = (s: string) => s.replace(/[\u200e\u200f\u061c\u2066-\u2069]/g, "").replace(/[\u00a0\u202f]/g, " ");

describe("money wording", function () {
  for (const lang of LANGS) {
    it(`${lang}: the reference rate is written 1 € = rate, in the dirham equivalent and in the rate note`, function () {
      const c = CATALOGS[lang];
      const f = formatterFor(c);
      const eq = plain(
        c.sales.dirhamEquivalent(
          f.dirhams(90_000n, EUR, 10_850_000n),
          f.amount(10_850_000n, 6),
          unitOf(c, "EUR"),
          rate.source,
          f.date(Number(rate.asOf)),
        ),
      );
      const dirham = lang === "ar" ? "درهم" : "MAD";
      expect(eq).to.include(`1 € = ${f.amount(10_850_000n, 6)} ${dirham}`);
      expect(plain(rateText(c, "EUR", rate))).to.include(`1 € = ${f.amount(10_850_000n, 6)} ${dirham}`);
      for (const unitPrice of ["l'unité", "للوحدة", "each", "لكل"]) {
        expect(eq).to.not.include(unitPrice);
        expect(plain(rateText(c, "EUR", rate))).to.not.include(unitPrice);
      }
    });
  }

  it("fr: Sur 100 dirhams marocains payés, 89 sont allés…", function () {
    const c = CATALOGS.fr;
    const f = formatterFor(c);
    const s = plain(c.plain.perHundred(f.hundred("MAD"), "89", c.plain.womenWho(4)));
    expect(s.startsWith("Sur 100 dirhams marocains payés, 89 sont allés")).to.equal(true, s);
    expect(s).to.not.include("chaque");
  });

  it("ar: no double full stop after an amount in dirhams", function () {
    const c = CATALOGS.ar;
    const amount = formatterFor(c).money(406_295n, MAD);
    for (const s of [c.sales.remainsToPay(amount), c.roles3.buyerGets(amount)]) {
      expect(plain(s)).to.not.match(/\.\.$/);
      expect(plain(s).endsWith("د.م.")).to.equal(true, s);
    }
    expect(c.sales.remainsToPay("3")).to.match(/3\.$/);
  });

  for (const lang of LANGS) {
    it(`${lang}: the member's two money pages and the manager's two payment pages are named for what they do`, function () {
      const c = CATALOGS[lang];
      // Her shares of the sales (escrow) vs the dirhams her cooperative recorded (payout ledger).
      expect(c.roles.moneyTitle).to.not.equal(c.payouts.memberTitle);
      expect(c.roles.openMoney).to.equal(c.roles.moneyTitle);
      expect(c.payouts.memberLink).to.equal(c.payouts.memberTitle);
      expect(c.roles.paid).to.not.equal(c.payouts.paidYou);
      // Sending the shares out of the escrow vs recording dirhams paid by hand.
      expect(c.manager2.payoutsLink).to.not.equal(c.payouts.managerLink);
      expect(c.payouts.managerTitle).to.equal(c.payouts.managerLink);
    });
  }
});
