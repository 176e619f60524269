/**
 * DESIGN §3 delinquency: days past due = business date − oldest unpaid due date; a payment is late
 * after the product's grace_period_days; buckets current, 1_29, 30_59, 60_89, 90_119, 120_plus by
 * default, with configurable lower boundaries.
 */
import { formatIsoDate, parseIsoDate, type CivilDate } from "../dates";
import { FinanceInputError } from "../errors";
import type { IsoDate, LoanState } from "../types";
import { emptyLog, rollForward } from "./rollForward";
import { loadState, type Working } from "./working";

export const DEFAULT_BUCKET_BOUNDARIES: readonly number[] = [1, 30, 60, 90, 120];

function checkBoundaries(boundaries: readonly number[]): void {
  if (boundaries.length === 0 || boundaries.some((b, i) => !Number.isInteger(b) || b < 1 || (i > 0 && b <= boundaries[i - 1]))) {
    throw new FinanceInputError("bucket boundaries must be increasing positive integers", "boundaries", boundaries);
  }
}

/** Bucket names for lower boundaries [1, 30, 60, 90, 120]: current, 1_29, 30_59, 60_89, 90_119, 120_plus. */
export function delinquencyBucketNames(boundaries: readonly number[] = DEFAULT_BUCKET_BOUNDARIES): string[] {
  checkBoundaries(boundaries);
  const names = ["current"];
  for (let i = 0; i < boundaries.length; i++) {
    names.push(i + 1 < boundaries.length ? `${boundaries[i]}_${boundaries[i + 1] - 1}` : `${boundaries[i]}_plus`);
  }
  return names;
}

/** The default buckets' names, made once: a book's close or snapshot asks for them per loan. */
const DEFAULT_BUCKET_NAMES: readonly string[] = delinquencyBucketNames(DEFAULT_BUCKET_BOUNDARIES);

/** DESIGN §3 bucket of a number of days past due. */
export function delinquencyBucket(daysPastDue: number, boundaries: readonly number[] = DEFAULT_BUCKET_BOUNDARIES): string {
  if (!Number.isInteger(daysPastDue)) throw new FinanceInputError("days past due must be an integer", "days_past_due", daysPastDue);
  const names = boundaries === DEFAULT_BUCKET_BOUNDARIES ? DEFAULT_BUCKET_NAMES : delinquencyBucketNames(boundaries);
  let index = 0;
  for (let i = 0; i < boundaries.length; i++) if (daysPastDue >= boundaries[i]) index = i + 1;
  return names[index];
}

/** DESIGN §4 delinquent: at least one day past due after the grace period. */
export function isDelinquent(daysPastDue: number, gracePeriodDays: number): boolean {
  return daysPastDue - gracePeriodDays >= 1;
}

/** DESIGN §3: a payment due on `dueDate` is late on `businessDate` once the grace period has passed. */
export function isPaymentLate(dueDate: IsoDate, businessDate: IsoDate, gracePeriodDays: number): boolean {
  return parseIsoDate(businessDate, "business_date").n - parseIsoDate(dueDate, "due_date").n > gracePeriodDays;
}

export interface DelinquencyStatus {
  days_past_due: number;
  oldest_unpaid_due_date: IsoDate | null;
  bucket: string;
  /** Installments and statements unpaid past the grace period: candidates for a late fee. */
  late_items: { number: number | null; due_date: IsoDate; days_past_due: number }[];
}

/**
 * Delinquency of a loan on a business date. The state is rolled forward first (on a copy), so
 * installments that fell due since the last activity count. Fee-only items do not make a loan
 * past due.
 */
export function delinquencyStatus(state: LoanState, businessDate: IsoDate, gracePeriodDays = 0, boundaries?: readonly number[]): DelinquencyStatus {
  const date = parseIsoDate(businessDate, "business_date");
  const w = loadState(state);
  if (date.n >= w.anchor.n) rollForward(w, date, emptyLog());
  return delinquencyOf(w, date, gracePeriodDays, boundaries);
}

/** delinquencyStatus of a working state already rolled to the date (read only). */
export function delinquencyOf(w: Working, date: CivilDate, gracePeriodDays = 0, boundaries?: readonly number[]): DelinquencyStatus {
  const owed = w.due.filter((d) => d.kind !== "fee" && (d.interest.gt(0) || d.principal.gt(0)));
  const oldest = owed.length ? owed[0].date : null;
  const dpd = oldest ? Math.max(0, date.n - oldest.n) : 0;
  return {
    days_past_due: dpd,
    oldest_unpaid_due_date: oldest ? formatIsoDate(oldest) : null,
    bucket: delinquencyBucket(dpd, boundaries),
    late_items: owed
      .filter((d) => date.n - d.date.n > gracePeriodDays)
      .map((d) => ({ number: d.number, due_date: formatIsoDate(d.date), days_past_due: date.n - d.date.n })),
  };
}
