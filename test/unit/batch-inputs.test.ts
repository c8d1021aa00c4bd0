/**
 * The batch service's input schemas (server/services/batches.ts): the API validates with them and the
 * workspace forms will parse with them, so what they accept and how they name a wrong field is the
 * contract of both. Pure parsing, no chain: part of `npm run test:unit`.
 */
import { expect } from "chai";
import { zeroHash } from "viem";
import {
  certifyInput,
  lotCode,
  mergeBatchesInput,
  registerBatchInput,
  splitBatchInput,
} from "../../server/services/batches";

const ADDRESS = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const MEMBER = "5f0c2a54-7a9e-4d2b-9a53-2f9d7c1e6b10";

function registration(overrides: Record<string, unknown> = {}) {
  return {
    cooperativeId: 1,
    productCode: "rose-water",
    lotCode: "ROSE-2026/01",
    quantity: "250",
    unit: "l",
    productionDate: "2026-05-02",
    contributors: [{ memberId: MEMBER, weight: "3" }],
    ...overrides,
  };
}

/** The messages of the issues on `field` (a dotted path) when `value` is refused. */
function messagesOn(
  schema: { safeParse(v: unknown): { success: boolean; error?: unknown } },
  value: unknown,
  field: string,
) {
  const r = schema.safeParse(value);
  expect(r.success, `expected ${JSON.stringify(value)} to be refused`).to.equal(false);
  const issues = (r.error as { issues: { path: PropertyKey[]; message: string }[] }).issues;
  return issues.filter((i) => i.path.join(".") === field).map((i) => i.message);
}

describe("batch service inputs", function () {
  describe("lot codes (GS1 AI (10))", function () {
    it("accepts the AI (10) character set, including / % and quotes", function () {
      for (const lot of ["ROSE-2026/01", "ROSE/24%A", '=HYPERLINK("x")', "a", "Z".repeat(20)]) {
        expect(lotCode.parse(lot), lot).to.equal(lot);
      }
    });

    it("refuses spaces, Arabic, # and the empty code", function () {
      for (const lot of ["ROSE 1", "ورد-1", "LOT#1", ""]) {
        expect(lotCode.safeParse(lot).success, lot).to.equal(false);
      }
      expect(messagesOn(registerBatchInput, registration({ lotCode: "ROSE 1" }), "lotCode")).to.deep.equal([
        "must use GS1 AI (10) characters",
      ]);
    });

    it("refuses a code over 20 characters by its length only, not also as bad characters", function () {
      const messages = messagesOn(registerBatchInput, registration({ lotCode: "A".repeat(21) }), "lotCode");
      expect(messages.length).to.be.greaterThan(0);
      expect(messages).to.not.include("must use GS1 AI (10) characters");
    });

    it("applies to the children of a split too", function () {
      const refused = messagesOn(
        splitBatchInput,
        { children: [{ lotCode: "A B", quantity: 1 }] },
        "children.0.lotCode",
      );
      expect(refused).to.deep.equal(["must use GS1 AI (10) characters"]);
    });
  });

  describe("registration", function () {
    it("parses quantities and weights to bigint, dates to UTC seconds, with defaults for the optional fields", function () {
      const parsed = registerBatchInput.parse(registration());
      expect(parsed.quantity).to.equal(250n);
      expect(parsed.contributors[0].weight).to.equal(3n);
      expect(parsed.productionDate).to.equal(BigInt(Date.UTC(2026, 4, 2) / 1000));
      expect(parsed.origin).to.equal("");
      expect(parsed.metadataHash).to.equal(zeroHash);
      expect(parsed.gtin).to.equal(undefined);
    });

    it("takes a contributor by member id or by address, never both nor neither", function () {
      expect(
        registerBatchInput.safeParse(registration({ contributors: [{ address: ADDRESS, weight: 1 }] })).success,
      ).to.equal(true);
      for (const c of [{ memberId: MEMBER, address: ADDRESS, weight: 1 }, { weight: 1 }]) {
        expect(messagesOn(registerBatchInput, registration({ contributors: [c] }), "contributors.0")).to.deep.equal([
          "give exactly one of memberId or address",
        ]);
      }
    });

    it("refuses a zero weight, a GTIN with a wrong check digit and an unknown field, naming each", function () {
      expect(
        messagesOn(
          registerBatchInput,
          registration({ contributors: [{ memberId: MEMBER, weight: 0 }] }),
          "contributors.0.weight",
        ),
      ).to.have.length(1);
      expect(messagesOn(registerBatchInput, registration({ gtin: "6111234567890" }), "gtin")).to.have.length(1);
      const unknown = registerBatchInput.safeParse(registration({ role: "platform_admin" }));
      expect(unknown.success).to.equal(false);
    });
  });

  it("a merge draws from 1 to 20 batches", function () {
    const { contributors: _none, ...info } = registration();
    const input = (n: number) => ({
      ...info,
      inputs: Array.from({ length: n }, (_, i) => ({
        batchId: `0x${(i + 1).toString(16).padStart(64, "0")}`,
        quantity: 1,
      })),
    });
    expect(mergeBatchesInput.safeParse(input(1)).success).to.equal(true);
    expect(mergeBatchesInput.safeParse(input(20)).success).to.equal(true);
    expect(mergeBatchesInput.safeParse(input(0)).success).to.equal(false);
    expect(mergeBatchesInput.safeParse(input(21)).success).to.equal(false);
  });

  it("a certification is valid until a date or a date-time with an offset", function () {
    const until = (validUntil: string) => certifyInput.safeParse({ scheme: "organic", validUntil });
    expect(until("2027-01-01").success).to.equal(true);
    expect(until("2027-01-01T00:00:00+01:00").success).to.equal(true);
    expect(until("2027-01-01T00:00:00").success).to.equal(false);
  });
});
