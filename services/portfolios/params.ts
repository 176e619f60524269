/**
 * Request bodies of the portfolios service (seeds 000 and 004, DESIGN.md §9). The maintained
 * first dates, the status and the sale are never written by a client: naming them is a 400.
 */
import { readConfig } from "../../shared/config";
import { criteriaErrors } from "../../shared/portfolios/criteria";
import { int, isoDate, money, objectId, oneOf, text, withCrossFieldCheck } from "../../shared/validation/fields";
import { patchParams } from "../../shared/validation/patch";

const config = readConfig();
export const PORTFOLIO_TYPES = config.portfolioTypes;
export const PORTFOLIO_STATUSES = ["open", "closed", "sold"] as const;

/** Loan and investor ids are the owning services' (ObjectId hex, or an investor's chosen id). */
export const entityId = { type: "string", pattern: "^[A-Za-z0-9_-]{1,64}$", messages: { stringPattern: "The '{field}' field must be an id" } } as const;

/** `source:code` (seed 004: unique with a source prefix); without a prefix, `api:` is added. */
export const USER_CODE_PATTERN = "^([a-z][a-z0-9_]{0,15}:)?[A-Za-z0-9][A-Za-z0-9._-]{0,63}$";

const maintained = (field: string) => ({ type: "forbidden", messages: { forbidden: `The '${field}' field is maintained by the system and cannot be written` } });
const informative = { type: "array", items: text(200), max: 200, optional: true } as const;

/**
 * The criteria rule tree. What a value may be depends on its field and op, so the tree is checked
 * as a cross-field rule (each problem named by path, in the same 400 as the other fields); the
 * document states its shape.
 */
const CRITERIA_VALUE = { anyOf: [{ type: "string" }, { type: "number" }, { type: "boolean" }, { type: "array", items: { anyOf: [{ type: "string" }, { type: "number" }] } }] };
const CRITERIA_LEAF = { field: { type: "string" }, op: { type: "string", enum: ["eq", "ne", "in", "nin", "gt", "gte", "lt", "lte", "between"] }, value: CRITERIA_VALUE };
const criteriaNode = (items: object) => ({
  type: "object",
  additionalProperties: false,
  properties: { all: { type: "array", items }, any: { type: "array", items }, ...CRITERIA_LEAF },
});
/** Two levels of groups are documented; deeper trees are accepted and checked all the same. */
const CRITERIA_SCHEMA = {
  ...criteriaNode(criteriaNode({ type: "object", additionalProperties: false, properties: CRITERIA_LEAF })),
  description: "{ all: [...] } | { any: [...] } of { field, op, value } (DESIGN.md §9)",
};
const criteria = withCrossFieldCheck(
  { type: "object", optional: true, nullable: true, openapi: CRITERIA_SCHEMA },
  (body) => (body.criteria === null || body.criteria === undefined ? [] : criteriaErrors(body.criteria, "criteria")),
);

export const portfolioFields = {
  name: text(200),
  description: text(2000, { optional: true }),
  program_id: { ...objectId, optional: true, nullable: true },
  criteria,
  priority: int(0, 1_000_000, { optional: true }),
  user_code: { type: "string", optional: true, pattern: USER_CODE_PATTERN, messages: { stringPattern: "The 'user_code' field must be [source:]code, e.g. manual:obl01" } },
  portfolio_type: oneOf(PORTFOLIO_TYPES as unknown as readonly string[], { optional: true }),
  short_name: text(50, { optional: true }),
  public_name: text(200, { optional: true }),
  notes: text(4000, { optional: true }),
  accounts: informative,
  transaction_types: informative,
  responsibles: informative,
  counterparties: informative,
};

const systemFields = {
  first_transaction_date: maintained("first_transaction_date"),
  first_cash_flow_date: maintained("first_cash_flow_date"),
  status: maintained("status"),
  sale: maintained("sale"),
};

export const createPortfolioParams = { $$strict: true, ...portfolioFields, ...systemFields };
// The criteria check judges the tree alone, not the whole entity: a patch keeps it.
export const patchPortfolioParams = { id: objectId, ...patchParams(portfolioFields), criteria, ...systemFields };

export const addLoanParams = { $$strict: true, id: objectId, loan_id: entityId, effective_date: isoDate({ optional: true }) };
export const removeLoanParams = { $$strict: true, id: objectId, loan_id: entityId, effective_date: isoDate({ optional: true }) };

const perLoanPrice = { type: "object", strict: true, props: { loan_id: entityId, price: money() } } as const;
export const sellParams = {
  $$strict: true,
  id: objectId,
  investor_id: entityId,
  sale_date: isoDate(),
  price: money(),
  prices: { type: "array", items: perLoanPrice, min: 1, max: 5000, optional: true },
};
