/**
 * DESIGN §3 variable rate: new rate = clamp(index rate on the reset date + margin, floor, ceiling);
 * the remaining balance is re-amortised over the remaining periods at the new rate, and the
 * change is described by the data a LoanModification record needs (old/new rate, index value).
 * Seed 003: resets happen every adjustment_frequency.
 */
import { addMonthsClamped, formatIsoDate, parseIsoDate } from "../dates";
import { levelPayment } from "../annuity";
import { Decimal, toDecimal, toRate, type DecimalInput } from "../decimal";
import { FinanceInputError, FinanceRuleError } from "../errors";
import { moneyString } from "../rounding";
import type { Installment, IsoDate, LoanState, ScheduleRow } from "../types";
import { remainingAmortizationPeriods, projectWorking } from "./projection";
import { emptyLog, rollForward } from "./rollForward";
import { loadState, saveState, setRate, unbilledPrincipal } from "./working";

export type AdjustmentFrequency = "monthly" | "quarterly" | "semi_annually" | "annually";

const FREQUENCY_MONTHS: Record<AdjustmentFrequency, number> = { monthly: 1, quarterly: 3, semi_annually: 6, annually: 12 };

/** Months between resets for an adjustment_frequency (seed 003). */
export function adjustmentFrequencyMonths(frequency: AdjustmentFrequency | string): number {
  const months = FREQUENCY_MONTHS[frequency as AdjustmentFrequency];
  if (!months) throw new FinanceInputError(`unknown adjustment_frequency '${frequency}'`, "adjustment_frequency", frequency);
  return months;
}

/** The reset after `lastReset` (same day of month, clamped). */
export function nextResetDate(lastReset: IsoDate, frequency: AdjustmentFrequency | string): IsoDate {
  return formatIsoDate(addMonthsClamped(parseIsoDate(lastReset, "last_reset"), adjustmentFrequencyMonths(frequency)));
}

/** DESIGN §3: clamp(rate, floor, ceiling); a missing floor or ceiling does not bind. */
export function clampRate(rate: DecimalInput, floor?: DecimalInput | null, ceiling?: DecimalInput | null): Decimal {
  let r = toDecimal(rate, "rate");
  if (floor !== undefined && floor !== null && floor !== "") {
    const f = toRate(floor, "floor");
    if (r.lt(f)) r = f;
  }
  if (ceiling !== undefined && ceiling !== null && ceiling !== "") {
    const c = toRate(ceiling, "ceiling");
    if (r.gt(c)) r = c;
  }
  if (r.isNegative()) r = new Decimal(0);
  return r;
}

export interface RateResetInput {
  reset_date: IsoDate;
  /** The index rate in effect on the reset date (the rates service answers this). */
  index_rate: DecimalInput;
  margin: DecimalInput;
  floor?: DecimalInput | null;
  ceiling?: DecimalInput | null;
  index_name?: string | null;
  reason?: string | null;
  actor?: string | null;
}

/** What a LoanModification record holds for a rate change. */
export interface RateModification {
  modification_type: "rate_change";
  effective_date: IsoDate;
  reason: string;
  actor: string | null;
  index_name: string | null;
  index_value: string;
  margin: string;
  floor: string | null;
  ceiling: string | null;
  old_rate: string;
  new_rate: string;
  old_payment: string | null;
  new_payment: string | null;
  remaining_balance: string;
  remaining_periods: number;
}

export interface RateResetResult {
  /** The loan after the reset; the input state unchanged when the rate did not change. */
  state: LoanState;
  /** null when clamp(index + margin) equals the current rate: no modification to record. */
  modification: RateModification | null;
  /** The re-amortised remaining schedule (empty for a line of credit). */
  schedule: ScheduleRow[];
}

export function resetVariableRate(state: LoanState, input: RateResetInput): RateResetResult {
  const date = parseIsoDate(input.reset_date, "reset_date");
  const index = toDecimal(input.index_rate, "index_rate");
  const margin = toDecimal(input.margin, "margin");
  const newRate = clampRate(index.plus(margin), input.floor, input.ceiling);
  const w = loadState(state);
  if (w.status !== "active") throw new FinanceRuleError("the loan is closed", "closed", { status: w.status });
  const plan = state.payment_plan;
  if (plan === "graduated" || plan === "rule_of_78" || plan === "lease") {
    throw new FinanceRuleError(`a ${plan} schedule cannot be re-amortised at a new rate`, "not_variable", { payment_plan: plan });
  }
  const oldRate = w.rate;
  if (newRate.eq(oldRate)) return { state, modification: null, schedule: [] };

  // interest to the reset date accrues at the old rate; the new rate applies from that date
  rollForward(w, date, emptyLog());
  setRate(w, newRate);

  const remaining = w.installments.slice(w.next);
  let oldPayment: Decimal | null = null;
  let newPayment: Decimal | null = null;
  let periods = 0;
  const balance = unbilledPrincipal(w);
  const firstAmortizing = remaining.find((r) => !r.interest_only);
  if (firstAmortizing) {
    periods = remainingAmortizationPeriods(w, firstAmortizing.number);
    oldPayment = new Decimal(firstAmortizing.payment);
    newPayment = levelPayment(balance, w.method.periodicRate(newRate, w.dc), periods);
    const updated: Installment[] = remaining.map((r) => (r.interest_only ? r : { ...r, payment: moneyString(newPayment!) }));
    w.installments = updated;
    w.next = 0;
  }
  const schedule = projectWorking(w);
  return {
    state: saveState(w),
    schedule,
    modification: {
      modification_type: "rate_change",
      effective_date: formatIsoDate(date),
      reason: input.reason ?? "variable_rate_reset",
      actor: input.actor ?? null,
      index_name: input.index_name ?? null,
      index_value: index.toString(),
      margin: margin.toString(),
      floor: input.floor !== undefined && input.floor !== null ? toRate(input.floor, "floor").toString() : null,
      ceiling: input.ceiling !== undefined && input.ceiling !== null ? toRate(input.ceiling, "ceiling").toString() : null,
      old_rate: oldRate.toString(),
      new_rate: newRate.toString(),
      old_payment: oldPayment ? moneyString(oldPayment) : null,
      new_payment: newPayment ? moneyString(newPayment) : null,
      remaining_balance: moneyString(balance),
      remaining_periods: periods,
    },
  };
}
