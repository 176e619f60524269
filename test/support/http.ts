/** Talking to the system over HTTP in tests, and awaiting conditions without fixed sleeps. */
import type { ServiceBroker } from "moleculer";
import type { AddressInfo } from "node:net";

export const TEST_TOKENS = {
  admin: "t-admin",
  servicer: "t-servicer",
  analyst: "t-analyst",
  investor: "t-investor",
} as const;
export const TEST_AUTH_TOKENS = "t-admin:admin,t-servicer:servicer,t-analyst:analyst,t-investor:investor:inv-1";

/** Base URL of the gateway running on `broker` (it listens on a free port in tests). */
export function gatewayUrl(broker: ServiceBroker): string {
  const svc: any = broker.getLocalService("gateway");
  const address = svc.server.address() as AddressInfo;
  return `http://127.0.0.1:${address.port}`;
}

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** A small JSON client for the REST surface. */
export function apiClient(baseUrl: string) {
  return async function api<T = any>(method: string, path: string, opts: { token?: string; body?: unknown } = {}): Promise<ApiResponse<T>> {
    const res = await fetch(baseUrl + path, {
      method,
      headers: {
        ...(opts.token ? { Authorization: `Bearer ${opts.token}` } : {}),
        ...(opts.body !== undefined ? { "Content-Type": "application/json" } : {}),
      },
      body: opts.body === undefined ? undefined : typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body),
    });
    const text = await res.text();
    let body: any = text;
    try {
      body = JSON.parse(text);
    } catch {
      /* not JSON (e.g. Prometheus text) */
    }
    return { status: res.status, body, headers: res.headers };
  };
}

/** Polls until `fn` returns a truthy value (or throws after `timeoutMs`): no fixed sleeps in tests. */
export async function eventually<T>(
  fn: () => Promise<T | undefined | null | false | 0 | ""> | T | undefined | null | false | 0 | "",
  timeoutMs = 10_000,
  everyMs = 25,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value as T;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms${last ? `: ${(last as Error).message}` : ""}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * Waits until the gateway has generated the REST aliases for `routes` (e.g. "POST /api/v1/programs").
 * moleculer-web regenerates them shortly after services (local or remote) appear.
 */
export async function waitForRoutes(broker: ServiceBroker, routes: string[], timeoutMs = 15_000): Promise<void> {
  const svc: any = broker.getLocalService("gateway");
  await eventually(() => {
    const have = new Set(svc.aliases.map((a: any) => `${a.method} ${a.fullPath}`));
    return routes.every((r) => have.has(r));
  }, timeoutMs);
}
