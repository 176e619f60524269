/**
 * DESIGN §4 portfolio metrics of a snapshot as of a business date, as pure functions over the
 * loans' servicing figures and the booked cash flows. The snapshots service groups loans per
 * portfolio, per program or per vintage and calls `snapshotMetrics` for each group.
 */
import { parseIsoDate, type IsoDate } from "../dates";
import { Decimal, toDecimal, toMoney, ZERO, type DecimalInput } from "../decimal";
import { FinanceInputError } from "../errors";
import { moneyString, ratioString } from "../rounding";
import { DEFAULT_BUCKET_BOUNDARIES, delinquencyBucket, delinquencyBucketNames, isDelinquent } from "../servicing/delinquency";
import { xirr } from "../xirr";

/** DESIGN §4 moic = collected / disbursed; null when nothing was disbursed. */
export function moic(collected: DecimalInput, disbursed: DecimalInput): Decimal | null {
  const d = toDecimal(disbursed, "disbursed");
  if (d.isZero()) return null;
  return toDecimal(collected, "collected").div(d);
}

/** DESIGN §4 weighted_avg_rate = Σ(rate·balance) / Σ balance; null when the balances sum to zero. */
export function weightedAverageRate(items: readonly { rate: DecimalInput; balance: DecimalInput }[]): Decimal | null {
  let weighted = ZERO;
  let total = ZERO;
  for (const [i, it] of items.entries()) {
    const b = toDecimal(it.balance, `items[${i}].balance`);
    weighted = weighted.plus(toDecimal(it.rate, `items[${i}].rate`).times(b));
    total = total.plus(b);
  }
  return total.isZero() ? null : weighted.div(total);
}

/** Seed 000 vintage: the origination month, "2026-03". */
export function vintageOf(originationDate: IsoDate): string {
  const d = parseIsoDate(originationDate, "origination_date");
  return `${String(d.y).padStart(4, "0")}-${d.m < 10 ? "0" : ""}${d.m}`;
}

export interface LoanMetricInput {
  principal_balance: DecimalInput;
  /** Accrued unpaid interest on the snapshot date (servicing `interestReceivable`). */
  interest_receivable: DecimalInput;
  annual_rate: DecimalInput;
  days_past_due: number;
  grace_period_days?: number | null;
  /**
   * The servicer's own verdict "days past due beyond grace ≥ 1", when the caller has it but not
   * the grace period (the snapshots projection: the loan's status); overrides the dpd/grace test.
   */
  delinquent?: boolean;
}

export interface PortfolioCashFlow {
  date: IsoDate;
  /** A positive amount; the kind gives its sign in the IRR. */
  amount: DecimalInput;
  kind: "disbursement" | "collection";
}

export interface BucketMetrics {
  count: number;
  balance: string;
}

export interface SnapshotMetrics {
  as_of: IsoDate;
  total_balance: string;
  interest_receivable: string;
  delinquent_amount: string;
  loan_count: number;
  weighted_avg_rate: string | null;
  bucket_breakdown: Record<string, BucketMetrics>;
  total_disbursed: string;
  total_collected: string;
  moic: string | null;
  irr: string | null;
}

/**
 * DESIGN §4 metrics as of `as_of`: balances from the loans given (the caller passes the loans in
 * the group on that date), cash flows booked on or before `as_of`. IRR is the XIRR of
 * disbursements (negative) and collections (positive); null where no root exists.
 */
export function snapshotMetrics(input: {
  as_of: IsoDate;
  loans: readonly LoanMetricInput[];
  cash_flows: readonly PortfolioCashFlow[];
  bucket_boundaries?: readonly number[];
}): SnapshotMetrics {
  const asOf = parseIsoDate(input.as_of, "as_of");
  const boundaries = input.bucket_boundaries ?? DEFAULT_BUCKET_BOUNDARIES;
  const buckets: Record<string, { count: number; balance: Decimal }> = {};
  for (const name of delinquencyBucketNames(boundaries)) buckets[name] = { count: 0, balance: ZERO };
  let totalBalance = ZERO;
  let receivable = ZERO;
  let delinquent = ZERO;
  let weighted = ZERO;
  input.loans.forEach((loan, i) => {
    const balance = toMoney(loan.principal_balance, `loans[${i}].principal_balance`);
    totalBalance = totalBalance.plus(balance);
    receivable = receivable.plus(toMoney(loan.interest_receivable, `loans[${i}].interest_receivable`));
    weighted = weighted.plus(toDecimal(loan.annual_rate, `loans[${i}].annual_rate`).times(balance));
    const dpd = loan.days_past_due;
    if (!Number.isInteger(dpd) || dpd < 0) throw new FinanceInputError(`'loans[${i}].days_past_due' must be a non-negative integer`, `loans[${i}].days_past_due`, dpd);
    if (loan.delinquent ?? isDelinquent(dpd, loan.grace_period_days ?? 0)) delinquent = delinquent.plus(balance);
    const bucket = buckets[delinquencyBucket(dpd, boundaries)];
    bucket.count++;
    bucket.balance = bucket.balance.plus(balance);
  });
  let disbursed = ZERO;
  let collected = ZERO;
  const irrFlows: { date: IsoDate; amount: Decimal }[] = [];
  input.cash_flows.forEach((f, i) => {
    if (parseIsoDate(f.date, `cash_flows[${i}].date`).n > asOf.n) return;
    const amount = toMoney(f.amount, `cash_flows[${i}].amount`);
    if (f.kind === "disbursement") {
      disbursed = disbursed.plus(amount);
      irrFlows.push({ date: f.date, amount: amount.neg() });
    } else if (f.kind === "collection") {
      collected = collected.plus(amount);
      irrFlows.push({ date: f.date, amount });
    } else {
      throw new FinanceInputError(`unknown cash flow kind '${String(f.kind)}'`, `cash_flows[${i}].kind`, f.kind);
    }
  });
  const multiple = moic(collected, disbursed);
  const irr = xirr(irrFlows);
  const bucketOut: Record<string, BucketMetrics> = {};
  for (const [name, b] of Object.entries(buckets)) bucketOut[name] = { count: b.count, balance: moneyString(b.balance) };
  return {
    as_of: input.as_of,
    total_balance: moneyString(totalBalance),
    interest_receivable: moneyString(receivable),
    delinquent_amount: moneyString(delinquent),
    loan_count: input.loans.length,
    weighted_avg_rate: totalBalance.isZero() ? null : ratioString(weighted.div(totalBalance)),
    bucket_breakdown: bucketOut,
    total_disbursed: moneyString(disbursed),
    total_collected: moneyString(collected),
    moic: multiple ? ratioString(multiple) : null,
    irr: irr ? ratioString(irr) : null,
  };
}
