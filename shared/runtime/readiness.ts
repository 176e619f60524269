/**
 * Readiness means serving, and a node answers for itself (DESIGN.md §12, issue 13 point 1).
 *
 * A node is ready when every service it runs has started and answers, and — when it runs the
 * gateway — the gateway serves the REST routes of every service registered in the cluster
 * (moleculer-web regenerates its aliases a moment after a service appears; until then the route
 * would not be found). Services of other nodes do not decide this node's readiness: they are
 * reported in the body (`cluster`), so one service down never takes the whole API out of service.
 *
 * The same report backs the gateway's /ready and every node's HEALTH_PORT /ready.
 */
import type { ServiceBroker } from "moleculer";
import type { ServerResponse } from "node:http";
import { ALL_SERVICES } from "../config";
import { serviceForPath } from "./rest-surface";

export type LocalStatus = "ok" | "starting" | "down";

export interface ReadinessReport {
  ready: boolean;
  node: string;
  /** This node's own services: what decides `ready`. */
  services: Record<string, { status: LocalStatus; detail?: unknown }>;
  /** Every service of the system as this node sees the cluster: informative only. */
  cluster: Record<string, { status: "available" | "absent"; nodes: string[] }>;
}

/** The parts of a moleculer-web gateway service that readiness reads. */
export interface GatewayLike {
  broker: ServiceBroker;
  routes: Array<{ path: string; opts: { autoAliases?: boolean }; hasWhitelist?: boolean }>;
  aliases: Array<{ action?: string; route: unknown }>;
  server?: { listening: boolean };
  checkWhitelist(route: unknown, action: string): boolean;
}

interface RegisteredService {
  name: string;
  fullName: string;
  nodes: string[];
  actions: Record<string, { name: string; rest?: unknown; visibility?: string }>;
}

function registeredServices(broker: ServiceBroker): RegisteredService[] {
  return broker.registry.getServiceList({ onlyAvailable: true, skipInternal: true, withActions: true, grouping: true }) as any;
}

/**
 * Services registered in the cluster whose REST actions the gateway does not serve yet, by
 * service name: the actions moleculer-web's autoAliases would publish, minus those with an alias.
 */
export function pendingRoutes(gateway: GatewayLike): Record<string, string[]> {
  const pending: Record<string, string[]> = {};
  const routes = gateway.routes.filter((r) => r.opts.autoAliases);
  for (const route of routes) {
    const served = new Set(gateway.aliases.filter((a) => a.route === route).map((a) => a.action));
    for (const service of registeredServices(gateway.broker)) {
      for (const action of Object.values(service.actions ?? {})) {
        if (!action.rest || (action.visibility != null && action.visibility !== "published")) continue;
        if (route.hasWhitelist && !gateway.checkWhitelist(route, action.name)) continue;
        if (!served.has(action.name)) (pending[service.name] ??= []).push(action.name);
      }
    }
  }
  return pending;
}

/** This node's readiness, with the rest of the cluster reported alongside. */
export async function nodeReadiness(broker: ServiceBroker, timeoutMs = 2_000): Promise<ReadinessReport> {
  const started = new Set(
    broker.registry.getServiceList({ onlyLocal: true, skipInternal: true }).map((s: { name: string }) => s.name),
  );
  const locals = broker.services.map((s) => s.name).filter((name) => !name.startsWith("$"));
  const entries = await Promise.all(
    locals.map(async (name) => [name, await localStatus(broker, name, started.has(name), timeoutMs)] as const),
  );
  const services = Object.fromEntries(entries);
  return {
    ready: broker.started && entries.length > 0 && entries.every(([, s]) => s.status === "ok"),
    node: broker.nodeID,
    services,
    cluster: clusterView(broker),
  };
}

async function localStatus(broker: ServiceBroker, name: string, started: boolean, timeoutMs: number): Promise<{ status: LocalStatus; detail?: unknown }> {
  if (!started || !broker.started) return { status: "starting" };
  const service: any = broker.getLocalService(name);
  if (name === "gateway" || (service && Array.isArray(service.routes) && Array.isArray(service.aliases))) {
    if (service.server && !service.server.listening) return { status: "starting", detail: "HTTP server not listening yet" };
    const pending = pendingRoutes(service as GatewayLike);
    if (Object.keys(pending).length) return { status: "starting", detail: { routes_pending: pending } };
    return { status: "ok" };
  }
  if (!service?.schema?.actions?.health && !service?.actions?.health) return { status: "ok" };
  try {
    // nodeID pins the call to this node: another node's instance answering says nothing of ours.
    const detail = await broker.call(`${name}.health`, {}, { nodeID: broker.nodeID, timeout: timeoutMs });
    return { status: "ok", detail };
  } catch (err: any) {
    return { status: "down", detail: err?.message };
  }
}

function clusterView(broker: ServiceBroker): ReadinessReport["cluster"] {
  const byName = new Map(registeredServices(broker).map((s) => [s.name, s.nodes]));
  return Object.fromEntries(
    ALL_SERVICES.map((name) => {
      const nodes = byName.get(name) ?? [];
      return [name, { status: nodes.length ? ("available" as const) : ("absent" as const), nodes }];
    }),
  );
}

/**
 * For a request the gateway could not route (or whose service vanished mid-flight): the service
 * that owns the path when it is absent or its routes are still being registered, else undefined
 * (a plain 404). `apiPath` is the path under the API base, e.g. `/loans/42`.
 */
export function unservedServiceFor(gateway: GatewayLike, apiPath: string): { service: string; reason: "absent" | "starting" } | undefined {
  const service = serviceForPath(apiPath);
  if (!service) return undefined;
  const registered = registeredServices(gateway.broker).some((s) => s.name === service);
  if (!registered) return { service, reason: "absent" };
  return pendingRoutes(gateway)[service] ? { service, reason: "starting" } : undefined;
}

/** The unserved service a request addresses: its path under the gateway's API route (see unservedServiceFor). */
export function unservedRequest(gateway: GatewayLike, req: { parsedUrl?: string }): { service: string; reason: "absent" | "starting" } | undefined {
  const api = gateway.routes.find((r) => r.opts.autoAliases && req.parsedUrl?.startsWith(r.path));
  return api && unservedServiceFor(gateway, req.parsedUrl!.slice(api.path.length));
}

/** Writes the 503 a route of an unserved service answers, in the API's error shape, naming the service. */
export function writeUnserved(res: ServerResponse, unserved: { service: string; reason: "absent" | "starting" }, requestId?: string): void {
  const message =
    unserved.reason === "absent"
      ? `service ${unserved.service} is not available: no node of the cluster runs it`
      : `service ${unserved.service} is starting: its routes are being registered`;
  res.writeHead(503, { "Content-Type": "application/json; charset=utf-8", "Retry-After": unserved.reason === "absent" ? "30" : "1" });
  res.end(JSON.stringify({ error: { type: "SERVICE_UNAVAILABLE", message, data: { service: unserved.service, reason: unserved.reason, request_id: requestId } } }));
}
