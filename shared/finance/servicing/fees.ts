/**
 * Fees (seed 003 fee schedules, DESIGN §3 late payment): a fee is due when assessed, and joins
 * the amounts due that a payment settles oldest first. The fee rule shape is the programs
 * service's FeeRule (flat or percent of a basis, with optional min and max).
 */
import { parseIsoDate } from "../dates";
import { Decimal, toMoney, toRate, ZERO } from "../decimal";
import { FinanceInputError, FinanceRuleError } from "../errors";
import { moneyString, roundMoney } from "../rounding";
import type { DecimalInput, IsoDate, LoanState } from "../types";
import { emptyLog, rollForward } from "./rollForward";
import { addDue, loadState, saveState } from "./working";

export interface FeeRuleInput {
  fee_type: string;
  calculation: "flat" | "percent";
  amount?: DecimalInput | null;
  percent?: DecimalInput | null;
  percent_basis?: "principal" | "payment" | "balance" | "past_due" | null;
  min_amount?: DecimalInput | null;
  max_amount?: DecimalInput | null;
}

export type FeeBases = Partial<Record<"principal" | "payment" | "balance" | "past_due", DecimalInput>>;

/** A fee's amount: flat, or round(percent · basis) clamped to [min_amount, max_amount]. */
export function feeAmount(rule: FeeRuleInput, bases: FeeBases = {}): Decimal {
  let amount: Decimal;
  if (rule.calculation === "flat") {
    if (rule.amount === undefined || rule.amount === null) throw new FinanceInputError("a flat fee needs 'amount'", "amount");
    amount = toMoney(rule.amount, "amount");
  } else if (rule.calculation === "percent") {
    if (rule.percent === undefined || rule.percent === null || !rule.percent_basis) throw new FinanceInputError("a percent fee needs 'percent' and 'percent_basis'", "percent");
    const basis = bases[rule.percent_basis];
    if (basis === undefined) throw new FinanceInputError(`the fee basis '${rule.percent_basis}' was not given`, "percent_basis");
    amount = roundMoney(toMoney(basis, rule.percent_basis).times(toRate(rule.percent, "percent")));
  } else {
    throw new FinanceInputError(`unknown fee calculation '${String(rule.calculation)}'`, "calculation");
  }
  if (rule.min_amount !== undefined && rule.min_amount !== null) {
    const min = toMoney(rule.min_amount, "min_amount");
    if (amount.lt(min)) amount = min;
  }
  if (rule.max_amount !== undefined && rule.max_amount !== null) {
    const max = toMoney(rule.max_amount, "max_amount");
    if (amount.gt(max)) amount = max;
  }
  return amount;
}

/** Assesses a fee on a date: the loan is rolled to the date and the fee becomes due that day. */
export function assessFee(state: LoanState, fee: { amount: DecimalInput; date: IsoDate; fee_type: string }): { state: LoanState; amount: string } {
  const amount = toMoney(fee.amount, "amount");
  if (amount.isZero()) throw new FinanceRuleError("a fee must be greater than 0", "fee_amount");
  const date = parseIsoDate(fee.date, "date");
  const w = loadState(state);
  if (w.status !== "active") throw new FinanceRuleError("fees cannot be assessed on a closed loan", "closed", { status: w.status });
  rollForward(w, date, emptyLog());
  addDue(w, { date, number: null, kind: "fee", interest: ZERO, fees: amount, principal: ZERO, fee_type: fee.fee_type });
  return { state: saveState(w), amount: moneyString(amount) };
}
