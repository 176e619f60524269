/** What an accrual method provides (DESIGN §3), one module per method. */
import type { CivilDate } from "../dates";
import type { Decimal } from "../decimal";
import type { DayCount } from "../daycount";

export type AccrualMethodName = "simple" | "compound_daily" | "compound_monthly" | "rule_of_78";

/** Unrounded interest on a constant balance over [start, end) at one rate; the caller rounds. */
export type SpanAccruer = (balance: Decimal, start: CivilDate, end: CivilDate) => Decimal;

export interface AccrualMethod {
  readonly name: AccrualMethodName;
  /** DESIGN §3 periodic rate i of the level-payment formula. */
  periodicRate(annualRate: Decimal, dc: DayCount): Decimal;
  /**
   * An accruer bound to one annual rate and day count. Binding lets it memoise the per-day-count
   * factors a schedule reuses on every row (a 30-year schedule has at most a handful of distinct
   * period lengths).
   */
  spanAccruer(annualRate: Decimal, dc: DayCount): SpanAccruer;
  /** rule_of_78: interest is precomputed per period by sum of digits, not accrued by days. */
  readonly precomputed: boolean;
}
