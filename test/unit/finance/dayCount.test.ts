/**
 * DESIGN §3 year fractions, one block per convention, with values computed by hand (the working
 * is beside each case). Dates: the integer day arithmetic of shared/finance/dates.ts is checked
 * against luxon, the project's date library, on thousands of random dates.
 */
import DecimalJs from "decimal.js";
import fc from "fast-check";
import { DateTime } from "luxon";
import { yearFraction } from "../../../shared/finance";
import { addMonthsClamped, dayNumber, formatIsoDate, fromDayNumber, parseIsoDate } from "../../../shared/finance/dates";
import { days30360 } from "../../../shared/finance/daycount/thirty360";

const yf = (c: string, a: string, b: string) => yearFraction(c, a, b).toString();
// the expected ratio, to the engine's 34 significant digits
const D34 = DecimalJs.clone({ precision: 34, rounding: DecimalJs.ROUND_HALF_UP });
const frac = (n: number, d: number) => new D34(n).div(d).toString();

describe("actual_360: actual days / 360", () => {
  test("half year: 2026-01-01 → 2026-07-01 is 31+28+31+30+31+30 = 181 days → 181/360", () => {
    expect(yf("actual_360", "2026-01-01", "2026-07-01")).toBe(frac(181, 360));
  });
  test("leap February: 2024-02-01 → 2024-03-01 is 29 days → 29/360", () => {
    expect(yf("actual_360", "2024-02-01", "2024-03-01")).toBe(frac(29, 360));
  });
  test("a whole year is 365/360 = 1.013888…", () => {
    expect(yf("actual_360", "2025-03-15", "2026-03-15")).toBe(frac(365, 360));
  });
});

describe("actual_365: actual days / 365 (leap day counted, denominator fixed)", () => {
  test("2024-01-01 → 2025-01-01 is 366 days → 366/365", () => {
    expect(yf("actual_365", "2024-01-01", "2025-01-01")).toBe(frac(366, 365));
  });
  test("31-day month: 2026-01-31 → 2026-03-03 is 31 days → 31/365", () => {
    expect(yf("actual_365", "2026-01-31", "2026-03-03")).toBe(frac(31, 365));
  });
  test("same day is zero; reversed dates are negative", () => {
    expect(yf("actual_365", "2026-05-05", "2026-05-05")).toBe("0");
    expect(yf("actual_365", "2026-05-06", "2026-05-05")).toBe(frac(-1, 365));
  });
});

describe("30_360 (US): the February and 31st rules of DESIGN §3, in order", () => {
  const cases: [string, string, number, string][] = [
    // [start, end, days, how]
    ["2026-01-15", "2026-03-01", 46, "no rule applies: 30·2 + (1 − 15) = 46"],
    ["2026-01-31", "2026-02-28", 28, "D1 = 31 → 30 (rule 4); D2 = 28 is Feb end but D1 is not: 30·1 + (28 − 30) = 28"],
    ["2026-02-28", "2026-03-31", 30, "D1 last day of Feb → 30 (rule 2); then D2 = 31 and D1 ≥ 30 → 30 (rule 3): 30·1 + 0 = 30"],
    ["2024-02-29", "2025-02-28", 360, "both last day of February → D2 = 30 (rule 1), D1 = 30 (rule 2): 360·1 + 0 + 0 = 360"],
    ["2024-02-28", "2024-03-31", 33, "leap year: Feb 28 is not Feb end, D1 = 28 < 30 so D2 stays 31: 30 + 3 = 33"],
    ["2024-02-29", "2024-03-31", 30, "leap Feb end → D1 = 30; D2 = 31 → 30: 30"],
    ["2026-01-30", "2026-03-31", 60, "D2 = 31 and D1 = 30 → D2 = 30: 30·2 + 0 = 60"],
    ["2026-03-31", "2026-04-30", 30, "D1 = 31 → 30: 30 + 0 = 30"],
    ["2026-01-29", "2026-03-31", 62, "D1 = 29 < 30 so D2 stays 31: 60 + 2 = 62"],
    ["2025-12-31", "2026-12-31", 360, "D1 = 31 → 30, then D2 = 31 with D1 ≥ 30 → 30: 360"],
    ["2026-02-28", "2026-02-28", 0, "same date"],
    ["2026-01-01", "2056-01-01", 10800, "30 years: 360·30"],
  ];
  test.each(cases)("%s → %s is %i days (%s)", (a, b, days) => {
    expect(days30360(parseIsoDate(a), parseIsoDate(b))).toBe(days);
    expect(yf("30_360", a, b)).toBe(frac(days, 360));
  });
});

describe("actual_actual (ISDA): split at 1 January, leap-year days / 366, others / 365", () => {
  test("2023-12-15 → 2024-01-15: 17 days of 2023 /365 + 14 days of 2024 /366 = 0.0848267085859720…", () => {
    expect(yearFraction("actual_actual", "2023-12-15", "2024-01-15").toFixed(16)).toBe("0.0848267085859720");
    // exactly (17·366 + 14·365) / (365·366)
    expect(yf("actual_actual", "2023-12-15", "2024-01-15")).toBe(frac(17 * 366 + 14 * 365, 365 * 366));
  });
  test("inside a leap year: 2024-02-28 → 2024-03-01 is 2 days /366", () => {
    expect(yf("actual_actual", "2024-02-28", "2024-03-01")).toBe(frac(2, 366));
  });
  test("inside a common year: 2026-01-01 → 2026-07-01 is 181/365", () => {
    expect(yf("actual_actual", "2026-01-01", "2026-07-01")).toBe(frac(181, 365));
  });
  test("across three year ends: 2020-06-30 → 2023-06-30 = 185/366 + 1 + 1 + 180/365 = 2.99861516580582…", () => {
    // 2020-06-30 → 2021-01-01: 185 days of leap 2020; 2021 and 2022 whole; 2023-01-01 → 06-30: 180 days
    expect(yearFraction("actual_actual", "2020-06-30", "2023-06-30").toFixed(14)).toBe("2.99861516580582");
  });
  test("a whole calendar year is exactly 1, leap or not", () => {
    expect(yf("actual_actual", "2024-01-01", "2025-01-01")).toBe("1");
    expect(yf("actual_actual", "2025-01-01", "2026-01-01")).toBe("1");
  });
});

describe("inputs", () => {
  test("unknown convention and impossible dates are refused", () => {
    expect(() => yearFraction("actual_999", "2026-01-01", "2026-02-01")).toThrow(/day_count_convention/);
    expect(() => yearFraction("actual_360", "2026-02-30", "2026-03-01")).toThrow(/calendar date/);
    expect(() => yearFraction("actual_360", "2025-02-29", "2026-03-01")).toThrow(/calendar date/);
    expect(() => yearFraction("actual_360", "yesterday", "2026-03-01")).toThrow(/ISO date/);
  });
  test("an ISO instant is taken as its UTC calendar date", () => {
    expect(yf("actual_365", "2026-01-01T23:30:00Z", "2026-01-02")).toBe(frac(1, 365));
  });
});

describe("date arithmetic agrees with luxon", () => {
  const date = fc.integer({ min: dayNumber(1900, 1, 1), max: dayNumber(2150, 12, 31) });
  test("day numbers, formatting and day differences", () => {
    fc.assert(
      fc.property(date, date, (a, b) => {
        const da = fromDayNumber(a);
        const la = DateTime.fromISO(formatIsoDate(da), { zone: "utc" });
        expect(la.isValid).toBe(true);
        expect(la.toISODate()).toBe(formatIsoDate(da));
        const lb = DateTime.fromISO(formatIsoDate(fromDayNumber(b)), { zone: "utc" });
        expect(b - a).toBe(Math.round(lb.diff(la, "days").days));
      }),
      { numRuns: 1000 },
    );
  });
  test("adding months clamps to the month end like luxon's plus({ months })", () => {
    fc.assert(
      fc.property(date, fc.integer({ min: 0, max: 600 }), (a, k) => {
        const d = fromDayNumber(a);
        const ours = formatIsoDate(addMonthsClamped(d, k));
        const theirs = DateTime.fromISO(formatIsoDate(d), { zone: "utc" }).plus({ months: k }).toISODate();
        expect(ours).toBe(theirs);
      }),
      { numRuns: 1000 },
    );
  });
});
