/**
 * What the programs service's routes answer, as JSON Schemas for the OpenAPI document: each
 * entity's stored shape is derived from its create fields (shared/http/openapi.ts entitySchema).
 */
import { entitySchema, pageSchema } from "../../shared/http/openapi";
import { feeScheduleFields, productFields, programFields, promotionFields } from "./params";

export const programEntity = entitySchema(programFields, { is_active: { type: "boolean" } });
export const productEntity = entitySchema(productFields, { is_active: { type: "boolean" } });
export const feeScheduleEntity = entitySchema(feeScheduleFields, { is_active: { type: "boolean" } });
export const promotionEntity = entitySchema(promotionFields, { is_active: { type: "boolean" } });

export const programPage = pageSchema(programEntity);
export const productPage = pageSchema(productEntity);
export const feeSchedulePage = pageSchema(feeScheduleEntity);
export const promotionPage = pageSchema(promotionEntity);

/** shared/programs/effective-config.ts */
export const effectiveConfig = {
  type: "object",
  required: ["product_id", "program_id", "program_type", "originations_allowed", "blocked_reasons", "program_config", "fees"],
  properties: {
    product_id: { type: "string" },
    product_name: { type: "string" },
    program_id: { type: "string" },
    program_name: { type: "string" },
    program_type: { type: "string" },
    day_count_convention: { type: "string" },
    accrual_method: { type: "string" },
    payment_allocation_order: { type: "array", items: { type: "string" } },
    interest_rate_type: { type: "string" },
    default_interest_rate: { type: "string" },
    fixed_period_months: { type: "integer" },
    min_term_months: { type: "integer" },
    max_term_months: { type: "integer" },
    min_loan_amount: { type: "string" },
    max_loan_amount: { type: "string" },
    grace_period_days: { type: "integer" },
    variable_rate: { type: "object" },
    program_config: { type: "object" },
    fees: { type: "array", items: { type: "object" } },
    originations_allowed: { type: "boolean" },
    blocked_reasons: { type: "array", items: { type: "string" } },
    program_version: { type: "integer" },
    product_version: { type: "integer" },
  },
  additionalProperties: true,
};
