/**
 * domain/payouts.ts: the reconciliation of entitlements (shares of releases) with payouts.
 */
import { expect } from "chai";
import { reconcile, totalOf, type PayoutFact } from "../../domain/payouts";

const MAD = "0x00000000000000000000000000000000000000aa";
const [A, B, C] = [
  "0x0000000000000000000000000000000000000001",
  "0x0000000000000000000000000000000000000002",
  "0x0000000000000000000000000000000000000003",
];

function paid(member: string, amount: bigint, overrides: Partial<PayoutFact> = {}): PayoutFact {
  return {
    member,
    token: MAD,
    tokenAmount: amount,
    dirhams: amount,
    purpose: "saleShare",
    status: "recorded",
    ...overrides,
  };
}

describe("domain: payouts reconciliation", function () {
  it("one paid by M-Wallet who confirms, one paid in cash who contests, one not paid yet", function () {
    const rows = reconcile(
      [
        { member: A, token: MAD, amount: 44_500n },
        { member: B, token: MAD, amount: 26_700n },
        { member: C, token: MAD, amount: 17_800n },
      ],
      [paid(A, 44_500n, { status: "confirmed" }), paid(B, 26_700n, { status: "contested" })],
    );
    expect(rows.map((r) => [r.member, r.entitled, r.paid, r.confirmed, r.contested, r.outstanding])).to.deep.equal([
      [A, 44_500n, 44_500n, 44_500n, 0n, 0n],
      // Contested: not paid, still owed to her.
      [B, 26_700n, 0n, 0n, 26_700n, 26_700n],
      [C, 17_800n, 0n, 0n, 0n, 17_800n],
    ]);
    const total = totalOf(rows, MAD);
    expect([total.entitled, total.paid, total.confirmed, total.contested, total.outstanding]).to.deep.equal([
      89_000n,
      44_500n,
      44_500n,
      26_700n,
      44_500n,
    ]);
  });

  it("premiums add to what she is entitled to; an advance beyond her shares shows as negative outstanding", function () {
    const [row] = reconcile(
      [{ member: A, token: MAD, amount: 10_000n }],
      [paid(A, 5_000n, { purpose: "womensPremium" }), paid(A, 20_000n, { purpose: "advance", status: "confirmed" })],
    );
    expect([
      row.shares,
      row.premiums,
      row.entitled,
      row.paid,
      row.advances,
      row.unanswered,
      row.outstanding,
    ]).to.deep.equal([10_000n, 5_000n, 15_000n, 25_000n, 20_000n, 5_000n, -10_000n]);
  });

  it("a contested advance or premium counts neither as paid nor as entitled", function () {
    const [row] = reconcile(
      [{ member: A, token: MAD, amount: 239_500n }],
      [
        paid(A, 9_999_999_900n, { purpose: "advance", status: "contested" }),
        paid(A, 5_000n, { purpose: "womensPremium", status: "contested" }),
        paid(A, 1_000n, { purpose: "saleShare", status: "confirmed" }),
      ],
    );
    expect([
      row.premiums,
      row.entitled,
      row.paid,
      row.advances,
      row.contested,
      row.outstanding,
      row.paidDirhams,
      row.payouts,
    ]).to.deep.equal([0n, 239_500n, 1_000n, 0n, 10_000_004_900n, 238_500n, 1_000n, 3]);
  });

  it("keeps tokens apart and matches members whatever the letter case", function () {
    const EUR = "0x00000000000000000000000000000000000000bb";
    const rows = reconcile(
      [
        { member: A.toUpperCase().replace("0X", "0x"), token: MAD, amount: 1n },
        { member: A, token: EUR, amount: 2n },
      ],
      [paid(A, 1n)],
    );
    expect(rows.map((r) => [r.token, r.outstanding])).to.deep.equal([
      [MAD, 0n],
      [EUR, 2n],
    ]);
  });
});
