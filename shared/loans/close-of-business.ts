/**
 * Close of business for one loan and one business date D (DESIGN.md §8), as an ordered list of
 * named pure steps over the loan's state (Fineract's business steps; STYLE.md). The driver in
 * services/loans/close-of-business.ts owns chunking, writes and checkpoints; each step here is a
 * function of the loan and D, testable alone.
 *
 *   1. rateReset           variable-rate resets due on or before D (index looked up once per index and date)
 *   2. promotionBoundaries deferred-interest charge-back / end of a reduced rate: the engine applies
 *                          them when the loan is rolled; the step reports the boundaries crossed
 *   3. statementDue        a line of credit's cycle statement on its statement date
 *   4. delinquency         installments due, days past due and bucket on D (accrual is not closed
 *                          daily: interest is rounded once per span, shared/finance/README.md)
 *   5. lateFee             the fee schedule's late fee, once per installment past grace
 *   6. status              delinquent after grace, active when cured, charged_off at the threshold
 *   7. chargeOff           the write-off transaction on the threshold day
 */
import Decimal from "decimal.js";
import { DateTime } from "luxon";
import type { LoanStatus } from "../contracts/loans";
import type { EffectiveProductConfig, FeeRule } from "../contracts/programs";
import {
  assessFee, delinquencyStatus, feeAmount, FinanceRuleError, generateStatement, interestReceivable, nextResetDate, resetVariableRate, stateOn,
  type LoanState, type RateModification, type Statement,
} from "../finance";
import { impliedStatus } from "./status";

export interface CloseLoanInput {
  loan_id: string;
  status: LoanStatus;
  state: LoanState;
  config: EffectiveProductConfig;
  /** Next variable-rate reset date (null: fixed rate). */
  next_reset_date: string | null;
  /** Next line-of-credit statement date (null: not a line). */
  next_statement_date: string | null;
  /** Installments already charged a late fee, as `<number>:<due_date>`. */
  late_fees: readonly string[];
  principal_at_origination: string;
}

/** The index rate of `index_name` on `date` (the driver looks each (index, date) up once). */
export type IndexRateOn = (indexName: string, date: string) => string | null;

export interface CloseOutcome {
  state: LoanState;
  status: LoanStatus;
  next_reset_date: string | null;
  next_statement_date: string | null;
  late_fees: string[];
  rate_changes: (RateModification & { reset_input: Record<string, unknown> })[];
  statements: Statement[];
  fees: { fee_type: string; amount: string; for_installment: string }[];
  charge_off: { amount: string; components: Record<string, string> } | null;
  days_past_due: number;
  bucket: string;
  /** Why the status moved, when it did. */
  status_reason: string | null;
}

export const DEFAULT_CHARGE_OFF_DAYS = { installment: 120, lease: 120, line_of_credit: 180 } as const;

export function chargeOffDays(cfg: EffectiveProductConfig): number {
  const configured = Number((cfg.program_config as Record<string, unknown>).charge_off_days);
  return Number.isInteger(configured) && configured > 0 ? configured : DEFAULT_CHARGE_OFF_DAYS[cfg.program_type];
}

/** Runs the steps in DESIGN.md §8's order. Throws only on a defect (the driver records it on the loan). */
export function closeLoan(input: CloseLoanInput, date: string, indexRateOn: IndexRateOn, bucketBoundaries?: readonly number[]): CloseOutcome {
  const out: CloseOutcome = {
    state: input.state,
    status: input.status,
    next_reset_date: input.next_reset_date,
    next_statement_date: input.next_statement_date,
    late_fees: [...input.late_fees],
    rate_changes: [],
    statements: [],
    fees: [],
    charge_off: null,
    days_past_due: 0,
    bucket: "current",
    status_reason: null,
  };
  if (input.status !== "active" && input.status !== "delinquent") return out;
  rateReset(out, input, date, indexRateOn);
  statementDue(out, input, date);
  const dq = delinquency(out, input, date, bucketBoundaries);
  lateFee(out, input, date, dq.late_items);
  status(out, input, date);
  chargeOff(out, input, date);
  return out;
}

/** 1. Variable-rate resets due on or before D, each at its own date's index (DESIGN §3). */
export function rateReset(out: CloseOutcome, input: CloseLoanInput, date: string, indexRateOn: IndexRateOn): void {
  const v = input.config.variable_rate;
  if (!v || !out.next_reset_date) return;
  while (out.next_reset_date && out.next_reset_date <= date) {
    const resetOn = out.next_reset_date;
    const index = indexRateOn(v.index_name, resetOn);
    if (index !== null && resetOn >= out.state.accrued_through) {
      const reset_input = { reset_date: resetOn, index_rate: index, margin: v.margin, floor: v.floor ?? null, ceiling: v.ceiling ?? null, index_name: v.index_name, reason: "scheduled variable-rate reset", actor: "close_of_business" };
      try {
        const r = resetVariableRate(out.state, reset_input);
        out.state = r.state;
        if (r.modification) out.rate_changes.push({ ...r.modification, reset_input });
      } catch (err) {
        // A schedule that cannot be re-amortised (graduated, rule of 78) keeps its rate.
        if (!(err instanceof FinanceRuleError)) throw err;
      }
    }
    out.next_reset_date = nextResetDate(resetOn, v.adjustment_frequency);
  }
}

/** 3. A line of credit's statement on its statement date. */
export function statementDue(out: CloseOutcome, input: CloseLoanInput, date: string): void {
  if (input.config.program_type !== "line_of_credit" || !out.next_statement_date) return;
  while (out.next_statement_date && out.next_statement_date <= date) {
    const on: string = out.next_statement_date;
    if (on > out.state.accrued_through && (!out.state.line_of_credit || on > out.state.line_of_credit.last_statement_date)) {
      const r = generateStatement(out.state, { statement_date: on });
      out.state = r.state;
      out.statements.push(r.statement);
    }
    out.next_statement_date = DateTime.fromISO(on, { zone: "utc" }).plus({ months: 1 }).toISODate()!;
  }
}

/** 4. Days past due and bucket on D, from the state rolled to D (a copy: spans stay open). */
export function delinquency(out: CloseOutcome, input: CloseLoanInput, date: string, boundaries?: readonly number[]) {
  const on = date < out.state.accrued_through ? out.state.accrued_through : date;
  const dq = delinquencyStatus(out.state, on, input.config.grace_period_days, boundaries);
  out.days_past_due = dq.days_past_due;
  out.bucket = dq.bucket;
  return dq;
}

/** 5. The late fee of the fee schedule, once per installment past grace (DESIGN §3). */
export function lateFee(out: CloseOutcome, input: CloseLoanInput, date: string, lateItems: { number: number | null; due_date: string }[]): void {
  const rule: FeeRule | undefined = input.config.fees.find((f) => f.fee_type === "late");
  if (!rule || date < out.state.accrued_through) return;
  for (const item of lateItems) {
    const key = `${item.number ?? "s"}:${item.due_date}`;
    if (out.late_fees.includes(key)) continue;
    const rolled = stateOn(out.state, date);
    const pastDue = rolled.due.filter((d) => d.kind !== "fee").reduce((s, d) => s.plus(d.interest).plus(d.principal), new Decimal(0));
    const inst = rolled.due.find((d) => d.due_date === item.due_date && d.kind !== "fee");
    const amount = feeAmount(rule, {
      principal: input.principal_at_origination,
      balance: rolled.principal_balance,
      payment: inst ? new Decimal(inst.interest).plus(inst.principal).toFixed(2) : pastDue.toFixed(2),
      past_due: pastDue.toFixed(2),
    });
    out.late_fees.push(key);
    if (amount.isZero()) continue;
    const r = assessFee(out.state, { amount, date, fee_type: "late" });
    out.state = r.state;
    out.fees.push({ fee_type: "late", amount: r.amount, for_installment: key });
  }
}

/** 6. The status the figures of D imply (charge-off is step 7). */
export function status(out: CloseOutcome, input: CloseLoanInput, _date: string): void {
  const next = impliedStatus(input.status, out.state, out.days_past_due, input.config.grace_period_days);
  if (next !== out.status) {
    out.status_reason = next === "delinquent" ? `${out.days_past_due} days past due, beyond ${input.config.grace_period_days} days' grace` : next === "active" ? "cured" : next;
    out.status = next;
  }
}

/** 7. Charge-off on the day days past due reach the program's threshold. */
export function chargeOff(out: CloseOutcome, input: CloseLoanInput, date: string): void {
  if (out.days_past_due < chargeOffDays(input.config) || out.status === "paid_off" || out.status === "closed") return;
  const on = date < out.state.accrued_through ? out.state.accrued_through : date;
  const rec = interestReceivable(out.state, on);
  const rolled = stateOn(out.state, on);
  const fees = rolled.due.reduce((s, d) => s.plus(d.fees), new Decimal(0));
  const principal = new Decimal(rolled.principal_balance);
  const components = { principal: principal.toFixed(2), interest: rec.total, fees: fees.toFixed(2), deferred_interest: "0.00", credit: "0.00" };
  out.charge_off = { amount: principal.plus(rec.total).plus(fees).toFixed(2), components };
  out.status = "charged_off";
  out.status_reason = `${out.days_past_due} days past due: charge-off threshold ${chargeOffDays(input.config)} days`;
}

/** The first reset date of a variable loan: one adjustment period after disbursement (hybrid: after its fixed period). */
export function firstResetDate(cfg: EffectiveProductConfig, disbursementDate: string): string | null {
  const v = cfg.variable_rate;
  if (!v || cfg.interest_rate_type === "fixed") return null;
  if (cfg.interest_rate_type === "hybrid" && cfg.fixed_period_months) {
    return DateTime.fromISO(disbursementDate, { zone: "utc" }).plus({ months: cfg.fixed_period_months }).toISODate()!;
  }
  return nextResetDate(disbursementDate, v.adjustment_frequency);
}

/** A line's first statement: its configured statement day, else one month after opening. */
export function firstStatementDate(cfg: EffectiveProductConfig, disbursementDate: string): string | null {
  if (cfg.program_type !== "line_of_credit") return null;
  const day = Number((cfg.program_config as Record<string, unknown>).statement_day);
  const opened = DateTime.fromISO(disbursementDate, { zone: "utc" });
  if (Number.isInteger(day) && day >= 1 && day <= 28) {
    const candidate = opened.set({ day });
    return (candidate > opened ? candidate : candidate.plus({ months: 1 })).toISODate()!;
  }
  return opened.plus({ months: 1 }).toISODate()!;
}
