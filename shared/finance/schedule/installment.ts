/** Installment schedules (DESIGN §3): level, interest-only, balloon, graduated, promotions, rule of 78. */
import { ruleOf78FinanceCharge, ruleOf78PeriodInterest } from "../accrual";
import { levelPayment } from "../annuity";
import { ZERO } from "../decimal";
import { amortize, amortizationInputFor, type AmortizationResult } from "./amortize";
import { monthlyDueDates } from "./dueDates";
import { graduatedSchedule } from "./graduated";
import { scheduleRow, type RawRow } from "./rows";
import type { NormalizedTerms } from "./terms";

export function installmentScheduleRows(t: NormalizedTerms): AmortizationResult {
  if (t.method.precomputed) return { rows: ruleOf78Rows(t), waivedDeferred: ZERO };
  const base = amortizationInputFor(t, {
    interestOnlyRows: t.interestOnlyMonths,
    amortizationPeriods: t.balloonMonths ?? t.n,
  });
  if (t.graduatedStep !== null && t.graduatedStepMonths !== null) {
    return graduatedSchedule(base, {
      step: t.graduatedStep,
      stepMonths: t.graduatedStepMonths,
      interestOnlyRows: t.interestOnlyMonths,
      periodicRate: t.method.periodicRate(t.rate, t.dc),
    });
  }
  return amortize(base);
}

/**
 * DESIGN §3 rule of 78: payment = the level payment at i = r/12; F = n·payment − P; interest of
 * period k = round(F·(n−k+1)/(n(n+1)/2)); the last row pays the balance with its interest. The
 * charges are precomputed by period, so an odd first period does not change them.
 */
export function ruleOf78Rows(t: NormalizedTerms): RawRow[] {
  const n = t.n;
  const payment = levelPayment(t.principal, t.method.periodicRate(t.rate, t.dc), n);
  // a payment rounded down can make n·payment − P negative at (near) zero rates: there is no charge then
  const charge = ruleOf78FinanceCharge(t.principal, payment, n);
  const financeCharge = charge.isNegative() ? ZERO : charge;
  const dues = monthlyDueDates(t.firstPayment, n);
  const rows: RawRow[] = [];
  let balance = t.principal;
  for (let k = 1; k <= n; k++) {
    const interest = ruleOf78PeriodInterest(financeCharge, n, k);
    let pay = k === n ? balance.plus(interest) : payment;
    let principal = pay.minus(interest);
    if (principal.gt(balance)) {
      // as in every schedule: never more than balance + interest, and stop at 0.00
      principal = balance;
      pay = balance.plus(interest);
    }
    balance = balance.minus(principal);
    rows.push(
      scheduleRow({
        number: k,
        due: dues[k - 1],
        payment: pay,
        principal,
        interest,
        balance,
        rate: t.rate,
      }),
    );
    if (balance.isZero()) break;
  }
  return rows;
}
