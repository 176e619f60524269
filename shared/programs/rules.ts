/**
 * Cross-field rules of programs, products, fee schedules and promotions (issue 4): the checks a
 * field-by-field schema cannot express. Pure functions over the merged entity, so create (the
 * body) and patch (the stored entity with the patch applied) are judged by the same rules.
 */
import Decimal from "decimal.js";
import type { FieldError } from "../errors";
import { ALLOCATION_COMPONENTS, type ProgramType } from "../validation/fields";
import { programTypeOfConfigKey } from "./config-keys";

type Obj = Record<string, any>;
const has = (v: unknown) => v !== undefined && v !== null && v !== "";
const dec = (v: unknown) => new Decimal(String(v));

/** min ≤ max for a pair of fields, when both are present. */
export function rangeErrors(entity: Obj, min: string, max: string, prefix = ""): FieldError[] {
  if (!has(entity[min]) || !has(entity[max])) return [];
  return dec(entity[min]).gt(dec(entity[max]))
    ? [{ field: prefix + max, type: "range", message: `'${prefix + max}' must be greater than or equal to '${prefix + min}'`, actual: entity[max] }]
    : [];
}

/** payment_allocation_order must name each known component exactly once (DESIGN.md §3). */
export function allocationOrderErrors(order: unknown): FieldError[] {
  if (!Array.isArray(order)) return [];
  const known = new Set<string>(ALLOCATION_COMPONENTS);
  const seen = new Set(order);
  if (order.length === known.size && seen.size === known.size && order.every((c) => known.has(c))) return [];
  return [{
    field: "payment_allocation_order",
    type: "permutation",
    message: `'payment_allocation_order' must list each of ${ALLOCATION_COMPONENTS.join(", ")} exactly once`,
    actual: order,
  }];
}

/** Variable-rate fields: all-or-nothing around index_name, and floor ≤ ceiling. */
export function variableRateErrors(p: Obj): FieldError[] {
  const errors: FieldError[] = [];
  const anySet = ["index_name", "margin", "floor", "ceiling", "adjustment_frequency"].some((k) => has(p[k]));
  if (anySet) {
    for (const k of ["index_name", "margin", "adjustment_frequency"]) {
      if (!has(p[k])) errors.push({ field: k, type: "required", message: `'${k}' is required for a variable-rate program` });
    }
  }
  errors.push(...rangeErrors(p, "floor", "ceiling"));
  return errors;
}

/** program_config keys must belong to the program's type. */
export function programConfigErrors(config: Obj | undefined, programType: ProgramType | undefined): FieldError[] {
  if (!config || !programType) return [];
  return Object.keys(config)
    .filter((key) => programTypeOfConfigKey(key) !== programType)
    .map((key) => ({
      field: `program_config.${key}`,
      type: "programType",
      message: `'program_config.${key}' does not apply to ${programType} programs`,
      actual: config[key],
    }));
}

export function programErrors(p: Obj): FieldError[] {
  return [
    ...allocationOrderErrors(p.payment_allocation_order),
    ...variableRateErrors(p),
    ...programConfigErrors(p.program_config, p.program_type),
    ...leaseConfigErrors(p.program_config, p.program_type),
  ];
}

function leaseConfigErrors(config: Obj | undefined, programType: ProgramType | undefined): FieldError[] {
  if (programType !== "lease" || !config) return [];
  if (config.buyout_type === "fixed_price" && !has(config.buyout_price)) {
    return [{ field: "program_config.buyout_price", type: "required", message: "'program_config.buyout_price' is required when buyout_type is fixed_price" }];
  }
  return [];
}

/** A product against its program: ranges, rate type versus the program's index, config keys. */
export function productErrors(p: Obj, program: Obj | undefined): FieldError[] {
  const errors = [
    ...rangeErrors(p, "min_term_months", "max_term_months"),
    ...rangeErrors(p, "min_loan_amount", "max_loan_amount"),
  ];
  if (program) {
    errors.push(...programConfigErrors(p.program_config, program.program_type));
    if ((p.interest_rate_type === "variable" || p.interest_rate_type === "hybrid") && !has(program.index_name)) {
      errors.push({ field: "interest_rate_type", type: "programIndex", message: `'interest_rate_type' ${p.interest_rate_type} needs a program with an index (index_name)`, actual: p.interest_rate_type });
    }
    if (has(p.default_interest_rate) && has(program.floor) && dec(p.default_interest_rate).lt(dec(program.floor))) {
      errors.push({ field: "default_interest_rate", type: "floor", message: `'default_interest_rate' is below the program floor ${program.floor}`, actual: p.default_interest_rate });
    }
    if (has(p.default_interest_rate) && has(program.ceiling) && dec(p.default_interest_rate).gt(dec(program.ceiling))) {
      errors.push({ field: "default_interest_rate", type: "ceiling", message: `'default_interest_rate' is above the program ceiling ${program.ceiling}`, actual: p.default_interest_rate });
    }
  }
  if (p.interest_rate_type === "hybrid" && !has(p.fixed_period_months)) {
    errors.push({ field: "fixed_period_months", type: "required", message: "'fixed_period_months' is required for a hybrid product" });
  }
  return errors;
}

/** A fee: flat needs an amount, percent needs a percent and its basis; min ≤ max (the cap). */
export function feeScheduleErrors(s: Obj): FieldError[] {
  const errors: FieldError[] = [];
  const seen = new Set<string>();
  (s.fees ?? []).forEach((fee: Obj, i: number) => {
    const at = `fees[${i}]`;
    if (seen.has(fee.fee_type)) errors.push({ field: `${at}.fee_type`, type: "unique", message: `'${at}.fee_type' ${fee.fee_type} appears twice in the schedule` });
    seen.add(fee.fee_type);
    if (fee.calculation === "flat" && !has(fee.amount)) errors.push({ field: `${at}.amount`, type: "required", message: `'${at}.amount' is required for a flat fee` });
    if (fee.calculation === "percent") {
      if (!has(fee.percent)) errors.push({ field: `${at}.percent`, type: "required", message: `'${at}.percent' is required for a percent fee` });
      if (!has(fee.percent_basis)) errors.push({ field: `${at}.percent_basis`, type: "required", message: `'${at}.percent_basis' is required for a percent fee` });
    }
    errors.push(...rangeErrors(fee, "min_amount", "max_amount", `${at}.`));
  });
  return errors;
}

/** A promotion: start ≤ end, and the rate fields its type needs (seed 003, Promotional Programs). */
export function promotionErrors(p: Obj): FieldError[] {
  const errors: FieldError[] = [];
  if (has(p.start_date) && has(p.end_date) && p.start_date > p.end_date) {
    errors.push({ field: "end_date", type: "range", message: "'end_date' must be on or after 'start_date'", actual: p.end_date });
  }
  if (p.promo_type === "reduced_apr" && !has(p.apr)) errors.push({ field: "apr", type: "required", message: "'apr' is required for a reduced_apr promotion" });
  if (p.promo_type === "zero_interest" && has(p.apr) && !dec(p.apr).isZero()) errors.push({ field: "apr", type: "zero", message: "'apr' must be 0 (or absent) for a zero_interest promotion", actual: p.apr });
  if (p.promo_type === "deferred_interest" && !has(p.deferred_interest_rate)) errors.push({ field: "deferred_interest_rate", type: "required", message: "'deferred_interest_rate' is required for a deferred_interest promotion" });
  if (has(p.min_payment_type) && p.min_payment_type !== "none" && p.min_payment_type !== "interest_only" && !has(p.min_payment_amount)) {
    errors.push({ field: "min_payment_amount", type: "required", message: `'min_payment_amount' is required when min_payment_type is ${p.min_payment_type}` });
  }
  if (p.min_payment_type === "percent_of_balance" && has(p.min_payment_amount) && dec(p.min_payment_amount).gt(1)) {
    errors.push({ field: "min_payment_amount", type: "numberMax", message: "'min_payment_amount' is a fraction of the balance for percent_of_balance (at most 1)", actual: p.min_payment_amount });
  }
  return errors;
}
