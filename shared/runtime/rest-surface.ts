/**
 * Which service answers which REST path (DESIGN.md §6), known to the gateway before the service
 * itself is: moleculer-web only learns a service's routes once a node running it has joined, so
 * without this table a route of an absent service would be a 404 — "no such resource" — when the
 * truth is "the service that owns it is not running" (503, retry later).
 *
 * Paths are relative to /api/v1; `:name` matches one segment; the most specific entry wins
 * (`/portfolios/:id/snapshots` belongs to snapshots, the rest of `/portfolios` to portfolios).
 * test/unit/gateway/rest-surface.test.ts checks every REST action of every service against it.
 */
import type { ServiceName } from "../config";

export const REST_SURFACE: Readonly<Record<Exclude<ServiceName, "gateway">, readonly string[]>> = {
  programs: ["/programs", "/products", "/promotions", "/fee-schedules"],
  rates: ["/index-rates"],
  loans: ["/loans"],
  portfolios: ["/portfolios"],
  snapshots: ["/portfolios/:id/snapshots", "/metrics"],
  investors: ["/investors"],
  tapes: ["/tape-configs", "/tape-runs", "/tapes", "/tape-fields"],
  scheduler: ["/scheduler"],
};

interface Entry {
  service: string;
  segments: string[];
}

const ENTRIES: Entry[] = Object.entries(REST_SURFACE)
  .flatMap(([service, prefixes]) => prefixes.map((p) => ({ service, segments: segmentsOf(p) })))
  // Most specific first: more segments, then fewer wildcards.
  .sort((a, b) => b.segments.length - a.segments.length || wildcards(a) - wildcards(b));

/** The service owning `path` (relative to the API base, e.g. `/loans/123/payments`), if any. */
export function serviceForPath(path: string): string | undefined {
  const segments = segmentsOf(path);
  const entry = ENTRIES.find((e) => e.segments.length <= segments.length && e.segments.every((s, i) => s.startsWith(":") || s === segments[i]));
  return entry?.service;
}

function segmentsOf(path: string): string[] {
  return path.split("?")[0].split("/").filter(Boolean);
}

function wildcards(e: Entry): number {
  return e.segments.filter((s) => s.startsWith(":")).length;
}
