/**
 * fastest-validator building blocks for the wire conventions of DESIGN.md §2: money and rates are
 * decimal strings, business dates are ISO dates, enumerations are the DESIGN's. Patterns are
 * strings (not RegExp) so the schemas survive the registry and reach the OpenAPI document.
 */
import Decimal from "decimal.js";
import { DateTime } from "luxon";

export const PROGRAM_TYPES = ["installment", "lease", "line_of_credit"] as const;
export const DAY_COUNT_CONVENTIONS = ["actual_360", "actual_365", "30_360", "actual_actual"] as const;
export const ACCRUAL_METHODS = ["simple", "compound_daily", "compound_monthly", "rule_of_78"] as const;
export const INTEREST_RATE_TYPES = ["fixed", "variable", "hybrid"] as const;
export const PROMO_TYPES = ["deferred_interest", "reduced_apr", "zero_interest", "skip_payment"] as const;
export const ALLOCATION_COMPONENTS = ["interest", "fees", "principal"] as const;
export const ADJUSTMENT_FREQUENCIES = ["monthly", "quarterly", "semi_annually", "annually"] as const;

export type ProgramType = (typeof PROGRAM_TYPES)[number];

const MONEY_PATTERN = "^\\d{1,13}(\\.\\d{1,2})?$";

type Errors = { type: string; actual?: unknown; expected?: unknown; field?: string; message?: string }[];

/**
 * A money amount: non-negative decimal string with at most 2 decimals ("1250", "1250.5" and
 * "1250.00" all arrive as "1250.00": stored and echoed in cents).
 */
export function money(opts: { optional?: boolean; positive?: boolean } = {}) {
  return {
    type: "string",
    optional: !!opts.optional,
    pattern: MONEY_PATTERN,
    messages: { stringPattern: "The '{field}' field must be a decimal string with at most 2 decimals, e.g. 1250.00" },
    custom(value: string, errors: Errors, _schema: unknown, path: string) {
      if (!new RegExp(MONEY_PATTERN).test(value)) return value;
      if (opts.positive && new Decimal(value).isZero()) errors.push({ type: "numberPositive", actual: value, message: `'${path}' must be greater than 0` });
      return new Decimal(value).toFixed(2);
    },
  } as const;
}


/** An annual rate or a fraction as a decimal string ("0.0725" = 7.25 %), 0 ≤ x ≤ max. */
export function rate(opts: { optional?: boolean; max?: number } = {}) {
  const max = opts.max ?? 1;
  return {
    type: "string",
    optional: !!opts.optional,
    pattern: "^\\d{1,3}(\\.\\d{1,10})?$",
    messages: { stringPattern: "The '{field}' field must be a decimal string rate, e.g. 0.0725 for 7.25 %" },
    custom(value: string, errors: Errors, _schema: unknown, path: string) {
      if (Number(value) > max) errors.push({ type: "numberMax", expected: max, actual: value, message: `'${path}' must be at most ${max}` });
      return value;
    },
  } as const;
}

/** A business date, ISO "YYYY-MM-DD", and a real calendar date. */
export function isoDate(opts: { optional?: boolean } = {}) {
  return {
    type: "string",
    optional: !!opts.optional,
    pattern: "^\\d{4}-\\d{2}-\\d{2}$",
    messages: { stringPattern: "The '{field}' field must be an ISO date, e.g. 2026-03-01" },
    custom(value: string, errors: Errors, _schema: unknown, path: string) {
      if (/^\d{4}-\d{2}-\d{2}$/.test(value) && !DateTime.fromISO(value, { zone: "utc" }).isValid) errors.push({ type: "date", actual: value, message: `'${path}' is not a calendar date` });
      return value;
    },
  } as const;
}

export function oneOf<T extends readonly string[]>(values: T, opts: { optional?: boolean } = {}) {
  return { type: "enum", values: [...values], optional: !!opts.optional } as const;
}

export function int(min: number, max: number, opts: { optional?: boolean; convert?: boolean } = {}) {
  return { type: "number", integer: true, min, max, optional: !!opts.optional, convert: !!opts.convert } as const;
}

export function text(max: number, opts: { optional?: boolean; min?: number } = {}) {
  return { type: "string", min: opts.min ?? (opts.optional ? 0 : 1), max, trim: true, optional: !!opts.optional } as const;
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
 * Runs an object-level rule (min ≤ max, all-or-nothing groups…) inside the same validation pass
 * as the field rules, so one 400 names every bad field. Attach it to a required field of a
 * create body; fastest-validator hands it the whole body.
 */
export function withCrossFieldCheck<R extends object>(
  rule: R,
  check: (body: Record<string, any>) => { field: string; type?: string; message: string; actual?: unknown }[],
): R {
  return {
    ...rule,
    custom(value: unknown, errors: Errors, _schema: unknown, _path: string, parent: Record<string, any> | null, context: { data?: Record<string, any> }) {
      // For a top-level field fastest-validator passes no parent; the whole body is context.data.
      for (const e of check(parent ?? context?.data ?? {})) errors.push({ type: e.type ?? "invalid", field: e.field, message: e.message, actual: e.actual });
      return value;
    },
  };
}
