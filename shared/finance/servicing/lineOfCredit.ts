/**
 * Line-of-credit servicing (DESIGN §3): draws against credit_limit, daily accrual on the balance
 * by the day count (closed at every balance change), and a monthly statement billing the cycle's
 * interest, the unpaid fees and a minimum principal payment of max(percent of balance, floor)
 * capped at the balance.
 */
import { addDays, formatIsoDate, parseIsoDate, type CivilDate } from "../dates";
import { Decimal, toMoney, ZERO } from "../decimal";
import { FinanceRuleError } from "../errors";
import { moneyString } from "../rounding";
import { revolvingMinimum } from "../schedule/amortize";
import type { DecimalInput, IsoDate, LoanState } from "../types";
import { emptyLog, rollForward, applyCredit } from "./rollForward";
import { addDue, loadState, saveState, unbilledPrincipal, type Working } from "./working";
import { isSettledItem } from "./allocation";

function requireLine(state: LoanState): NonNullable<LoanState["line_of_credit"]> {
  if (state.program_type !== "line_of_credit" || !state.line_of_credit) {
    throw new FinanceRuleError("this operation applies to a line of credit only", "program_type", { program_type: state.program_type });
  }
  return state.line_of_credit;
}

export interface DrawResult {
  state: LoanState;
  amount: string;
  /** Part of the draw met by the borrower's credit balance. */
  from_credit: string;
  principal_balance: string;
  available_credit: string;
}

/** Available credit: limit − principal outstanding + credit balance held. */
export function availableCredit(w: Working, limit: Decimal): Decimal {
  return limit.minus(w.principal).plus(w.credit);
}

export function drawOnLine(state: LoanState, draw: { amount: DecimalInput; date: IsoDate }): DrawResult {
  const line = requireLine(state);
  const amount = toMoney(draw.amount, "amount");
  if (amount.isZero()) throw new FinanceRuleError("a draw must be greater than 0", "draw_amount");
  const date = parseIsoDate(draw.date, "date");
  if (line.draw_end_date && date.n > parseIsoDate(line.draw_end_date).n) {
    throw new FinanceRuleError(`draws ended on ${line.draw_end_date}`, "draw_period_ended", { draw_end_date: line.draw_end_date });
  }
  const w = loadState(state);
  if (w.status !== "active") throw new FinanceRuleError("the line is closed", "closed", { status: w.status });
  rollForward(w, date, emptyLog());
  const limit = new Decimal(line.credit_limit);
  const available = availableCredit(w, limit);
  if (amount.gt(available)) {
    throw new FinanceRuleError("the draw exceeds the available credit", "credit_limit", { available_credit: moneyString(available), amount: moneyString(amount) });
  }
  const fromCredit = w.credit.gte(amount) ? amount : w.credit;
  w.credit = w.credit.minus(fromCredit);
  w.principal = w.principal.plus(amount.minus(fromCredit));
  return {
    state: saveState(w),
    amount: moneyString(amount),
    from_credit: moneyString(fromCredit),
    principal_balance: moneyString(w.principal),
    available_credit: moneyString(availableCredit(w, limit)),
  };
}

export interface Statement {
  period_start: IsoDate;
  statement_date: IsoDate;
  due_date: IsoDate;
  /** Interest of the cycle, billed. */
  interest: string;
  /** Fees unpaid on the statement date. */
  fees: string;
  /** max(percent of balance, floor), capped at the balance not already billed. */
  minimum_principal: string;
  /** Amounts billed earlier and still unpaid (past due). */
  past_due: string;
  /** Everything the borrower must pay by due_date: past due + interest + fees + minimum principal. */
  minimum_payment_due: string;
  /** Principal + unpaid interest + fees − credit, on the statement date. */
  statement_balance: string;
  credit_applied: string;
}

export function generateStatement(state: LoanState, input: { statement_date: IsoDate; due_date?: IsoDate | null }): { state: LoanState; statement: Statement } {
  const line = requireLine(state);
  const date = parseIsoDate(input.statement_date, "statement_date");
  const w = loadState(state);
  const periodStart = w.lastStatement ?? w.anchor;
  if (date.n <= periodStart.n) {
    throw new FinanceRuleError(`a statement for ${input.statement_date} exists already (last ${formatIsoDate(periodStart)})`, "statement_exists");
  }
  rollForward(w, date, emptyLog());
  const due: CivilDate = input.due_date ? parseIsoDate(input.due_date, "due_date") : addDays(date, line.payment_due_days);
  let pastDue = ZERO;
  let fees = ZERO;
  for (const d of w.due) {
    fees = fees.plus(d.fees);
    pastDue = pastDue.plus(d.interest).plus(d.principal);
  }
  const interest = w.accrued;
  // DESIGN §3: max(percent of the balance, floor), capped at the balance not already billed
  const unbilled = unbilledPrincipal(w);
  const byRule = revolvingMinimum(new Decimal(line.min_payment_percent), toMoney(line.min_payment_floor, "min_payment_floor"))(w.principal);
  const minimum = byRule.lte(unbilled) ? byRule : unbilled.isNegative() ? ZERO : unbilled;
  w.accrued = ZERO;
  let creditApplied = ZERO;
  if (!interest.isZero() || !minimum.isZero()) {
    const item = { date: due, number: null, kind: "statement" as const, interest, fees: ZERO, principal: minimum };
    creditApplied = applyCredit(w, item);
    if (!isSettledItem(item)) addDue(w, item);
  }
  w.lastStatement = date;
  let owed = w.principal.plus(fees).minus(w.credit);
  for (const d of w.due) owed = owed.plus(d.interest);
  const billedNow = interest.plus(minimum).minus(creditApplied);
  return {
    state: saveState(w),
    statement: {
      period_start: formatIsoDate(periodStart),
      statement_date: formatIsoDate(date),
      due_date: formatIsoDate(due),
      interest: moneyString(interest),
      fees: moneyString(fees),
      minimum_principal: moneyString(minimum),
      past_due: moneyString(pastDue),
      minimum_payment_due: moneyString(pastDue.plus(fees).plus(billedNow.isNegative() ? ZERO : billedNow)),
      statement_balance: moneyString(owed),
      credit_applied: moneyString(creditApplied),
    },
  };
}
