/**
 * Issue 13 point 1: readiness means serving, and a node answers for itself.
 * - embedded (one broker, every service): right after /ready says 200, a route answers 200;
 *   while starting, a route answers 503 naming its service, never 404;
 * - split over real NATS (gateway on one node; programs, rates and scheduler on another): the
 *   gateway is ready without the services nobody deployed, reports them in its body, and their
 *   routes answer 503 naming the service; each node's health port answers for that node alone.
 */
import type { ServiceBroker } from "moleculer";
import type { Server } from "node:http";
import { startNats, type RunningNats } from "../support/nats";
import { startTestMongo, uniqueDbUrl } from "../support/mongo";
import type { RunningMongo } from "../../shared/runtime/mongo-server";
import { apiClient, eventually, gatewayUrl, startNode, TEST_TOKENS as T } from "../support/system";
import { freePort } from "../support/processes";
import { startHealthServer } from "../../shared/runtime/health-server";

let mongo: RunningMongo;
let nats: RunningNats;

beforeAll(async () => {
  [mongo, nats] = await Promise.all([startTestMongo(), startNats({ jetstream: true })]);
}, 60_000);
afterAll(async () => {
  await nats?.stop();
  await mongo?.stop();
});

/** Polls `path` until stopped, recording every status it answered. */
function pollStatuses(api: ReturnType<typeof apiClient>, path: string) {
  const statuses: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) statuses.push((await api("GET", path, { token: T.admin })).status);
  })();
  return { statuses, stop: async () => { running = false; await loop; } };
}

describe("embedded: every service on one node", () => {
  let node: ServiceBroker;
  afterAll(() => node?.stop());

  it("serves a route right after /ready says 200, and never 404s it while starting", async () => {
    node = await startNode({
      nodeID: "embedded",
      services: ["gateway", "scheduler", "programs", "rates", "loans", "portfolios", "snapshots", "investors", "tapes"],
      mongoUrl: uniqueDbUrl(mongo.url, "ready_embedded"),
    });
    const api = apiClient(gatewayUrl(node));
    const poller = pollStatuses(api, "/api/v1/programs");
    const readyStatuses: number[] = [];
    const ready = await eventually(async () => {
      const r = await api("GET", "/ready");
      readyStatuses.push(r.status);
      return r.status === 200 ? r : undefined;
    }, 15_000, 5);
    // Right after: the route is served.
    expect((await api("GET", "/api/v1/programs", { token: T.admin })).status).toBe(200);
    await poller.stop();
    expect(new Set(poller.statuses)).not.toContain(404);
    expect(poller.statuses.every((s) => s === 200 || s === 503)).toBe(true);
    expect(ready.body).toMatchObject({ ready: true, node: "embedded" });
    expect(Object.keys(ready.body.services).sort()).toEqual(["gateway", "investors", "loans", "portfolios", "programs", "rates", "scheduler", "snapshots", "tapes"]);
    expect(Object.values(ready.body.services).every((s: any) => s.status === "ok")).toBe(true);
    expect(ready.body.cluster.programs).toEqual({ status: "available", nodes: ["embedded"] });
    // moleculer-web registers routes ~0.5 s after the services appear: /ready waited for them.
    if (readyStatuses[0] === 503) expect(readyStatuses.length).toBeGreaterThan(1);
  });
});

describe("split over NATS: gateway on one node; programs, rates, scheduler on another", () => {
  let gw: ServiceBroker;
  let cfg: ServiceBroker;
  let cfgHealth: Server;
  let gwHealth: Server;
  let api: ReturnType<typeof apiClient>;
  const mongoUrl = () => uniqueDbUrl(mongo.url, "ready_split");

  afterAll(async () => {
    cfgHealth?.close();
    gwHealth?.close();
    await gw?.stop();
    await cfg?.stop();
  });

  it("is ready once the deployed services' routes are served, whatever is not deployed", async () => {
    cfg = await startNode({ nodeID: "cfg", services: ["programs", "rates", "scheduler"], mongoUrl: mongoUrl(), natsUrl: nats.url });
    gw = await startNode({ nodeID: "gw", services: ["gateway"], mongoUrl: mongoUrl(), natsUrl: nats.url });
    api = apiClient(gatewayUrl(gw));
    const poller = pollStatuses(api, "/api/v1/programs");
    // An operator waits for /ready and for the services it needs to show in the cluster report.
    const ready = await eventually(async () => {
      const r = await api("GET", "/ready");
      return r.status === 200 && r.body.cluster.programs.status === "available" ? r : undefined;
    }, 20_000, 5);
    expect((await api("GET", "/api/v1/programs", { token: T.admin })).status).toBe(200);
    expect((await api("GET", "/api/v1/index-rates", { token: T.admin })).status).toBe(200);
    expect((await api("GET", "/api/v1/scheduler/ticks", { token: T.admin })).status).toBe(200);
    await poller.stop();
    expect(poller.statuses).not.toContain(404);

    expect(ready.body.services).toEqual({ gateway: { status: "ok" } });
    expect(ready.body.cluster).toMatchObject({
      programs: { status: "available", nodes: ["cfg"] },
      rates: { status: "available", nodes: ["cfg"] },
      scheduler: { status: "available", nodes: ["cfg"] },
      loans: { status: "absent", nodes: [] },
      portfolios: { status: "absent" },
      snapshots: { status: "absent" },
      investors: { status: "absent" },
      tapes: { status: "absent" },
    });
  }, 60_000);

  it("answers 503 naming the service for a route of a service nobody runs", async () => {
    for (const [path, service] of [
      ["/api/v1/loans", "loans"],
      ["/api/v1/loans/abc/payments", "loans"],
      ["/api/v1/portfolios/p1/snapshots", "snapshots"],
      ["/api/v1/portfolios/p1", "portfolios"],
      ["/api/v1/tape-fields", "tapes"],
    ] as const) {
      const r = await api("GET", path, { token: T.admin });
      expect([path, r.status]).toEqual([path, 503]);
      expect(r.body.error).toMatchObject({ type: "SERVICE_UNAVAILABLE", data: { service, reason: "absent" } });
      expect(r.body.error.message).toContain(service);
      expect(r.headers.get("retry-after")).toBe("30");
    }
    // Only for callers with a valid token: others get the 401 they would get anyway.
    expect((await api("GET", "/api/v1/loans")).status).toBe(401);
    expect((await api("GET", "/api/v1/loans", { token: "nope" })).status).toBe(401);
    // A path no service owns is still a 404, and a served service's unknown sub-path too.
    expect((await api("GET", "/api/v1/nothing-here", { token: T.admin })).status).toBe(404);
    expect((await api("GET", "/api/v1/programs/x/y/z", { token: T.admin })).status).toBe(404);
  });

  it("lets each node's health port answer for that node alone", async () => {
    const [cfgPort, gwPort] = await Promise.all([freePort(), freePort()]);
    cfgHealth = await startHealthServer(cfg, cfgPort);
    gwHealth = await startHealthServer(gw, gwPort);
    // The cluster view is informative and eventually consistent (nodes announce themselves).
    const cfgReady = await eventually(async () => {
      const r = await apiClient(`http://127.0.0.1:${cfgPort}`)("GET", "/ready");
      return r.body.cluster.gateway.status === "available" ? r : undefined;
    });
    expect(cfgReady.status).toBe(200);
    expect(Object.keys(cfgReady.body.services).sort()).toEqual(["programs", "rates", "scheduler"]);
    expect(cfgReady.body.services.programs.detail).toMatchObject({ service: "programs", status: "ok" });
    expect(cfgReady.body.cluster.gateway).toEqual({ status: "available", nodes: ["gw"] });
    const gwReady = await apiClient(`http://127.0.0.1:${gwPort}`)("GET", "/ready");
    expect(gwReady.status).toBe(200);
    expect(Object.keys(gwReady.body.services)).toEqual(["gateway"]);
  });

  it("keeps the gateway ready when a service node leaves; its routes then answer 503", async () => {
    await cfg.stop();
    const r = await eventually(async () => {
      const res = await api("GET", "/api/v1/programs", { token: T.admin });
      return res.status === 503 ? res : undefined;
    }, 15_000);
    expect(r.body.error.data).toMatchObject({ service: "programs", reason: "absent" });
    const ready = await api("GET", "/ready");
    expect(ready.status).toBe(200);
    expect(ready.body.cluster.programs.status).toBe("absent");
  });
});
