/**
 * DESIGN §3: an overpayment is held as a credit balance, never lost; a `credit_refund` pays it
 * back. The loan is rolled to the refund date first, since a bill falling due before it takes
 * the credit (the credit left on the date is what can be refunded).
 */
import { parseIsoDate } from "../dates";
import { toMoney } from "../decimal";
import { FinanceRuleError } from "../errors";
import { moneyString } from "../rounding";
import type { DecimalInput, IsoDate, LoanState } from "../types";
import { emptyLog, rollForward } from "./rollForward";
import { loadState, saveState } from "./working";

export function refundCredit(state: LoanState, refund: { amount?: DecimalInput | null; date: IsoDate }): { state: LoanState; amount: string } {
  const date = parseIsoDate(refund.date, "date");
  const w = loadState(state);
  if (date.n > w.anchor.n) rollForward(w, date, emptyLog());
  const amount = refund.amount === undefined || refund.amount === null ? w.credit : toMoney(refund.amount, "amount");
  if (amount.isZero()) throw new FinanceRuleError("there is no credit balance to refund", "no_credit");
  if (amount.gt(w.credit)) throw new FinanceRuleError("the refund exceeds the credit balance", "credit_balance", { credit_balance: moneyString(w.credit), amount: moneyString(amount) });
  w.credit = w.credit.minus(amount);
  return { state: saveState(w), amount: moneyString(amount) };
}
