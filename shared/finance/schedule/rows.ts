/** A schedule row while it is computed (Decimals), and its wire form (strings, DESIGN §2). */
import { formatIsoDate, type CivilDate } from "../dates";
import { Decimal, ZERO } from "../decimal";
import { moneyString } from "../rounding";
import type { ScheduleRow } from "../types";

export interface RawRow {
  number: number;
  due: CivilDate;
  payment: Decimal;
  principal: Decimal;
  interest: Decimal;
  balance: Decimal;
  negativeAmortization: Decimal;
  interestOnly: boolean;
  rate: Decimal;
  deferred: Decimal | null;
  deferredCharged: Decimal | null;
}

/** A row of a schedule; principal below zero is negative amortisation, shown as such (DESIGN §3). */
export function scheduleRow(
  r: Omit<RawRow, "negativeAmortization" | "interestOnly" | "deferred" | "deferredCharged"> & Partial<Pick<RawRow, "interestOnly" | "deferred" | "deferredCharged">>,
): RawRow {
  return {
    ...r,
    negativeAmortization: r.principal.isNegative() ? r.principal.neg() : ZERO,
    interestOnly: r.interestOnly ?? false,
    deferred: r.deferred ?? null,
    deferredCharged: r.deferredCharged ?? null,
  };
}

export function toWireRows(rows: readonly RawRow[], withDeferred: boolean): ScheduleRow[] {
  const out = new Array<ScheduleRow>(rows.length);
  let lastRate: Decimal | null = null;
  let lastRateString = "";
  for (let k = 0; k < rows.length; k++) {
    const r = rows[k];
    if (r.rate !== lastRate) {
      lastRate = r.rate;
      lastRateString = r.rate.toString();
    }
    const row: ScheduleRow = {
      number: r.number,
      due_date: formatIsoDate(r.due),
      payment: moneyString(r.payment),
      principal: moneyString(r.principal),
      interest: moneyString(r.interest),
      balance: moneyString(r.balance),
      negative_amortization: r.negativeAmortization === ZERO ? "0.00" : moneyString(r.negativeAmortization),
      interest_only: r.interestOnly,
      rate: lastRateString,
    };
    if (withDeferred) {
      row.deferred_interest = moneyString(r.deferred ?? ZERO);
      row.deferred_interest_charged = moneyString(r.deferredCharged ?? ZERO);
    }
    out[k] = row;
  }
  return out;
}
