/**
 * DESIGN §3 graduated payment: the payment steps up by g every s months; each stepped payment is
 * round(p1·(1+g)^step); the first payment p1 is solved so the final balance is 0.00 — the final
 * row (balance + interest, as every schedule's last row) then differs from its stepped amount by
 * as little as whole cents of p1 allow. The solve is on the real schedule (day counts, odd first
 * period, rounding), not the textbook annuity, so it holds for every convention and method.
 */
import { Decimal, ONE, ZERO } from "../decimal";
import { roundMoney } from "../rounding";
import type { AmortizationInput, AmortizationResult } from "./amortize";
import { amortize } from "./amortize";

export interface GraduatedPlan {
  step: Decimal;
  stepMonths: number;
  interestOnlyRows: number;
  periodicRate: Decimal;
}

/** Stepped payment of row k for first payment p1 (rows within interest-only months never ask). */
function steppedPayments(p1: Decimal, plan: GraduatedPlan, n: number): Decimal[] {
  const growth = ONE.plus(plan.step);
  const out: Decimal[] = [];
  const steps = Math.ceil(n / plan.stepMonths) + 1;
  for (let s = 0; s < steps; s++) out.push(s === 0 ? p1 : roundMoney(p1.times(growth.pow(s))));
  return out;
}

function rowPayment(stepped: Decimal[], plan: GraduatedPlan, k: number): Decimal {
  const index = Math.max(0, k - plan.interestOnlyRows - 1);
  return stepped[Math.floor(index / plan.stepMonths)];
}

/**
 * How far the schedule for p1 is from closing on its stepped payment: last row's payment minus
 * the stepped amount for that row (positive: p1 too small). A schedule that closes early (p1 too
 * large) counts the stepped payments it no longer needs, negatively.
 */
function mismatch(base: Omit<AmortizationInput, "graduatedPayment">, plan: GraduatedPlan, p1: Decimal): { result: AmortizationResult; gap: Decimal } {
  const n = base.dues.length;
  const stepped = steppedPayments(p1, plan, n);
  const result = amortize({ ...base, graduatedPayment: (k) => rowPayment(stepped, plan, k) });
  const last = result.rows[result.rows.length - 1];
  if (result.rows.length === n) return { result, gap: last.payment.minus(rowPayment(stepped, plan, n)) };
  let unused = rowPayment(stepped, plan, result.rows.length).minus(last.payment);
  for (let k = result.rows.length + 1; k <= n; k++) unused = unused.plus(rowPayment(stepped, plan, k));
  return { result, gap: unused.neg() };
}

/** Textbook first payment: P / Σ (1+g)^⌊j/s⌋ · (1+i)^−(j+1) over the amortising rows. */
function annuityGuess(principal: Decimal, plan: GraduatedPlan, amortizingRows: number): Decimal {
  const v = ONE.div(ONE.plus(plan.periodicRate));
  const growth = ONE.plus(plan.step);
  let factor = ZERO;
  let discount = ONE;
  let stepFactor = ONE;
  for (let j = 0; j < amortizingRows; j++) {
    discount = discount.times(v);
    if (j > 0 && j % plan.stepMonths === 0) stepFactor = stepFactor.times(growth);
    factor = factor.plus(stepFactor.times(discount));
  }
  return roundMoney(principal.div(factor));
}

/**
 * Solves p1 in whole cents. The gap falls as p1 rises; regula falsi (Illinois) on a bracket of
 * cents, then the better of the two final neighbours.
 */
export function graduatedSchedule(base: Omit<AmortizationInput, "graduatedPayment">, plan: GraduatedPlan): AmortizationResult {
  const n = base.dues.length;
  const cent = new Decimal("0.01");
  let guess = annuityGuess(base.principal, plan, n - plan.interestOnlyRows);
  if (guess.lt(cent)) guess = cent;
  let lo = guess;
  let fLo = mismatch(base, plan, lo);
  let hi = lo;
  let fHi = fLo;
  if (fLo.gap.gt(0)) {
    // p1 too small: raise the upper end until the schedule closes early or exactly
    for (let i = 0; i < 200; i++) {
      hi = roundMoney(hi.times("1.25")).plus(cent);
      fHi = mismatch(base, plan, hi);
      if (!fHi.gap.gt(0)) break;
      lo = hi;
      fLo = fHi;
    }
  } else {
    // p1 too large (or exact): lower the lower end until the gap is positive
    for (let i = 0; i < 200 && !fLo.gap.gt(0); i++) {
      if (lo.eq(cent)) return fLo.result;
      hi = lo;
      fHi = fLo;
      lo = roundMoney(lo.times("0.8"));
      if (lo.lt(cent)) lo = cent;
      fLo = mismatch(base, plan, lo);
    }
  }
  if (fLo.gap.isZero()) return fLo.result;
  if (fHi.gap.isZero()) return fHi.result;
  let side = 0;
  for (let i = 0; i < 200 && hi.minus(lo).gt(cent); i++) {
    // Illinois variant of regula falsi: halve the stale end's weight so the bracket keeps shrinking
    const wLo = side === -1 ? fLo.gap.div(2) : fLo.gap;
    const wHi = side === 1 ? fHi.gap.div(2) : fHi.gap;
    let mid = roundMoney(lo.minus(wLo.times(hi.minus(lo)).div(wHi.minus(wLo))));
    if (mid.lte(lo)) mid = lo.plus(cent);
    if (mid.gte(hi)) mid = hi.minus(cent);
    const fMid = mismatch(base, plan, mid);
    if (fMid.gap.isZero()) return fMid.result;
    if (fMid.gap.gt(0)) {
      lo = mid;
      fLo = fMid;
      side = -1;
    } else {
      hi = mid;
      fHi = fMid;
      side = 1;
    }
  }
  return fLo.gap.abs().lte(fHi.gap.abs()) ? fLo.result : fHi.result;
}
