/**
 * fastest-validator building blocks for the wire conventions of DESIGN.md §2: money and rates are
 * decimal strings, business dates are ISO dates, enumerations are the DESIGN's. Patterns are
 * strings (not RegExp) so the schemas survive the registry and reach the OpenAPI document.
 */
import Decimal from "decimal.js";
import { CROSS_FIELD_CHECK, type CrossFieldCheck } from "./validator";

export const PROGRAM_TYPES = ["installment", "lease", "line_of_credit"] as const;
export const DAY_COUNT_CONVENTIONS = ["actual_360", "actual_365", "30_360", "actual_actual"] as const;
export const ACCRUAL_METHODS = ["simple", "compound_daily", "compound_monthly", "rule_of_78"] as const;
export const INTEREST_RATE_TYPES = ["fixed", "variable", "hybrid"] as const;
export const PROMO_TYPES = ["deferred_interest", "reduced_apr", "zero_interest", "skip_payment"] as const;
export const ALLOCATION_COMPONENTS = ["interest", "fees", "principal"] as const;
export const ADJUSTMENT_FREQUENCIES = ["monthly", "quarterly", "semi_annually", "annually"] as const;

export type ProgramType = (typeof PROGRAM_TYPES)[number];

const MONEY_PATTERN = "^[0-9]{1,13}(\\.[0-9]{1,2})?$";
/** Money greater than zero, without leading zeros (so the pattern alone says "positive"). */
const POSITIVE_MONEY_PATTERN = "^(?:[1-9][0-9]{0,12}(?:\\.[0-9]{1,2})?|0\\.(?:[1-9][0-9]?|0[1-9]))$";
/** A rate from 0 to 1 inclusive, up to 10 decimals. */
const UNIT_RATE_PATTERN = "^(?:0(?:\\.[0-9]{1,10})?|1(?:\\.0{1,10})?)$";
const RATE_PATTERN = "^[0-9]{1,3}(\\.[0-9]{1,10})?$";

type Errors = { type: string; actual?: unknown; expected?: unknown; field?: string; message?: string }[];

/**
 * A money amount: non-negative decimal string with at most 2 decimals ("1250", "1250.5" and
 * "1250.00" all arrive as "1250.00": stored and echoed in cents). Every bound is in the pattern,
 * so the OpenAPI document states it exactly.
 */
export function money(opts: { optional?: boolean; positive?: boolean } = {}) {
  const pattern = opts.positive ? POSITIVE_MONEY_PATTERN : MONEY_PATTERN;
  return {
    type: "string",
    optional: !!opts.optional,
    pattern,
    messages: {
      stringPattern: opts.positive
        ? "The '{field}' field must be a decimal string greater than 0 with at most 2 decimals, e.g. 1250.00"
        : "The '{field}' field must be a decimal string with at most 2 decimals, e.g. 1250.00",
    },
    custom(value: string) {
      return new RegExp(pattern).test(value) ? new Decimal(value).toFixed(2) : value;
    },
  } as const;
}

/** An annual rate or a fraction as a decimal string ("0.0725" = 7.25 %), 0 ≤ x ≤ max. */
export function rate(opts: { optional?: boolean; max?: number } = {}) {
  const max = opts.max ?? 1;
  const exact = max === 1;
  return {
    type: "string",
    optional: !!opts.optional,
    pattern: exact ? UNIT_RATE_PATTERN : RATE_PATTERN,
    messages: { stringPattern: `The '{field}' field must be a decimal string rate from 0 to ${max}, e.g. 0.0725 for 7.25 %` },
    ...(exact
      ? {}
      : {
          "x-maximum": max,
          custom(value: string, errors: Errors, _schema: unknown, path: string) {
            if (Number(value) > max) errors.push({ type: "numberMax", expected: max, actual: value, message: `'${path}' must be at most ${max}` });
            return value;
          },
        }),
  } as const;
}

/** Business dates are 1900-01-01 … 2199-12-31 (issue 7): no year 0 or 9999 reaches a schedule or an average. */
export const BUSINESS_DATE_RANGE = { min: "1900-01-01", max: "2199-12-31" } as const;

/**
 * A real calendar date in that range, as one regular expression (leap years included), so the
 * validator and the OpenAPI document say exactly the same thing.
 */
export const ISO_DATE_PATTERN =
  "^(?:(?:19|20|21)[0-9]{2}-(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])|(?:0[13-9]|1[0-2])-(?:29|30)|(?:0[13578]|1[02])-31)" +
  "|(?:(?:19|21)(?:0[48]|[2468][048]|[13579][26])|20(?:[02468][048]|[13579][26]))-02-29)$";

/** A business date, ISO "YYYY-MM-DD": a real calendar date from 1900-01-01 to 2199-12-31. */
export function isoDate(opts: { optional?: boolean } = {}) {
  return {
    type: "string",
    optional: !!opts.optional,
    format: "date",
    pattern: ISO_DATE_PATTERN,
    messages: { stringPattern: `The '{field}' field must be a calendar date from ${BUSINESS_DATE_RANGE.min} to ${BUSINESS_DATE_RANGE.max}, e.g. 2026-03-01` },
  } as const;
}

export function oneOf<T extends readonly string[]>(values: T, opts: { optional?: boolean } = {}) {
  return { type: "enum", values: [...values], optional: !!opts.optional } as const;
}

export function int(min: number, max: number, opts: { optional?: boolean; convert?: boolean } = {}) {
  return { type: "number", integer: true, min, max, optional: !!opts.optional, convert: !!opts.convert } as const;
}

/**
 * Free text of min..max characters (code points, as JSON Schema counts them), kept as sent. The
 * bounds are also stated as minLength/maxLength for the OpenAPI document.
 */
export function text(max: number, opts: { optional?: boolean; min?: number } = {}) {
  const min = opts.min ?? (opts.optional ? 0 : 1);
  return {
    type: "string",
    optional: !!opts.optional,
    minLength: min,
    maxLength: max,
    custom(value: unknown, errors: Errors, _schema: unknown, path: string) {
      if (typeof value !== "string") return value;
      const length = [...value].length;
      if (length < min) errors.push({ type: "stringMin", expected: min, actual: length, message: `The '${path}' field must be at least ${min} characters long.` });
      if (length > max) errors.push({ type: "stringMax", expected: max, actual: length, message: `The '${path}' field must be at most ${max} characters long.` });
      return value;
    },
  } as const;
}

export const objectId = { type: "string", pattern: "^[a-f0-9]{24}$", messages: { stringPattern: "The '{field}' field must be an id" } } as const;

/** `from` ≤ `to` for a list's date window (attach with withCrossFieldCheck to `from`). */
export function dateWindowErrors(q: Record<string, any>) {
  return q.from && q.to && q.from > q.to ? [{ field: "to", type: "range", message: "'to' must be on or after 'from'", actual: q.to }] : [];
}

/** Optional `from`/`to` ISO dates of a list, checked as a window. */
export const dateWindowParams = {
  from: withCrossFieldCheck(isoDate({ optional: true }), dateWindowErrors),
  to: isoDate({ optional: true }),
};

/**
 * Attaches an object-level rule (min ≤ max, all-or-nothing groups…) to a field of a body. The
 * broker's validator (shared/validation/validator.ts) runs it after the field rules, in the same
 * pass, on the fields that passed their own validation only, so one 400 names every bad field and
 * a rule never meets a value already refused.
 */
export function withCrossFieldCheck<R extends object>(rule: R, check: CrossFieldCheck): R {
  return { ...rule, [CROSS_FIELD_CHECK]: check };
}
