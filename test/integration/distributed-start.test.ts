/**
 * Issue 2, point 4 (second half): with TRANSPORTER and MONGO_URL set, the same entry point runs a
 * subset of services (SERVICES=…) as separate nodes that find each other over NATS.
 */
import { startNats, type RunningNats } from "../support/nats";
import { startTestMongo, uniqueDbUrl } from "../support/mongo";
import type { RunningMongo } from "../../shared/runtime/mongo-server";
import { apiClient, eventually } from "../support/http";
import { freePort, startSystemProcess, type StartedProcess } from "../support/processes";

let nats: RunningNats;
let mongo: RunningMongo;
const nodes: StartedProcess[] = [];
let port: number;
let healthPort: number;

beforeAll(async () => {
  [nats, mongo] = await Promise.all([startNats({ jetstream: true }), startTestMongo()]);
  const common = { TRANSPORTER: nats.url, MONGO_URL: uniqueDbUrl(mongo.url, "dist_start"), AUTH_TOKENS: "ops:admin,viewer:analyst", SEED_DEMO: "false" };
  [port, healthPort] = await Promise.all([freePort(), freePort()]);
  nodes.push(...(await Promise.all([
    startSystemProcess({ ...common, SERVICES: "programs,rates", HEALTH_PORT: String(healthPort) }),
    startSystemProcess({ ...common, SERVICES: "gateway", PORT: String(port) }),
  ])));
}, 120_000);

afterAll(async () => {
  for (const n of nodes) if (n.child.exitCode === null) n.child.kill("SIGKILL");
  await nats?.stop();
  await mongo?.stop();
});

it("serves programs through a gateway on another node", async () => {
  expect(nodes[0].output()).toContain("programs, rates");
  expect(nodes[0].output()).not.toContain("gateway: http");
  const api = apiClient(`http://127.0.0.1:${port}`);
  // The gateway learns the remote routes once it discovers the programs node.
  const created = await eventually(async () => {
    const r = await api("POST", "/api/v1/programs", {
      token: "ops",
      body: { name: "Remote", program_type: "installment", day_count_convention: "30_360", accrual_method: "simple", payment_allocation_order: ["interest", "fees", "principal"] },
    });
    return r.status === 201 ? r : undefined;
  }, 30_000);
  const read = await api("GET", `/api/v1/programs/${created.body.id}`, { token: "viewer" });
  expect(read.body.name).toBe("Remote");
  expect((await api("POST", "/api/v1/programs", { token: "viewer", body: {} })).status).toBe(403);
});

it("answers Kubernetes probes on the health port of a node without a gateway", async () => {
  const health = apiClient(`http://127.0.0.1:${healthPort}`);
  expect((await health("GET", "/live")).status).toBe(200);
  const ready = await health("GET", "/ready");
  expect(ready.status).toBe(200);
  expect(Object.keys(ready.body.services).sort()).toEqual(["programs", "rates"]);
  expect(String((await health("GET", "/metrics")).body)).toContain("moleculer_");
});

it("shuts every node down cleanly", async () => {
  const codes = await Promise.all(nodes.map((n) => n.stop()));
  expect(codes).toEqual([0, 0]);
}, 30_000);
