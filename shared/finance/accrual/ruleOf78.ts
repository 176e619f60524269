/**
 * DESIGN §3 `rule_of_78`: the finance charge F = n·payment − P is spread over the periods by
 * declining sum of digits: period k earns F·(n−k+1)/(n(n+1)/2); an early payoff rebates the
 * shares of the periods not yet begun by the same weights.
 *
 * The level payment uses i = r/12. Outside the contract's periods (interest on principal still
 * unpaid after maturity) there is no precomputed charge, so it accrues simple by the day count.
 */
import { Decimal } from "../decimal";
import { roundMoney } from "../rounding";
import { simpleSpanAccruer } from "./simple";
import type { AccrualMethod } from "./types";

/** n(n+1)/2, the denominator of the rule of 78 (78 for twelve months). */
export function sumOfDigits(n: number): number {
  return (n * (n + 1)) / 2;
}

/** DESIGN §3 rule of 78: F = n·payment − P. */
export function ruleOf78FinanceCharge(principal: Decimal, payment: Decimal, n: number): Decimal {
  return payment.times(n).minus(principal);
}

/** DESIGN §3 rule of 78: interest of period k = round(F·(n−k+1)/(n(n+1)/2)). */
export function ruleOf78PeriodInterest(financeCharge: Decimal, n: number, k: number): Decimal {
  return roundMoney(financeCharge.times(n - k + 1).div(sumOfDigits(n)));
}

/**
 * The textbook early-payoff rebate with m whole periods still to run: round(F·m(m+1)/2 / (n(n+1)/2)).
 * Servicing rebates the unearned periods' scheduled shares one by one (each computed by
 * ruleOf78PeriodInterest), which equals this up to per-period cent rounding and makes a payoff
 * on a due date equal the balance exactly.
 */
export function ruleOf78Rebate(financeCharge: Decimal, n: number, periodsRemaining: number): Decimal {
  return roundMoney(financeCharge.times(sumOfDigits(periodsRemaining)).div(sumOfDigits(n)));
}

export const ruleOf78: AccrualMethod = {
  name: "rule_of_78",
  precomputed: true,
  periodicRate: (annualRate) => annualRate.div(12),
  spanAccruer: simpleSpanAccruer,
};
