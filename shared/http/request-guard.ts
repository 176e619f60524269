/**
 * The gateway's first look at a request, before anything parses it deeply or validates it
 * (issue 7): the body is read with a size limit, must be JSON when there is one, is scanned for
 * its nesting depth before JSON.parse, and neither body nor query may carry prototype keys
 * (`__proto__`, `constructor`, `prototype`) or MongoDB operators (`$…`). Query keys are plain
 * field names: `name[$ne]=x` would otherwise become `{ name: { $ne: "x" } }` (qs) and could reach
 * a filter as an operator. Whatever survives here is still judged by the actions' validators.
 *
 * A connect-style middleware, so it runs for every route of the gateway that uses it, present and
 * future, without any action declaring anything.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { Errors } from "moleculer";
import { BadRequestError, type FieldError } from "../errors";

export const REQUEST_LIMITS = {
  /** Largest body read, in bytes; a larger one is 413. */
  maxBodyBytes: 1024 * 1024,
  /** Deepest nesting of objects and arrays in a body (the deepest real body is far shallower). */
  maxDepth: 32,
  /** Bytes drained from an over-large body before answering, so the client reads the 413. */
  maxDrainBytes: 64 * 1024 * 1024,
} as const;

/** Keys that rewrite an object's prototype when merged, anywhere in a body or query. */
export const FORBIDDEN_KEYS = new Set(["__proto__", "constructor", "prototype"]);

/** A query key: a plain field name. */
const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

export class PayloadTooLargeError extends Errors.MoleculerClientError {
  constructor(limit: number) {
    super(`the request body is larger than ${limit} bytes`, 413, "PAYLOAD_TOO_LARGE", { limit_bytes: limit });
    this.name = "PayloadTooLargeError";
  }
}

export class UnsupportedMediaTypeError extends Errors.MoleculerClientError {
  constructor(contentType: string | undefined) {
    super("the request body must be JSON (Content-Type: application/json)", 415, "UNSUPPORTED_MEDIA_TYPE", {
      content_type: clip(contentType ?? "", 80),
    });
    this.name = "UnsupportedMediaTypeError";
  }
}

type Next = (err?: unknown) => void;
type Req = IncomingMessage & { body?: unknown; query?: unknown };

/** The middleware: checks the query, reads and checks the body, sets `req.body`. */
export function requestGuard(limits: Partial<typeof REQUEST_LIMITS> = {}) {
  const opts = { ...REQUEST_LIMITS, ...limits };
  return function guardRequest(req: Req, res: ServerResponse, next: Next): void {
    const queryErrors = queryKeyErrors(rawQuery(req.url ?? ""));
    if (queryErrors.length) return next(new BadRequestError(summary(queryErrors), queryErrors));
    // Declared far too large to be worth draining: answer at once and close the connection.
    if (Number(req.headers["content-length"]) > opts.maxDrainBytes) {
      res.setHeader("Connection", "close");
      return next(new PayloadTooLargeError(opts.maxBodyBytes));
    }
    readBody(req, opts.maxBodyBytes, opts.maxDrainBytes)
      .then((raw) => {
        req.body = parseJsonBody(raw, req.headers["content-type"], opts.maxDepth);
        applyIfMatch(req);
        next();
      })
      .catch(next);
  };
}

/** The part of a URL after `?` ('' when none). */
export function rawQuery(url: string): string {
  const at = url.indexOf("?");
  return at < 0 ? "" : url.slice(at + 1);
}

/** Every query key that is not a plain field name, or is a prototype key. */
export function queryKeyErrors(query: string): FieldError[] {
  const errors: FieldError[] = [];
  for (const pair of query.split("&")) {
    if (!pair) continue;
    const rawKey = pair.split("=", 1)[0];
    let key: string;
    try {
      key = decodeURIComponent(rawKey.replace(/\+/g, " "));
    } catch {
      key = rawKey;
    }
    if (FORBIDDEN_KEYS.has(key)) {
      errors.push({ field: clip(key, 60), type: "forbiddenKey", rule: "request", message: `'${clip(key, 60)}' is not an acceptable key` });
    } else if (key.startsWith("$") || key.includes("[$")) {
      errors.push({ field: clip(key, 60), type: "operator", rule: "request", message: "query keys are field names; operators ($…) are not accepted" });
    } else if (!PLAIN_KEY.test(key)) {
      errors.push({ field: clip(key, 60), type: "queryKey", rule: "request", message: "query keys are plain field names; bracketed or dotted keys are not accepted" });
    }
    if (errors.length >= 20) break;
  }
  return errors;
}

/**
 * Reads the whole body as text. Past `limit` bytes the rest is drained (up to `drain`, then the
 * socket is dropped) and the read fails with 413, so the client gets an answer instead of a reset.
 */
export function readBody(req: IncomingMessage, limit: number, drain: number): Promise<string> {
  const declared = Number(req.headers["content-length"]);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = Number.isFinite(declared) && declared > limit;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) tooLarge = true;
      if (tooLarge) {
        chunks.length = 0;
        if (size > drain) req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.once("end", () => (tooLarge ? reject(new PayloadTooLargeError(limit)) : resolve(Buffer.concat(chunks).toString("utf8"))));
    req.once("error", reject);
    req.once("aborted", () => reject(new PayloadTooLargeError(limit)));
  });
}

/** {} for an empty body; otherwise a JSON object, refused (415/400) when it is anything else. */
export function parseJsonBody(raw: string, contentType: string | undefined, maxDepth: number): Record<string, unknown> {
  if (raw.trim() === "") return {};
  if (!isJsonMediaType(contentType)) throw new UnsupportedMediaTypeError(contentType);
  const depth = nestingDepth(raw, maxDepth);
  if (depth > maxDepth) {
    throw new BadRequestError(`the request body nests deeper than ${maxDepth} levels`, [
      { field: "body", type: "depth", rule: "request", message: `objects and arrays may nest at most ${maxDepth} levels` },
    ]);
  }
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    throw Object.assign(new BadRequestError("request body is not valid JSON", [{ field: "body", type: "json", rule: "request", message: "request body is not valid JSON" }]), { type: "INVALID_REQUEST_BODY" });
  }
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new BadRequestError("the request body must be a JSON object", [{ field: "body", type: "object", rule: "request", message: "the request body must be a JSON object" }]);
  }
  const keyErrors = bodyKeyErrors(body);
  if (keyErrors.length) throw new BadRequestError(summary(keyErrors), keyErrors);
  return body as Record<string, unknown>;
}

export function isJsonMediaType(contentType: string | undefined): boolean {
  const type = (contentType ?? "").split(";")[0].trim().toLowerCase();
  return type === "application/json" || (type.startsWith("application/") && type.endsWith("+json"));
}

/**
 * The deepest nesting of `[`/`{` in JSON text, counted without parsing (strings skipped), and
 * stopping as soon as it passes `stopAbove`: linear, constant memory, no recursion.
 */
export function nestingDepth(text: string, stopAbove = Infinity): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 /* { */ || c === 91 /* [ */) {
      depth++;
      if (depth > max) {
        max = depth;
        if (max > stopAbove) return max;
      }
    } else if (c === 125 /* } */ || c === 93 /* ] */) depth--;
  }
  return max;
}

/** Prototype keys and `$` operator keys anywhere in a parsed body (iterative walk). */
export function bodyKeyErrors(body: unknown, limit = 20): FieldError[] {
  const errors: FieldError[] = [];
  const stack: { value: unknown; path: string }[] = [{ value: body, path: "" }];
  while (stack.length && errors.length < limit) {
    const { value, path } = stack.pop()!;
    if (value === null || typeof value !== "object") continue;
    const isArray = Array.isArray(value);
    for (const key of Object.keys(value)) {
      const at = isArray ? `${path}[${key}]` : path ? `${path}.${key}` : key;
      if (!isArray && FORBIDDEN_KEYS.has(key)) {
        errors.push({ field: clip(at, 100), type: "forbiddenKey", rule: "request", message: `'${clip(key, 40)}' is not an acceptable key` });
      } else if (!isArray && key.startsWith("$")) {
        errors.push({ field: clip(at, 100), type: "operator", rule: "request", message: "keys starting with '$' are not accepted" });
      } else {
        stack.push({ value: (value as Record<string, unknown>)[key], path: at });
      }
    }
  }
  return errors;
}

/** An If-Match the gateway understands: the entity's version, optionally quoted or weak. */
export const IF_MATCH_PATTERN = '^[ \\t]*(?:W/)?"?[0-9]{1,15}"?[ \\t]*$';

/**
 * `If-Match: "3"` (or W/"3", or 3) is the version a PATCH read: it fills the body's `version`
 * when the body has none, so either way the action sees one (shared/validation/patch.ts). A
 * malformed If-Match is a 400 even when the body names a version.
 */
export function applyIfMatch(req: Req): void {
  const header = req.headers["if-match"];
  if (req.method !== "PATCH" || header === undefined) return;
  const match = new RegExp(IF_MATCH_PATTERN).test(String(header)) ? /([0-9]+)/.exec(String(header)) : null;
  if (!match) {
    throw new BadRequestError("If-Match must carry the entity's version", [
      { field: "If-Match", type: "version", rule: "field", message: "If-Match must be the entity's version, e.g. \"3\"" },
    ]);
  }
  const body = req.body as Record<string, unknown>;
  if (body.version === undefined) body.version = Number(match[1]);
}

export function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function summary(errors: FieldError[]): string {
  return `invalid request: ${errors.map((e) => e.field).slice(0, 5).join(", ")}`;
}
