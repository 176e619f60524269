/**
 * Maps any error that reaches the gateway to DESIGN.md §2's body and status. Client errors keep
 * their type and data; anything unexpected becomes a 500 that leaks nothing but a request id.
 */
export interface ErrorBody {
  status: number;
  body: { error: { type: string; message: string; data?: unknown } };
}

const CLIENT_STATUSES = new Set([400, 401, 403, 404, 409, 413, 415, 422, 429]);

export function errorBody(err: any, requestId?: string): ErrorBody {
  const type: string = err?.type || err?.name || "INTERNAL_ERROR";
  // fastest-validator (via moleculer) reports 422 VALIDATION_ERROR with an array of field errors.
  if (err?.name === "ValidationError" && Array.isArray(err.data)) {
    const fields = err.data.flatMap((d: any) =>
      d.type === "objectStrict"
        ? String(d.actual).split(", ").map((key) => ({ field: key, type: "unknown", message: `'${key}' is not a field of this request` }))
        : [{ field: d.field, message: d.message, type: d.type, actual: d.actual }],
    );
    return { status: 400, body: { error: { type: "VALIDATION_ERROR", message: summarise(fields), data: { fields } } } };
  }
  // moleculer-web's body parser: malformed JSON.
  if (err?.name === "InvalidRequestBodyError" || err?.type === "entity.parse.failed") {
    return { status: 400, body: { error: { type: "INVALID_REQUEST_BODY", message: "request body is not valid JSON" } } };
  }
  const code = Number(err?.code);
  if (CLIENT_STATUSES.has(code)) {
    return { status: code, body: { error: { type, message: String(err.message), data: err.data ?? undefined } } };
  }
  if (code === 503 || err?.name === "ServiceNotAvailableError" || err?.name === "ServiceNotFoundError") {
    return { status: 503, body: { error: { type: "SERVICE_UNAVAILABLE", message: "a service needed for this request is not available", data: { request_id: requestId } } } };
  }
  if (code === 504 || err?.name === "RequestTimeoutError") {
    return { status: 504, body: { error: { type: "TIMEOUT", message: "the request timed out", data: { request_id: requestId } } } };
  }
  return { status: 500, body: { error: { type: "INTERNAL_ERROR", message: "internal error", data: { request_id: requestId } } } };
}

function summarise(fields: { field: string }[]): string {
  const names = [...new Set(fields.map((f) => f.field))];
  return `invalid field${names.length > 1 ? "s" : ""}: ${names.join(", ")}`;
}
