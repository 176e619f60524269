/** Lease terms helpers (seed 003 lease program_config: residual_percent is a fraction of the cost). */
import { toMoney, toRate, type DecimalInput } from "../decimal";
import { moneyString, roundMoney } from "../rounding";

export function residualFromPercent(capitalizedCost: DecimalInput, residualPercent: DecimalInput): string {
  return moneyString(roundMoney(toMoney(capitalizedCost, "capitalized_cost").times(toRate(residualPercent, "residual_percent"))));
}
