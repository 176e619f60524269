/**
 * The remaining schedule of a loan from its current state, assuming every installment is paid on
 * its due date: what the loans service shows after a prepayment or a rate reset. Built by the same
 * amortisation loop as the original schedule, so its rows are exactly what servicing would bill.
 */
import { parseIsoDate } from "../dates";
import { Decimal, ZERO } from "../decimal";
import { interestCalculator } from "../periodInterest";
import { amortize } from "../schedule/amortize";
import { toWireRows, type RawRow } from "../schedule/rows";
import type { IsoDate, LoanState, ScheduleRow } from "../types";
import { emptyLog, rollForward } from "./rollForward";
import { loadState, unbilledPrincipal, type Working } from "./working";

/** Periods the level payment amortises over from the first remaining amortising installment. */
export function remainingAmortizationPeriods(w: Working, firstAmortizingNumber: number): number {
  const last = w.installments[w.installments.length - 1].number;
  const total = w.source.balloon_amortization_months ?? last;
  return Math.max(1, total - (firstAmortizingNumber - 1));
}

export function projectRemainingSchedule(state: LoanState, asOf?: IsoDate): ScheduleRow[] {
  const w = loadState(state);
  if (asOf) rollForward(w, parseIsoDate(asOf, "as_of"), emptyLog());
  return projectWorking(w);
}

export function projectWorking(w: Working): ScheduleRow[] {
  const remaining = w.installments.slice(w.next);
  if (remaining.length === 0 || w.status !== "active") return [];
  const plan = w.source.payment_plan;
  const dues = remaining.map((r, i) => parseIsoDate(r.due_date, `installments[${i}].due_date`));
  const promos = w.promos.filter((p) => p.resolution === "pending").map((p) => p.active);
  if (plan === "rule_of_78" || plan === "lease") {
    // precomputed charges: the rows are the installments themselves
    const rows: RawRow[] = [];
    let balance = unbilledPrincipal(w);
    const residual = w.source.lease ? new Decimal(w.source.lease.residual_value) : ZERO;
    remaining.forEach((inst, i) => {
      const interest = new Decimal(inst.interest ?? "0").plus(i === 0 ? w.accrued.minus(w.prepaidInterest) : ZERO);
      const last = i === remaining.length - 1;
      const payment = last ? balance.plus(interest).minus(plan === "lease" ? residual : ZERO) : new Decimal(inst.payment);
      const principal = payment.minus(interest);
      balance = balance.minus(principal);
      rows.push({ number: inst.number, due: dues[i], payment, principal, interest, balance, negativeAmortization: principal.isNegative() ? principal.neg() : ZERO, interestOnly: false, rate: w.rate, deferred: null, deferredCharged: null });
    });
    return toWireRows(rows, false);
  }
  const { rows } = amortize({
    principal: unbilledPrincipal(w),
    start: w.anchor,
    dues,
    firstNumber: remaining[0].number,
    interest: interestCalculator(w.method, w.dc, w.rate, promos),
    method: w.method,
    dc: w.dc,
    contractRate: w.rate,
    promos,
    interestOnlyRows: 0,
    amortizationPeriods: remaining.length,
    carriedInterest: w.accrued,
    deferredSoFar: new Map(w.promos.filter((p) => p.resolution === "pending").map((p) => [p.active.index, p.deferred])),
    // servicing bills the stored installment payments, so the projection does too
    fixedPayment: (k: number) => ({ payment: new Decimal(remaining[k - 1].payment), interestOnly: !!remaining[k - 1].interest_only }),
  });
  return toWireRows(rows, promos.length > 0);
}
