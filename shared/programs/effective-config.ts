/**
 * A product's effective configuration (seed 003: "products inherit program-level settings and
 * add product-specific constraints"): program settings, overlaid key by key by the product's
 * program_config, plus the product's active fee schedule and whether new loans may be made.
 */
import type { EffectiveProductConfig, FeeRule } from "../contracts/programs";

type Obj = Record<string, any>;

export function effectiveProductConfig(program: Obj, product: Obj, feeSchedule?: Obj): EffectiveProductConfig {
  const blocked: string[] = [];
  if (!program.is_active) blocked.push(`program ${program.id} is inactive`);
  if (!product.is_active) blocked.push(`product ${product.id} is inactive`);
  return {
    product_id: product.id,
    product_name: product.name,
    program_id: program.id,
    program_name: program.name,
    program_type: program.program_type,
    day_count_convention: program.day_count_convention,
    accrual_method: program.accrual_method,
    payment_allocation_order: [...program.payment_allocation_order],
    interest_rate_type: product.interest_rate_type,
    default_interest_rate: product.default_interest_rate,
    fixed_period_months: product.fixed_period_months ?? undefined,
    min_term_months: product.min_term_months,
    max_term_months: product.max_term_months,
    min_loan_amount: product.min_loan_amount,
    max_loan_amount: product.max_loan_amount,
    grace_period_days: product.grace_period_days,
    variable_rate: program.index_name
      ? {
          index_name: program.index_name,
          margin: program.margin,
          floor: program.floor ?? undefined,
          ceiling: program.ceiling ?? undefined,
          adjustment_frequency: program.adjustment_frequency,
        }
      : undefined,
    program_config: { ...(program.program_config ?? {}), ...(product.program_config ?? {}) },
    fees: (feeSchedule?.fees ?? []) as FeeRule[],
    originations_allowed: blocked.length === 0,
    blocked_reasons: blocked,
    program_version: program.version,
    product_version: product.version,
  };
}
