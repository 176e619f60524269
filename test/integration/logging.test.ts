/**
 * Issue 13 point 8: one access line per request, and JSON logs through pino with LOG_FORMAT=json,
 * checked on a real node's stdout at LOG_LEVEL=info (what a Kubernetes log collector reads).
 */
import { startTestMongo, uniqueDbUrl } from "../support/mongo";
import type { RunningMongo } from "../../shared/runtime/mongo-server";
import { apiClient, eventually } from "../support/http";
import { freePort, startSystemProcess, type StartedProcess } from "../support/processes";

let mongo: RunningMongo;
let node: StartedProcess;
let port: number;

beforeAll(async () => {
  [mongo, port] = await Promise.all([startTestMongo(), freePort()]);
  node = await startSystemProcess({
    SERVICES: "gateway,programs,rates",
    MONGO_URL: uniqueDbUrl(mongo.url, "logging"),
    PORT: String(port),
    AUTH_TOKENS: "ops:admin",
    SEED_DEMO: "false",
    LOG_LEVEL: "info",
    LOG_FORMAT: "json",
  });
}, 90_000);

afterAll(async () => {
  await node?.stop();
  await mongo?.stop();
});

const records = () =>
  node
    .output()
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      try {
        return JSON.parse(line);
      } catch {
        throw new Error(`not a JSON log line: ${line}`);
      }
    });

it("writes every line as JSON, one access record per request", async () => {
  const api = apiClient(`http://127.0.0.1:${port}`);
  await eventually(async () => (await api("GET", "/ready")).status === 200, 20_000);
  // The probe's own access line is written once its response is done: start counting after it.
  await eventually(() => records().some((r) => r.type === "access" && r.path === "/ready" && r.status === 200));
  const before = records().length;
  const ok = await api("GET", "/api/v1/programs", { token: "ops" });
  const missing = await api("GET", "/api/v1/nothing", { token: "ops" });
  const anonymous = await api("GET", "/api/v1/programs");
  expect([ok.status, missing.status, anonymous.status]).toEqual([200, 404, 401]);

  const access = await eventually(() => {
    const list = records().slice(before).filter((r) => r.type === "access");
    return list.length >= 3 ? list : undefined;
  });
  expect(access).toHaveLength(3);
  expect(access[0]).toMatchObject({ level: "info", mod: "access", method: "GET", path: "/api/v1/programs", status: 200, request_id: ok.headers.get("x-request-id") });
  expect(access[0].token_id).toMatch(/^[0-9a-f]{12}$/);
  expect(typeof access[0].duration_ms).toBe("number");
  expect(typeof access[0].time).toBe("string");
  expect(access[1]).toMatchObject({ path: "/api/v1/nothing", status: 404 });
  expect(access[2]).toMatchObject({ path: "/api/v1/programs", status: 401 });
  expect(access[2].token_id).toBeUndefined();
  // Nothing else at info per request: moleculer-web's own request/response lines are at debug.
  const others = records().slice(before).filter((r) => r.type !== "access");
  expect(others).toEqual([]);
});
