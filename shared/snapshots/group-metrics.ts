/**
 * DESIGN.md §4 / §10 metrics of a group of projected loans (a portfolio, a program, a vintage) as
 * of a business date, through the finance engine's `SnapshotMetricsAccumulator` (decimal.js; nothing is
 * averaged or divided in the database). Pure.
 *
 * Choices (documented in the README of the service):
 * - positions are the newest the projection holds (the chain snapshots D right after D's close;
 *   the service refuses an ad-hoc snapshot for a date before them); cash flows, totals, IRR and
 *   MOIC count only transactions dated on or before D;
 * - `delinquent_amount` counts loans with days past due ≥ 1 after the grace period the loan's
 *   attributes carry (status `delinquent` for an event from before they carried it);
 * - total_disbursed = Σ cash outflows (disbursements, draws, credit refunds), total_collected =
 *   Σ cash inflows (payments, recoveries, buyouts), as seed 004 classes them.
 */
import { parseLoanMetric, SnapshotMetricsAccumulator, xirr, moic, type LoanMetricInput, type ParsedLoanMetric, type SnapshotMetrics } from "../finance";
import { Decimal } from "../finance";
import { moneyString, ratioString } from "../finance";
import { flowsThrough, loanFigures, type CashFlowEntry, type LoanFigures, type ProjectedLoan } from "./loan-projection";

/** DESIGN.md §4 input of a loan: its position and rate, with the grace its attributes carry. */
export function metricInput(f: LoanFigures): LoanMetricInput {
  return {
    principal_balance: f.principal_balance,
    interest_receivable: f.interest_receivable,
    annual_rate: f.annual_rate,
    days_past_due: f.days_past_due,
    // DESIGN.md §4 "days past due ≥ 1 after grace", with the grace the loan event carries; an
    // event from before the attribute existed falls back to the servicer's own status.
    ...(f.grace_period_days !== null ? { grace_period_days: f.grace_period_days } : { delinquent: f.status === "delinquent" }),
  };
}

/** A loan parsed once (decimal.js), to count in every group it belongs to. */
export interface ParsedLoan {
  metric: ParsedLoanMetric;
  /** Live cash flows: positive amounts, the kind giving the sign. */
  flows: { date: string; amount: Decimal; kind: "disbursement" | "collection" }[];
}

export function parseLoan(loanId: string, f: LoanFigures, flows: readonly CashFlowEntry[]): ParsedLoan {
  const out: ParsedLoan["flows"] = [];
  for (const c of flows) {
    if (c.gone) continue;
    const a = new Decimal(c.amount);
    out.push(a.isNegative() ? { date: c.date, amount: a.neg(), kind: "disbursement" } : { date: c.date, amount: a, kind: "collection" });
  }
  return { metric: parseLoanMetric(metricInput(f), `loans.${loanId}`), flows: out };
}

/** Counts a parsed loan in a group: its figures and its cash flows through the group's date. */
export function addParsed(acc: SnapshotMetricsAccumulator, loan: ParsedLoan): void {
  acc.addLoan(loan.metric);
  for (const f of loan.flows) acc.addCashFlow(f.date, f.amount, f.kind);
}

/** Counts a projected loan in a group (nothing when it has no position yet). */
export function addLoan(acc: SnapshotMetricsAccumulator, p: ProjectedLoan): void {
  const f = loanFigures(p);
  if (f) addParsed(acc, parseLoan(p._id, f, p.flows));
}

/** §4 metrics of the loans given (the caller picked the group's members on `asOf`). */
export function groupMetrics(asOf: string, loans: readonly ProjectedLoan[]): SnapshotMetrics {
  const acc = new SnapshotMetricsAccumulator(asOf);
  for (const l of loans) addLoan(acc, l);
  return acc.result();
}

export interface SaleTerms {
  investor_id: string;
  sale_date: string;
  price: string;
  loan_ids: string[];
}

export interface BuyerView {
  investor_id: string;
  sale_date: string;
  purchase_price: string;
  collected_since_sale: string;
  irr: string | null;
  moic: string | null;
}

/**
 * DESIGN.md §10 the buyer's view of a sold portfolio as of `asOf`: the purchase price paid at the
 * sale date (outflow), the sold loans' collections dated after it (inflows), net of cash paid out
 * to borrowers after the sale (draws, refunds).
 */
export function buyerView(sale: SaleTerms, loans: readonly Pick<ProjectedLoan, "_id" | "flows">[], asOf: string): BuyerView {
  const sold = new Set(sale.loan_ids);
  const flows: { date: string; amount: Decimal }[] = [{ date: sale.sale_date, amount: new Decimal(sale.price).neg() }];
  let collected = new Decimal(0);
  let paidOut = new Decimal(0);
  for (const l of loans) {
    if (!sold.has(l._id)) continue;
    for (const f of flowsThrough(l, asOf)) {
      if (f.date <= sale.sale_date) continue;
      const a = new Decimal(f.amount);
      if (a.isNegative()) paidOut = paidOut.plus(a.neg());
      else collected = collected.plus(a);
      flows.push({ date: f.date, amount: a });
    }
  }
  const invested = paidOut.plus(sale.price);
  const multiple = moic(collected, invested);
  const irr = xirr(flows);
  return {
    investor_id: sale.investor_id,
    sale_date: sale.sale_date,
    purchase_price: moneyString(new Decimal(sale.price)),
    collected_since_sale: moneyString(collected),
    irr: irr ? ratioString(irr) : null,
    moic: multiple ? ratioString(multiple) : null,
  };
}

export const METRIC_NAMES = ["total_balance", "interest_receivable", "delinquent_amount", "loan_count", "weighted_avg_rate", "bucket_breakdown", "irr", "moic", "total_disbursed", "total_collected"] as const;
