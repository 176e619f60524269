/**
 * Issue 2, point 4: `npm start` with no environment runs the whole system in one process on an
 * embedded MongoDB-compatible server, prints the gateway URL and the development token, serves
 * the API, and shuts down cleanly on SIGTERM.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import path from "node:path";
import { apiClient, eventually } from "../support/http";

const root = path.resolve(__dirname, "../..");
let child: ChildProcess;
let output = "";
let port: number;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, "127.0.0.1", () => {
      const p = (srv.address() as any).port;
      srv.close(() => resolve(p));
    });
  });
}

beforeAll(async () => {
  port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), SEED_DEMO: "auto", LOG_LEVEL: "warn" };
  for (const key of ["MONGO_URL", "TRANSPORTER", "AUTH_TOKENS", "SERVICES", "NODE_ENV"]) delete env[key];
  child = spawn(process.execPath, ["--import", "tsx", "bin/start.ts"], { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  await eventually(() => output.includes("gateway: http://") || child.exitCode !== null, 60_000, 50);
  if (child.exitCode !== null) throw new Error(`start exited early:\n${output}`);
}, 90_000);

afterAll(() => {
  if (child && child.exitCode === null) child.kill("SIGKILL");
});

it("prints the gateway URL and the development token", () => {
  expect(output).toContain(`gateway: http://localhost:${port}/api/v1`);
  expect(output).toContain("development token: dev-admin-token");
  expect(output).toMatch(/MongoDB: (java-wire|memory-server|testcontainers)/);
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
  expect((await api("GET", "/api/v1/programs")).status).toBe(401);
  const sofr = await api("GET", "/api/v1/index-rates?index_name=SOFR&limit=500", { token: "dev-admin-token" });
  expect(sofr.body.total).toBeGreaterThanOrEqual(52);

  expect((await api("GET", "/health")).body.status).toBe("ok");
  const metrics = await api("GET", "/metrics/prometheus");
  expect(metrics.status).toBe(200);
  expect(String(metrics.body)).toContain("moleculer_request_total");
});

it("stops cleanly on SIGTERM", async () => {
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  child.kill("SIGTERM");
  expect(await exited).toBe(0);
}, 30_000);
