/**
 * The one rounding step of DESIGN §3: to cents, half-up. It is called only at the points that
 * section names (a payment, a period's interest, a rule-of-78 share, a rebate, a PV quote); every
 * other operation keeps full precision.
 */
import { Decimal } from "./decimal";

/** DESIGN §3 "Rounding: to cents, half-up". Ties go away from zero (−0.005 → −0.01). */
export function roundMoney(value: Decimal): Decimal {
  return value.toDecimalPlaces(2, Decimal.ROUND_HALF_UP);
}

/**
 * Money on the wire: a string with exactly two decimals (DESIGN §2). The value must already be
 * in cents. `toString` plus padding is about four times faster than `toFixed(2)` (which builds
 * and rounds a new Decimal) and a schedule formats four amounts per row; the clone's exponent
 * limits (±40) keep `toString` in plain notation for any amount.
 */
export function moneyString(value: Decimal): string {
  const s = value.toString();
  const dot = s.indexOf(".");
  if (dot < 0) return s + ".00";
  const decimals = s.length - dot - 1;
  if (decimals === 2) return s;
  if (decimals === 1) return s + "0";
  return value.toFixed(2);
}

/**
 * Rates and ratios on the wire (weighted average rate, MOIC, IRR): not money, so not cents; ten
 * decimals is well below any rate quote's precision and keeps strings short.
 */
export function ratioString(value: Decimal): string {
  return value.toDecimalPlaces(10, Decimal.ROUND_HALF_UP).toString();
}
