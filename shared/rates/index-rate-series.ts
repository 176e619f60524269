/**
 * Index-rate series arithmetic (seed 003, Index Rates). A series is a step function: a rate is in
 * effect from its effective_date until the next one, so a gap between observations carries the
 * last rate forward, and before the first observation no rate exists.
 */
import Decimal from "decimal.js";
import { DateTime } from "luxon";

export interface RatePoint {
  effective_date: string; // ISO date
  rate: string | Decimal;
}

/** Decimal places kept for the computed average: rates are fractions ("0.0531"), not money. */
export const AVERAGE_DECIMALS = 8;

const day = (iso: string) => DateTime.fromISO(iso, { zone: "utc" });

/** The rate in effect on `date`: the latest effective on or before it, or undefined. */
export function rateOn<T extends RatePoint>(sortedSeries: readonly T[], date: string): T | undefined {
  let lo = 0;
  let hi = sortedSeries.length - 1;
  let found: T | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (sortedSeries[mid].effective_date <= date) {
      found = sortedSeries[mid];
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/**
 * Trailing-12-month average as of `asOf`: the time-weighted mean of the rate in effect on each day
 * of the window (asOf − 12 months, asOf], counting only days on which a rate was in effect. Time
 * weighting is what makes the average honest across irregular observations: a rate that stood for
 * nine months weighs nine times one that stood for one. Rounded half-up to AVERAGE_DECIMALS.
 * Returns null when no rate was in effect on any day of the window.
 */
export function trailing12MonthAverage(sortedSeries: readonly RatePoint[], asOf: string): string | null {
  const end = day(asOf);
  const windowStart = end.minus({ months: 12 }).plus({ days: 1 });
  let weighted = new Decimal(0);
  let days = 0;
  for (let i = 0; i < sortedSeries.length; i++) {
    const from = day(sortedSeries[i].effective_date);
    if (from > end) break;
    const next = i + 1 < sortedSeries.length ? day(sortedSeries[i + 1].effective_date).minus({ days: 1 }) : end;
    const segStart = from < windowStart ? windowStart : from;
    const segEnd = next > end ? end : next;
    const n = Math.round(segEnd.diff(segStart, "days").days) + 1;
    if (n <= 0) continue;
    weighted = weighted.plus(new Decimal(String(sortedSeries[i].rate)).times(n));
    days += n;
  }
  if (days === 0) return null;
  return weighted.div(days).toDecimalPlaces(AVERAGE_DECIMALS, Decimal.ROUND_HALF_UP).toFixed(AVERAGE_DECIMALS);
}

/** The effective dates whose stored average a change at `changedDate` can alter. */
export function affectedWindow(changedDate: string): { from: string; to: string } {
  return { from: changedDate, to: day(changedDate).plus({ months: 12 }).toISODate()! };
}

/** How far back a recomputation must read to see every rate the affected averages use. */
export function lookbackStart(changedDate: string): string {
  return day(changedDate).minus({ months: 12 }).toISODate()!;
}
