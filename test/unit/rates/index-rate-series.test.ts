import Decimal from "decimal.js";
import fc from "fast-check";
import { DateTime } from "luxon";
import { rateOn, trailing12MonthAverage, trailing12MonthAverages } from "../../../shared/rates/index-rate-series";

// Hand computations: the average is time-weighted over the days of (asOf − 12 months, asOf] on
// which some rate was in effect; each rate stands from its effective date until the next one.
describe("trailing12MonthAverage", () => {
  it("weighs each rate by the days it stood in the window", () => {
    // 2025-01-01..06-30 at 5 % = 181 days; 07-01..12-31 at 6 % = 184 days; 365 days in all.
    // (0.05·181 + 0.06·184) / 365 = 20.09 / 365 = 0.0550410958… → 0.05504110
    const series = [
      { effective_date: "2025-01-01", rate: "0.05" },
      { effective_date: "2025-07-01", rate: "0.06" },
    ];
    expect(trailing12MonthAverage(series, "2025-12-31")).toBe("0.05504110");
  });

  it("carries a rate forward across a gap in the series (leap year window)", () => {
    // 2024 is a leap year: 2024-01-01..10-31 at 4 % = 305 days; 11-01..12-31 at 5 % = 61 days.
    // (0.04·305 + 0.05·61) / 366 = 15.25 / 366 = 0.041666… → 0.04166667
    const series = [
      { effective_date: "2024-01-01", rate: "0.04" },
      { effective_date: "2024-11-01", rate: "0.05" },
    ];
    expect(trailing12MonthAverage(series, "2024-12-31")).toBe("0.04166667");
  });

  it("counts only days on which a rate existed when the window starts before the first rate", () => {
    // Window 2024-04-01..2025-03-31, but the first rate is 2025-01-01: 90 days, all at 5 %.
    expect(trailing12MonthAverage([{ effective_date: "2025-01-01", rate: "0.05" }], "2025-03-31")).toBe("0.05000000");
  });

  it("drops days that fell out of the window", () => {
    // Window 2024-07-02..2025-07-01: 364 days at 4 %, 1 day at 6 %. 14.62 / 365 = 0.0400547945… → 0.04005479
    const series = [
      { effective_date: "2024-01-01", rate: "0.04" },
      { effective_date: "2025-07-01", rate: "0.06" },
    ];
    expect(trailing12MonthAverage(series, "2025-07-01")).toBe("0.04005479");
  });

  it("is null before the first rate, and equals the rate on its first day", () => {
    const series = [{ effective_date: "2025-01-01", rate: "0.0531" }];
    expect(trailing12MonthAverage(series, "2024-12-31")).toBeNull();
    expect(trailing12MonthAverage(series, "2025-01-01")).toBe("0.05310000");
    expect(trailing12MonthAverage([], "2025-01-01")).toBeNull();
  });
});

describe("rateOn", () => {
  const series = [
    { effective_date: "2025-01-01", rate: "0.05" },
    { effective_date: "2025-03-15", rate: "0.055" },
    { effective_date: "2025-06-01", rate: "0.06" },
  ];
  it("answers the latest rate effective on or before the date", () => {
    expect(rateOn(series, "2025-03-14")?.rate).toBe("0.05");
    expect(rateOn(series, "2025-03-15")?.rate).toBe("0.055");
    expect(rateOn(series, "2030-01-01")?.rate).toBe("0.06");
  });
  it("answers nothing before the first rate", () => {
    expect(rateOn(series, "2024-12-31")).toBeUndefined();
  });
});

describe("trailing12MonthAverages", () => {
  // Independent reference: walk the window day by day, summing the rate in effect on each day.
  const dayByDay = (series: { effective_date: string; rate: string }[], asOf: string): string | null => {
    const end = DateTime.fromISO(asOf, { zone: "utc" });
    let sum = new Decimal(0);
    let n = 0;
    for (let d = end.minus({ months: 12 }).plus({ days: 1 }); d <= end; d = d.plus({ days: 1 })) {
      const point = rateOn(series, d.toISODate()!);
      if (!point) continue;
      sum = sum.plus(point.rate);
      n++;
    }
    return n ? sum.div(n).toDecimalPlaces(8, Decimal.ROUND_HALF_UP).toFixed(8) : null;
  };

  it("equals a day-by-day walk of each window, for irregular series and any dates", () => {
    const base = DateTime.fromISO("2023-01-01", { zone: "utc" });
    const series = fc
      .uniqueArray(fc.record({ offset: fc.integer({ min: 0, max: 1100 }), bp: fc.integer({ min: 0, max: 1500 }) }), { selector: (p) => p.offset, maxLength: 40 })
      .map((ps) => ps.sort((a, b) => a.offset - b.offset).map((p) => ({ effective_date: base.plus({ days: p.offset }).toISODate()!, rate: new Decimal(p.bp).div(10_000).toFixed(4) })));
    const dates = fc.array(fc.integer({ min: 0, max: 1200 }).map((o) => base.plus({ days: o }).toISODate()!), { minLength: 1, maxLength: 6 });
    fc.assert(
      fc.property(series, dates, (s, asOfs) => {
        expect(trailing12MonthAverages(s, asOfs)).toEqual(asOfs.map((d) => dayByDay(s, d)));
      }),
      { numRuns: 150 },
    );
  });
});
