/**
 * DESIGN §3 payment allocation over amounts due: oldest due item first; inside each item, component
 * by component in the program's payment_allocation_order. Pure arithmetic on the items: what it
 * takes from the payment it takes from the items, so the sums always match exactly.
 */
import { formatIsoDate } from "../dates";
import { Decimal, ZERO } from "../decimal";
import { FinanceInputError } from "../errors";
import { moneyString } from "../rounding";
import type { AllocationComponent, AllocationLine } from "../types";
import type { WorkingDue } from "./working";

const COMPONENTS: readonly AllocationComponent[] = ["interest", "fees", "principal"];

/** Checks an allocation order: known components, each at most once; missing ones go last in default order. */
export function normalizeAllocationOrder(order: readonly string[] | null | undefined): AllocationComponent[] {
  if (order === null || order === undefined) return [...COMPONENTS];
  if (!Array.isArray(order)) throw new FinanceInputError("payment_allocation_order must be an array", "payment_allocation_order", order);
  const seen = new Set<string>();
  for (const c of order) {
    if (!COMPONENTS.includes(c as AllocationComponent)) throw new FinanceInputError(`unknown allocation component '${c}'`, "payment_allocation_order", order);
    if (seen.has(c)) throw new FinanceInputError(`allocation component '${c}' appears twice`, "payment_allocation_order", order);
    seen.add(c);
  }
  return [...(order as AllocationComponent[]), ...COMPONENTS.filter((c) => !seen.has(c))];
}

export interface ComponentTotals {
  interest: Decimal;
  fees: Decimal;
  principal: Decimal;
}

export function zeroTotals(): ComponentTotals {
  return { interest: ZERO, fees: ZERO, principal: ZERO };
}

/** Pays one item from `amount` in component order; returns what was taken per component. */
export function payItem(item: WorkingDue, amount: Decimal, order: readonly AllocationComponent[]): { taken: ComponentTotals; left: Decimal } {
  const taken = zeroTotals();
  let left = amount;
  for (const c of order) {
    if (left.isZero()) break;
    const owed = item[c];
    if (owed.isZero()) continue;
    const pay = owed.lte(left) ? owed : left;
    item[c] = owed.minus(pay);
    taken[c] = pay;
    left = left.minus(pay);
  }
  return { taken, left };
}

export function isSettledItem(item: WorkingDue): boolean {
  return item.interest.isZero() && item.fees.isZero() && item.principal.isZero();
}

/**
 * Settles due items oldest first. Mutates `due` (paid items removed) and returns the remainder,
 * the per-component totals and one line per item touched.
 */
export function allocateToDue(
  due: WorkingDue[],
  amount: Decimal,
  order: readonly AllocationComponent[],
): { remainder: Decimal; totals: ComponentTotals; lines: AllocationLine[] } {
  const totals = zeroTotals();
  const lines: AllocationLine[] = [];
  let left = amount;
  let settled = 0;
  for (const item of due) {
    if (left.isZero()) break;
    const { taken, left: rest } = payItem(item, left, order);
    left = rest;
    totals.interest = totals.interest.plus(taken.interest);
    totals.fees = totals.fees.plus(taken.fees);
    totals.principal = totals.principal.plus(taken.principal);
    lines.push({
      due_date: formatIsoDate(item.date),
      number: item.number,
      kind: item.kind,
      interest: moneyString(taken.interest),
      fees: moneyString(taken.fees),
      principal: moneyString(taken.principal),
    });
    if (isSettledItem(item)) settled++;
    else break;
  }
  if (settled > 0) due.splice(0, settled);
  return { remainder: left, totals, lines };
}
