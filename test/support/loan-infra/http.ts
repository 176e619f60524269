/**
 * Small helpers for the loans infrastructure tests (issue 8 points 3, 4, 10): raw HTTP with any
 * header (the shared apiClient sends only a bearer token), a loan's ledger and position, and a
 * canonical JSON form to compare answers byte for byte.
 */
import type { ServiceBroker } from "moleculer";
import { TEST_TOKENS as T } from "../system";

export interface RawResponse {
  status: number;
  body: any;
  text: string;
  headers: Headers;
}

/** One HTTP request; a connection failure resolves as status 0 (the process died under it). */
export async function request(baseUrl: string, method: string, path: string, o: { token?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<RawResponse> {
  try {
    const res = await fetch(baseUrl + path, {
      method,
      headers: {
        ...(o.token ? { Authorization: `Bearer ${o.token}` } : {}),
        ...(o.body !== undefined ? { "Content-Type": "application/json" } : {}),
        ...(o.headers ?? {}),
      },
      body: o.body === undefined ? undefined : JSON.stringify(o.body),
    });
    const text = await res.text();
    let body: any = text;
    try {
      body = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    return { status: res.status, body, text, headers: res.headers };
  } catch (err) {
    return { status: 0, body: null, text: String((err as Error)?.message ?? err), headers: new Headers() };
  }
}

export async function must(p: Promise<RawResponse>, status?: number): Promise<any> {
  const r = await p;
  if (r.status === 0 || r.status >= 400 || (status !== undefined && r.status !== status)) throw new Error(`unexpected ${r.status}: ${r.text}`);
  return r.body;
}

/** Every ledger entry of a loan, in booking order. */
export async function ledgerOf(baseUrl: string, loanId: string): Promise<any[]> {
  const page = await must(request(baseUrl, "GET", `/api/v1/loans/${loanId}/transactions?limit=500`, { token: T.analyst }));
  return page.items;
}

export async function loanOf(baseUrl: string, loanId: string): Promise<any> {
  return must(request(baseUrl, "GET", `/api/v1/loans/${loanId}`, { token: T.analyst }));
}

/** JSON with object keys sorted, so two answers compare equal exactly when their content does. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]])) : v));
}

/** How many calls of `action` this broker has served (Moleculer's request counter). */
export function servedCount(broker: ServiceBroker, action: string): number {
  const metric: any = broker.metrics.getMetric("moleculer.request.total");
  if (!metric) return 0;
  let n = 0;
  for (const item of metric.values.values()) if (item.labels?.action === action) n += item.value;
  return n;
}

/** The money figures two loans must share to be "the same loan" (DESIGN.md §7 position). */
export const POSITION_FIGURES = [
  "status",
  "principal_balance",
  "interest_receivable",
  "fees_due",
  "deferred_interest",
  "credit_balance",
  "past_due_amount",
  "days_past_due",
  "bucket",
  "next_due_date",
  "next_payment_amount",
  "total_disbursed",
  "total_collected",
] as const;

export function figures(position: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(POSITION_FIGURES.map((k) => [k, position[k]]));
}
