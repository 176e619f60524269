/**
 * The broker's params validator: moleculer's fastest-validator, plus rules that hold for every
 * action of every service, present and future, without the action declaring anything (issue 7):
 *
 *  - A REST action's params are strict: a key it does not declare is a 400 naming the key, so an
 *    undeclared query key can never reach a filter.
 *  - A REST action refuses null for any field that does not say `nullable: true`: "optional"
 *    means "may be absent", as the OpenAPI document says (so a PATCH cannot null a field out).
 *  - A REST GET/DELETE converts query strings strictly: plain decimals and true/false only.
 *  - Cross-field rules (withCrossFieldCheck) run after the field rules, on the fields that passed
 *    their own validation only: a rule never sees (and never throws on) a value already refused.
 *  - A REST PATCH must carry the version it read (body `version`, or If-Match via the gateway):
 *    without it, 428 before the handler runs.
 *
 * Actions without a REST route (calls between services) and events keep fastest-validator's
 * usual meaning of null.
 */
import { Validators } from "moleculer";
import { PreconditionRequiredError } from "../errors";
import { compact } from "../runtime/compact-params.middleware";

export type CrossFieldCheck = (body: Record<string, any>) => { field: string; type?: string; message: string; actual?: unknown }[];

/** The property withCrossFieldCheck puts on a field rule. */
export const CROSS_FIELD_CHECK = "crossFieldCheck";

type Checker = ((params: any, opts?: any) => true | any[] | Promise<true | any[]>) & { async?: boolean };

const Fastest = Validators.Fastest as unknown as new (opts?: unknown) => {
  compile(schema: Record<string, any>): Checker;
  middleware(broker: unknown): { name: string; localAction: (handler: any, action: any) => any; localEvent?: (handler: any, event: any) => any };
};

export class PlatformValidator extends Fastest {
  constructor(opts: Record<string, unknown> = {}) {
    // With null as a value, each rule's `nullable` alone decides: REST params are given
    // `nullable: false` (withoutNulls), every other schema FV's usual "optional accepts null".
    super({ considerNullAsAValue: true, ...opts });
  }

  override compile(schema: Record<string, any>): Checker {
    const check = super.compile(withNullPolicy(schema, (rule) => rule.optional === true && rule.default === undefined));
    const crossChecks = crossFieldChecksOf(schema);
    if (!crossChecks.length) return check;
    const withCrossChecks: Checker = (params: Record<string, any>, opts?: unknown) => {
      const res = check(params, opts);
      return res instanceof Promise ? res.then((r) => runCrossChecks(r, params, crossChecks)) : runCrossChecks(res, params, crossChecks);
    };
    withCrossChecks.async = check.async;
    return withCrossChecks;
  }

  override middleware(broker: unknown) {
    const base = super.middleware(broker);
    return {
      ...base,
      localAction(handler: any, action: any) {
        const method = restMethod(action);
        const fromQuery = method === "GET" || method === "DELETE";
        const strict = restParams(action);
        const params = action.rest && strict ? withoutNulls(strict) : strict;
        const validated = base.localAction(handler, { ...action, params: fromQuery ? withoutLooseConversion(params) : params });
        if (fromQuery && params) {
          return function convertQuery(ctx: any) {
            if (ctx.params && typeof ctx.params === "object") ctx.params = convertQueryStrings(ctx.params, params);
            return validated(ctx);
          };
        }
        if (method !== "PATCH") return validated;
        return function requireVersion(ctx: any) {
          if (ctx.params?.version === undefined || ctx.params?.version === null) {
            return Promise.reject(new PreconditionRequiredError());
          }
          return validated(ctx);
        };
      },
    };
  }
}

/** Every rule of a schema, nested ones too, refuses null unless it says `nullable: true`. */
export function withoutNulls(schema: Record<string, any>): Record<string, any> {
  return withNullPolicy(schema, () => false);
}

/** Sets `nullable` on every rule (nested ones too) that does not say, as `nullableByDefault` decides. */
function withNullPolicy(schema: Record<string, any>, nullableByDefault: (rule: Record<string, any>) => boolean): Record<string, any> {
  const out: Record<string, any> = {};
  for (const [key, rule] of Object.entries(schema)) out[key] = key.startsWith("$$") ? rule : ruleWithNullPolicy(rule, nullableByDefault);
  return out;
}

function ruleWithNullPolicy(rule: any, nullableByDefault: (rule: Record<string, any>) => boolean): any {
  if (typeof rule === "string") {
    // FV's shorthand: "string|optional" (its flags read as the object form's keys).
    if (/(^|\|)\s*nullable/.test(rule)) return rule;
    const flags = rule.split("|").slice(1).map((f) => f.trim());
    const optional = flags.includes("optional") || flags.includes("optional:true");
    return `${rule}|nullable:${nullableByDefault({ optional, default: undefined })}`;
  }
  if (Array.isArray(rule)) return rule.map((r) => ruleWithNullPolicy(r, nullableByDefault));
  if (!rule || typeof rule !== "object" || typeof rule.type !== "string") return rule;
  const out: Record<string, any> = { ...rule };
  if (out.nullable === undefined) out.nullable = nullableByDefault(rule);
  if (out.props && typeof out.props === "object") out.props = withNullPolicy(out.props, nullableByDefault);
  if (out.items) out.items = ruleWithNullPolicy(out.items, nullableByDefault);
  return out;
}

/** The HTTP method of an action's `rest` route ("GET /x" → GET; a bare path is any method). */
export function restMethod(action: { rest?: unknown }): string | undefined {
  const rest = action.rest;
  const first = Array.isArray(rest) ? rest[0] : rest;
  if (typeof first === "string") return /^\s*([A-Z]+)\s+/.exec(first)?.[1];
  if (first && typeof first === "object") return String((first as { method?: string }).method ?? "").toUpperCase() || undefined;
  return undefined;
}

/** A REST action's params, made strict unless the action chose otherwise. */
export function restParams(action: { rest?: unknown; params?: Record<string, any> }): Record<string, any> | undefined {
  if (!action.rest) return action.params;
  const params = action.params ?? {};
  if (typeof params !== "object" || params.$$root || "$$strict" in params) return params;
  return { $$strict: true, ...params };
}

/**
 * Query values arrive as strings. fastest-validator's `convert` takes Number("") as 0, "0x10" as
 * 16 and "on" as true; a query number is a plain decimal and a boolean is "true" or "false", the
 * way the OpenAPI document says, so the conversion is done here, strictly, and FV's is switched off.
 */
export function convertQueryStrings(params: Record<string, any>, schema: Record<string, any>): Record<string, any> {
  const out = { ...params };
  for (const [key, value] of Object.entries(params)) {
    const rule = schema[key];
    if (typeof value !== "string" || !rule || typeof rule !== "object") continue;
    // An integer is written without a fraction ("0.0" is not an integer in the document's terms).
    const number = rule.integer ? /^-?(?:0|[1-9][0-9]{0,14})$/ : /^-?(?:0|[1-9][0-9]{0,14})(?:\.[0-9]{1,15})?$/;
    if (rule.type === "number" && number.test(value)) out[key] = Number(value);
    if (rule.type === "boolean" && (value === "true" || value === "false")) out[key] = value === "true";
  }
  return out;
}

function withoutLooseConversion(params: Record<string, any> | undefined): Record<string, any> | undefined {
  if (!params) return params;
  const out: Record<string, any> = {};
  for (const [key, rule] of Object.entries(params)) {
    out[key] = rule && typeof rule === "object" && (rule.type === "number" || rule.type === "boolean") && rule.convert ? { ...rule, convert: false } : rule;
  }
  return out;
}

interface PlacedCheck {
  /** Where the rule's object sits: property names, "[]" for each item of an array. */
  at: string[];
  check: CrossFieldCheck;
}

/** Every cross-field rule of a schema, at the object it judges (top level, nested object, array items). */
function crossFieldChecksOf(schema: Record<string, any>, at: string[] = []): PlacedCheck[] {
  const out: PlacedCheck[] = [];
  for (const [key, rule] of Object.entries(schema)) {
    if (key.startsWith("$$") || !rule || typeof rule !== "object") continue;
    if (typeof rule[CROSS_FIELD_CHECK] === "function") out.push({ at, check: rule[CROSS_FIELD_CHECK] });
    if (rule.type === "object" && rule.props) out.push(...crossFieldChecksOf(rule.props, [...at, key]));
    if (rule.type === "array" && rule.items?.type === "object" && rule.items.props) out.push(...crossFieldChecksOf(rule.items.props, [...at, key, "[]"]));
  }
  return out;
}

/** The objects a placed check judges, each with the field-name prefix of its errors. */
function objectsAt(root: unknown, at: string[], prefix = ""): { value: Record<string, any>; prefix: string }[] {
  if (root === null || typeof root !== "object") return [];
  if (!at.length) return Array.isArray(root) ? [] : [{ value: root as Record<string, any>, prefix }];
  const [head, ...rest] = at;
  if (head === "[]") {
    if (!Array.isArray(root)) return [];
    return root.flatMap((item, i) => objectsAt(item, rest, `${prefix.replace(/\.$/, "")}[${i}].`));
  }
  return objectsAt((root as Record<string, unknown>)[head], rest, `${prefix}${head}.`);
}

/**
 * Runs the cross-field rules on what passed: a copy of the params without any value that failed
 * its own rule (a failed array item becomes a hole, so the others keep their indexes).
 */
function runCrossChecks(res: true | any[], params: Record<string, any>, checks: PlacedCheck[]): true | any[] {
  // Optional fields FV touched but nobody sent come back as `key: undefined`: not values.
  const valid = compact(params ?? {}) as Record<string, any>;
  const failed = new Set(res === true ? [] : res.map((e) => String(e.field ?? "")));
  for (const path of failed) removePath(valid, path);
  const cross = checks.flatMap(({ at, check }) =>
    objectsAt(valid, at).flatMap(({ value, prefix }) =>
      check(value).map((e) => ({ type: e.type ?? "invalid", field: prefix + e.field, message: e.message, actual: e.actual, crossField: true })),
    ),
  );
  // A field already refused by its own rule is not named twice.
  const fresh = cross.filter((e) => !failed.has(e.field));
  if (!fresh.length) return res;
  return [...(res === true ? [] : res), ...fresh];
}

/** Deletes "fees[1].amount" (or "fees[0]", "name") from `obj`; an unknown path is left alone. */
function removePath(obj: Record<string, any>, path: string): void {
  const segments = path.match(/[^.[\]]+/g);
  if (!segments) return;
  let node: any = obj;
  for (const segment of segments.slice(0, -1)) {
    node = node?.[segment];
    if (node === null || typeof node !== "object") return;
  }
  if (node && typeof node === "object") delete node[segments[segments.length - 1]];
}


