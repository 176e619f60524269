/**
 * DESIGN §3 payment application, shared by the three programs: roll the loan to the payment date,
 * settle amounts due oldest first in allocation order, then apply what remains — to principal
 * (installment, line of credit) or as prepaid rent held in credit (lease) — and hold anything
 * beyond the payoff as a credit balance. interest + fees + principal + credit = amount, exactly.
 */
import { formatIsoDate, type CivilDate } from "../dates";
import { Decimal, ZERO } from "../decimal";
import { moneyString } from "../rounding";
import type { Allocation, AllocationComponent, AllocationLine } from "../types";
import { allocateToDue } from "./allocation";
import { emptyLog, rollForward, waivePendingPromotions, type RollLog } from "./rollForward";
import { earnedPrecomputedInterest, type Working } from "./working";

export interface RemainderPolicy {
  /** What money beyond the amounts due does: reduce principal, or wait in credit for the next bill. */
  remainder: "principal" | "credit";
  /** Whether paying everything closes the loan (installment: yes; a revolving line stays open). */
  closesOnPayoff: boolean;
}

/** Whether nothing is owed on the date (principal, interest to date, bills). */
export function isSettled(w: Working, date: CivilDate): boolean {
  return w.principal.isZero() && w.accrued.isZero() && w.due.length === 0 && earnedPrecomputedInterest(w, date).isZero();
}

export function applyPaymentToWorking(
  w: Working,
  amount: Decimal,
  date: CivilDate,
  order: readonly AllocationComponent[],
  policy: RemainderPolicy,
): { allocation: Allocation; log: RollLog } {
  const log = emptyLog();
  rollForward(w, date, log);
  const { remainder, totals, lines } = allocateToDue(w.due, amount, order);
  w.principal = w.principal.minus(totals.principal);
  let interest = totals.interest;
  let principal = totals.principal;
  let prepaid = ZERO;
  let credit = ZERO;
  let paidOff = false;
  const line = (kind: AllocationLine["kind"], i: Decimal, p: Decimal): AllocationLine => ({
    due_date: formatIsoDate(date),
    number: null,
    kind,
    interest: moneyString(i),
    fees: "0.00",
    principal: moneyString(p),
  });

  if (remainder.gt(0)) {
    if (w.status !== "active" || policy.remainder === "credit") {
      credit = remainder;
    } else {
      const earned = earnedPrecomputedInterest(w, date);
      const interestToDate = w.accrued.plus(earned);
      const owed = w.principal.plus(interestToDate);
      if (owed.gt(0) && remainder.gte(owed)) {
        // pays the loan off: principal and interest to date; the rest is held as credit
        lines.push(line("payoff", interestToDate, w.principal));
        interest = interest.plus(interestToDate);
        prepaid = w.principal;
        credit = remainder.minus(owed);
        w.principal = ZERO;
        w.accrued = ZERO;
        w.prepaidInterest = w.prepaidInterest.plus(earned);
        paidOff = true;
      } else if (owed.gt(0)) {
        let left = remainder;
        let paidInterest = ZERO;
        if (earned.gt(0)) {
          // rule of 78: the begun period's charge is owed before principal can be prepaid
          const pay = left.gte(interestToDate) ? interestToDate : left;
          const fromAccrued = pay.gte(w.accrued) ? w.accrued : pay;
          w.accrued = w.accrued.minus(fromAccrued);
          w.prepaidInterest = w.prepaidInterest.plus(pay.minus(fromAccrued));
          paidInterest = pay;
          left = left.minus(pay);
        }
        // DESIGN §3: what remains reduces principal (prepayment)
        const toPrincipal = left.lte(w.principal) ? left : w.principal;
        w.principal = w.principal.minus(toPrincipal);
        left = left.minus(toPrincipal);
        const toAccrued = left.lte(w.accrued) ? left : w.accrued;
        w.accrued = w.accrued.minus(toAccrued);
        left = left.minus(toAccrued);
        paidInterest = paidInterest.plus(toAccrued);
        lines.push(line("prepayment", paidInterest, toPrincipal));
        interest = interest.plus(paidInterest);
        prepaid = toPrincipal;
        credit = left;
      } else {
        credit = remainder;
      }
      principal = principal.plus(prepaid);
    }
  }
  w.credit = w.credit.plus(credit);

  let waived = ZERO;
  if (policy.closesOnPayoff && w.status === "active" && isSettled(w, date)) {
    paidOff = true;
    w.status = "paid_off";
    w.next = w.installments.length;
    w.prepaidInterest = ZERO;
    waived = waivePendingPromotions(w, log);
  }

  return {
    allocation: {
      amount: moneyString(amount),
      interest: moneyString(interest),
      fees: moneyString(totals.fees),
      principal: moneyString(principal),
      prepaid_principal: moneyString(prepaid),
      credit: moneyString(credit),
      lines,
      paid_off: paidOff && policy.closesOnPayoff,
      deferred_interest_waived: moneyString(waived),
    },
    log,
  };
}
