/**
 * A loan's position on a business date (DESIGN.md §3 delinquency, §4 inputs, §7 events): the
 * figures every consumer of loan events keeps, computed from the engine's state by rolling a copy
 * forward to the date. Pure: the same state and date always give the same position.
 */
import type { DelinquencyBucket, LoanPosition, LoanStatus } from "../contracts/loans";
import { Decimal, figuresOn, type LoanState } from "../finance";

export interface PositionInput {
  status: LoanStatus;
  state: LoanState | null;
  as_of: string;
  grace_period_days: number;
  bucket_boundaries?: readonly number[];
  total_disbursed: string;
  total_collected: string;
  closed_through: string | null;
  portfolio_id: string | null;
  investor_id: string | null;
  principal_override?: string;
}

const ZERO = "0.00";

/** Statuses whose figures loanPosition computes differently (zeros, or not rolled forward). */
const FIGURES_DEPEND_ON: ReadonlySet<LoanStatus> = new Set<LoanStatus>(["pending", "cancelled", "charged_off"]);

/**
 * The position under another status, when only its `status` field would change (active and
 * delinquent have the same figures; the roll to the date is most of a write's CPU, and a payment
 * that cures a delinquency or a due date passing would otherwise roll twice); null when the
 * figures depend on the change and loanPosition must run again.
 */
export function restatus(position: LoanPosition, status: LoanStatus): LoanPosition | null {
  if (FIGURES_DEPEND_ON.has(position.status) || FIGURES_DEPEND_ON.has(status)) return null;
  return { ...position, status };
}

export function loanPosition(p: PositionInput): LoanPosition {
  const base = {
    status: p.status,
    total_disbursed: p.total_disbursed,
    total_collected: p.total_collected,
    as_of: p.as_of,
    closed_through: p.closed_through,
    portfolio_id: p.portfolio_id,
    investor_id: p.investor_id,
  };
  const s = p.state;
  if (!s || p.status === "pending" || p.status === "cancelled") {
    return { ...base, principal_balance: ZERO, interest_receivable: ZERO, fees_due: ZERO, deferred_interest: ZERO, credit_balance: ZERO, past_due_amount: ZERO, days_past_due: 0, bucket: "current", next_due_date: null, next_payment_amount: null };
  }
  // A state is never rolled backwards: figures are as of the later of the date and its last activity.
  const asOf = p.as_of < s.accrued_through ? s.accrued_through : p.as_of;
  const open = s.status === "active" && p.status !== "charged_off";
  const figures = open ? figuresOn(s, asOf, p.grace_period_days, p.bucket_boundaries) : null;
  const rolled = figures ? figures.state : s;
  const receivable = figures ? figures.receivable : null;
  const dq = figures ? figures.delinquency : null;
  let fees = new Decimal(0);
  let pastDue = new Decimal(0);
  for (const d of rolled.due) {
    fees = fees.plus(d.fees);
    if (dq && d.due_date < asOf) pastDue = pastDue.plus(d.interest).plus(d.fees).plus(d.principal);
  }
  const next = rolled.installments[0];
  return {
    ...base,
    principal_balance: p.principal_override ?? rolled.principal_balance,
    interest_receivable: receivable ? receivable.total : ZERO,
    fees_due: fees.toFixed(2),
    deferred_interest: receivable ? receivable.deferred_pending : ZERO,
    credit_balance: rolled.credit_balance,
    past_due_amount: pastDue.toFixed(2),
    days_past_due: dq ? dq.days_past_due : 0,
    bucket: (dq ? dq.bucket : "current") as DelinquencyBucket,
    next_due_date: open && next ? next.due_date : null,
    next_payment_amount: open && next ? next.payment : null,
  };
}
