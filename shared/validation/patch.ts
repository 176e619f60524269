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
    out[key] = typeof rule === "string" ? { type: rule, optional: true } : { ...rule, optional: true };
  }
  out.version = { type: "number", integer: true, min: 1, optional: true };
  return out as { [K in keyof S]: S[K] & { optional: true } } & { version: object };
}
