/**
 * A sale price split across the sold loans (DESIGN.md §9): by principal balance, to the cent, the
 * parts summing exactly to the price. Largest remainder (Hamilton): every loan gets the floor of
 * its exact share in cents, and the cents left over go one each to the largest fractional parts
 * (ties to the earlier loan in the given order), so no part is more than a cent from its share.
 */
import Decimal from "decimal.js";

const D = Decimal.clone({ precision: 60, rounding: Decimal.ROUND_FLOOR });

export interface BalanceShare {
  loan_id: string;
  balance: string;
}

export function splitPriceByBalance(price: string, loans: readonly BalanceShare[]): { loan_id: string; purchase_price: string }[] {
  if (!loans.length) throw new Error("splitPriceByBalance: no loans");
  const cents = new D(price).times(100);
  if (!cents.isInteger() || cents.isNegative()) throw new Error(`splitPriceByBalance: price ${price} is not a non-negative amount in cents`);
  const balances = loans.map((l) => new D(l.balance));
  if (balances.some((b) => !b.gt(0))) throw new Error("splitPriceByBalance: every balance must be positive");
  const total = balances.reduce((s, b) => s.plus(b), new D(0));
  const exact = balances.map((b) => cents.times(b).div(total));
  const floors = exact.map((x) => x.floor());
  let left = cents.minus(floors.reduce((s, f) => s.plus(f), new D(0))).toNumber();
  const order = exact.map((x, i) => ({ i, frac: x.minus(floors[i]) })).sort((a, b) => b.frac.cmp(a.frac) || a.i - b.i);
  for (const { i } of order) {
    if (left <= 0) break;
    floors[i] = floors[i].plus(1);
    left--;
  }
  return loans.map((l, i) => ({ loan_id: l.loan_id, purchase_price: floors[i].div(100).toFixed(2) }));
}
