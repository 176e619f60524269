/**
 * DESIGN §3 payoff on date D = principal + interest accrued and unpaid through D (by the loan's
 * day count and accrual method) + unpaid fees − the rule-of-78 rebate; a deferred-interest
 * promotion adds its deferred interest only when D is after the promotion end. A credit balance
 * is netted, never below zero.
 */
import { formatIsoDate, type CivilDate } from "../dates";
import { Decimal, ZERO } from "../decimal";
import { moneyString } from "../rounding";
import type { PayoffQuote } from "../types";
import { emptyLog, rollForward } from "./rollForward";
import { earnedPrecomputedInterest, type Working } from "./working";

/** Σ of the precomputed (rule of 78) charges not yet billed, net of what was paid ahead. */
function unbilledPrecomputedInterest(w: Working): Decimal {
  let sum = ZERO;
  for (let k = w.next; k < w.installments.length; k++) {
    const i = w.installments[k].interest;
    if (i !== undefined && i !== null) sum = sum.plus(i);
  }
  return sum.minus(w.prepaidInterest);
}

/** Quotes the payoff of a rolled copy of the loan; `w` is mutated (pass a fresh working state). */
export function payoffOfWorking(w: Working, date: CivilDate): PayoffQuote {
  const log = emptyLog();
  rollForward(w, date, log);
  let interest = w.accrued;
  let fees = ZERO;
  for (const d of w.due) {
    interest = interest.plus(d.interest);
    fees = fees.plus(d.fees);
  }
  let rebate = ZERO;
  if (w.method.precomputed && w.status === "active") {
    // a precomputed loan owes all its remaining charges, less the unearned ones (DESIGN §3 rebate)
    const remaining = unbilledPrecomputedInterest(w);
    interest = interest.plus(remaining);
    rebate = remaining.minus(earnedPrecomputedInterest(w, date));
  }
  let deferredIncluded = ZERO;
  for (const e of log.promotions) if (e.resolution === "charged_back") deferredIncluded = deferredIncluded.plus(e.amount);
  let waivable = ZERO;
  for (const p of w.promos) if (p.resolution === "pending") waivable = waivable.plus(p.deferred);
  const gross = w.principal.plus(interest).plus(fees).minus(rebate);
  const net = gross.minus(w.credit);
  return {
    date: formatIsoDate(date),
    principal: moneyString(w.principal),
    interest: moneyString(interest),
    fees: moneyString(fees),
    deferred_interest: moneyString(deferredIncluded),
    deferred_interest_waivable: moneyString(waivable),
    rule_of_78_rebate: moneyString(rebate),
    credit_balance: moneyString(w.credit),
    total: moneyString(net.isNegative() ? ZERO : net),
  };
}
