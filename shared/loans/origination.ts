/**
 * DESIGN.md §7 origination, as pure functions: a create request checked against the product's
 * effective configuration (ranges, required fields per program type), and the loan's terms built
 * from the two — the configuration is copied, so editing a program later never changes the loan.
 */
import { DateTime } from "luxon";
import type { EffectiveProductConfig } from "../contracts/programs";
import type { FieldError } from "../errors";
import { clampRate, Decimal, type LoanTerms, type ProgramType, type Promotion } from "../finance";

export interface CreateLoanRequest {
  product_id: string;
  principal?: string;
  term_months: number;
  annual_rate?: string;
  first_payment_date?: string;
  external_id?: string;
  borrower?: { name?: string; email?: string; region?: string; credit_score?: number };
  capitalized_cost?: string;
  residual_value?: string;
  buyout_price?: string;
  credit_limit?: string;
}

/** The amount a loan's size is judged by: principal, capitalised cost or credit limit. */
export function amountFieldOf(programType: ProgramType): "principal" | "capitalized_cost" | "credit_limit" {
  return programType === "lease" ? "capitalized_cost" : programType === "line_of_credit" ? "credit_limit" : "principal";
}

/** DESIGN.md §7: 400 naming each field outside the product's ranges or missing for its program type. */
export function originationErrors(req: CreateLoanRequest, cfg: EffectiveProductConfig): FieldError[] {
  const errors: FieldError[] = [];
  const amountField = amountFieldOf(cfg.program_type);
  const amount = req[amountField] ?? (amountField === "credit_limit" ? (cfg.program_config.credit_limit as string | undefined) : undefined);
  if (amount === undefined) {
    errors.push({ field: amountField, type: "required", message: `'${amountField}' is required for a ${cfg.program_type} loan` });
  } else {
    const a = new Decimal(amount);
    if (a.lt(cfg.min_loan_amount) || a.gt(cfg.max_loan_amount)) {
      errors.push({ field: amountField, type: "range", actual: amount, message: `'${amountField}' must be between ${cfg.min_loan_amount} and ${cfg.max_loan_amount} for this product` });
    }
  }
  if (req.term_months < cfg.min_term_months || req.term_months > cfg.max_term_months) {
    errors.push({ field: "term_months", type: "range", actual: req.term_months, message: `'term_months' must be between ${cfg.min_term_months} and ${cfg.max_term_months} for this product` });
  }
  const foreign: (keyof CreateLoanRequest)[] =
    cfg.program_type === "installment" ? ["capitalized_cost", "residual_value", "buyout_price", "credit_limit"]
    : cfg.program_type === "lease" ? ["principal", "credit_limit"]
    : ["principal", "capitalized_cost", "residual_value", "buyout_price"];
  for (const f of foreign) {
    if (req[f] !== undefined) errors.push({ field: f, type: "forbidden", message: `'${f}' does not apply to a ${cfg.program_type} loan` });
  }
  if (cfg.program_type === "lease") {
    const cost = req.capitalized_cost;
    const residual = req.residual_value ?? residualFromConfig(cfg, cost);
    if (cost && residual && new Decimal(residual).gt(cost)) {
      errors.push({ field: "residual_value", type: "range", actual: residual, message: "'residual_value' may not exceed 'capitalized_cost'" });
    }
  }
  if (req.annual_rate !== undefined && cfg.interest_rate_type === "variable") {
    errors.push({ field: "annual_rate", type: "forbidden", message: "a variable-rate loan is priced from its index: 'annual_rate' cannot be given" });
  }
  return errors;
}

function residualFromConfig(cfg: EffectiveProductConfig, cost: string | undefined): string | undefined {
  const pct = cfg.program_config.residual_percent as string | undefined;
  if (!pct || !cost) return undefined;
  return new Decimal(cost).times(pct).toDecimalPlaces(2, Decimal.ROUND_HALF_UP).toFixed(2);
}

/** DESIGN.md §7: a variable loan's rate = clamp(index on the origination date + margin, floor, ceiling). */
export function variableRateAt(indexRate: string, cfg: EffectiveProductConfig): string {
  const v = cfg.variable_rate!;
  return clampRate(new Decimal(indexRate).plus(v.margin), v.floor, v.ceiling).toString();
}

/** Needs an index rate to be priced (variable products, and hybrids after their fixed period). */
export function needsIndexRate(cfg: EffectiveProductConfig): boolean {
  return cfg.interest_rate_type === "variable" && !!cfg.variable_rate;
}

/** The loan terms at disbursement (DESIGN §3 inputs), from what was copied at origination. */
export function loanTermsAt(input: {
  program_type: ProgramType;
  cfg: EffectiveProductConfig;
  req: CreateLoanRequest;
  annual_rate: string;
  disbursement_date: string;
  promotions: Promotion[];
}): LoanTerms {
  const { cfg, req } = input;
  const pc = cfg.program_config as Record<string, any>;
  const first = req.first_payment_date ?? oneMonthAfter(input.disbursement_date);
  const base: LoanTerms = {
    program_type: input.program_type,
    principal: "0.00",
    annual_rate: input.annual_rate,
    term_months: req.term_months,
    disbursement_date: input.disbursement_date,
    first_payment_date: first,
    day_count_convention: cfg.day_count_convention as LoanTerms["day_count_convention"],
    accrual_method: cfg.accrual_method as LoanTerms["accrual_method"],
    promotions: input.promotions.length ? input.promotions : null,
  };
  if (input.program_type === "installment") {
    return {
      ...base,
      principal: req.principal!,
      interest_only_months: pc.interest_only_months ?? null,
      balloon_amortization_months: pc.balloon_amortization_months ?? null,
      graduated_step_percent: pc.graduated_step_percent ?? null,
      graduated_step_months: pc.graduated_step_months ?? null,
    };
  }
  if (input.program_type === "lease") {
    return {
      ...base,
      principal: req.capitalized_cost!,
      residual_value: req.residual_value ?? residualFromConfig(cfg, req.capitalized_cost) ?? "0.00",
      buyout_price: req.buyout_price ?? pc.buyout_price ?? null,
      promotions: null,
    };
  }
  const drawMonths = pc.draw_period_months as number | undefined;
  return {
    ...base,
    principal: "0.00",
    credit_limit: req.credit_limit ?? pc.credit_limit,
    min_payment_percent: pc.min_payment_percent ?? null,
    min_payment_floor: pc.min_payment_floor ?? null,
    draw_end_date: drawMonths ? DateTime.fromISO(input.disbursement_date, { zone: "utc" }).plus({ months: drawMonths }).toISODate() : null,
  };
}

/** DESIGN.md §7: the first payment falls one month after disbursement unless the loan says otherwise. */
export function oneMonthAfter(date: string): string {
  return DateTime.fromISO(date, { zone: "utc" }).plus({ months: 1 }).toISODate()!;
}

/** Loans are spread over partitions that close-of-business instances claim (DESIGN.md §8). */
export const PARTITIONS = 64;
export function partitionOf(loanId: string): number {
  let h = 0;
  for (let i = 0; i < loanId.length; i++) h = (h * 31 + loanId.charCodeAt(i)) >>> 0;
  return h % PARTITIONS;
}
