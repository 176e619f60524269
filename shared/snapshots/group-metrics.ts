/**
 * DESIGN.md §4 / §10 metrics of a group of projected loans (a portfolio, a program, a vintage) as
 * of a business date, through the finance engine's `snapshotMetrics` (decimal.js; nothing is
 * averaged or divided in the database). Pure.
 *
 * Choices (documented in the README of the service):
 * - positions are the newest the projection holds (the chain snapshots D right after D's close);
 *   cash flows, totals, IRR and MOIC count only transactions dated on or before D;
 * - `delinquent_amount` counts loans with days past due ≥ 1 after the grace period the loan's
 *   attributes carry (status `delinquent` for an event from before they carried it);
 * - total_disbursed = Σ cash outflows (disbursements, draws, credit refunds), total_collected =
 *   Σ cash inflows (payments, recoveries, buyouts), as seed 004 classes them.
 */
import { snapshotMetrics, xirr, moic, type LoanMetricInput, type PortfolioCashFlow, type SnapshotMetrics } from "../finance";
import { Decimal } from "../finance";
import { moneyString, ratioString } from "../finance";
import { flowsThrough, type ProjectedLoan } from "./loan-projection";

/** A loan's metric input, parsed once (decimal.js) for every group the loan is in. */
const parsedInputs = new WeakMap<ProjectedLoan, LoanMetricInput>();
export function metricInput(p: ProjectedLoan): LoanMetricInput {
  const cached = parsedInputs.get(p);
  if (cached) return cached;
  const s = p.state!;
  const input: LoanMetricInput = {
    principal_balance: new Decimal(s.principal_balance),
    interest_receivable: new Decimal(s.interest_receivable),
    annual_rate: new Decimal(p.attributes!.annual_rate),
    days_past_due: s.days_past_due,
    // DESIGN.md §4 "days past due ≥ 1 after grace", with the grace the loan event carries; an
    // event from before the attribute existed falls back to the servicer's own status.
    ...(typeof p.attributes!.grace_period_days === "number" ? { grace_period_days: p.attributes!.grace_period_days } : { delinquent: s.status === "delinquent" }),
  };
  parsedInputs.set(p, input);
  return input;
}

/** A loan's live cash flows, parsed once and kept for every group the loan is in (portfolio, program, vintage). */
const parsedFlows = new WeakMap<ProjectedLoan, { date: string; amount: Decimal }[]>();
function liveFlows(p: ProjectedLoan): { date: string; amount: Decimal }[] {
  let list = parsedFlows.get(p);
  if (!list) {
    list = [];
    for (const f of p.flows) if (!f.gone) list.push({ date: f.date, amount: new Decimal(f.amount) });
    parsedFlows.set(p, list);
  }
  return list;
}

/**
 * The group's cash flows through `asOf`, summed per day and kind: the totals and the XIRR (which
 * sums per day itself) are the same, and the engine reads hundreds of days, not every transaction.
 */
export function dailyCashFlows(loans: readonly ProjectedLoan[], asOf: string): PortfolioCashFlow[] {
  const out = new Map<string, Decimal>();
  const inn = new Map<string, Decimal>();
  for (const l of loans) {
    for (const f of liveFlows(l)) {
      if (f.date > asOf) continue;
      const side = f.amount.isNegative() ? out : inn;
      const prev = side.get(f.date);
      side.set(f.date, prev ? prev.plus(f.amount) : f.amount);
    }
  }
  const flows: PortfolioCashFlow[] = [];
  for (const [date, a] of out) flows.push({ date, amount: a.neg(), kind: "disbursement" });
  for (const [date, a] of inn) flows.push({ date, amount: a, kind: "collection" });
  return flows.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
}

/** §4 metrics of the loans given (the caller picked the group's members on `asOf`). */
export function groupMetrics(asOf: string, loans: readonly ProjectedLoan[]): SnapshotMetrics {
  const known = loans.filter((l) => l.state && l.attributes);
  return snapshotMetrics({ as_of: asOf, loans: known.map(metricInput), cash_flows: dailyCashFlows(known, asOf) });
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
export function buyerView(sale: SaleTerms, loans: readonly ProjectedLoan[], asOf: string): BuyerView {
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
