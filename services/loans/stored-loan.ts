/**
 * How a loan document's nested parts are stored: the ones no query ever looks into (the copied
 * configuration, the request, the borrower, the terms, the engine's state, the status and bucket
 * histories, the promotions) are kept as JSON text, one string each.
 *
 * Why: every payment rewrites the loan document and reads it back. A document store copies,
 * measures and re-encodes a document per nested value; a string is one value. Measured on the
 * embedded wire server (bench/probes/loan-text-fields.ts: a real loan copied 10,000 times, 20,000
 * payment-shaped update + clear + read rounds): 0.46 ms of its CPU per round nested, 0.31–0.34 as
 * text, 7.2 s against 4.6–5.0 s; node decodes a string with JSON.parse faster than the same
 * object from nested BSON. What is queried stays
 * BSON: status, partition, dates, portfolio and investor, `position` (ownership writes set its
 * fields by path), `pending` (its own compact form, see StoredPending in loan-store.ts).
 *
 * Every read of the loans collection goes through `decodeLoan`, every write of these fields
 * through `encodeLoanFields`; a document stored before (nested) reads the same.
 */

/** The loan fields stored as JSON text. */
export const LOAN_TEXT_FIELDS = ["config", "request", "borrower", "terms", "state", "status_history", "bucket_history", "promotions"] as const;

/** A copy of `fields` with each text field that is present (and not null) as its JSON text. */
export function encodeLoanFields<T extends Record<string, unknown>>(fields: T): T {
  let out: Record<string, unknown> | null = null;
  for (const k of LOAN_TEXT_FIELDS) {
    const v = fields[k];
    if (v === undefined || v === null || typeof v === "string") continue;
    out ??= { ...fields };
    out[k] = JSON.stringify(v);
  }
  return (out ?? fields) as T;
}

/** The loan document with its text fields parsed (in place; a nested field is left as it is). */
export function decodeLoan<T>(doc: T): T {
  if (!doc) return doc;
  const d = doc as Record<string, unknown>;
  for (const k of LOAN_TEXT_FIELDS) {
    const v = d[k];
    if (typeof v === "string") d[k] = JSON.parse(v);
  }
  return doc;
}
