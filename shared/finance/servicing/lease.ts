/**
 * Lease servicing (DESIGN §3): the buyout quote on a date is the unpaid rent and fees plus the
 * present value at i of the rents not yet due plus the present value of the residual, or the
 * contract's stated buyout price instead of the two present values where one is set. Buying out
 * or returning the asset closes the lease.
 */
import { formatIsoDate, parseIsoDate, type CivilDate } from "../dates";
import { Decimal, ONE, toMoney, ZERO } from "../decimal";
import { FinanceRuleError } from "../errors";
import { moneyString, roundMoney } from "../rounding";
import type { Allocation, DecimalInput, IsoDate, LoanState, PayoffQuote } from "../types";
import { allocateToDue } from "./allocation";
import { emptyLog, rollForward } from "./rollForward";
import { loadState, nextInstallment, saveState, type Working } from "./working";

function requireLease(state: LoanState): NonNullable<LoanState["lease"]> {
  if (state.program_type !== "lease" || !state.lease) {
    throw new FinanceRuleError("this operation applies to a lease only", "program_type", { program_type: state.program_type });
  }
  return state.lease;
}

/**
 * Present values at the lease's periodic rate i, discounting each rent from `date` by whole
 * periods plus the unexpired fraction of the current period (actual days), so a quote on a due
 * date discounts the next rent by exactly one period.
 */
function presentValues(w: Working, date: CivilDate, i: Decimal, residual: Decimal): { rents: Decimal; residual: Decimal } {
  const first = nextInstallment(w);
  if (!first) return { rents: ZERO, residual };
  const periodDays = first.due.n - w.previousDue.n;
  const fraction = periodDays > 0 ? new Decimal(first.due.n - date.n).div(periodDays) : ONE;
  const v = ONE.div(ONE.plus(i));
  let discount = fraction.eq(1) ? v : v.pow(fraction);
  let rents = ZERO;
  for (let k = w.next; k < w.installments.length; k++) {
    if (k > w.next) discount = discount.times(v);
    rents = rents.plus(new Decimal(w.installments[k].payment).times(discount));
  }
  return { rents, residual: residual.times(discount) };
}

export function leaseBuyoutOfWorking(w: Working, date: CivilDate): PayoffQuote {
  const lease = w.source.lease!;
  rollForward(w, date, emptyLog());
  let unpaid = ZERO;
  let fees = ZERO;
  let interest = ZERO;
  for (const d of w.due) {
    unpaid = unpaid.plus(d.principal);
    interest = interest.plus(d.interest);
    fees = fees.plus(d.fees);
  }
  const quote: PayoffQuote = {
    date: formatIsoDate(date),
    principal: moneyString(unpaid),
    interest: moneyString(interest),
    fees: moneyString(fees),
    deferred_interest: "0.00",
    deferred_interest_waivable: "0.00",
    rule_of_78_rebate: "0.00",
    credit_balance: moneyString(w.credit),
    total: "0.00",
  };
  let buyout: Decimal;
  if (w.status !== "active") {
    buyout = ZERO;
  } else if (lease.buyout_price !== null && lease.buyout_price !== undefined) {
    buyout = toMoney(lease.buyout_price, "lease.buyout_price");
    quote.stated_buyout_price = moneyString(buyout);
  } else {
    const pv = presentValues(w, date, new Decimal(lease.periodic_rate), toMoney(lease.residual_value, "lease.residual_value"));
    const rents = roundMoney(pv.rents);
    const residual = roundMoney(pv.residual);
    quote.remaining_payments_pv = moneyString(rents);
    quote.residual_pv = moneyString(residual);
    buyout = rents.plus(residual);
  }
  const net = unpaid.plus(interest).plus(fees).plus(buyout).minus(w.credit);
  quote.total = moneyString(net.isNegative() ? ZERO : net);
  return quote;
}

/** The buyout quote of a lease on a date (its calculatePayoff). */
export function leaseBuyoutQuote(state: LoanState, date: IsoDate): PayoffQuote {
  requireLease(state);
  return leaseBuyoutOfWorking(loadState(state), parseIsoDate(date, "date"));
}

/**
 * Buys the asset out: the amount must cover the quote; it settles the unpaid rent and fees, then
 * the buyout (booked as principal), any excess held as credit. The lease is closed.
 */
export function buyOutLease(state: LoanState, payment: { amount: DecimalInput; date: IsoDate }): { state: LoanState; allocation: Allocation; quote: PayoffQuote } {
  requireLease(state);
  const amount = toMoney(payment.amount, "amount");
  const date = parseIsoDate(payment.date, "date");
  const quote = leaseBuyoutOfWorking(loadState(state), date);
  if (amount.lt(quote.total)) {
    throw new FinanceRuleError("the amount does not cover the buyout quote", "buyout_amount", { quote: quote.total, amount: moneyString(amount) });
  }
  const w = loadState(state);
  rollForward(w, date, emptyLog());
  const buyout = quote.stated_buyout_price !== undefined
    ? new Decimal(quote.stated_buyout_price)
    : new Decimal(quote.remaining_payments_pv ?? "0").plus(quote.residual_pv ?? "0");
  // 1. the credit balance already held pays what is due, then the buyout
  const fromCredit = allocateToDue(w.due, w.credit, w.allocationOrder);
  w.principal = w.principal.minus(fromCredit.totals.principal);
  const creditOnBuyout = fromCredit.remainder.lte(buyout) ? fromCredit.remainder : buyout;
  const buyoutLeft = buyout.minus(creditOnBuyout);
  const creditLeft = fromCredit.remainder.minus(creditOnBuyout);
  // 2. the new money pays the rest; the allocation describes the new money only
  const { remainder, totals, lines } = allocateToDue(w.due, amount, w.allocationOrder);
  w.principal = w.principal.minus(totals.principal);
  const excess = remainder.minus(buyoutLeft);
  lines.push({ due_date: formatIsoDate(date), number: null, kind: "payoff", interest: "0.00", fees: "0.00", principal: moneyString(buyoutLeft) });
  w.credit = creditLeft.plus(excess);
  w.principal = ZERO;
  w.accrued = ZERO;
  w.status = "bought_out";
  w.next = w.installments.length;
  return {
    state: saveState(w),
    quote,
    allocation: {
      amount: moneyString(amount),
      interest: moneyString(totals.interest),
      fees: moneyString(totals.fees),
      principal: moneyString(totals.principal.plus(buyoutLeft)),
      prepaid_principal: moneyString(buyoutLeft),
      credit: moneyString(excess),
      lines,
      paid_off: true,
      deferred_interest_waived: "0.00",
    },
  };
}

/**
 * Asset return closes the lease (DESIGN §3): rents not yet due are cancelled and the lease balance
 * is settled by the asset; rent and fees already due stay owed (plus a return fee, when given).
 */
export function returnLeaseAsset(state: LoanState, input: { date: IsoDate; return_fee?: DecimalInput | null }): { state: LoanState; outstanding: string; written_off_balance: string } {
  requireLease(state);
  const date = parseIsoDate(input.date, "date");
  const w = loadState(state);
  if (w.status !== "active") throw new FinanceRuleError("the lease is closed", "closed", { status: w.status });
  rollForward(w, date, emptyLog());
  let billedPrincipal = ZERO;
  for (const d of w.due) billedPrincipal = billedPrincipal.plus(d.principal);
  const writtenOff = w.principal.minus(billedPrincipal);
  w.principal = billedPrincipal;
  if (input.return_fee) {
    const fee = toMoney(input.return_fee, "return_fee");
    if (fee.gt(0)) w.due.push({ date, number: null, kind: "fee", interest: ZERO, fees: fee, principal: ZERO, fee_type: "return" });
  }
  w.status = "returned";
  w.next = w.installments.length;
  let outstanding = ZERO;
  for (const d of w.due) outstanding = outstanding.plus(d.interest).plus(d.fees).plus(d.principal);
  return { state: saveState(w), outstanding: moneyString(outstanding), written_off_balance: moneyString(writtenOff) };
}
