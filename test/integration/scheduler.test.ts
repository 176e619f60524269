/**
 * The daily chain (DESIGN.md §8, issue 9 point 6) over a real nats-server with JetStream: the
 * scheduler and the gateway on one node, stand-ins for loans, portfolios and snapshots on a
 * second and for tapes on a third. The stand-ins consume their ticks durably and report with the
 * durable `scheduler.job.finished` through runDailyJob, as the real services do
 * (shared/contracts/scheduler.ts, shared/scheduler/daily-job.ts).
 *
 * The scheduler's business clock is injected: `setNow` moves it, and it runs on in real time from
 * there, so the back-off delays are real. The clock checks are driven by `scheduler.catchUp`
 * (what the in-process clock runs each minute); the CronJobs' path is `scheduler.runTick` with
 * trigger "cron" (what bin/tick.ts calls).
 */
import type { ServiceBroker, ServiceSchema } from "moleculer";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { startNats, type RunningNats } from "../support/nats";
import { startTestMongo, uniqueDbUrl } from "../support/mongo";
import type { RunningMongo } from "../../shared/runtime/mongo-server";
import { MongoMixin } from "../../shared/db/mongo.mixin";
import { DurableEventsMixin } from "../../shared/events/durable-events.mixin";
import type { DeliveredEvent } from "../../shared/events/bus";
import { CHAIN, SchedulerEvents, type DailyJob, type TickEvent } from "../../shared/contracts/scheduler";
import { runDailyJob } from "../../shared/scheduler/daily-job";
import { prometheusText } from "../../shared/runtime/prometheus";
import { apiClient, eventually, gatewayUrl, startNode, TEST_TOKENS as T, waitForRoutes } from "../support/system";

let nats: RunningNats;
let mongo: RunningMongo;
let sched: ServiceBroker;
let workers: ServiceBroker;
let tapesNode: ServiceBroker | undefined;
let api: ReturnType<typeof apiClient>;

// The business clock: `base` at real time `t0`, running on from there.
let base = Date.parse("2026-03-03T03:00:00-05:00");
let t0 = Date.now();
const now = () => new Date(base + (Date.now() - t0));
const setNow = (iso: string) => {
  base = Date.parse(iso);
  t0 = Date.now();
};

interface Received { job: DailyJob; date: string; attempt: number; trigger: string; at: number }
const received: Received[] = [];
/** `${job}:${date}` → how many first attempts the stand-in fails. */
const failFirst = new Map<string, number>();
/** `${job}:${date}` of ticks the stand-in takes without ever reporting (a service that died mid-run). */
const silent = new Set<string>();
/** `${job}:${date}` → a gate the stand-in waits on before it reports. */
const holds = new Map<string, { promise: Promise<void>; release: () => void }>();
function hold(key: string) {
  let release!: () => void;
  const promise = new Promise<void>((r) => (release = r));
  holds.set(key, { promise, release });
  return () => {
    holds.delete(key);
    release();
  };
}

/** A stand-in for the service that runs `job`: consumes its tick durably, reports durably. */
function standIn(job: DailyJob): ServiceSchema {
  const service = CHAIN.find((c) => c.job === job)!.service;
  return {
    name: service,
    mixins: [MongoMixin({}), DurableEventsMixin({ subscriptions: { [SchedulerEvents.tick(job)]: "onTick" } })],
    methods: {
      async onTick(this: any, event: DeliveredEvent) {
        const tick = event.payload as TickEvent;
        const attempt = tick.attempt ?? 1;
        const key = `${job}:${tick.business_date}`;
        received.push({ job, date: tick.business_date, attempt, trigger: tick.trigger, at: Date.now() });
        await holds.get(key)?.promise;
        if (attempt === 1 && silent.has(key)) return;
        // What every job's service does: run, then report durably (shared/scheduler/daily-job.ts).
        await runDailyJob(this, event, async () => {
          if (attempt <= (failFirst.get(key) ?? 0)) throw new Error(`stand-in failure on attempt ${attempt}`);
          return { items: 10 * attempt };
        });
      },
    },
  };
}

const ALL_SERVICES = ["loans", "portfolios", "snapshots", "tapes"];

beforeAll(async () => {
  [nats, mongo] = await Promise.all([startNats({ jetstream: true }), startTestMongo()]);
  const common = { natsUrl: nats.url, services: [] as never[] };
  workers = await startNode({ ...common, nodeID: "workers", mongoUrl: uniqueDbUrl(mongo.url, "chain_workers"), extraServices: [standIn("close_of_business"), standIn("auto_assign"), standIn("snapshots")] });
  tapesNode = await startNode({ ...common, nodeID: "tapes-node", mongoUrl: uniqueDbUrl(mongo.url, "chain_tapes"), extraServices: [standIn("tapes")] });
  sched = await startNode({
    nodeID: "sched",
    services: ["scheduler", "gateway"],
    natsUrl: nats.url,
    mongoUrl: uniqueDbUrl(mongo.url, "chain_scheduler"),
    settings: { scheduler: { now, pumpIntervalMs: 50, maxAttempts: 3, retryBaseMs: 300, retryMaxMs: 5_000, discoveryGraceMs: 0 } },
  });
  await sched.waitForServices(ALL_SERVICES, 15_000);
  await waitForRoutes(sched, ["GET /api/v1/scheduler/chain", "POST /api/v1/scheduler/ticks"]);
  api = apiClient(gatewayUrl(sched));
}, 60_000);

afterAll(async () => {
  for (const { release } of holds.values()) release();
  await sched?.stop();
  await workers?.stop();
  await tapesNode?.stop();
  await nats?.stop();
  await mongo?.stop();
});

const chainOf = async (date: string) => (await api("GET", `/api/v1/scheduler/chain?business_date=${date}`, { token: T.analyst })).body;
const stateOf = async (date: string) => Object.fromEntries((await chainOf(date)).jobs.map((j: any) => [j.job, j.state]));
const settled = (date: string) => eventually(async () => (await chainOf(date)).status === "completed", 15_000);
const clockCheck = () => sched.call("scheduler.catchUp") as Promise<{ added: string[]; started: string[] }>;
const receivedFor = (date: string) => received.filter((r) => r.date === date).map((r) => `${r.job}#${r.attempt}`);
// The scheduler node's own exposition (what its HEALTH_PORT serves to Prometheus).
const metricsShow = (line: string) => eventually(() => (prometheusText(sched) ?? "").split("\n").includes(line), 5_000);
const ledgerCount = async () => (await api("GET", "/api/v1/scheduler/ticks?limit=1", { token: T.admin })).body.total;

it("runs D's chain in order after D has ended, auto_assign not before 05:00 of the next day", async () => {
  setNow("2026-03-03T03:00:00-05:00");
  expect((await clockCheck()).added).toEqual(["2026-03-02"]);
  await eventually(async () => (await stateOf("2026-03-02")).close_of_business === "completed");
  // 03:00: however often the chain is re-planned, auto_assign waits for 05:00.
  await clockCheck();
  const early = await chainOf("2026-03-02");
  expect(early.status).toBe("waiting");
  expect(early.jobs.map((j: any) => [j.job, j.state])).toEqual([["close_of_business", "completed"], ["auto_assign", "waiting"], ["snapshots", "waiting"], ["tapes", "waiting"]]);
  expect(early.jobs[1].not_before).toBe("2026-03-03T05:00:00.000-05:00");
  expect(receivedFor("2026-03-02")).toEqual(["close_of_business#1"]);

  setNow("2026-03-03T05:00:00-05:00");
  await settled("2026-03-02");
  expect(receivedFor("2026-03-02")).toEqual(["close_of_business#1", "auto_assign#1", "snapshots#1", "tapes#1"]);
  expect(received.filter((r) => r.date === "2026-03-02").map((r) => r.trigger)).toEqual(["clock", "chain", "chain", "chain"]);
  // The history: started, then completed with the service's counts and duration.
  const { body } = await api("GET", "/api/v1/scheduler/ticks?from=2026-03-02&to=2026-03-02&status=completed", { token: T.analyst });
  expect(body.total).toBe(4);
  for (const row of body.items) {
    expect(row).toMatchObject({ id: `${row.job}:2026-03-02`, state: "completed", attempt: 1, counts: { items: 10 } });
    expect(row.duration_ms).toEqual(expect.any(Number));
    expect(row.attempts).toEqual([expect.objectContaining({ attempt: 1, state: "completed" })]);
    expect(Date.parse(row.finished_at)).toBeGreaterThanOrEqual(Date.parse(row.started_at));
  }
});

it("records a tick asked for before its upstream completed as waiting, and delivers each tick once however often it is asked for", async () => {
  setNow("2026-03-04T05:30:00-05:00");
  const releaseClose = hold("close_of_business:2026-03-03");
  // The 05:00 CronJob for auto_assign comes first: the date enters the ledger, close starts, auto_assign waits.
  const cron: any = await sched.call("scheduler.runTick", { job: "auto_assign", business_date: "2026-03-03", trigger: "cron" });
  expect(cron).toMatchObject({ tick_id: "auto_assign:2026-03-03", duplicate: false, state: "waiting" });
  await eventually(() => received.some((r) => r.job === "close_of_business" && r.date === "2026-03-03"));
  // The clock and the close's own CronJob ask again while it runs: nothing new.
  await clockCheck();
  const again: any = await sched.call("scheduler.runTick", { job: "close_of_business", business_date: "2026-03-03", trigger: "cron" });
  expect(again).toMatchObject({ duplicate: true, state: "started", attempt: 1 });
  expect(await stateOf("2026-03-03")).toEqual({ close_of_business: "started", auto_assign: "waiting", snapshots: "waiting", tapes: "waiting" });
  releaseClose();
  await settled("2026-03-03");
  // An admin asking for a completed tick gets the ledger's answer, nothing re-runs.
  const admin = await api("POST", "/api/v1/scheduler/ticks", { token: T.admin, body: { job: "snapshots", business_date: "2026-03-03" } });
  expect(admin.status).toBe(200);
  expect(admin.body).toMatchObject({ duplicate: true, state: "completed" });
  await clockCheck();
  expect(receivedFor("2026-03-03")).toEqual(["close_of_business#1", "auto_assign#1", "snapshots#1", "tapes#1"]);
  expect(received.find((r) => r.job === "close_of_business" && r.date === "2026-03-03")!.trigger).toBe("cron");
});

it("catches up three missed days oldest first, the whole chain for D before D + 1 starts", async () => {
  setNow("2026-03-07T06:00:00-05:00");
  const releaseTapes = hold("tapes:2026-03-04");
  expect((await clockCheck()).added).toEqual(["2026-03-04", "2026-03-05", "2026-03-06"]);
  await eventually(() => received.some((r) => r.job === "tapes" && r.date === "2026-03-04"));
  // tapes for the 4th is still running: the 5th's close must not start, however often asked.
  await clockCheck();
  expect(await stateOf("2026-03-05")).toEqual({ close_of_business: "waiting", auto_assign: "waiting", snapshots: "waiting", tapes: "waiting" });
  expect((await chainOf("2026-03-04")).status).toBe("running");
  // Without a date, the chain view shows the oldest date not settled.
  const current = await api("GET", "/api/v1/scheduler/chain", { token: T.analyst });
  expect(current.body).toMatchObject({ business_date: "2026-03-04", status: "running" });
  expect(received.some((r) => r.date === "2026-03-05")).toBe(false);
  // The lag: three due dates not settled.
  expect(sched.metrics.getMetric("app.scheduler.chain.lag.days")!.get()!.value).toBe(3);
  releaseTapes();
  await settled("2026-03-06");
  const order = received.filter((r) => r.date >= "2026-03-04" && r.date <= "2026-03-06").map((r) => `${r.date} ${r.job}`);
  expect(order).toEqual(["2026-03-04", "2026-03-05", "2026-03-06"].flatMap((d) => CHAIN.map((c) => `${d} ${c.job}`)));
  expect(received.filter((r) => r.date === "2026-03-05").map((r) => r.trigger)).toEqual(["catch_up", "chain", "chain", "chain"]);
  await clockCheck();
  expect(sched.metrics.getMetric("app.scheduler.chain.lag.days")!.get()!.value).toBe(0);
});

it("retries a failed job with back-off until it completes, and counts the failures in the metrics", async () => {
  failFirst.set("snapshots:2026-03-07", 2);
  setNow("2026-03-08T06:00:00-05:00");
  await clockCheck();
  await settled("2026-03-07");
  const attempts = received.filter((r) => r.job === "snapshots" && r.date === "2026-03-07");
  expect(attempts.map((r) => r.attempt)).toEqual([1, 2, 3]);
  // retryBaseMs 300: 300 ms after the first failure, 600 ms after the second.
  expect(attempts[1].at - attempts[0].at).toBeGreaterThanOrEqual(300);
  expect(attempts[2].at - attempts[1].at).toBeGreaterThanOrEqual(600);
  const { body: row } = await api("GET", "/api/v1/scheduler/ticks?job=snapshots&from=2026-03-07&to=2026-03-07", { token: T.analyst });
  expect(row.items[0]).toMatchObject({ state: "completed", attempt: 3, counts: { items: 30 }, error: null });
  expect(row.items[0].attempts.map((a: any) => [a.attempt, a.state, a.error ?? null])).toEqual([
    [1, "failed", "stand-in failure on attempt 1"],
    [2, "failed", "stand-in failure on attempt 2"],
    [3, "completed", null],
  ]);
  // tapes for the 7th ran only after the snapshots completed.
  expect(receivedFor("2026-03-07")).toEqual(["close_of_business#1", "auto_assign#1", "snapshots#1", "snapshots#2", "snapshots#3", "tapes#1"]);
  // The ledger row is written a moment before the metrics are counted: await them.
  await metricsShow('app_scheduler_job_failures_total{job="snapshots"} 2');
  await metricsShow('app_scheduler_job_runs_total{job="snapshots",status="started"} 8'); // 6 dates (the 2nd to the 7th) + 2 retries
  await metricsShow('app_scheduler_job_duration_seconds_bucket{job="tapes",le="+Inf"} 6');
});

it("halts the chain when a job's attempts are spent, until an admin re-runs it", async () => {
  failFirst.set("tapes:2026-03-08", 3); // maxAttempts 3: every attempt fails
  setNow("2026-03-10T06:00:00-05:00");
  await clockCheck();
  await eventually(async () => (await chainOf("2026-03-08")).status === "halted", 15_000);
  const halted = (await chainOf("2026-03-08")).jobs.find((j: any) => j.job === "tapes");
  expect(halted).toMatchObject({ state: "failed", attempt: 3, error: "stand-in failure on attempt 3", next_attempt_at: null });
  await clockCheck();
  expect((await chainOf("2026-03-09")).status).toBe("waiting");
  expect(received.some((r) => r.date === "2026-03-09")).toBe(false);
  const rerun = await api("POST", "/api/v1/scheduler/ticks", { token: T.admin, body: { job: "tapes", business_date: "2026-03-08" } });
  expect(rerun.status).toBe(200);
  expect(rerun.body).toMatchObject({ duplicate: false, attempt: 4 });
  await settled("2026-03-09");
  expect(receivedFor("2026-03-08").filter((r) => r.startsWith("tapes"))).toEqual(["tapes#1", "tapes#2", "tapes#3", "tapes#4"]);
});

it("times out a started job that never reports, and retries it", async () => {
  silent.add("auto_assign:2026-03-10");
  setNow("2026-03-11T06:00:00-05:00");
  await clockCheck();
  await eventually(() => received.some((r) => r.job === "auto_assign" && r.date === "2026-03-10"));
  await clockCheck();
  expect((await stateOf("2026-03-10")).auto_assign).toBe("started");
  // Two hours later (jobTimeoutMs), the silent attempt counts as failed and is retried.
  setNow("2026-03-11T08:00:01-05:00");
  await settled("2026-03-10");
  const row = (await chainOf("2026-03-10")).jobs.find((j: any) => j.job === "auto_assign");
  expect(row.attempts.map((a: any) => [a.attempt, a.state])).toEqual([[1, "failed"], [2, "completed"]]);
  expect(row.attempts[0].error).toMatch(/^no job.finished report within 120 min/);
});

it("skips the job of a service no node runs, visibly, and the chain goes on", async () => {
  await tapesNode!.stop();
  tapesNode = undefined;
  await eventually(() => !sched.registry.getServiceList({ onlyAvailable: true }).some((s: any) => s.name === "tapes"));
  setNow("2026-03-13T06:00:00-05:00");
  await clockCheck();
  await settled("2026-03-12");
  const view = await chainOf("2026-03-11");
  expect(view.status).toBe("completed");
  expect(view.jobs.map((j: any) => j.state)).toEqual(["completed", "completed", "completed", "skipped"]);
  expect(view.jobs[3].reason).toBe('service "tapes" is not deployed');
  const skipped = await api("GET", "/api/v1/scheduler/ticks?status=skipped", { token: T.analyst });
  expect(skipped.body.items.map((r: any) => r.id)).toEqual(["tapes:2026-03-12", "tapes:2026-03-11"]);
  expect(receivedFor("2026-03-12")).toEqual(["close_of_business#1", "auto_assign#1", "snapshots#1"]);
  await metricsShow('app_scheduler_job_runs_total{job="tapes",status="skipped"} 2');
});

it("a CronJob run (bin/tick.ts, a short-lived node over NATS) asks for the same ledger row, once", async () => {
  const root = join(__dirname, "..", "..");
  const tick = () =>
    promisify(execFile)(process.execPath, ["--import", "tsx", join(root, "bin", "tick.ts"), "close_of_business", "2026-03-13"], {
      cwd: root,
      env: { ...process.env, TRANSPORTER: nats.url, LOG_LEVEL: "error" },
    });
  // Today (the 13th) has not ended: the run is recorded and waits for midnight.
  const first = JSON.parse((await tick()).stdout);
  expect(first).toMatchObject({ tick_id: "close_of_business:2026-03-13", duplicate: false, state: "waiting", attempt: 0 });
  const second = JSON.parse((await tick()).stdout);
  expect(second).toMatchObject({ tick_id: "close_of_business:2026-03-13", duplicate: true, state: "waiting" });
  expect(received.some((r) => r.date === "2026-03-13")).toBe(false);
}, 60_000);

it("refuses bad and future ticks with a clear 4xx, and writes nothing", async () => {
  const before = await ledgerCount();
  const bad = await api("POST", "/api/v1/scheduler/ticks", { token: T.admin, body: { job: "payroll", business_date: "2026-02-30" } });
  expect(bad.status).toBe(400);
  expect(bad.body.error.data.fields.map((f: any) => f.field).sort()).toEqual(["business_date", "job"]);
  const future = await api("POST", "/api/v1/scheduler/ticks", { token: T.admin, body: { job: "snapshots", business_date: "2026-03-14" } });
  expect(future.status).toBe(422);
  const forbidden = await api("POST", "/api/v1/scheduler/ticks", { token: T.analyst, body: { job: "snapshots", business_date: "2026-03-01" } });
  expect(forbidden.status).toBe(403);
  const badFilter = await api("GET", "/api/v1/scheduler/ticks?status=done&from=2026-03-05&to=2026-03-01", { token: T.analyst });
  expect(badFilter.status).toBe(400);
  expect(await ledgerCount()).toBe(before);
});
