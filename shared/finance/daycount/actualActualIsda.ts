/**
 * DESIGN §3 year fraction, `actual_actual` (ISDA): split the period at each 1 January; days in a
 * leap year count 1/366, days in other years 1/365. Not Excel's YEARFRAC basis 1, which divides
 * all days by the average year length of the years spanned.
 */
import { dayNumber, daysBetween, isLeapYear, type CivilDate } from "../dates";
import type { DayCount } from "./types";

/** Days of [start, end) falling in leap years and in other years. */
export function splitDaysByLeapYear(start: CivilDate, end: CivilDate): { leap: number; common: number } {
  let leap = 0;
  let common = 0;
  let from = start.n;
  for (let y = start.y; y <= end.y; y++) {
    const nextJan1 = y === end.y ? end.n : dayNumber(y + 1, 1, 1);
    const days = nextJan1 - from;
    if (isLeapYear(y)) leap += days;
    else common += days;
    from = nextJan1;
  }
  return { leap, common };
}

export const actualActualIsda: DayCount = {
  name: "actual_actual",
  compoundingBasis: 365,
  days: daysBetween,
  yearFractionRatio(start: CivilDate, end: CivilDate) {
    if (end.n < start.n) {
      const r = actualActualIsda.yearFractionRatio(end, start);
      return { numerator: -r.numerator, denominator: r.denominator };
    }
    const { leap, common } = splitDaysByLeapYear(start, end);
    if (leap === 0) return { numerator: common, denominator: 365 };
    if (common === 0) return { numerator: leap, denominator: 366 };
    // leap/366 + common/365 over the common denominator 365·366, still an exact integer ratio
    return { numerator: leap * 365 + common * 366, denominator: 365 * 366 };
  },
};
