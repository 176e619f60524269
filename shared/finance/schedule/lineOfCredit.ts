/**
 * Line-of-credit projection: the opening draw repaid by statement minimums (DESIGN §3: interest
 * accrued on the balance by the day count, plus max(percent of balance, floor) capped at the
 * balance), statements due monthly from first_payment_date; the last of term_months pays in full.
 */
import { amortize, amortizationInputFor, revolvingMinimum, type AmortizationResult } from "./amortize";
import type { NormalizedTerms } from "./terms";

export function lineOfCreditRows(t: NormalizedTerms): AmortizationResult {
  return amortize(amortizationInputFor(t, { revolvingMinimum: revolvingMinimum(t.minPaymentPercent, t.minPaymentFloor) }));
}
