/**
 * Events and answers of the programs service: the contract other services code against.
 * Configuration events are plain Moleculer events (they move no money; consumers re-read the
 * entity on demand), published after the write.
 */
export const ProgramEvents = {
  programCreated: "program.created",
  programUpdated: "program.updated",
  programDeactivated: "program.deactivated",
  programActivated: "program.activated",
  productCreated: "product.created",
  productUpdated: "product.updated",
  productDeactivated: "product.deactivated",
  productActivated: "product.activated",
  feeScheduleCreated: "fee_schedule.created",
  feeScheduleUpdated: "fee_schedule.updated",
  promotionCreated: "promotion.created",
  promotionUpdated: "promotion.updated",
} as const;

/** Payload of every programs event: the entity as it is after the change. */
export interface ConfigEntityEvent<T = Record<string, unknown>> {
  id: string;
  version: number;
  entity: T;
  changed_fields?: string[];
  actor?: string;
}

export interface FeeRule {
  fee_type: string;
  calculation: "flat" | "percent";
  amount?: string;
  percent?: string;
  percent_basis?: "principal" | "payment" | "balance" | "past_due";
  min_amount?: string;
  max_amount?: string;
}

/**
 * What `programs.resolveProduct` answers: the product's effective configuration, program settings
 * overlaid by the product's program_config. The loans service copies it onto a loan at origination,
 * so later configuration changes never alter an existing loan.
 */
export interface EffectiveProductConfig {
  product_id: string;
  product_name: string;
  program_id: string;
  program_name: string;
  program_type: "installment" | "lease" | "line_of_credit";
  day_count_convention: string;
  accrual_method: string;
  payment_allocation_order: string[];
  interest_rate_type: "fixed" | "variable" | "hybrid";
  default_interest_rate: string;
  fixed_period_months?: number;
  min_term_months: number;
  max_term_months: number;
  min_loan_amount: string;
  max_loan_amount: string;
  grace_period_days: number;
  variable_rate?: { index_name: string; margin: string; floor?: string; ceiling?: string; adjustment_frequency: string };
  program_config: Record<string, unknown>;
  fees: FeeRule[];
  originations_allowed: boolean;
  blocked_reasons: string[];
  program_version: number;
  product_version: number;
}

/** Fee types a fee schedule may price (seed 003 Fee Management) and a loan may be charged. */
export const FEE_TYPES = ["origination", "late", "nsf", "annual", "prepayment", "statement", "modification", "return"] as const;
