/**
 * One access line per HTTP request (issue 13 point 8), written when the response is done: method,
 * path, status, duration, request id and the caller's token id. moleculer-web's own per-request
 * lines ("=> GET …", "Call …", "<= 200 …") are turned down to debug in the gateway's settings.
 *
 * With LOG_FORMAT=json the line is a structured object (pino merges it into the JSON record, so a
 * log collector can filter on `status` or `token_id`); otherwise one readable text line.
 */
import type { IncomingMessage, ServerResponse } from "node:http";

export interface AccessRecord {
  method: string;
  path: string;
  status: number;
  duration_ms: number;
  request_id?: string;
  token_id?: string;
}

interface AccessLogger {
  info(...args: unknown[]): void;
}

type Req = IncomingMessage & { originalUrl?: string; $ctx?: { requestID?: string | null; meta?: { user?: { token_id?: string } | null } } };

/** Attaches the access line to `res`; call at the start of handling `req`. */
export function logAccess(req: Req, res: ServerResponse, logger: AccessLogger, format: "text" | "json"): void {
  const started = process.hrtime.bigint();
  res.once("close", () => {
    const record: AccessRecord = {
      method: req.method ?? "-",
      path: req.originalUrl ?? req.url ?? "-",
      // A client that went away before the answer was written: nginx's 499.
      status: res.writableFinished ? res.statusCode : 499,
      duration_ms: Math.round(Number(process.hrtime.bigint() - started) / 1e4) / 100,
      request_id: req.$ctx?.requestID ?? undefined,
      token_id: req.$ctx?.meta?.user?.token_id ?? undefined,
    };
    if (format === "json") logger.info({ type: "access", ...record }, accessText(record));
    else logger.info(accessText(record));
  });
}

export function accessText(r: AccessRecord): string {
  return `${r.method} ${r.path} ${r.status} ${r.duration_ms} ms req=${r.request_id ?? "-"} token=${r.token_id ?? "-"}`;
}
