/**
 * How stored documents look on the wire (DESIGN.md §2): `id` instead of `_id`, money and rates
 * (Decimal128) as decimal strings, no `__v`. Applied to every schema by the Mongo mixin.
 */
import { Types, type Schema } from "mongoose";

export function toWire(value: unknown): unknown {
  if (value == null) return value;
  if (value instanceof Types.Decimal128) return value.toString();
  if (value instanceof Types.ObjectId) return value.toHexString();
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(toWire);
  if (typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (k === "__v") continue;
      out[k === "_id" ? "id" : k] = toWire(v);
    }
    return out;
  }
  return value;
}

export function wirePlugin(schema: Schema): void {
  schema.set("toJSON", {
    transform: (_doc: unknown, ret: Record<string, unknown>) => toWire(ret) as Record<string, unknown>,
  });
}
