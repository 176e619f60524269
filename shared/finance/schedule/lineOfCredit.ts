/**
 * Line-of-credit projection: the opening draw repaid by statement minimums (DESIGN §3: interest
 * accrued on the balance by the day count, plus max(percent of balance, floor) capped at the
 * balance), statements due monthly from first_payment_date; the last of term_months pays in full.
 */
import { interestCalculator } from "../periodInterest";
import { amortize, revolvingMinimum, type AmortizationResult } from "./amortize";
import { monthlyDueDates } from "./dueDates";
import type { NormalizedTerms } from "./terms";

export function lineOfCreditRows(t: NormalizedTerms): AmortizationResult {
  return amortize({
    principal: t.principal,
    start: t.disbursement,
    dues: monthlyDueDates(t.firstPayment, t.n),
    firstNumber: 1,
    interest: interestCalculator(t.method, t.dc, t.rate, t.promos),
    method: t.method,
    dc: t.dc,
    contractRate: t.rate,
    promos: t.promos,
    interestOnlyRows: 0,
    amortizationPeriods: t.n,
    revolvingMinimum: revolvingMinimum(t.minPaymentPercent, t.minPaymentFloor),
  });
}
