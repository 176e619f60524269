/**
 * DESIGN §7 "explain": the day-by-day interest of a loan, so any interest figure on a statement
 * can be traced to the day and the rule that made it. Per day: the principal balance, the rate
 * charged, the day-count fraction, the day's unrounded interest and the running total; per span
 * of constant balance and rate (the unit servicing rounds, periodInterest.ts): the rounded amount.
 *
 * Spans break exactly where servicing closes them: at every ledger event (each operation rolls the
 * loan to its date), at installment due dates (billing), at promotion boundaries and rate resets.
 * A day's unrounded interest is the span accruer's growth over that day, so the days of a span add
 * up to the span's unrounded interest and the span rounds to what servicing charged.
 */
import { accrualMethodFor } from "../accrual";
import { addDays, formatIsoDate, parseIsoDate, type CivilDate } from "../dates";
import { dayCountFor, yearFractionOf } from "../daycount";
import { Decimal, ZERO } from "../decimal";
import { FinanceInputError } from "../errors";
import { chargedRateOf, deferredRateOf, parsePromotions, promotionCovering } from "../promotions";
import { moneyString, roundMoney } from "../rounding";
import type { IsoDate, LoanState } from "../types";
import { replayLedger, type LedgerEvent } from "./replay";
import { stateOn } from "./interestQueries";

export interface AccrualDay {
  date: IsoDate;
  principal_balance: string;
  annual_rate: string;
  day_count_fraction: string;
  /** Unrounded; 12 decimals. */
  interest: string;
  /** Unrounded running total over the listed days. */
  running_total: string;
  /** Deferred-interest promotion: interest deferred that day (unrounded). */
  deferred_interest?: string;
}

export interface AccrualSpan {
  start: IsoDate;
  /** Exclusive: the span accrues for the days start ≤ d < end. */
  end: IsoDate;
  principal_balance: string;
  annual_rate: string;
  unrounded: string;
  /** Rounded once to cents (DESIGN §3): what servicing charged for the span. */
  charged: string;
  deferred?: string;
  /** Why the span ends here. */
  closed_by: string;
}

export interface AccrualTrail {
  from: IsoDate;
  to: IsoDate;
  day_count_convention: string;
  accrual_method: string;
  days: AccrualDay[];
  spans: AccrualSpan[];
  /** Σ of the rounded charges of the spans wholly inside [from, to]. */
  total_charged: string;
  note?: string;
}

/**
 * The trail of days `from` … `to` (inclusive: interest of the day d is for [d, d+1)) of a loan
 * opened as `opening` with `events` after it.
 */
export function accrualTrail(opening: LoanState, events: readonly LedgerEvent[], from: IsoDate, to: IsoDate, allocationOrder?: readonly string[] | null): AccrualTrail {
  const start = parseIsoDate(from, "from");
  const end = parseIsoDate(to, "to");
  if (end.n < start.n) throw new FinanceInputError("'to' must be on or after 'from'", "to", to);
  if (end.n - start.n > 3660) throw new FinanceInputError("an accrual trail covers at most ten years", "to", to);
  const dc = dayCountFor(opening.day_count_convention);
  const method = accrualMethodFor(opening.accrual_method);
  const base: AccrualTrail = { from, to, day_count_convention: dc.name, accrual_method: method.name, days: [], spans: [], total_charged: "0.00" };
  if (method.precomputed || opening.payment_plan === "lease") {
    // Rule of 78 and lease rent: each installment's interest is fixed when the loan opens
    // (sum of digits, or rent at the lease's periodic rate); nothing accrues by day.
    let prevDue = opening.disbursement_date;
    let total = ZERO;
    for (const inst of opening.installments) {
      if (inst.due_date > from && prevDue <= to) {
        const charged = new Decimal(inst.interest ?? "0");
        base.spans.push({ start: prevDue, end: inst.due_date, principal_balance: "", annual_rate: opening.annual_rate, unrounded: charged.toFixed(12), charged: moneyString(charged), closed_by: `installment ${inst.number} (precomputed)` });
        total = total.plus(charged);
      }
      prevDue = inst.due_date;
    }
    return { ...base, total_charged: moneyString(total), note: method.precomputed ? "rule of 78: installment k carries F·(n−k+1)/(n(n+1)/2) of the finance charge F; nothing accrues by day" : "lease: each rent's interest is round(b·i) at the lease's periodic rate; nothing accrues by day" };
  }

  // Boundaries: every date the engine closes a span.
  const boundary = new Map<number, string>();
  const mark = (d: CivilDate, why: string) => {
    if (!boundary.has(d.n)) boundary.set(d.n, why);
  };
  const byDate = new Map<number, LedgerEvent[]>();
  for (const e of events) {
    const d = parseIsoDate(e.date, "date");
    mark(d, e.type);
    byDate.set(d.n, [...(byDate.get(d.n) ?? []), e]);
  }
  const promos = parsePromotions(opening.promotions);
  for (const p of promos) {
    mark(p.start, "promotion start");
    mark(p.end, "promotion end");
  }
  mark(addDays(end, 1), "end of trail");

  const opened = parseIsoDate(opening.disbursement_date, "disbursement_date");
  let state = opening;
  let spanStart = opened;
  let day = opened;
  let running = ZERO;
  let total = ZERO;
  const last = addDays(end, 1);
  while (day.n < last.n) {
    // the events of the day apply before its interest accrues (interest of d is for [d, d+1))
    const todays = byDate.get(day.n);
    if (todays) state = replayLedger(state, todays, allocationOrder).state;
    const rolled = stateOn(state, formatIsoDate(day));
    const due = new Set(rolled.installments.map((i) => parseIsoDate(i.due_date).n));
    const balance = new Decimal(rolled.principal_balance);
    const contract = new Decimal(rolled.annual_rate);
    // the span runs to the next boundary: an event, a due date, a promotion edge, or the trail's end
    let spanEnd = addDays(day, 1);
    while (spanEnd.n < last.n && !boundary.has(spanEnd.n) && !due.has(spanEnd.n) && !byDate.has(spanEnd.n)) spanEnd = addDays(spanEnd, 1);
    const promo = promotionCovering(promos, day, spanEnd);
    const rate = chargedRateOf(promo, contract);
    const dRate = deferredRateOf(promo, contract);
    const accrue = method.spanAccruer(rate, dc);
    const deferAccrue = dRate && !dRate.isZero() ? method.spanAccruer(dRate, dc) : null;
    const active = rolled.status === "active" && !balance.isZero();
    let prev = ZERO;
    let prevDeferred = ZERO;
    for (let d = day; d.n < spanEnd.n; d = addDays(d, 1)) {
      const next = addDays(d, 1);
      const cum = active && !rate.isZero() ? accrue(balance, day, next) : ZERO;
      const cumDeferred = active && deferAccrue ? deferAccrue(balance, day, next) : ZERO;
      const interest = cum.minus(prev);
      prev = cum;
      if (d.n >= start.n) {
        running = running.plus(interest);
        base.days.push({
          date: formatIsoDate(d),
          principal_balance: moneyString(balance),
          annual_rate: rate.toString(),
          day_count_fraction: yearFractionOf(dc, d, next).toDecimalPlaces(12).toString(),
          interest: interest.toDecimalPlaces(12).toFixed(12),
          running_total: running.toDecimalPlaces(12).toFixed(12),
          ...(deferAccrue ? { deferred_interest: cumDeferred.minus(prevDeferred).toDecimalPlaces(12).toFixed(12) } : {}),
        });
      }
      prevDeferred = cumDeferred;
    }
    const charged = roundMoney(prev);
    const closedBy = byDate.has(spanEnd.n) ? (byDate.get(spanEnd.n)![0].type) : due.has(spanEnd.n) ? "installment due" : boundary.get(spanEnd.n) ?? "";
    if (day.n >= start.n || spanEnd.n > start.n) {
      base.spans.push({
        start: formatIsoDate(day),
        end: formatIsoDate(spanEnd),
        principal_balance: moneyString(balance),
        annual_rate: rate.toString(),
        unrounded: prev.toDecimalPlaces(12).toFixed(12),
        charged: moneyString(charged),
        ...(deferAccrue ? { deferred: moneyString(roundMoney(prevDeferred)) } : {}),
        closed_by: closedBy,
      });
      if (day.n >= start.n && spanEnd.n <= last.n) total = total.plus(charged);
    }
    spanStart = spanEnd;
    day = spanEnd;
  }
  void spanStart;
  base.total_charged = moneyString(total);
  return base;
}
