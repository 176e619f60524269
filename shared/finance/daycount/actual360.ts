/** DESIGN §3 year fraction, `actual_360`: actual days / 360. */
import { daysBetween, type CivilDate } from "../dates";
import type { DayCount } from "./types";

export const actual360: DayCount = {
  name: "actual_360",
  compoundingBasis: 360,
  days: daysBetween,
  yearFractionRatio(start: CivilDate, end: CivilDate) {
    return { numerator: daysBetween(start, end), denominator: 360 };
  },
};
