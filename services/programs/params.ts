/**
 * Request bodies of the programs service, field by field (seed 003). Create bodies carry their
 * object-level rules (withCrossFieldCheck) so one 400 names every bad field; patch bodies are the
 * same fields made optional, judged again as a whole against the stored entity by the handler.
 */
import { programConfigParam } from "../../shared/programs/config-keys";
import { programErrors, promotionErrors, feeScheduleErrors, rangeErrors } from "../../shared/programs/rules";
import {
  ACCRUAL_METHODS, ADJUSTMENT_FREQUENCIES, ALLOCATION_COMPONENTS, DAY_COUNT_CONVENTIONS, INTEREST_RATE_TYPES,
  PROGRAM_TYPES, PROMO_TYPES, int, isoDate, money, objectId, oneOf, rate, text, withCrossFieldCheck,
} from "../../shared/validation/fields";
import { patchParams } from "../../shared/validation/patch";

export const programFields = {
  name: text(200),
  description: text(2000, { optional: true }),
  program_type: oneOf(PROGRAM_TYPES),
  day_count_convention: oneOf(DAY_COUNT_CONVENTIONS),
  accrual_method: oneOf(ACCRUAL_METHODS),
  payment_allocation_order: { type: "array", items: oneOf(ALLOCATION_COMPONENTS), min: 1 },
  is_active: { type: "boolean", optional: true },
  index_name: text(40, { optional: true }),
  margin: rate({ optional: true }),
  floor: rate({ optional: true }),
  ceiling: rate({ optional: true }),
  adjustment_frequency: oneOf(ADJUSTMENT_FREQUENCIES, { optional: true }),
  program_config: programConfigParam,
};
export const createProgramParams = { $$strict: true, ...programFields, name: withCrossFieldCheck(programFields.name, programErrors) };
/** program_type fixes which program_config keys and loan behaviours exist: it cannot change. */
// is_active changes only through deactivate/activate, which announce it as such.
export const patchProgramParams = { id: objectId, ...patchParams(programFields, ["program_type", "is_active"]) };

export const productFields = {
  name: text(200),
  description: text(2000, { optional: true }),
  program_id: objectId,
  interest_rate_type: oneOf(INTEREST_RATE_TYPES),
  default_interest_rate: rate(),
  fixed_period_months: int(1, 360, { optional: true }),
  min_term_months: int(1, 600),
  max_term_months: int(1, 600),
  min_loan_amount: money(),
  max_loan_amount: money({ positive: true }),
  grace_period_days: int(0, 90),
  program_config: programConfigParam,
  is_active: { type: "boolean", optional: true },
};
const productRanges = (p: Record<string, any>) => [
  ...rangeErrors(p, "min_term_months", "max_term_months"),
  ...rangeErrors(p, "min_loan_amount", "max_loan_amount"),
];
export const createProductParams = { $$strict: true, ...productFields, name: withCrossFieldCheck(productFields.name, productRanges) };
export const patchProductParams = { id: objectId, ...patchParams(productFields, ["program_id", "is_active"]) };

export { FEE_TYPES } from "../../shared/contracts/programs";
import { FEE_TYPES } from "../../shared/contracts/programs";
export const feeRule = {
  type: "object",
  strict: true,
  props: {
    fee_type: oneOf(FEE_TYPES),
    calculation: oneOf(["flat", "percent"] as const),
    amount: money({ optional: true }),
    percent: rate({ optional: true }),
    percent_basis: oneOf(["principal", "payment", "balance", "past_due"] as const, { optional: true }),
    min_amount: money({ optional: true }),
    max_amount: money({ optional: true }),
  },
} as const;
export const feeScheduleFields = {
  name: text(200),
  product_id: objectId,
  fees: { type: "array", items: feeRule, min: 1, max: 20 },
  is_active: { type: "boolean", optional: true },
};
export const createFeeScheduleParams = { $$strict: true, ...feeScheduleFields, name: withCrossFieldCheck(feeScheduleFields.name, feeScheduleErrors) };
export const patchFeeScheduleParams = { id: objectId, ...patchParams(feeScheduleFields, ["product_id"]) };

export const MIN_PAYMENT_TYPES = ["none", "fixed", "percent_of_balance", "interest_only"] as const;
export const promotionFields = {
  name: text(200),
  description: text(2000, { optional: true }),
  program_id: objectId,
  promo_type: oneOf(PROMO_TYPES),
  start_date: isoDate(),
  end_date: isoDate(),
  apr: rate({ optional: true }),
  deferred_interest_rate: rate({ optional: true }),
  min_payment_type: oneOf(MIN_PAYMENT_TYPES, { optional: true }),
  min_payment_amount: { type: "string", optional: true, pattern: "^[0-9]{1,13}(\\.[0-9]{1,10})?$", messages: { stringPattern: "The '{field}' field must be a decimal string" } },
  is_active: { type: "boolean", optional: true },
};
export const createPromotionParams = { $$strict: true, ...promotionFields, name: withCrossFieldCheck(promotionFields.name, promotionErrors) };
export const patchPromotionParams = { id: objectId, ...patchParams(promotionFields, ["program_id"]) };
