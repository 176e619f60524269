/**
 * Issue 13 point 2: the operator's REPL commands, driven through the REPL's own command interface:
 * `bin/repl.ts` runs as a real process joined to the cluster over NATS, commands are typed on its
 * stdin, and its answers are read from its stdout. The scheduler's commands run against a real
 * scheduler; the commands of services not in this cluster say so plainly.
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import type { ServiceBroker } from "moleculer";
import { startNats, type RunningNats } from "../support/nats";
import { startTestMongo, uniqueDbUrl } from "../support/mongo";
import type { RunningMongo } from "../../shared/runtime/mongo-server";
import { eventually, startNode } from "../support/system";
import { JOB_NAMES } from "../../shared/contracts/scheduler";
import { JetStreamBus } from "../../shared/events/jetstream-bus";
import type { DeliveredEvent } from "../../shared/events/bus";

let nats: RunningNats;
let mongo: RunningMongo;
let node: ServiceBroker;
let repl: ChildProcess;
let out = "";

beforeAll(async () => {
  [nats, mongo] = await Promise.all([startNats({ jetstream: true }), startTestMongo()]);
  node = await startNode({ nodeID: "ops-node", services: ["scheduler"], mongoUrl: uniqueDbUrl(mongo.url, "repl"), natsUrl: nats.url });
  const clean = { ...process.env };
  for (const key of ["MONGO_URL", "SERVICES", "JETSTREAM_URL"]) delete clean[key];
  repl = spawn(process.execPath, ["--import", "tsx", "bin/repl.ts"], {
    cwd: path.resolve(__dirname, "../.."),
    env: { ...clean, TRANSPORTER: nats.url, LOG_LEVEL: "warn" },
    stdio: ["pipe", "pipe", "pipe"],
  });
  repl.stdout!.on("data", (d) => (out += d));
  repl.stderr!.on("data", (d) => (out += d));
  await eventually(() => out.includes("loans $") || repl.exitCode !== null, 60_000);
  if (repl.exitCode !== null) throw new Error(`repl exited:\n${out}`);
}, 90_000);

afterAll(async () => {
  if (repl && repl.exitCode === null) {
    const exited = new Promise((r) => repl.once("exit", r));
    repl.stdin!.end();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 10_000)))]);
    clearTimeout(timer);
    if (repl.exitCode === null) repl.kill("SIGKILL");
  }
  await node?.stop();
  await nats?.stop();
  await mongo?.stop();
});

/** Types a command and returns what the REPL printed until `until` appears. */
async function type(command: string, until: RegExp, timeoutMs = 20_000): Promise<string> {
  const from = out.length;
  repl.stdin!.write(`${command}\n`);
  return eventually(() => {
    const answer = out.slice(from);
    return until.test(answer) ? answer : undefined;
  }, timeoutMs);
}

it("lists the operator's commands in help", async () => {
  const help = await type("help", /portfolio/);
  for (const cmd of ["deadletters [options]", "replay <seq>", "tick [options] <date> [job]", "chain [options]", "snapshot <portfolio_id>", "tape <config_id>", "explain <loan_id> <from> <to>", "portfolio <portfolio_id>"]) {
    expect(help).toContain(cmd);
  }
});

it("runs one tick for a date, and says so when it already ran", async () => {
  const first = await type(`tick 2026-11-02 ${JOB_NAMES[0]}`, /emitted|already/);
  expect(first).toContain(`${JOB_NAMES[0]}:2026-11-02: emitted`);
  const again = await type(`tick 2026-11-02 ${JOB_NAMES[0]}`, /emitted|already/);
  expect(again).toContain(`${JOB_NAMES[0]}:2026-11-02: already emitted at`);
  const ledger: any = await node.call("scheduler.listTicks", { from: "2026-11-02", to: "2026-11-02" });
  // the chain's ledger for the date: the job asked for, once, and its downstream jobs waiting on it
  const asked = ledger.items.filter((t: any) => t.job === JOB_NAMES[0]);
  expect(asked).toHaveLength(1);
  expect(asked[0].trigger).toBe("admin");
  expect(ledger.items.filter((t: any) => t.job !== JOB_NAMES[0]).every((t: any) => ["waiting", "skipped"].includes(t.state))).toBe(true);
});

it("runs the whole chain for a date and prints each job's progress with --wait", async () => {
  // The job owners record their progress in the tick ledger; here the test plays them, one job
  // after the other as the chain runs, writing the ledger's rows directly.
  const ticks = (node.getLocalService("scheduler") as any).models.ticks.collection;
  const playOwners = (async () => {
    for (const job of JOB_NAMES) {
      await eventually(async () => (await ticks.findOne({ _id: `${job}:2026-11-03` })) !== null, 20_000);
      await ticks.updateOne({ _id: `${job}:2026-11-03` }, { $set: { status: "started" } });
      await eventually(() => out.includes(`2026-11-03 ${job}: started`), 20_000);
      await ticks.updateOne({ _id: `${job}:2026-11-03` }, { $set: { status: "completed", counts: { items: 3 }, duration_ms: 1500 } });
    }
  })();
  const answer = await type("tick 2026-11-03 --wait", /chain for 2026-11-03: finished|not finished|cannot/, 30_000);
  await playOwners;
  for (const job of JOB_NAMES) expect(answer).toContain(`${job}:2026-11-03: emitted`);
  for (const job of JOB_NAMES) {
    expect(answer).toContain(`2026-11-03 ${job}: started`);
    expect(answer).toContain(`2026-11-03 ${job}: completed {"items":3} 1.5 s`);
  }
  expect(answer).toContain("chain for 2026-11-03: finished");
}, 40_000);

it("stops waiting at --timeout when the chain does not finish", async () => {
  const answer = await type(`tick 2026-11-04 ${JOB_NAMES[0]} --wait --timeout 1`, /not finished|finished|cannot/);
  expect(answer).toContain(`2026-11-04 ${JOB_NAMES[0]}: emitted`);
  expect(answer).toContain("chain for 2026-11-04: not finished after 1 s; `chain --from 2026-11-04` shows it later");
});

it("shows the chain's progress per business date", async () => {
  const answer = await type("chain --from 2026-11-01 --to 2026-11-03", /tick\(s\) from/);
  expect(answer).toContain("states: emitted → started → completed | failed");
  const lines = answer.split("\n");
  expect(lines.find((l) => l.startsWith("business date"))).toContain(JOB_NAMES[0]);
  const row = (date: string) => lines.find((l) => l.startsWith(date))!.trim().split(/\s+/).slice(1);
  expect(row("2026-11-03")).toEqual(JOB_NAMES.map(() => "completed"));
  expect(row("2026-11-02")).toEqual(JOB_NAMES.map((j, i) => (i === 0 ? "emitted" : "-")));
  expect(row("2026-11-01")).toEqual(JOB_NAMES.map(() => "-"));
  expect(answer).toContain(`${JOB_NAMES.length + 1} tick(s) from 2026-11-01 to 2026-11-03`);
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
  // Stand-ins with the actions the commands call (the real services are being built): they check
  // the commands' parameters and print what the services answer.
  let standins: ServiceBroker;
  const calls: string[] = [];
  beforeAll(async () => {
    standins = await startNode({
      nodeID: "standins",
      services: [],
      mongoUrl: "mongodb://unused",
      natsUrl: nats.url,
      extraServices: [
        {
          name: "snapshots",
          actions: {
            take: { params: { portfolio_id: "string" }, handler: (ctx: any) => (calls.push(`take ${ctx.params.portfolio_id}`), { portfolio_id: ctx.params.portfolio_id, business_date: "2026-11-03", total_balance: "1200.00", loan_count: 3 }) },
            latest: { params: { portfolio_id: "string" }, handler: (ctx: any) => ({ portfolio_id: ctx.params.portfolio_id, business_date: "2026-11-03", total_balance: "1200.00", irr: "0.0712", moic: "0.08" }) },
          },
        },
        { name: "tapes", actions: { run: { params: { id: "string" }, handler: (ctx: any) => ({ id: "run-1", config_id: ctx.params.id, status: "completed", row_count: 3, sha256: "ab12" }) } } },
        {
          name: "loans",
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
        },
        { name: "portfolios", actions: { getPortfolio: { params: { id: "string" }, handler: (ctx: any) => ({ id: ctx.params.id, name: "Q1 Consumer", status: "open", user_code: "LP-Q1", first_transaction_date: "2026-01-01" }) } } },
      ] as any,
    });
  });
  afterAll(() => standins?.stop());

  it("takes a snapshot, runs a tape, explains interest and summarises a portfolio", async () => {
    const snap = await type("snapshot p-1", /total_balance|cannot/);
    expect(snap).toContain("snapshot of p-1:");
    expect(snap).toContain("  total_balance: 1200.00");
    expect(calls).toEqual(["take p-1"]);

    const tape = await type("tape cfg-1", /sha256|cannot/);
    expect(tape).toContain("tape cfg-1: running…");
    expect(tape).toMatch(/tape cfg-1: completed in [\d.]+ s/);
    expect(tape).toContain("  row_count: 3");

    const explain = await type("explain loan-1 2026-01-01 2026-01-02", /billed|cannot/);
    const lines = explain.split("\n");
    expect(lines.find((l) => l.startsWith("date"))).toMatch(/^date\s+balance\s+rate\s+fraction\s+interest\s+running_total/);
    expect(lines.find((l) => l.startsWith("2026-01-02"))).toMatch(/^2026-01-02\s+1000\.00\s+0\.0730\s+0\.002739726\s+0\.2\s+0\.4/);
    expect(explain).toContain('spans:');
    expect(explain).toContain('"billed":"0.40"');

    const portfolio = await type("portfolio p-1", /moic|cannot/);
    expect(portfolio).toContain("Q1 Consumer (open, LP-Q1)");
    expect(portfolio).toContain("  first_transaction_date: 2026-01-01");
    expect(portfolio).toContain("latest snapshot (2026-11-03):");
    expect(portfolio).toContain("  irr: 0.0712");
  }, 40_000);
});
