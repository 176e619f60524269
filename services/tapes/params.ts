/**
 * Request schemas of the tapes routes (seed 000's Loan Tape Config; issue 12 point 1). Field codes
 * are an enum of the catalogue and schedules a pattern, so the OpenAPI document states them; the
 * one rule spanning fields (a layout or a field list, not both) is a cross-field check, so one
 * 400 names every bad field.
 */
import { TAPE_FIELDS } from "../../shared/tapes/catalogue";
import { LAYOUTS } from "../../shared/tapes/layouts";
import { SCHEDULE_PATTERN } from "../../shared/tapes/schedule";
import { isoDate, objectId, oneOf, text, withCrossFieldCheck } from "../../shared/validation/fields";
import { patchParams } from "../../shared/validation/patch";
import { paginationParams } from "../../shared/db/pagination";

export const TAPE_FORMATS = ["csv", "xlsx"] as const;

/** A layout and a field list are two answers to one question: a config gives at most one. */
export function columnsChoiceErrors(body: Record<string, any>) {
  return body.layout && body.required_fields?.length
    ? [{ field: "layout", type: "exclusive", message: "give either 'layout' or 'required_fields', not both", actual: body.layout }]
    : [];
}

const schedule = {
  type: "string",
  pattern: SCHEDULE_PATTERN,
  messages: { stringPattern: "The '{field}' field must be daily, weekly:<mon..sun>, monthly:<1..28|last> or on_demand" },
} as const;

export const createConfigParams = {
  $$strict: true,
  name: text(200),
  portfolio_id: objectId,
  tape_format: oneOf(TAPE_FORMATS),
  tape_schedule: schedule,
  required_fields: {
    type: "array",
    optional: true,
    min: 1,
    max: TAPE_FIELDS.length,
    unique: true,
    items: { type: "enum", values: TAPE_FIELDS.map((f) => f.code), messages: { enumValue: "'{actual}' is not a field of the catalogue (GET /tape-fields)" } },
  },
  layout: withCrossFieldCheck(oneOf(LAYOUTS, { optional: true }), columnsChoiceErrors),
  recipient_email: { type: "array", min: 1, max: 20, items: { type: "email", max: 254 } },
} as const;

export const patchConfigParams = { id: objectId, ...patchParams(createConfigParams, ["portfolio_id"]) };

export const runParams = { $$strict: true, id: objectId, business_date: isoDate({ optional: true }) } as const;

export const listRunsParams = { config_id: { ...objectId, optional: true }, ...paginationParams } as const;
