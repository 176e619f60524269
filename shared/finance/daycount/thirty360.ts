/** DESIGN §3 year fraction, `30_360` (30/360 US, the rules in the order DESIGN lists them). */
import { isLastDayOfFebruary, type CivilDate } from "../dates";
import type { DayCount } from "./types";

/**
 * 30/360 US day count. The rules apply in order, each seeing the previous rule's result:
 * 1. D1 and D2 both the last day of February → D2 = 30;
 * 2. D1 the last day of February → D1 = 30;
 * 3. D2 = 31 and D1 ≥ 30 → D2 = 30;
 * 4. D1 = 31 → D1 = 30.
 * Days = 360·(Y2−Y1) + 30·(M2−M1) + (D2−D1).
 */
export function days30360(start: CivilDate, end: CivilDate): number {
  if (end.n < start.n) return -days30360(end, start);
  let d1 = start.d;
  let d2 = end.d;
  const startIsFebEnd = isLastDayOfFebruary(start);
  if (startIsFebEnd && isLastDayOfFebruary(end)) d2 = 30;
  if (startIsFebEnd) d1 = 30;
  if (d2 === 31 && d1 >= 30) d2 = 30;
  if (d1 === 31) d1 = 30;
  return 360 * (end.y - start.y) + 30 * (end.m - start.m) + (d2 - d1);
}

export const thirty360: DayCount = {
  name: "30_360",
  compoundingBasis: 360,
  days: days30360,
  yearFractionRatio(start: CivilDate, end: CivilDate) {
    return { numerator: days30360(start, end), denominator: 360 };
  },
};
