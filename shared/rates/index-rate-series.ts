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
  return trailing12MonthAverages(sortedSeries, [asOf])[0];
}

/**
 * trailing12MonthAverage for many dates of one series at once (a new observation re-averages every
 * later one within 12 months): each date is parsed once, each window found by binary search and
 * summed over its own points only. Measured 520 ms → a few ms for 50 dates over 730 daily points,
 * which had held `POST /index-rates` near 20 a second.
 */
export function trailing12MonthAverages(sortedSeries: readonly RatePoint[], asOfs: readonly string[]): (string | null)[] {
  const days = sortedSeries.map((p) => dayNumber(day(p.effective_date)));
  const rates = sortedSeries.map((p) => new Decimal(String(p.rate)));
  return asOfs.map((asOf) => {
    const endDay = day(asOf);
    const end = dayNumber(endDay);
    const windowStart = dayNumber(endDay.minus({ months: 12 }).plus({ days: 1 }));
    let weighted = new Decimal(0);
    let count = 0;
    // From the rate in effect on the window's first day (or the first one after it).
    for (let i = Math.max(0, lastOnOrBefore(days, windowStart)); i < days.length && days[i] <= end; i++) {
      const next = i + 1 < days.length ? days[i + 1] - 1 : end;
      const n = Math.min(next, end) - Math.max(days[i], windowStart) + 1;
      if (n <= 0) continue;
      weighted = weighted.plus(rates[i].times(n));
      count += n;
    }
    if (count === 0) return null;
    return weighted.div(count).toDecimalPlaces(AVERAGE_DECIMALS, Decimal.ROUND_HALF_UP).toFixed(AVERAGE_DECIMALS);
  });
}

/** Whole days since the epoch of a UTC date. */
function dayNumber(d: DateTime): number {
  return Math.round(d.toMillis() / 86_400_000);
}

/** Index of the last day on or before `target` in an ascending list; -1 when none. */
function lastOnOrBefore(sortedDays: readonly number[], target: number): number {
  let lo = 0;
  let hi = sortedDays.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (sortedDays[mid] <= target) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/** The effective dates whose stored average a change at `changedDate` can alter. */
export function affectedWindow(changedDate: string): { from: string; to: string } {
  return { from: changedDate, to: day(changedDate).plus({ months: 12 }).toISODate()! };
}

/** How far back a recomputation must read to see every rate the affected averages use. */
export function lookbackStart(changedDate: string): string {
  return day(changedDate).minus({ months: 12 }).toISODate()!;
}
