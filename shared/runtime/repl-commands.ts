/**
 * The operator's commands in `npm run repl` (DESIGN.md §12, issue 13 point 2): moleculer-repl
 * `customCommands`, each calling the owning service's action by name over the cluster.
 *
 *   tick <date> [job] [--wait]      ask for a business date's daily chain, or one job of it  (scheduler.runTick, scheduler.chain)
 *   chain [--from D] [--to D]       the chain's progress per business date: its status, each job's run (scheduler.chain)
 *   snapshot <portfolio_id>         take a portfolio's snapshot now                 (snapshots.take)
 *   tape <config_id>                run a loan tape                                  (tapes.runConfig)
 *   explain <loan_id> <from> <to>   a loan's interest day by day, and what was billed (loans.accruals)
 *   portfolio <portfolio_id>        a portfolio and its latest snapshot              (portfolios.getPortfolio, snapshots.latest)
 *   deadletters [--limit n]         the durable events that failed every delivery     (JetStream EVENTS_DLQ)
 *   replay <seq>                    publish a dead letter's event again, then drop the letter
 *
 * A command whose service no node runs says so in one line instead of a stack trace. Long jobs
 * (`tick --wait`, `tape`) print their progress as it changes.
 */
import type { ServiceBroker } from "moleculer";
import { DateTime } from "luxon";
import { JOB_NAMES } from "../contracts/scheduler";
import { businessToday } from "./business-date";
import { acquireBus, busTargetFor, releaseBus } from "../events/broker-bus";
import { JetStreamBus } from "../events/jetstream-bus";

/** moleculer-repl's custom command definition (its typings are not published). */
export interface ReplCommand {
  command: string;
  description: string;
  alias?: string[];
  options?: { option: string; description: string }[];
  action(broker: ServiceBroker, args: Record<string, any>): Promise<void>;
}

export interface ReplCommandOptions {
  /** Where output goes (console.log in the REPL). */
  print?: (line: string) => void;
  /** How long a command waits for a service to be discovered before saying it is not available. */
  discoveryMs?: number;
  /** Poll interval and limit of progress loops. */
  pollMs?: number;
  waitLimitMs?: number;
}

/** The chain command reads one chain view per date: a month at a time (the scheduler's catch-up window). */
const MAX_CHAIN_DAYS = 31;

export function replCommands(opts: ReplCommandOptions = {}): ReplCommand[] {
  const print = opts.print ?? ((line: string) => console.log(line));
  const discoveryMs = opts.discoveryMs ?? 3_000;
  const pollMs = opts.pollMs ?? 1_000;
  const waitLimitMs = opts.waitLimitMs ?? 30 * 60_000;

  /** Calls `action` if a node runs its service; otherwise prints why not and returns undefined. */
  async function callIfAvailable<T = any>(broker: ServiceBroker, action: string, params: Record<string, unknown>, what: string): Promise<T | undefined> {
    const service = action.split(".")[0];
    if (!(await available(broker, service, discoveryMs))) {
      print(`cannot ${what}: the ${service} service is not available (no node of the cluster runs it)`);
      return undefined;
    }
    try {
      return await broker.call<T, Record<string, unknown>>(action, params);
    } catch (err: any) {
      if (err?.name === "ServiceNotFoundError") {
        print(`cannot ${what}: ${action} is not available (${service} is running, but without this action yet)`);
      } else {
        print(`cannot ${what}: ${err?.message ?? err}${err?.data?.fields ? ` ${JSON.stringify(err.data.fields)}` : ""}`);
      }
      return undefined;
    }
  }

  const tick: ReplCommand = {
    command: "tick <date> [job]",
    description: `Ask for a business date's daily chain (YYYY-MM-DD or "today"; ${JOB_NAMES.join(" → ")}), or for one job of it; each job starts once its upstream for the date is done`,
    options: [
      { option: "-w, --wait", description: "print each job's progress until the chain for the date has finished (or halted)" },
      { option: "--timeout <seconds>", description: "stop waiting after this long (default 1800)" },
    ],
    async action(broker, args) {
      const date = resolveDate(broker, args.date);
      if (!date) return print(`not a business date: ${args.date} (YYYY-MM-DD or "today")`);
      if (args.job && !(JOB_NAMES as readonly string[]).includes(args.job)) return print(`unknown job ${args.job}; jobs: ${JOB_NAMES.join(", ")}`);
      const o = args.options ?? {};
      const limitMs = o.timeout !== undefined ? Number(o.timeout) * 1000 : waitLimitMs;
      if (!(limitMs >= 0)) return print(`--timeout must be a number of seconds, got ${o.timeout}`);
      // Asking for any job of D enters D's whole chain in the scheduler's ledger; the first job
      // stands for the whole chain. Re-asking for a job re-runs it only when it was skipped or
      // spent its attempts (the scheduler decides).
      const job = args.job ?? JOB_NAMES[0];
      const res = await callIfAvailable(broker, "scheduler.runTick", { job, business_date: date, trigger: "admin" }, args.job ? `run the ${job} tick` : `run the chain for ${date}`);
      if (!res) return;
      const emitted = res.emitted_at ? `, tick emitted at ${iso(res.emitted_at)}` : "";
      print(`${res.tick_id}: ${res.duplicate ? `already asked for; ${res.state}${emitted} (a job runs once per business date)` : `asked for; ${res.state}`}`);
      if (o.wait) return waitForChain(broker, date, limitMs);
      const view = await callIfAvailable(broker, "scheduler.chain", { business_date: date }, "read the chain");
      if (view) print(`chain for ${date}: ${view.status} (${view.jobs.map((j: any) => `${j.job} ${runState(j)}`).join(", ")}); \`tick ${date} --wait\` follows it`);
    },
  };

  /** Polls the scheduler's chain view for `date`, printing each job's run when it changes. */
  async function waitForChain(broker: ServiceBroker, date: string, limitMs: number): Promise<void> {
    const seen = new Map<string, string>();
    const deadline = Date.now() + limitMs;
    for (;;) {
      const view = await callIfAvailable(broker, "scheduler.chain", { business_date: date }, "read the chain");
      if (!view) return;
      for (const run of view.jobs) {
        const line = describeRun(run);
        if (seen.get(run.job) !== line) {
          seen.set(run.job, line);
          print(`  ${date} ${run.job}: ${line}`);
        }
      }
      if (view.status === "completed") return print(`chain for ${date}: finished`);
      if (view.status === "halted") {
        const failed = view.jobs.find((j: any) => j.state === "failed");
        return print(`chain for ${date}: halted: ${failed?.job} failed with no attempts left; after fixing the cause: tick ${date} ${failed?.job}`);
      }
      if (Date.now() > deadline) return print(`chain for ${date}: not finished after ${Math.round(limitMs / 1000)} s; \`chain --from ${date}\` shows it later`);
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }

  const chain: ReplCommand = {
    command: "chain",
    description: `The daily chain's progress: the chain and each job's run per business date (default: the last 7 days; at most ${MAX_CHAIN_DAYS})`,
    options: [
      { option: "--from <date>", description: "first business date" },
      { option: "--to <date>", description: "last business date (default today)" },
    ],
    async action(broker, args) {
      const o = { ...args.options, ...args };
      const to = resolveDate(broker, o.to ?? "today");
      const from = o.from ? resolveDate(broker, o.from) : to && DateTime.fromISO(to).minus({ days: 6 }).toISODate();
      if (!from || !to) return print(`not a business date: ${o.from ?? o.to}`);
      if (from > to) return print(`--from ${from} is after --to ${to}`);
      const dates = datesBetween(from, to).reverse();
      if (dates.length > MAX_CHAIN_DAYS) return print(`at most ${MAX_CHAIN_DAYS} business dates at a time; ${from} to ${to} is ${dates.length}`);
      const views: any[] = [];
      for (const date of dates) {
        const view = await callIfAvailable(broker, "scheduler.chain", { business_date: date }, "read the chain");
        if (!view) return;
        views.push(view);
      }
      print(`business date  ${"chain".padEnd(13)} ${JOB_NAMES.map((j) => j.padEnd(17)).join(" ")}`);
      for (const view of views) {
        const status = view.status === "not_scheduled" ? "-" : view.status;
        print(`${view.business_date}     ${status.padEnd(13)} ${view.jobs.map((j: any) => runState(j).padEnd(17)).join(" ")}`);
      }
      const runs = views.reduce((n, v) => n + v.jobs.filter((j: any) => j.state !== "not_scheduled").length, 0);
      print(`${runs} job run(s) from ${from} to ${to}; jobs: waiting → started → completed | failed (retried) | skipped ("-" = not in the ledger); chains: waiting, running, retrying, halted, completed`);
    },
  };

  const snapshot: ReplCommand = {
    command: "snapshot <portfolio_id>",
    description: "Take a portfolio's snapshot now (snapshots.take)",
    async action(broker, args) {
      const snap = await callIfAvailable(broker, "snapshots.take", { portfolio_id: args.portfolio_id }, `take a snapshot of ${args.portfolio_id}`);
      if (snap) printObject(print, `snapshot of ${args.portfolio_id}`, snap);
    },
  };

  const tape: ReplCommand = {
    command: "tape <config_id>",
    description: "Run a loan tape now (tapes.runConfig); prints the run as it progresses",
    async action(broker, args) {
      print(`tape ${args.config_id}: running…`);
      const started = Date.now();
      const run = await callIfAvailable(broker, "tapes.runConfig", { id: args.config_id }, `run tape ${args.config_id}`);
      if (!run) return;
      print(`tape ${args.config_id}: ${run.status ?? "done"} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      printObject(print, "tape run", run);
    },
  };

  const explain: ReplCommand = {
    command: "explain <loan_id> <from> <to>",
    description: "A loan's interest day by day over a date range, and the amounts billed (loans.accruals)",
    async action(broker, args) {
      const trail = await callIfAvailable(broker, "loans.accruals", { id: args.loan_id, from: args.from, to: args.to }, `explain the interest of loan ${args.loan_id}`);
      if (!trail) return;
      const days: any[] = trail.days ?? trail.items ?? (Array.isArray(trail) ? trail : []);
      if (days.length) printTable(print, days);
      for (const key of Object.keys(trail).filter((k) => !["days", "items"].includes(k))) printObject(print, key, trail[key]);
    },
  };

  const portfolio: ReplCommand = {
    command: "portfolio <portfolio_id>",
    description: "A portfolio and its latest snapshot (portfolios.getPortfolio, snapshots.latest)",
    async action(broker, args) {
      const p = await callIfAvailable(broker, "portfolios.getPortfolio", { id: args.portfolio_id }, `read portfolio ${args.portfolio_id}`);
      if (!p) return;
      print(`${p.name ?? p.id} (${p.status ?? "?"}${p.user_code ? `, ${p.user_code}` : ""})`);
      for (const key of ["program_id", "portfolio_type", "first_transaction_date", "first_cash_flow_date"]) if (p[key] != null) print(`  ${key}: ${p[key]}`);
      const latest = await callIfAvailable(broker, "snapshots.latest", { portfolio_id: args.portfolio_id }, "read its latest snapshot");
      if (latest) printObject(print, `latest snapshot (${latest.business_date ?? latest.date ?? "?"})`, latest);
    },
  };

  const deadletters: ReplCommand = {
    command: "deadletters",
    description: "The durable events that failed every delivery, oldest first (docs/operations.md: dead letters)",
    options: [{ option: "--limit <n>", description: "how many (default 50)" }],
    async action(broker, args) {
      await withJetStream(broker, print, async (bus) => {
        const limit = Number(args.options?.limit ?? 50);
        const letters = await bus.storedDeadLetters(Number.isInteger(limit) && limit > 0 ? limit : 50);
        if (!letters.length) return print("no dead letters");
        for (const { seq, letter } of letters) {
          print(`#${seq} ${letter.consumer} ${letter.event.subject} event ${letter.event.id}: ${letter.deliveries} deliveries, failed ${letter.failed_at}`);
          print(`    ${firstLine(letter.error)}`);
        }
        print(`${letters.length} dead letter(s); after fixing the cause: replay <seq>`);
      });
    },
  };

  const replay: ReplCommand = {
    command: "replay <seq>",
    description: "Publish a dead letter's event again (same event id: consumers that applied it skip it), then drop the letter",
    async action(broker, args) {
      const seq = Number(args.seq);
      if (!Number.isInteger(seq) || seq < 1) return print(`not a dead-letter sequence number: ${args.seq} (see deadletters)`);
      await withJetStream(broker, print, async (bus) => {
        try {
          const letter = await bus.replayDeadLetter(seq);
          print(`replayed #${seq}: ${letter.event.subject} event ${letter.event.id} (failed for ${letter.consumer})`);
        } catch (err: any) {
          print(`cannot replay #${seq}: ${err?.api_error?.description ?? err?.message ?? err}`);
        }
      });
    },
  };

  return [tick, chain, snapshot, tape, explain, portfolio, deadletters, replay];
}

/** Runs `fn` with the cluster's JetStream bus (dead letters live there; the in-process bus has no REPL). */
async function withJetStream(broker: ServiceBroker, print: (l: string) => void, fn: (bus: JetStreamBus) => Promise<void>): Promise<void> {
  let target;
  try {
    target = busTargetFor(broker);
  } catch (err: any) {
    return print(`dead letters need NATS JetStream: ${err?.message ?? err}`);
  }
  if (!target.natsUrl) return print("dead letters need NATS JetStream: this REPL has no NATS transporter");
  const bus = await acquireBus(target, broker.getLogger("dead-letters"));
  try {
    if (!(bus instanceof JetStreamBus)) return print("dead letters need NATS JetStream");
    await fn(bus);
  } finally {
    await releaseBus(target);
  }
}

function firstLine(text: string): string {
  const nl = text.indexOf("\n");
  return nl < 0 ? text : text.slice(0, nl);
}

async function available(broker: ServiceBroker, service: string, waitMs: number): Promise<boolean> {
  if (broker.registry.getServiceList({ onlyAvailable: true }).some((s: { name: string }) => s.name === service)) return true;
  try {
    await broker.waitForServices(service, waitMs, 100);
    return true;
  } catch {
    return false;
  }
}

function resolveDate(broker: ServiceBroker, raw: string | undefined): string | undefined {
  if (!raw || raw === "today") return businessToday(broker.metadata?.businessTz ?? "America/New_York");
  return DateTime.fromISO(raw).isValid && /^\d{4}-\d{2}-\d{2}$/.test(raw) ? raw : undefined;
}

function datesBetween(from: string, to: string): string[] {
  const out: string[] = [];
  for (let d = DateTime.fromISO(from, { zone: "utc" }); d.toISODate()! <= to && out.length < 366; d = d.plus({ days: 1 })) out.push(d.toISODate()!);
  return out;
}

/** A job's state in the chain view; "-" when the date's chain has no row for it. */
function runState(run: any): string {
  return !run || run.state === "not_scheduled" ? "-" : String(run.state);
}

/** One job's run as the --wait progress prints it, e.g. `completed {"loans":3} 1.5 s`. */
function describeRun(run: any): string {
  const state = runState(run);
  if (state === "-") return "not in the ledger";
  let line = run.attempt > 1 ? `${state} (attempt ${run.attempt})` : state;
  if (state === "completed" || state === "failed") {
    if (run.counts && Object.keys(run.counts).length) line += ` ${JSON.stringify(run.counts)}`;
    if (run.duration_ms != null) line += ` ${(run.duration_ms / 1000).toFixed(1)} s`;
  }
  if (state === "failed") line += `: ${run.error ?? "no error given"}; ${run.next_attempt_at ? `retry at ${iso(run.next_attempt_at)}` : "no attempts left"}`;
  if (state === "skipped" && run.reason) line += `: ${run.reason}`;
  return line;
}

function iso(v: unknown): string {
  return v instanceof Date ? v.toISOString() : String(v);
}

function printObject(print: (l: string) => void, title: string, value: unknown): void {
  print(`${title}:`);
  if (value && typeof value === "object" && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) print(`  ${k}: ${typeof v === "object" && v !== null ? JSON.stringify(v) : String(v)}`);
  } else {
    print(`  ${JSON.stringify(value)}`);
  }
}

function printTable(print: (l: string) => void, rows: Record<string, unknown>[]): void {
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (v: unknown) => (v === null || v === undefined ? "" : typeof v === "object" ? JSON.stringify(v) : String(v));
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  print(cols.map((c, i) => c.padEnd(widths[i])).join("  "));
  for (const r of rows) print(cols.map((c, i) => cell(r[c]).padEnd(widths[i])).join("  "));
}
