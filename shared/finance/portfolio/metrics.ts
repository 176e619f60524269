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

/** A loan's §4 figures, validated and parsed once, ready to count in any number of groups. */
export interface ParsedLoanMetric {
  balance: Decimal;
  receivable: Decimal;
  /** annual_rate · balance, the weighted-rate numerator. */
  weighted: Decimal;
  delinquent: boolean;
  bucket: string;
}

/** Validates and parses one loan's metric input (`field` names it in an error). */
export function parseLoanMetric(loan: LoanMetricInput, field = "loan", boundaries: readonly number[] = DEFAULT_BUCKET_BOUNDARIES): ParsedLoanMetric {
  const balance = toMoney(loan.principal_balance, `${field}.principal_balance`);
  const receivable = toMoney(loan.interest_receivable, `${field}.interest_receivable`);
  const weighted = toDecimal(loan.annual_rate, `${field}.annual_rate`).times(balance);
  const dpd = loan.days_past_due;
  if (!Number.isInteger(dpd) || dpd < 0) throw new FinanceInputError(`'${field}.days_past_due' must be a non-negative integer`, `${field}.days_past_due`, dpd);
  return { balance, receivable, weighted, delinquent: loan.delinquent ?? isDelinquent(dpd, loan.grace_period_days ?? 0), bucket: delinquencyBucket(dpd, boundaries) };
}

/**
 * DESIGN §4 metrics of one group, accumulated loan by loan and flow by flow, so a caller that
 * streams a book can count each loan in its portfolio, program and vintage in one pass (parsing
 * it once) and never hold a group's cash flows: they are summed per day and kind as they come
 * (the totals and the XIRR, which sums per day itself, are the same). Groups merge (`merge`), so
 * small groups can be summed into larger ones.
 */
export class SnapshotMetricsAccumulator {
  private readonly buckets = new Map<string, { count: number; balance: Decimal }>();
  private totalBalance = ZERO;
  private receivable = ZERO;
  private delinquent = ZERO;
  private weighted = ZERO;
  private count = 0;
  /** date → [paid out, collected], both positive. */
  private readonly days = new Map<IsoDate, [Decimal, Decimal]>();

  constructor(
    readonly asOf: IsoDate,
    private readonly boundaries: readonly number[] = DEFAULT_BUCKET_BOUNDARIES,
  ) {
    parseIsoDate(asOf, "as_of");
    for (const name of delinquencyBucketNames(boundaries)) this.buckets.set(name, { count: 0, balance: ZERO });
  }

  addLoan(loan: ParsedLoanMetric): void {
    this.count++;
    this.totalBalance = this.totalBalance.plus(loan.balance);
    this.receivable = this.receivable.plus(loan.receivable);
    this.weighted = this.weighted.plus(loan.weighted);
    if (loan.delinquent) this.delinquent = this.delinquent.plus(loan.balance);
    const bucket = this.buckets.get(loan.bucket);
    if (!bucket) throw new FinanceInputError(`unknown delinquency bucket '${loan.bucket}'`, "bucket", loan.bucket);
    bucket.count++;
    bucket.balance = bucket.balance.plus(loan.balance);
  }

  /**
   * A cash flow already validated by the caller (an ISO date, a money amount, positive; `kind`
   * gives the sign); one dated after `asOf` is not counted.
   */
  addCashFlow(date: IsoDate, amount: Decimal, kind: PortfolioCashFlow["kind"]): void {
    if (date > this.asOf) return;
    if (kind !== "disbursement" && kind !== "collection") throw new FinanceInputError(`unknown cash flow kind '${String(kind)}'`, "kind", kind);
    const side = kind === "disbursement" ? 0 : 1;
    const day = this.days.get(date);
    if (day) day[side] = day[side].plus(amount);
    else this.days.set(date, side === 0 ? [amount, ZERO] : [ZERO, amount]);
  }

  /** Adds another group's loans and flows (same date and buckets) to this one. */
  merge(other: SnapshotMetricsAccumulator): void {
    if (other.asOf !== this.asOf) throw new FinanceInputError("groups of different dates cannot merge", "as_of", other.asOf);
    this.count += other.count;
    this.totalBalance = this.totalBalance.plus(other.totalBalance);
    this.receivable = this.receivable.plus(other.receivable);
    this.weighted = this.weighted.plus(other.weighted);
    this.delinquent = this.delinquent.plus(other.delinquent);
    for (const [name, b] of other.buckets) {
      if (b.count === 0) continue;
      const mine = this.buckets.get(name);
      if (!mine) throw new FinanceInputError(`unknown delinquency bucket '${name}'`, "bucket", name);
      mine.count += b.count;
      mine.balance = mine.balance.plus(b.balance);
    }
    for (const [date, [out, inn]] of other.days) {
      const day = this.days.get(date);
      if (day) {
        day[0] = day[0].plus(out);
        day[1] = day[1].plus(inn);
      } else this.days.set(date, [out, inn]);
    }
  }

  result(): SnapshotMetrics {
    let disbursed = ZERO;
    let collected = ZERO;
    const irrFlows: { date: IsoDate; amount: Decimal }[] = [];
    for (const [date, [out, inn]] of this.days) {
      disbursed = disbursed.plus(out);
      collected = collected.plus(inn);
      irrFlows.push({ date, amount: inn.minus(out) });
    }
    const multiple = moic(collected, disbursed);
    const irr = xirr(irrFlows);
    const bucketOut: Record<string, BucketMetrics> = {};
    for (const [name, b] of this.buckets) bucketOut[name] = { count: b.count, balance: moneyString(b.balance) };
    return {
      as_of: this.asOf,
      total_balance: moneyString(this.totalBalance),
      interest_receivable: moneyString(this.receivable),
      delinquent_amount: moneyString(this.delinquent),
      loan_count: this.count,
      weighted_avg_rate: this.totalBalance.isZero() ? null : ratioString(this.weighted.div(this.totalBalance)),
      bucket_breakdown: bucketOut,
      total_disbursed: moneyString(disbursed),
      total_collected: moneyString(collected),
      moic: multiple ? ratioString(multiple) : null,
      irr: irr ? ratioString(irr) : null,
    };
  }
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
  const boundaries = input.bucket_boundaries ?? DEFAULT_BUCKET_BOUNDARIES;
  const acc = new SnapshotMetricsAccumulator(input.as_of, boundaries);
  input.loans.forEach((loan, i) => acc.addLoan(parseLoanMetric(loan, `loans[${i}]`, boundaries)));
  const asOf = parseIsoDate(input.as_of, "as_of");
  input.cash_flows.forEach((f, i) => {
    if (parseIsoDate(f.date, `cash_flows[${i}].date`).n > asOf.n) return;
    const amount = toMoney(f.amount, `cash_flows[${i}].amount`);
    if (f.kind !== "disbursement" && f.kind !== "collection") throw new FinanceInputError(`unknown cash flow kind '${String(f.kind)}'`, `cash_flows[${i}].kind`, f.kind);
    acc.addCashFlow(f.date, amount, f.kind);
  });
  return acc.result();
}
