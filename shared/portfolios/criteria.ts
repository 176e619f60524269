/**
 * Portfolio criteria (DESIGN.md §9): a JSON rule tree `{ all: [...] }` / `{ any: [...] }` of
 * `{ field, op, value }` over a loan's attributes and position. Three pure functions:
 * - `criteriaErrors`: every unknown field or op and every mistyped value, each with its path
 *   (`criteria.all[1].op`), so one 400 names them all;
 * - `evaluateCriteria` / `compileCriteria`: the one evaluator (the daily auto-assign and the tests);
 * - `criteriaToMongo`: the same tree as a MongoDB filter over the portfolios' loan projection,
 *   whose `m` sub-document holds the fields below (decimals as Decimal128).
 *
 * A loan whose field is null (no region, no credit score) matches only `ne` and `nin`, as in
 * MongoDB, so the evaluator and the query agree.
 */
import Decimal from "decimal.js";
import { Types } from "mongoose";
import type { FieldError } from "../errors";
import { LOAN_STATUSES, type LoanAttributes, type LoanPosition } from "../contracts/loans";
import { INTEREST_RATE_TYPES, PROGRAM_TYPES } from "../validation/fields";

type FieldType =
  | { kind: "decimal" }
  | { kind: "int" }
  | { kind: "date" }
  | { kind: "month" }
  | { kind: "string" }
  | { kind: "enum"; values: readonly string[] };

const BUCKETS = ["current", "1_29", "30_59", "60_89", "90_119", "120_plus"] as const;

/** The fields a rule may name: the loan attributes of DESIGN §7 and the position fields of §9. */
export const CRITERIA_FIELDS = {
  product_id: { kind: "string" },
  program_id: { kind: "string" },
  program_type: { kind: "enum", values: PROGRAM_TYPES },
  interest_rate_type: { kind: "enum", values: INTEREST_RATE_TYPES },
  origination_date: { kind: "date" },
  vintage: { kind: "month" },
  principal: { kind: "decimal" },
  annual_rate: { kind: "decimal" },
  term_months: { kind: "int" },
  region: { kind: "string" },
  credit_score: { kind: "int" },
  index_name: { kind: "string" },
  currency: { kind: "string" },
  balance: { kind: "decimal" },
  days_past_due: { kind: "int" },
  bucket: { kind: "enum", values: BUCKETS },
  status: { kind: "enum", values: LOAN_STATUSES },
} as const satisfies Record<string, FieldType>;
export type CriteriaField = keyof typeof CRITERIA_FIELDS;

export const CRITERIA_OPS = ["eq", "ne", "in", "nin", "gt", "gte", "lt", "lte", "between"] as const;
export type CriteriaOp = (typeof CRITERIA_OPS)[number];
const ORDERED_OPS: readonly CriteriaOp[] = ["gt", "gte", "lt", "lte", "between"];

export type Scalar = string | number;
export interface Condition {
  field: CriteriaField;
  op: CriteriaOp;
  value: Scalar | Scalar[];
}
export type Criteria = { all: Criteria[] } | { any: Criteria[] } | Condition;

/** Limits that keep a tree cheap to store and to evaluate against 100,000 loans. */
export const CRITERIA_LIMITS = { depth: 6, rules: 200, list: 500 } as const;

/**
 * A loan as the criteria see it. Decimal fields may hold a Decimal or anything whose toString()
 * is the decimal (a stored Decimal128): the evaluator parses them only when a rule reads them, so
 * the daily run does not parse every loan's amounts to reject most loans on their region.
 */
export type DecimalLike = Decimal | { toString(): string };
export type CriteriaView = { [K in CriteriaField]: DecimalLike | number | string | null };

/** The view of a loan from its event attributes and position. */
export function criteriaView(a: LoanAttributes, s: LoanPosition): CriteriaView {
  return {
    product_id: a.product_id,
    program_id: a.program_id,
    program_type: a.program_type,
    interest_rate_type: a.interest_rate_type,
    origination_date: a.origination_date || null,
    vintage: a.vintage || null,
    principal: dec(a.principal),
    annual_rate: dec(a.annual_rate),
    term_months: a.term_months,
    region: a.region,
    credit_score: a.credit_score,
    index_name: a.index_name,
    currency: a.currency,
    balance: dec(s.principal_balance),
    days_past_due: s.days_past_due,
    bucket: s.bucket,
    status: s.status,
  };
}

function dec(v: string | null | undefined): Decimal | null {
  return v == null || v === "" ? null : new Decimal(v);
}

// ── validation ─────────────────────────────────────────────────────────────────────────────────

const DECIMAL = /^-?\d{1,15}(\.\d{1,10})?$/;
const DATE = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;
const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Why `value` is not a value of `type`, or null when it is. */
function scalarProblem(type: FieldType, value: unknown): string | null {
  switch (type.kind) {
    case "decimal":
      return typeof value === "string" && DECIMAL.test(value) ? null : "must be a decimal string, e.g. \"5000.00\"";
    case "int":
      return typeof value === "number" && Number.isSafeInteger(value) ? null : "must be an integer";
    case "date":
      return typeof value === "string" && DATE.test(value) && isCalendarDate(value) ? null : "must be an ISO date, e.g. 2026-03-01";
    case "month":
      return typeof value === "string" && MONTH.test(value) ? null : "must be a month, YYYY-MM";
    case "string":
      return typeof value === "string" && value.length > 0 && value.length <= 200 ? null : "must be a non-empty string";
    case "enum":
      return typeof value === "string" && type.values.includes(value) ? null : `must be one of ${type.values.join(", ")}`;
  }
}

function isCalendarDate(s: string): boolean {
  const [y, m, d] = s.split("-").map(Number);
  const t = new Date(Date.UTC(y, m - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === d;
}

function compareScalar(type: FieldType, a: Scalar, b: Scalar): number {
  if (type.kind === "decimal") return new Decimal(a).cmp(new Decimal(b));
  if (type.kind === "int") return (a as number) - (b as number);
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Every problem of a criteria tree, each named by its path. Empty = valid. */
export function criteriaErrors(tree: unknown, path = "criteria"): FieldError[] {
  const errors: FieldError[] = [];
  let rules = 0;
  const add = (field: string, message: string, type = "criteria", actual?: unknown): void => {
    errors.push({ field, message: `'${field}' ${message}`, type, actual });
  };

  const walk = (node: unknown, at: string, depth: number): void => {
    if (!isObject(node)) return add(at, "must be an object: { all: [...] }, { any: [...] } or { field, op, value }");
    if (depth > CRITERIA_LIMITS.depth) return add(at, `nests deeper than ${CRITERIA_LIMITS.depth} levels`);
    const keys = Object.keys(node);
    if ("all" in node || "any" in node) {
      const group = "all" in node ? "all" : "any";
      for (const k of keys) if (k !== group) add(`${at}.${k}`, `is not allowed beside '${group}'`, "unknown", k);
      const list = node[group];
      if (!Array.isArray(list) || list.length === 0) return add(`${at}.${group}`, "must be a non-empty array of rules");
      list.forEach((child, i) => walk(child, `${at}.${group}[${i}]`, depth + 1));
      return;
    }
    if (++rules > CRITERIA_LIMITS.rules) return add(at, `more than ${CRITERIA_LIMITS.rules} rules`);
    for (const k of keys) if (k !== "field" && k !== "op" && k !== "value") add(`${at}.${k}`, "is not a rule key (field, op, value, or all/any)", "unknown", k);
    const field = node.field;
    const op = node.op;
    const type = typeof field === "string" && Object.hasOwn(CRITERIA_FIELDS, field) ? (CRITERIA_FIELDS as Record<string, FieldType>)[field] : null;
    const knownOp = typeof op === "string" && (CRITERIA_OPS as readonly string[]).includes(op) ? (op as CriteriaOp) : null;
    if (!type) add(`${at}.field`, `must be one of ${Object.keys(CRITERIA_FIELDS).join(", ")}`, "unknown", field);
    if (!knownOp) add(`${at}.op`, `must be one of ${CRITERIA_OPS.join(", ")}`, "unknown", op);
    else if (type && ORDERED_OPS.includes(knownOp) && (type.kind === "string" || type.kind === "enum")) {
      add(`${at}.op`, `'${knownOp}' does not apply to '${String(field)}' (not ordered): use eq, ne, in or nin`, "criteria", op);
    }
    if (!("value" in node)) return add(`${at}.value`, "is required");
    if (!type || !knownOp) return;
    const value = node.value;
    if (knownOp === "in" || knownOp === "nin" || knownOp === "between") {
      const n = knownOp === "between" ? 2 : null;
      if (!Array.isArray(value) || value.length === 0 || (n !== null && value.length !== n) || value.length > CRITERIA_LIMITS.list) {
        return add(`${at}.value`, knownOp === "between" ? "must be [low, high]" : `must be a non-empty array (at most ${CRITERIA_LIMITS.list})`, "criteria", value);
      }
      let ok = true;
      value.forEach((v, i) => {
        const problem = scalarProblem(type, v);
        if (problem) {
          ok = false;
          add(`${at}.value[${i}]`, problem, "criteria", v);
        }
      });
      if (ok && knownOp === "between" && compareScalar(type, value[0], value[1]) > 0) add(`${at}.value`, "low must not exceed high", "range", value);
      return;
    }
    const problem = scalarProblem(type, value);
    if (problem) add(`${at}.value`, problem, "criteria", value);
  };

  walk(tree, path, 1);
  return errors;
}

// ── evaluation ─────────────────────────────────────────────────────────────────────────────────

export type CompiledCriteria = (loan: CriteriaView) => boolean;

function normalise(type: FieldType, v: Scalar): Decimal | number | string {
  return type.kind === "decimal" ? new Decimal(v) : v;
}

function cmp(a: Decimal | number | string, b: Decimal | number | string): number {
  if (a instanceof Decimal) return a.cmp(b as Decimal);
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Compiles a valid tree once (values parsed up front) into a predicate: the daily run evaluates
 * every portfolio's criteria against each loan, so parsing per loan would dominate.
 */
export function compileCriteria(tree: Criteria): CompiledCriteria {
  if ("all" in tree) {
    const parts = tree.all.map(compileCriteria);
    return (loan) => parts.every((p) => p(loan));
  }
  if ("any" in tree) {
    const parts = tree.any.map(compileCriteria);
    return (loan) => parts.some((p) => p(loan));
  }
  const type: FieldType = CRITERIA_FIELDS[tree.field];
  const field = tree.field;
  const values = Array.isArray(tree.value) ? tree.value.map((v) => normalise(type, v)) : [normalise(type, tree.value)];
  const [v0, v1] = values;
  const has = (x: Decimal | number | string) => values.some((v) => cmp(x, v) === 0);
  const get: (l: CriteriaView) => Decimal | number | string | null =
    type.kind === "decimal"
      ? (l) => {
          const x = l[field];
          return x == null ? null : x instanceof Decimal ? x : new Decimal(x.toString());
        }
      : (l) => l[field] as number | string | null;
  switch (tree.op) {
    case "eq": return (l) => { const x = get(l); return x != null && cmp(x, v0) === 0; };
    case "ne": return (l) => { const x = get(l); return x == null || cmp(x, v0) !== 0; };
    case "in": return (l) => { const x = get(l); return x != null && has(x); };
    case "nin": return (l) => { const x = get(l); return x == null || !has(x); };
    case "gt": return (l) => { const x = get(l); return x != null && cmp(x, v0) > 0; };
    case "gte": return (l) => { const x = get(l); return x != null && cmp(x, v0) >= 0; };
    case "lt": return (l) => { const x = get(l); return x != null && cmp(x, v0) < 0; };
    case "lte": return (l) => { const x = get(l); return x != null && cmp(x, v0) <= 0; };
    case "between": return (l) => { const x = get(l); return x != null && cmp(x, v0) >= 0 && cmp(x, v1) <= 0; };
  }
}

/** Does the loan match the (valid) criteria? */
export function evaluateCriteria(tree: Criteria, loan: CriteriaView): boolean {
  return compileCriteria(tree)(loan);
}

// ── MongoDB ────────────────────────────────────────────────────────────────────────────────────

/** Where the projection keeps the criteria fields (see criteriaDocument). */
export const CRITERIA_PATH = "m";

/** The `m` sub-document the projection stores for queries: decimals as Decimal128. */
export function criteriaDocument(view: CriteriaView): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(view)) out[k] = v instanceof Decimal ? Types.Decimal128.fromString(v.toString()) : v;
  return out;
}

function mongoValue(type: FieldType, v: Scalar): unknown {
  return type.kind === "decimal" ? Types.Decimal128.fromString(new Decimal(v).toString()) : v;
}

/** The same tree as a MongoDB filter over the projection's `m` fields. */
export function criteriaToMongo(tree: Criteria): Record<string, unknown> {
  if ("all" in tree) return { $and: tree.all.map(criteriaToMongo) };
  if ("any" in tree) return { $or: tree.any.map(criteriaToMongo) };
  const type: FieldType = CRITERIA_FIELDS[tree.field];
  const path = `${CRITERIA_PATH}.${tree.field}`;
  const list = Array.isArray(tree.value) ? tree.value.map((v) => mongoValue(type, v)) : [];
  const one = Array.isArray(tree.value) ? undefined : mongoValue(type, tree.value);
  switch (tree.op) {
    case "eq": return { [path]: { $eq: one } };
    case "ne": return { [path]: { $ne: one } };
    case "in": return { [path]: { $in: list } };
    case "nin": return { [path]: { $nin: list } };
    case "gt": return { [path]: { $gt: one } };
    case "gte": return { [path]: { $gte: one } };
    case "lt": return { [path]: { $lt: one } };
    case "lte": return { [path]: { $lte: one } };
    case "between": return { [path]: { $gte: list[0], $lte: list[1] } };
  }
}
