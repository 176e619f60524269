/**
 * Issue 13 point 2: the operator's REPL commands, driven through the REPL's own command interface:
 * `bin/repl.ts` runs as a real process joined to the cluster over NATS, commands are typed on its
 * stdin, and its answers are read from its stdout. The scheduler's commands run against a real
 * scheduler (its business clock injected, as test/integration/scheduler.test.ts does); the
 * commands of services not in this cluster say so plainly. Once the stand-ins for the jobs'
 * services run, they consume their durable ticks and report through runDailyJob, as the real
 * services do, so the chain the REPL shows progresses for real.
 */
import type { ServiceBroker, ServiceSchema } from "moleculer";
import { startRepl, type ReplProcess } from "../support/repl-process";
import { startNats, type RunningNats } from "../support/nats";
import { startTestMongo, uniqueDbUrl } from "../support/mongo";
import type { RunningMongo } from "../../shared/runtime/mongo-server";
import { eventually, startNode } from "../support/system";
import { JOB_NAMES, SchedulerEvents, type DailyJob, type TickEvent } from "../../shared/contracts/scheduler";
import { JetStreamBus } from "../../shared/events/jetstream-bus";
import type { DeliveredEvent } from "../../shared/events/bus";
import { MongoMixin } from "../../shared/db/mongo.mixin";
import { DurableEventsMixin } from "../../shared/events/durable-events.mixin";
import { runDailyJob } from "../../shared/scheduler/daily-job";
import { serviceOf } from "../../shared/scheduler/job-run";

let nats: RunningNats;
let mongo: RunningMongo;
let node: ServiceBroker;
let repl: ReplProcess;

// The scheduler's business clock: a week after the dates the tests ask for, running on in real
// time, so no date asked for is in the future whatever day the tests run.
const base = Date.parse("2026-11-10T12:00:00-05:00");
const t0 = Date.now();
const now = () => new Date(base + (Date.now() - t0));

beforeAll(async () => {
  [nats, mongo] = await Promise.all([startNats({ jetstream: true }), startTestMongo()]);
  node = await startNode({
    nodeID: "ops-node",
    services: ["scheduler"],
    mongoUrl: uniqueDbUrl(mongo.url, "repl"),
    natsUrl: nats.url,
    // A long discovery grace: the jobs of services not running yet wait for them instead of being skipped.
    settings: { scheduler: { now, pumpIntervalMs: 250, discoveryGraceMs: 10 * 60_000 } },
  });
  repl = await startRepl(nats.url);
}, 90_000);

afterAll(async () => {
  await repl?.stop();
  await node?.stop();
  await nats?.stop();
  await mongo?.stop();
});

const type = (command: string, until: RegExp, timeoutMs?: number) => repl.type(command, until, timeoutMs);

it("lists the operator's commands in help", async () => {
  const help = await type("help", /portfolio/);
  for (const cmd of ["deadletters [options]", "replay <seq>", "tick [options] <date> [job]", "chain [options]", "snapshot <portfolio_id>", "tape <config_id>", "explain <loan_id> <from> <to>", "portfolio <portfolio_id>"]) {
    expect(help).toContain(cmd);
  }
});

it("asks for a job's tick for a date, and says so when it was already asked for", async () => {
  // No node runs loans yet: the job waits for its service.
  const first = await type(`tick 2026-11-02 ${JOB_NAMES[0]}`, /chain for 2026-11-02|cannot/);
  expect(first).toContain(`${JOB_NAMES[0]}:2026-11-02: asked for; waiting`);
  expect(first).toContain(`chain for 2026-11-02: waiting (${JOB_NAMES.map((j) => `${j} waiting`).join(", ")})`);
  const again = await type(`tick 2026-11-02 ${JOB_NAMES[0]}`, /chain for 2026-11-02|cannot/);
  expect(again).toContain(`${JOB_NAMES[0]}:2026-11-02: already asked for; waiting (a job runs once per business date)`);
  const ledger: any = await node.call("scheduler.listTicks", { from: "2026-11-02", to: "2026-11-02" });
  // the chain's ledger for the date: the job asked for, once, and its downstream jobs waiting on it
  const asked = ledger.items.filter((t: any) => t.job === JOB_NAMES[0]);
  expect(asked).toHaveLength(1);
  expect(asked[0].trigger).toBe("admin");
  expect(ledger.items.map((t: any) => [t.job, t.state]).sort()).toEqual(JOB_NAMES.map((j) => [j, "waiting"]).sort());
});

it("refuses a bad date or job, and relays the scheduler's refusal of a future date", async () => {
  expect(await type("tick 2026-13-45", /not a business date/)).toContain("not a business date: 2026-13-45");
  expect(await type("tick 2026-11-05 payday", /unknown job/)).toContain(`unknown job payday; jobs: ${JOB_NAMES.join(", ")}`);
  expect(await type("tick 2099-01-01 snapshots", /cannot/)).toMatch(/cannot run the snapshots tick: business_date 2099-01-01 is after today/);
});

it("says plainly when the service behind a command is not running", async () => {
  expect(await type("snapshot p-1", /cannot/)).toContain("cannot take a snapshot of p-1: the snapshots service is not available (no node of the cluster runs it)");
  expect(await type("tape cfg-1", /cannot/)).toContain("cannot run tape cfg-1: the tapes service is not available");
  expect(await type("explain loan-1 2026-01-01 2026-01-31", /cannot/)).toContain("cannot explain the interest of loan loan-1: the loans service is not available");
  expect(await type("portfolio p-1", /cannot/)).toContain("cannot read portfolio p-1: the portfolios service is not available");
}, 40_000);

it("lists dead letters and replays one to its consumers", async () => {
  const bus = await JetStreamBus.connect({ natsUrl: nats.url, logger: { debug() {}, info() {}, warn() {}, error() {} } });
  const received: DeliveredEvent[] = [];
  const consumer = await bus.consume({ consumer: "books", subject: "ledger.paid", handler: async (e) => void received.push(e) });
  try {
    expect(await type("deadletters", /dead letter/)).toContain("no dead letters");
    const event = { id: "pay:42", subject: "ledger.paid", payload: { amount: "12.50" }, occurred_at: "2026-11-02T10:00:00.000Z" };
    await bus.publishDeadLetter({ consumer: "books", event, deliveries: 5, error: "Error: books was down\n    at stack", failed_at: "2026-11-02T10:01:00.000Z" });
    const listed = await type("deadletters", /replay <seq>/);
    expect(listed).toMatch(/#(\d+) books ledger\.paid event pay:42: 5 deliveries, failed 2026-11-02T10:01:00.000Z/);
    expect(listed).toContain("    Error: books was down");
    const seq = /#(\d+) books/.exec(listed)![1];
    expect(await type(`replay ${seq}`, /replayed|cannot/)).toContain(`replayed #${seq}: ledger.paid event pay:42 (failed for books)`);
    // The consumer gets the same event id and payload; the letter is gone.
    await eventually(() => received.length === 1);
    expect(received[0]).toMatchObject({ id: "pay:42", subject: "ledger.paid", payload: { amount: "12.50" } });
    expect(await type("deadletters", /dead letter/)).toContain("no dead letters");
    expect(await type(`replay ${seq}`, /replayed|cannot/)).toMatch(new RegExp(`cannot replay #${seq}: .*no message found`, "i"));
  } finally {
    await consumer.stop();
    await bus.close();
  }
});

describe("once the services behind the commands run", () => {
  // Stand-ins that run the daily jobs: each consumes its job's durable tick and reports through
  // runDailyJob, holding the run while a test holds it (the loans one also answers `explain`).
  // The snapshot, tape and portfolio commands run against the real services in
  // test/integration/repl-data-commands.test.ts.
  let standins: ServiceBroker;
  /** `${date} ${job}` of each tick the stand-ins received, in order. */
  const received: string[] = [];
  const holds = new Map<string, { promise: Promise<void>; release: () => void }>();
  function hold(key: string): void {
    let release!: () => void;
    const promise = new Promise<void>((r) => (release = r));
    holds.set(key, { promise, release });
  }
  function runsJob(job: DailyJob, schema: Omit<ServiceSchema, "name">): ServiceSchema {
    return {
      ...schema,
      name: serviceOf(job),
      mixins: [MongoMixin({}), DurableEventsMixin({ subscriptions: { [SchedulerEvents.tick(job)]: "onTick" } })],
      methods: {
        async onTick(this: any, event: DeliveredEvent) {
          const tick = event.payload as TickEvent;
          received.push(`${tick.business_date} ${job}`);
          await runDailyJob(this, event, async () => {
            await holds.get(`${job}:${tick.business_date}`)?.promise;
            return { items: 3 };
          });
        },
      },
    } as ServiceSchema;
  }

  beforeAll(async () => {
    standins = await startNode({
      nodeID: "standins",
      services: [],
      mongoUrl: uniqueDbUrl(mongo.url, "repl_standins"),
      natsUrl: nats.url,
      extraServices: [
        runsJob("snapshots", {}),
        runsJob("tapes", {}),
        runsJob("close_of_business", {
          actions: {
            accruals: {
              params: { id: "string", from: "string", to: "string" },
              handler: () => ({
                days: [
                  { date: "2026-01-01", balance: "1000.00", rate: "0.0730", fraction: "0.002739726", interest: "0.2", running_total: "0.2" },
                  { date: "2026-01-02", balance: "1000.00", rate: "0.0730", fraction: "0.002739726", interest: "0.2", running_total: "0.4" },
                ],
                spans: [{ from: "2026-01-01", to: "2026-01-02", billed: "0.40" }],
              }),
            },
          },
        }),
        runsJob("auto_assign", {}),
      ],
    });
    // The scheduler plans with the services it sees: wait until it sees every job's.
    await node.waitForServices(JOB_NAMES.map(serviceOf), 15_000);
  }, 60_000);
  afterAll(async () => {
    for (const { release } of holds.values()) release();
    await standins?.stop();
  });

  it("explains interest", async () => {
    const explain = await type("explain loan-1 2026-01-01 2026-01-02", /billed|cannot/);
    const lines = explain.split("\n");
    expect(lines.find((l) => l.startsWith("date"))).toMatch(/^date\s+balance\s+rate\s+fraction\s+interest\s+running_total/);
    expect(lines.find((l) => l.startsWith("2026-01-02"))).toMatch(/^2026-01-02\s+1000\.00\s+0\.0730\s+0\.002739726\s+0\.2\s+0\.4/);
    expect(explain).toContain('spans:');
    expect(explain).toContain('"billed":"0.40"');
  }, 40_000);

  it("runs the whole chain for a date and prints each job's progress with --wait", async () => {
    // Each job of the 3rd holds its run until the REPL has printed it started.
    for (const job of JOB_NAMES) hold(`${job}:2026-11-03`);
    const releaseInTurn = (async () => {
      for (const job of JOB_NAMES) {
        await eventually(() => repl.output().includes(`2026-11-03 ${job}: started`), 25_000);
        holds.get(`${job}:2026-11-03`)!.release();
      }
    })();
    const answer = await type("tick 2026-11-03 --wait", /chain for 2026-11-03: (finished|halted|not finished)|cannot/, 40_000);
    await releaseInTurn;
    expect(answer).toContain(`${JOB_NAMES[0]}:2026-11-03: asked for;`);
    for (const job of JOB_NAMES) {
      expect(answer).toContain(`2026-11-03 ${job}: started`);
      expect(answer).toMatch(new RegExp(`2026-11-03 ${job}: completed \\{"items":3\\} \\d+\\.\\d s`));
    }
    expect(answer).toContain("chain for 2026-11-03: finished");
    // The 2nd's chain, waiting for its services until now, ran first and whole: oldest date first.
    expect(received).toEqual(["2026-11-02", "2026-11-03"].flatMap((d) => JOB_NAMES.map((j) => `${d} ${j}`)));
  }, 60_000);

  it("stops waiting at --timeout when the chain does not finish", async () => {
    hold(`${JOB_NAMES[0]}:2026-11-04`); // released after the tests: the 4th's chain stays running
    const answer = await type(`tick 2026-11-04 ${JOB_NAMES[0]} --wait --timeout 1`, /not finished|finished|halted|cannot/);
    expect(answer).toContain(`2026-11-04 ${JOB_NAMES[0]}: started`);
    for (const job of JOB_NAMES.slice(1)) expect(answer).toContain(`2026-11-04 ${job}: waiting`);
    expect(answer).toContain("chain for 2026-11-04: not finished after 1 s; `chain --from 2026-11-04` shows it later");
  });

  it("shows the chain's progress per business date", async () => {
    const answer = await type("chain --from 2026-11-01 --to 2026-11-04", /job run\(s\) from|cannot/);
    expect(answer).toContain("jobs: waiting → started → completed | failed (retried) | skipped");
    const lines = answer.split("\n");
    expect(lines.find((l) => l.startsWith("business date"))!.trim().split(/\s+/).slice(2)).toEqual(["chain", ...JOB_NAMES]);
    const row = (date: string) => lines.find((l) => l.startsWith(date))!.trim().split(/\s+/).slice(1);
    expect(row("2026-11-04")).toEqual(["running", ...JOB_NAMES.map((_, i) => (i === 0 ? "started" : "waiting"))]);
    expect(row("2026-11-03")).toEqual(["completed", ...JOB_NAMES.map(() => "completed")]);
    expect(row("2026-11-02")).toEqual(["completed", ...JOB_NAMES.map(() => "completed")]);
    expect(row("2026-11-01")).toEqual(["-", ...JOB_NAMES.map(() => "-")]);
    expect(answer).toContain(`${3 * JOB_NAMES.length} job run(s) from 2026-11-01 to 2026-11-04`);
  });
});
