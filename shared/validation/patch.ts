import { CROSS_FIELD_CHECK } from "./validator";

/**
 * The version a PATCH read. Optional to the field validator because it may come as If-Match
 * instead; the broker's validator answers 428 when neither came (shared/validation/validator.ts).
 */
export const versionParam = { type: "number", integer: true, min: 1, max: 1_000_000_000, optional: true } as const;

/**
 * A PATCH body is the create body with every field optional, plus the optimistic `version`.
 * Immutable fields are named and refused ("cannot be changed"), and unknown keys are refused.
 */
export function patchParams<S extends Record<string, any>>(createParams: S, immutable: readonly string[] = []) {
  const out: Record<string, any> = { $$strict: true };
  for (const [key, rule] of Object.entries(createParams)) {
    if (key.startsWith("$$")) continue;
    if (immutable.includes(key)) {
      out[key] = { type: "forbidden", messages: { forbidden: `The '${key}' field cannot be changed` } };
      continue;
    }
    if (typeof rule === "string") {
      out[key] = { type: rule, optional: true };
      continue;
    }
    // A create body's cross-field rule judges a whole entity; a patch is judged merged over the
    // stored entity by its handler instead.
    const { [CROSS_FIELD_CHECK]: _wholeEntityRule, ...fieldRule } = rule;
    out[key] = { ...fieldRule, optional: true };
  }
  out.version = versionParam;
  return out as { [K in keyof S]: S[K] & { optional: true } } & { version: object };
}
