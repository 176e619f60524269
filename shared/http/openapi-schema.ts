/**
 * fastest-validator rules → JSON Schema (OpenAPI 3.0 dialect), so the API document says exactly
 * what the validators accept (issue 7): patterns, formats, string and numeric bounds, enums,
 * required fields, strictness. Field builders that check more than FV can say (shared/validation/
 * fields.ts) put the whole rule into the pattern, or state it in JSON-Schema words the validator
 * also enforces (`minLength`/`maxLength` on text, counted in characters).
 */
export type JsonSchema = Record<string, any>;

/** One FV rule (object, shorthand string, or an array of alternatives) as a JSON Schema. */
export function ruleToSchema(rule: unknown): JsonSchema {
  if (typeof rule === "string") return ruleToSchema(parseShorthand(rule));
  if (Array.isArray(rule)) return { anyOf: rule.map(ruleToSchema) };
  if (!rule || typeof rule !== "object") return {};
  const r = rule as Record<string, any>;
  // A rule whose shape a validator type cannot say (a rule tree) states its schema itself.
  const out = r.openapi && typeof r.openapi === "object" ? { ...(r.openapi as JsonSchema) } : typeSchema(r);
  if (r.nullable) out.nullable = true;
  if (r.default !== undefined && typeof r.default !== "function") out.default = r.default;
  if (typeof r.description === "string") out.description = r.description;
  for (const [key, value] of Object.entries(r)) if (key.startsWith("x-")) out[key] = value;
  return out;
}

/** An FV params schema (top level) as an object schema. */
export function paramsToSchema(params: Record<string, any> | undefined, exclude: readonly string[] = []): JsonSchema {
  const props = Object.fromEntries(Object.entries(params ?? {}).filter(([k]) => !k.startsWith("$$") && !exclude.includes(k)));
  return objectSchema(props, params?.$$strict === true || params?.$$strict === undefined);
}

export function isRequired(rule: unknown): boolean {
  if (typeof rule === "string") return isRequired(parseShorthand(rule));
  if (Array.isArray(rule)) return rule.every(isRequired);
  if (!rule || typeof rule !== "object") return true;
  const r = rule as Record<string, any>;
  return !r.optional && r.default === undefined && r.type !== "forbidden";
}

function objectSchema(props: Record<string, any>, strict: boolean): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  for (const [key, rule] of Object.entries(props)) {
    if (isForbidden(rule)) continue;
    properties[key] = ruleToSchema(rule);
    if (isRequired(rule)) required.push(key);
  }
  return { type: "object", properties, ...(required.length ? { required } : {}), additionalProperties: !strict };
}

function isForbidden(rule: unknown): boolean {
  return !!rule && typeof rule === "object" && (rule as any).type === "forbidden";
}

function typeSchema(r: Record<string, any>): JsonSchema {
  switch (r.type) {
    case "string":
      return stringSchema(r);
    case "number":
      return numberSchema(r);
    case "boolean":
      return { type: "boolean" };
    case "enum":
      return { ...(r.values.every((v: unknown) => typeof v === "string") ? { type: "string" } : {}), enum: [...r.values] };
    case "equal":
      return { enum: [r.value] };
    case "object":
      return r.props ? objectSchema(r.props, r.strict === true) : { type: "object", additionalProperties: true };
    case "array":
      return arraySchema(r);
    case "email":
      return { type: "string", format: "email" };
    case "url":
      return { type: "string", format: "uri" };
    case "uuid":
      return { type: "string", format: "uuid" };
    case "date":
      return { type: "string", format: "date-time" };
    case "multi":
      return { anyOf: (r.rules ?? []).map(ruleToSchema) };
    default:
      return {};
  }
}

function stringSchema(r: Record<string, any>): JsonSchema {
  const out: JsonSchema = { type: "string" };
  const min = r.minLength ?? r.length ?? r.min ?? (r.empty === false ? 1 : undefined);
  const max = r.maxLength ?? r.length ?? r.max;
  if (min !== undefined) out.minLength = min;
  if (max !== undefined) out.maxLength = max;
  if (typeof r.pattern === "string") out.pattern = r.pattern;
  if (typeof r.format === "string") out.format = r.format;
  if (Array.isArray(r.enum)) out.enum = [...r.enum];
  return out;
}

function numberSchema(r: Record<string, any>): JsonSchema {
  const out: JsonSchema = { type: r.integer ? "integer" : "number" };
  if (r.min !== undefined) out.minimum = r.min;
  if (r.max !== undefined) out.maximum = r.max;
  if (r.positive) Object.assign(out, { minimum: Math.max(0, out.minimum ?? 0), exclusiveMinimum: (out.minimum ?? 0) === 0 });
  if (r.negative) Object.assign(out, { maximum: Math.min(0, out.maximum ?? 0), exclusiveMaximum: (out.maximum ?? 0) === 0 });
  if (r.equal !== undefined) out.enum = [r.equal];
  return out;
}

function arraySchema(r: Record<string, any>): JsonSchema {
  const out: JsonSchema = { type: "array", items: r.items ? ruleToSchema(r.items) : {} };
  const min = r.length ?? r.min ?? (r.empty === false ? 1 : undefined);
  const max = r.length ?? r.max;
  if (min !== undefined) out.minItems = min;
  if (max !== undefined) out.maxItems = max;
  if (r.unique) out.uniqueItems = true;
  if (Array.isArray(r.enum)) out.items = { ...out.items, enum: [...r.enum] };
  return out;
}

/** "string|optional|min:3" → { type: "string", optional: true, min: 3 } (FV's shorthand). */
function parseShorthand(text: string): Record<string, any> {
  const [type, ...mods] = text.split("|");
  const out: Record<string, any> = { type };
  for (const mod of mods) {
    const [key, value] = mod.split(":");
    out[key] = value === undefined ? true : value === "true" ? true : value === "false" ? false : Number.isNaN(Number(value)) ? value : Number(value);
  }
  return out;
}
