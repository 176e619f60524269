/** The closed-form payments of DESIGN §3, each rounded once to cents. */
import { Decimal, ONE } from "./decimal";
import { roundMoney } from "./rounding";

/**
 * DESIGN §3 level payment: round(P·i / (1 − (1+i)^−n)); when the rate is zero, round(P/n).
 */
export function levelPayment(principal: Decimal, periodicRate: Decimal, periods: number): Decimal {
  if (periods < 1) throw new RangeError("levelPayment needs at least one period");
  if (periodicRate.isZero()) return roundMoney(principal.div(periods));
  const discount = ONE.minus(ONE.plus(periodicRate).pow(-periods));
  return roundMoney(principal.times(periodicRate).div(discount));
}

/** Unrounded level payment, for solvers that need the exact annuity factor. */
export function annuityFactor(periodicRate: Decimal, periods: number): Decimal {
  if (periodicRate.isZero()) return new Decimal(periods);
  return ONE.minus(ONE.plus(periodicRate).pow(-periods)).div(periodicRate);
}

/**
 * DESIGN §3 lease payment in arrears: round((C − R/(1+i)^n)·i / (1 − (1+i)^−n)) for capitalised
 * cost C and residual R; with a zero rate, round((C − R)/n).
 */
export function leasePayment(capitalizedCost: Decimal, residual: Decimal, periodicRate: Decimal, periods: number): Decimal {
  if (periods < 1) throw new RangeError("leasePayment needs at least one period");
  if (periodicRate.isZero()) return roundMoney(capitalizedCost.minus(residual).div(periods));
  const growth = ONE.plus(periodicRate);
  const pvResidual = residual.div(growth.pow(periods));
  return roundMoney(capitalizedCost.minus(pvResidual).times(periodicRate).div(ONE.minus(growth.pow(-periods))));
}

/** Unrounded present value of `amount` due `periods` (possibly fractional) periods ahead at i. */
export function presentValue(amount: Decimal, periodicRate: Decimal, periods: Decimal | number): Decimal {
  if (periodicRate.isZero()) return amount;
  return amount.div(ONE.plus(periodicRate).pow(periods));
}
