/** Accrual methods chosen by name (DESIGN §3), and the servicing-facing daily accrual helper. */
import { FinanceInputError } from "../errors";
import { compoundDaily } from "./compoundDaily";
import { compoundMonthly } from "./compoundMonthly";
import { ruleOf78 } from "./ruleOf78";
import { simple } from "./simple";
import type { AccrualMethod, AccrualMethodName } from "./types";

export type { AccrualMethod, AccrualMethodName, SpanAccruer } from "./types";
export { ruleOf78FinanceCharge, ruleOf78PeriodInterest, ruleOf78Rebate, sumOfDigits } from "./ruleOf78";

const METHODS: Record<AccrualMethodName, AccrualMethod> = {
  simple,
  compound_daily: compoundDaily,
  compound_monthly: compoundMonthly,
  rule_of_78: ruleOf78,
};

export const ACCRUAL_METHODS = Object.keys(METHODS) as AccrualMethodName[];

export function accrualMethodFor(name: string): AccrualMethod {
  const m = METHODS[name as AccrualMethodName];
  if (!m) throw new FinanceInputError(`unknown accrual_method '${name}'`, "accrual_method", name);
  return m;
}
