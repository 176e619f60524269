/**
 * Validation leaves `key: undefined` behind for optional fields a request did not send (the
 * custom checkers of shared/validation run for absent fields too). A PATCH merged over the stored
 * entity must not read those as "clear this field", so every local action sees its params without
 * undefined keys. Registered as a user middleware, it runs inside (after) the validator.
 */
import type { Middleware } from "moleculer";

export function compact<T>(value: T): T {
  if (Array.isArray(value)) return value.map(compact) as T;
  if (value && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = compact(v);
    return out as T;
  }
  return value;
}

export const CompactParamsMiddleware: Middleware = {
  name: "CompactParams",
  localAction(next: any) {
    return function compactParams(ctx: any) {
      if (ctx.params && typeof ctx.params === "object") ctx.params = compact(ctx.params);
      return next(ctx);
    };
  },
} as any;
