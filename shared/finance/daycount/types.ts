/** What a day-count convention provides (DESIGN §3 "Year fraction"), one module per convention. */
import type { CivilDate } from "../dates";

export type DayCountConventionName = "actual_360" | "actual_365" | "30_360" | "actual_actual";

/**
 * A year fraction as an exact ratio of integers. Keeping it rational lets `b · r · yf` be computed
 * as one product and one division, so an interest amount that is exactly a half cent stays exact
 * and rounds half-up as DESIGN §3 says (a pre-divided 1/360 would not be exact).
 */
export interface YearFractionRatio {
  readonly numerator: number;
  readonly denominator: number;
}

export interface DayCount {
  readonly name: DayCountConventionName;
  /** The period's day count: actual days, or 30/360 days under 30_360 (used by compound_daily). */
  days(start: CivilDate, end: CivilDate): number;
  yearFractionRatio(start: CivilDate, end: CivilDate): YearFractionRatio;
  /** B of DESIGN §3 compound_daily: 360 for actual_360 and 30_360, 365 otherwise. */
  readonly compoundingBasis: 360 | 365;
}
