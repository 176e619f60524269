/**
 * Business dates for the finance engine (DESIGN §2: ISO dates, UTC date arithmetic, no zones).
 *
 * A date is held as a `CivilDate`: year, month, day and its day number (days since 1970-01-01),
 * so day counts are integer subtraction. Plain "YYYY-MM-DD" strings are parsed and checked here
 * directly; anything else ISO (an instant, a week date…) goes through luxon in UTC. Schedules and
 * servicing loops never call luxon: a 30-year schedule would otherwise spend most of its time
 * building DateTime objects (the bench measures this). The test suite checks the integer
 * arithmetic below against luxon on thousands of random dates.
 */
import { DateTime } from "luxon";
import { FinanceInputError } from "./errors";

export type IsoDate = string;

export interface CivilDate {
  readonly y: number;
  readonly m: number; // 1..12
  readonly d: number; // 1..31
  /** days since 1970-01-01 */
  readonly n: number;
}

export function isLeapYear(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

export function daysInMonth(y: number, m: number): number {
  return m === 2 && isLeapYear(y) ? 29 : MONTH_DAYS[m - 1];
}

/** Day number of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
export function dayNumber(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const mp = (m + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** Inverse of dayNumber (civil_from_days). */
export function fromDayNumber(n: number): CivilDate {
  const z = n + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return { y, m, d, n };
}

export function civilDate(y: number, m: number, d: number): CivilDate {
  return { y, m, d, n: dayNumber(y, m, d) };
}

const PLAIN_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Parses an ISO date (or an ISO instant, taken as its UTC calendar date). Throws FinanceInputError. */
export function parseIsoDate(value: IsoDate, field = "date"): CivilDate {
  if (typeof value !== "string") throw new FinanceInputError(`'${field}' must be an ISO date string`, field, value);
  const plain = PLAIN_DATE.exec(value);
  if (plain) {
    const y = +plain[1];
    const m = +plain[2];
    const d = +plain[3];
    if (m < 1 || m > 12 || d < 1 || d > daysInMonth(y, m)) {
      throw new FinanceInputError(`'${field}' is not a calendar date`, field, value);
    }
    return civilDate(y, m, d);
  }
  const dt = DateTime.fromISO(value, { zone: "utc" });
  if (!dt.isValid) throw new FinanceInputError(`'${field}' must be an ISO date, e.g. "2026-03-01"`, field, value);
  return civilDate(dt.year, dt.month, dt.day);
}

function pad2(x: number): string {
  return x < 10 ? "0" + x : String(x);
}

export function formatIsoDate(date: CivilDate): IsoDate {
  const y = date.y;
  const ys = y >= 1000 && y <= 9999 ? String(y) : String(y).padStart(4, "0");
  return `${ys}-${pad2(date.m)}-${pad2(date.d)}`;
}

/** Actual days from `start` to `end` (negative when end is before start). */
export function daysBetween(start: CivilDate, end: CivilDate): number {
  return end.n - start.n;
}

export function addDays(date: CivilDate, days: number): CivilDate {
  return fromDayNumber(date.n + days);
}

/**
 * `anchor` moved by `months`, keeping the anchor's day of month and clamping it to the target
 * month's last day (DESIGN §3 due dates). Always computed from the anchor, never chained, so a
 * 31st anchor gives Jan 31, Feb 28, Mar 31 rather than drifting to the 28th.
 */
export function addMonthsClamped(anchor: CivilDate, months: number): CivilDate {
  const total = anchor.y * 12 + (anchor.m - 1) + months;
  const y = Math.floor(total / 12);
  const m = total - y * 12 + 1;
  const d = Math.min(anchor.d, daysInMonth(y, m));
  return civilDate(y, m, d);
}

export function isLastDayOfFebruary(date: CivilDate): boolean {
  return date.m === 2 && date.d === daysInMonth(date.y, 2);
}

export function compareDates(a: CivilDate, b: CivilDate): number {
  return a.n - b.n;
}

export function minDate(a: CivilDate, b: CivilDate): CivilDate {
  return a.n <= b.n ? a : b;
}

export function maxDate(a: CivilDate, b: CivilDate): CivilDate {
  return a.n >= b.n ? a : b;
}
