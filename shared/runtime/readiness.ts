/**
 * Readiness: a node (or the gateway, for the whole system) is ready when every service it
 * depends on is registered and its `health` action answers in time. Used by /ready and the
 * per-node health port that Kubernetes probes.
 */
import type { ServiceBroker } from "moleculer";
import { ALL_SERVICES } from "../config";

export interface ReadinessReport {
  ready: boolean;
  services: Record<string, { status: "ok" | "missing" | "down"; detail?: unknown }>;
}

const DATA_SERVICES = ALL_SERVICES.filter((s) => s !== "gateway");

export async function readiness(
  broker: ServiceBroker,
  services: readonly string[] = DATA_SERVICES,
  timeoutMs = 2_000,
): Promise<ReadinessReport> {
  const available = new Set(
    broker.registry.getServiceList({ onlyAvailable: true, skipInternal: true }).map((s: { name: string }) => s.name),
  );
  const entries = await Promise.all(
    services.map(async (name) => {
      if (!available.has(name)) return [name, { status: "missing" as const }] as const;
      try {
        const detail = await broker.call(`${name}.health`, {}, { timeout: timeoutMs });
        return [name, { status: "ok" as const, detail }] as const;
      } catch (err: any) {
        return [name, { status: "down" as const, detail: err?.message }] as const;
      }
    }),
  );
  const report = Object.fromEntries(entries);
  return { ready: entries.every(([, r]) => r.status === "ok"), services: report };
}
