/** DESIGN §3 year fraction, `actual_365` (Actual/365 Fixed): actual days / 365, leap years included. */
import { daysBetween, type CivilDate } from "../dates";
import type { DayCount } from "./types";

export const actual365: DayCount = {
  name: "actual_365",
  compoundingBasis: 365,
  days: daysBetween,
  yearFractionRatio(start: CivilDate, end: CivilDate) {
    return { numerator: daysBetween(start, end), denominator: 365 };
  },
};
