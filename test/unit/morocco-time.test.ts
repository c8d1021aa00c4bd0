/**
 * The manager's step form takes the time on a clock in Morocco (a datetime-local field sends no offset):
 * server/pages/format.ts moroccoWallClock / fromMoroccoWallClock, with the tz database's rules (UTC+1,
 * UTC+0 during Ramadan).
 */
import { expect } from "chai";
import fc from "fast-check";
import { fromMoroccoWallClock, moroccoWallClock } from "../../server/pages/format";

describe("a time on a clock in Morocco", function () {
  it("is an hour ahead of UTC most of the year and level with it during Ramadan", function () {
    expect(fromMoroccoWallClock("2026-12-04T21:30")).to.equal("2026-12-04T20:30:00.000Z");
    expect(moroccoWallClock(Date.parse("2026-12-04T20:30:00Z"))).to.equal("2026-12-04T21:30");
    // Ramadan 2026 (the tz database puts Morocco on UTC+0 from mid-February to mid-March).
    expect(fromMoroccoWallClock("2026-03-01T12:00")).to.equal("2026-03-01T12:00:00.000Z");
  });

  it("refuses what is not a datetime-local value", function () {
    for (const bad of ["", "2026-12-04", "2026-12-04T21:30Z", "2026-13-04T21:30", "now"])
      expect(fromMoroccoWallClock(bad), bad).to.equal(null);
  });

  it("reads back the minute it shows, at any instant of a decade (property)", function () {
    const start = Date.UTC(2024, 0, 1);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 * 365 * 1440 }), (minutes) => {
        const ms = start + minutes * 60_000;
        const shown = moroccoWallClock(ms);
        const back = Date.parse(fromMoroccoWallClock(shown)!);
        // Across the hour the clock goes back, a wall time names two instants: either is right.
        expect([ms, ms - 3_600_000, ms + 3_600_000]).to.include(back);
        expect(moroccoWallClock(back)).to.equal(shown);
      }),
      { numRuns: 2000 },
    );
  });
});
