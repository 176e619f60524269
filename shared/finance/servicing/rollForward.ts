/**
 * Brings a loan's state forward to a date: accrues interest, bills the installments that fall due
 * and resolves deferred-interest promotions whose end has passed, in date order. Every money
 * operation (payment, payoff quote, fee, draw, statement, rate reset) starts with this, so the
 * state the operation sees is the one on its date.
 */
import { formatIsoDate, type CivilDate } from "../dates";
import { Decimal, ZERO } from "../decimal";
import { FinanceRuleError } from "../errors";
import { moneyString } from "../rounding";
import type { BilledInstallment, PromotionEvent } from "../types";
import { isSettledItem, payItem } from "./allocation";
import {
  addDue,
  calculatorOf,
  isLastInstallment,
  nextInstallment,
  unbilledPrincipal,
  type ParsedInstallment,
  type Working,
  type WorkingDue,
  type WorkingPromo,
} from "./working";

export interface RollLog {
  billed: BilledInstallment[];
  promotions: PromotionEvent[];
}

export function emptyLog(): RollLog {
  return { billed: [], promotions: [] };
}

/**
 * Accrues interest on the principal from the accrual anchor to `date` and closes the span:
 * DESIGN §3 interest of the span, rounded once (periodInterest.ts). Precomputed interest (rule of
 * 78 inside its term, lease rent) is not accrued by days; it is billed with each installment.
 */
export function accrueTo(w: Working, date: CivilDate): void {
  if (date.n <= w.anchor.n) return;
  const precomputedTerm = w.method.precomputed && w.next < w.installments.length;
  if (w.status === "active" && !precomputedTerm && w.source.payment_plan !== "lease" && !w.principal.isZero()) {
    const span = calculatorOf(w)(w.principal, w.anchor, date);
    w.accrued = w.accrued.plus(span.charged);
    if (span.deferredPromo) {
      const promo = w.promos.find((p) => p.active.index === span.deferredPromo!.index);
      if (promo) promo.deferred = promo.deferred.plus(span.deferred);
    }
  }
  w.anchor = date;
}

/** Earliest pending deferred-interest promotion whose end is before `date`. */
function pendingPromoEndingBefore(w: Working, date: CivilDate): WorkingPromo | null {
  let best: WorkingPromo | null = null;
  for (const p of w.promos) {
    if (p.active.promo_type !== "deferred_interest" || p.resolution !== "pending" || p.active.end.n >= date.n) continue;
    if (!best || p.active.end.n < best.active.end.n) best = p;
  }
  return best;
}

/**
 * Seed 003 deferred interest / DESIGN §3 payoff rule: at the promotion's end, deferred interest is
 * charged (added to accrued interest, billed with the next installment) if principal is still
 * owed, and waived if the balance was paid in full.
 */
function resolvePromotion(w: Working, promo: WorkingPromo, log: RollLog): void {
  const chargeBack = w.status === "active" && w.principal.gt(0);
  const amount = promo.deferred;
  if (chargeBack) w.accrued = w.accrued.plus(amount);
  promo.resolution = chargeBack ? "charged_back" : "waived";
  promo.deferred = ZERO;
  log.promotions.push({
    promo_type: promo.active.promo_type,
    end_date: formatIsoDate(promo.active.end),
    resolution: promo.resolution,
    amount: moneyString(amount),
  });
}

/** Waives every pending deferred-interest promotion (the loan was paid in full before their end). */
export function waivePendingPromotions(w: Working, log: RollLog): Decimal {
  let waived = ZERO;
  for (const p of w.promos) {
    if (p.active.promo_type !== "deferred_interest" || p.resolution !== "pending") continue;
    waived = waived.plus(p.deferred);
    log.promotions.push({ promo_type: p.active.promo_type, end_date: formatIsoDate(p.active.end), resolution: "waived", amount: moneyString(p.deferred) });
    p.deferred = ZERO;
    p.resolution = "waived";
  }
  return waived;
}

/**
 * Bills an installment on its due date (DESIGN §3 schedule rules, applied to the actual balance):
 * interest due = the interest accrued for the period (or its precomputed charge); principal due =
 * payment − interest; where the payment is below the interest, the shortfall is added to principal
 * (negative amortisation); interest-only installments bill the interest; the last installment bills
 * all remaining principal (for a lease: down to the residual value).
 */
export function billInstallment(w: Working, inst: ParsedInstallment, log: RollLog): void {
  const owedInterest = inst.interest ? w.accrued.plus(inst.interest).minus(w.prepaidInterest) : w.accrued;
  w.prepaidInterest = ZERO;
  // a lease amortises down to its residual value, never below
  const floor = w.source.payment_plan === "lease" && w.source.lease ? new Decimal(w.source.lease.residual_value) : ZERO;
  const unbilled = unbilledPrincipal(w).minus(floor);
  let interestDue: Decimal;
  let principalDue: Decimal;
  let capitalized = ZERO;
  if (isLastInstallment(w)) {
    interestDue = owedInterest;
    principalDue = unbilled;
  } else if (inst.wire.interest_only) {
    interestDue = owedInterest;
    principalDue = ZERO;
  } else {
    interestDue = owedInterest.lte(inst.payment) ? owedInterest : inst.payment;
    capitalized = owedInterest.minus(interestDue);
    const payable = inst.payment.minus(interestDue);
    const available = unbilled.plus(capitalized);
    principalDue = payable.lte(available) ? payable : available;
  }
  if (principalDue.isNegative()) principalDue = ZERO;
  w.principal = w.principal.plus(capitalized);
  w.accrued = ZERO;
  w.previousDue = inst.due;
  w.next++;
  let creditApplied = ZERO;
  if (!interestDue.isZero() || !principalDue.isZero()) {
    const item: WorkingDue = { date: inst.due, number: inst.wire.number, kind: "installment", interest: interestDue, fees: ZERO, principal: principalDue };
    creditApplied = applyCredit(w, item);
    if (!isSettledItem(item)) addDue(w, item);
  }
  log.billed.push({
    number: inst.wire.number,
    due_date: inst.wire.due_date,
    interest: moneyString(interestDue),
    principal: moneyString(principalDue),
    capitalized_interest: moneyString(capitalized),
    credit_applied: moneyString(creditApplied),
  });
}

/** A credit balance pays a new bill as soon as it is billed, in allocation order (DESIGN §3). */
export function applyCredit(w: Working, item: WorkingDue): Decimal {
  if (w.credit.isZero()) return ZERO;
  const { taken, left } = payItem(item, w.credit, w.allocationOrder);
  // principal paid from credit leaves the balance like any principal payment
  w.principal = w.principal.minus(taken.principal);
  const used = w.credit.minus(left);
  w.credit = left;
  return used;
}

/** Rolls the state to `date`. A date before the last activity is refused: replay the ledger instead. */
export function rollForward(w: Working, date: CivilDate, log: RollLog): void {
  if (date.n < w.anchor.n) {
    throw new FinanceRuleError(
      `the date ${formatIsoDate(date)} is before the loan's last activity (${formatIsoDate(w.anchor)}); replay the ledger to backdate`,
      "backdated",
      { accrued_through: formatIsoDate(w.anchor) },
    );
  }
  for (;;) {
    if (w.status !== "active") break;
    const inst = nextInstallment(w);
    const billable = inst && inst.due.n <= date.n ? inst : null;
    const promo = pendingPromoEndingBefore(w, date);
    if (!billable && !promo) break;
    if (billable && (!promo || billable.due.n <= promo.active.end.n)) {
      accrueTo(w, billable.due);
      billInstallment(w, billable, log);
    } else if (promo) {
      accrueTo(w, promo.active.end);
      resolvePromotion(w, promo, log);
    }
  }
  accrueTo(w, date);
}
