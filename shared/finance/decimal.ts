/**
 * The finance engine's own decimal.js clone (DESIGN §2: all arithmetic on money is decimal.js).
 * 34 significant digits (IEEE 754 decimal128, what MongoDB's Decimal128 stores) is far more than
 * any cent-rounded amount needs, so intermediate products and quotients are exact up to the one
 * rounding step DESIGN §3 names. ROUND_HALF_UP is the clone's default so that the rare operation
 * that must round at 34 digits rounds the same way the cents step does.
 */
import DecimalJs from "decimal.js";
import { FinanceInputError } from "./errors";

export const Decimal = DecimalJs.clone({
  precision: 34,
  rounding: DecimalJs.ROUND_HALF_UP,
  toExpNeg: -40,
  toExpPos: 40,
});
export type Decimal = DecimalJs;

/** What callers may pass for money and rates: a decimal string or a Decimal (any decimal.js clone). */
export type DecimalInput = string | DecimalJs;

export const ZERO = new Decimal(0);
export const ONE = new Decimal(1);

const DECIMAL_STRING = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;

/**
 * Converts a wire value to a Decimal of this clone. Floats are refused on purpose: DESIGN §2 says
 * money and rates travel as decimal strings, and a float has already lost the cents.
 */
export function toDecimal(value: DecimalInput, field = "value"): Decimal {
  if (typeof value === "string") {
    const s = value.trim();
    if (!DECIMAL_STRING.test(s)) throw new FinanceInputError(`'${field}' must be a decimal string`, field, value);
    return new Decimal(s);
  }
  if (DecimalJs.isDecimal(value)) {
    if (!value.isFinite()) throw new FinanceInputError(`'${field}' must be finite`, field, value.toString());
    // decimal.js clones share one prototype, so `instanceof` cannot tell them apart; an instance
    // keeps its own constructor (and precision), so re-wrap anything not made by this clone.
    return value.constructor === Decimal ? value : new Decimal(value);
  }
  throw new FinanceInputError(`'${field}' must be a decimal string or a Decimal, not ${typeof value}`, field, value);
}

/** A money input: a decimal with at most two decimals (cents), as DESIGN §2 stores money. */
export function toMoney(value: DecimalInput, field: string, opts: { allowNegative?: boolean } = {}): Decimal {
  const d = toDecimal(value, field);
  if (d.decimalPlaces() > 2) throw new FinanceInputError(`'${field}' must have at most 2 decimals`, field, String(value));
  if (!opts.allowNegative && d.isNegative()) throw new FinanceInputError(`'${field}' must not be negative`, field, String(value));
  return d;
}

/** A rate input: a non-negative decimal fraction ("0.0725" = 7.25 % a year, DESIGN §2). */
export function toRate(value: DecimalInput, field: string): Decimal {
  const d = toDecimal(value, field);
  if (d.isNegative()) throw new FinanceInputError(`'${field}' must not be negative`, field, String(value));
  return d;
}

export function minDecimal(a: Decimal, b: Decimal): Decimal {
  return a.lte(b) ? a : b;
}

export function maxDecimal(a: Decimal, b: Decimal): Decimal {
  return a.gte(b) ? a : b;
}
