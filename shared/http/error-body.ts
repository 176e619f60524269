/**
 * Field errors of a 400 say which kind of rule refused them: `rule: "field"` (the field's own
 * schema, as the OpenAPI document states it) or `rule: "cross_field"` (a rule over several fields
 * that no schema states); errors raised by handlers (references, business checks) carry none.
 *
 * Maps any error that reaches the gateway to DESIGN.md §2's body and status. Client errors keep
 * their type and data; anything unexpected becomes a 500 that leaks nothing but a request id.
 *
 * Nothing a client sent is echoed whole (issue 7): a bad field's value comes back as a short
 * preview, messages and data are clipped in length and depth, so an error body is always small
 * and serialising it can never recurse without bound.
 */
import type { ServerResponse } from "node:http";

export interface ErrorBody {
  status: number;
  body: { error: { type: string; message: string; data?: unknown } };
}

const CLIENT_STATUSES = new Set([400, 401, 403, 404, 405, 409, 413, 415, 422, 428, 429]);

/** How much of a client's value an error echoes. */
export const ECHO_LIMITS = { value: 60, message: 240, field: 120, depth: 4, items: 20 } as const;

export function errorBody(err: any, requestId?: string): ErrorBody {
  const type: string = clipText(String(err?.type || err?.name || "INTERNAL_ERROR"), 60);
  // fastest-validator (via moleculer) reports 422 VALIDATION_ERROR with an array of field errors.
  if (err?.name === "ValidationError" && Array.isArray(err.data)) {
    const fields = err.data.slice(0, 100).flatMap((d: any) =>
      d?.type === "objectStrict"
        ? String(d.actual).split(", ").slice(0, ECHO_LIMITS.items).map((key) => ({ field: clipText(key, ECHO_LIMITS.field), type: "unknown", rule: "field", message: `'${clipText(key, ECHO_LIMITS.value)}' is not a field of this request` }))
        : [{ ...fieldError(d), rule: d?.crossField ? "cross_field" : "field" }],
    );
    return { status: 400, body: { error: { type: "VALIDATION_ERROR", message: summarise(fields), data: { fields } } } };
  }
  // moleculer-web's body parser: malformed JSON.
  if (err?.name === "InvalidRequestBodyError" || err?.type === "entity.parse.failed") {
    return { status: 400, body: { error: { type: "INVALID_REQUEST_BODY", message: "request body is not valid JSON" } } };
  }
  const code = Number(err?.code);
  if (CLIENT_STATUSES.has(code)) {
    const data = err.data && Array.isArray(err.data.fields) ? { ...err.data, fields: err.data.fields.slice(0, 100).map(fieldError) } : err.data;
    return { status: code, body: { error: { type, message: clipText(String(err.message), ECHO_LIMITS.message), data: data == null ? undefined : preview(data) } } };
  }
  if (code === 503 || err?.name === "ServiceNotAvailableError" || err?.name === "ServiceNotFoundError") {
    return { status: 503, body: { error: { type: "SERVICE_UNAVAILABLE", message: "a service needed for this request is not available", data: { request_id: requestId } } } };
  }
  if (code === 504 || err?.name === "RequestTimeoutError") {
    return { status: 504, body: { error: { type: "TIMEOUT", message: "the request timed out", data: { request_id: requestId } } } };
  }
  return { status: 500, body: { error: { type: "INTERNAL_ERROR", message: "internal error", data: { request_id: requestId } } } };
}

/**
 * Writes an error as JSON. Serialising cannot fail on what errorBody returns, but if it ever did
 * the client still gets a 500 body and the process keeps running.
 */
export function writeErrorResponse(res: ServerResponse, err: unknown, requestId: string | undefined, log: (msg: string, err: unknown) => void): void {
  const computed = errorBody(err, requestId);
  let status = computed.status;
  let text: string;
  try {
    text = JSON.stringify(computed.body);
  } catch {
    status = 500;
    text = JSON.stringify({ error: { type: "INTERNAL_ERROR", message: "internal error", data: { request_id: requestId } } });
  }
  if (status >= 500) log(`request ${requestId ?? "-"} failed:`, err);
  if (res.headersSent) return void res.end();
  res.setHeader("Content-Type", "application/json; charset=utf-8");
  if (requestId) res.setHeader("X-Request-Id", requestId);
  const allow = (err as any)?.data?.allow;
  if (status === 405 && Array.isArray(allow)) res.setHeader("Allow", allow.join(", "));
  res.writeHead(status);
  res.end(text);
}

function fieldError(d: any) {
  const out: Record<string, unknown> = {
    field: clipText(String(d?.field ?? ""), ECHO_LIMITS.field),
    message: clipText(String(d?.message ?? "invalid"), ECHO_LIMITS.message),
  };
  if (d?.type !== undefined) out.type = clipText(String(d.type), 40);
  if (d?.actual !== undefined) out.actual = previewValue(d.actual);
  if (typeof d?.rule === "string") out.rule = clipText(d.rule, 20);
  return out;
}

/** A value as a short string: what a client sent, clipped, never serialised in full. */
export function previewValue(value: unknown): string {
  if (typeof value === "string") return clipText(value, ECHO_LIMITS.value);
  if (value === null || typeof value !== "object") return clipText(String(value), ECHO_LIMITS.value);
  return Array.isArray(value) ? `[array of ${value.length}]` : "[object]";
}

/** A bounded copy of error data: strings clipped, depth and item counts capped. */
export function preview(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return clipText(value, ECHO_LIMITS.message);
  if (value === null || typeof value !== "object") return value;
  if (depth >= ECHO_LIMITS.depth) return Array.isArray(value) ? "[array]" : "[object]";
  if (Array.isArray(value)) return value.slice(0, ECHO_LIMITS.items).map((v) => preview(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).slice(0, ECHO_LIMITS.items)) out[clipText(key, ECHO_LIMITS.field)] = preview((value as Record<string, unknown>)[key], depth + 1);
  return out;
}

export function clipText(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function summarise(fields: { field?: unknown }[]): string {
  const names = [...new Set(fields.map((f) => String(f.field)))];
  const shown = names.slice(0, 10).join(", ") + (names.length > 10 ? `, … (${names.length} in all)` : "");
  return clipText(`invalid field${names.length > 1 ? "s" : ""}: ${shown}`, ECHO_LIMITS.message);
}
