/**
 * Issue 2, point 4: `npm start` with no environment runs the whole system in one process on an
 * embedded MongoDB-compatible server, prints the gateway URL and the development token, serves
 * the API, and shuts down cleanly on SIGTERM.
 */
import { apiClient, eventually } from "../support/http";
import { freePort, startSystemProcess, type StartedProcess } from "../support/processes";

let system: StartedProcess;
let port: number;

beforeAll(async () => {
  port = await freePort();
  system = await startSystemProcess({ PORT: String(port), SEED_DEMO: "auto" });
}, 90_000);

afterAll(() => {
  if (system && system.child.exitCode === null) system.child.kill("SIGKILL");
});

it("prints the gateway URL and the development token", () => {
  expect(system.output()).toContain(`gateway: http://localhost:${port}/api/v1`);
  expect(system.output()).toContain("development token: dev-admin-token");
  expect(system.output()).toMatch(/MongoDB: (java-wire|memory-server|testcontainers)/);
});

it("is ready, seeded, and guarded by the development token", async () => {
  const api = apiClient(`http://127.0.0.1:${port}`);
  const ready = await eventually(async () => {
    const r = await api("GET", "/ready");
    return r.status === 200 ? r : undefined;
  }, 20_000);
  expect(ready.body.ready).toBe(true);
  expect(Object.values(ready.body.services).every((s: any) => s.status === "ok")).toBe(true);

  const programs = await eventually(async () => {
    const r = await api("GET", "/api/v1/programs", { token: "dev-admin-token" });
    return r.status === 200 ? r : undefined;
  });
  expect(programs.body.total).toBe(4);
  expect(programs.headers.get("x-request-id")).toBeTruthy();
  expect((await api("GET", "/api/v1/programs")).status).toBe(401);
  const sofr = await api("GET", "/api/v1/index-rates?index_name=SOFR&limit=500", { token: "dev-admin-token" });
  expect(sofr.body.total).toBeGreaterThanOrEqual(52);

  expect((await api("GET", "/health")).body.status).toBe("ok");
  // Metrics are served on each node's internal HEALTH_PORT only, never on the public port.
  expect((await api("GET", "/metrics/prometheus")).status).toBe(404);
});

it("stops cleanly on SIGTERM", async () => {
  expect(await system.stop()).toBe(0);
}, 30_000);
