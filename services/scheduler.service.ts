/**
 * scheduler — the daily chain (DESIGN.md §8): close_of_business → auto_assign → snapshots → tapes
 * per business date, each job started by a durable tick once its upstream for that date is done.
 *
 * Collections: ticks (the job-run ledger: one row per job and business date, waiting → started →
 *              completed | failed (retried with back-off) | skipped; shared/scheduler/job-run.ts).
 * Events out:  scheduler.tick.<job> (durable; shared/contracts/scheduler.ts).
 * Events in:   scheduler.job.finished (durable; each job's service reports its run for D).
 *
 * Business date D's chain runs after D has ended: close_of_business from 00:00 of D + 1,
 * auto_assign not before 05:00 of D + 1 (shared/scheduler/chain-time.ts). Dates enter the ledger
 * from the in-process clock (SCHEDULER_CLOCK=off turns it off), a Kubernetes CronJob (bin/tick.ts)
 * or an admin (POST /scheduler/ticks); the clock and the CronJobs also add the dates missed since
 * the last one (catch-up). The planner (shared/scheduler/chain-plan.ts) then runs the dates oldest
 * first, the whole chain for D before D + 1. A tick is idempotent per (job, date, attempt): asking
 * again for a tick already in the ledger delivers nothing new.
 */
import type { Context } from "moleculer";
import { DateTime } from "luxon";
import type { ServiceThis, TypedServiceSchema } from "../shared/service-types";
import { Access } from "../shared/auth/roles";
import { readConfig } from "../shared/config";
import { dateRange, definedOnly, listEntities } from "../shared/db/crud";
import { MongoMixin, type MongoVars } from "../shared/db/mongo.mixin";
import { paginationParams } from "../shared/db/pagination";
import { BusinessRuleError } from "../shared/errors";
import { DurableEventsMixin } from "../shared/events/durable-events.mixin";
import type { DeliveredEvent } from "../shared/events/bus";
import { JOB_NAMES, SchedulerEvents, type DailyJob, type JobFinishedEvent, type TickEvent } from "../shared/contracts/scheduler";
import { businessToday } from "../shared/runtime/business-date";
import { planChain, type PlanAction } from "../shared/scheduler/chain-plan";
import { datesToAdd, daysBetween, latestDueDate } from "../shared/scheduler/chain-time";
import { chainView } from "../shared/scheduler/chain-view";
import { applyJobFinished } from "../shared/scheduler/job-finished";
import { RUN_STATES, runId, tickEventId } from "../shared/scheduler/job-run";
import { dateWindowParams, isoDate, oneOf } from "../shared/validation/fields";
import { ensureChain, recordFinished, reopenRun, skipRun, startAttempt, type LedgerRow } from "./scheduler/ledger";
import { countRun, observeDuration, registerSchedulerMetrics, setChainLag } from "./scheduler/metrics";
import { tickSchema } from "./scheduler/models";

const collections = { ticks: tickSchema };
type Vars = MongoVars<typeof collections> & {
  publishDurable(subject: string, id: string, payload: unknown): Promise<void>;
  timers: NodeJS.Timeout[];
  clockTimer?: NodeJS.Timeout;
  startedAt: number;
  advancing?: Promise<unknown>;
};
type Self = ServiceThis<Vars, Methods>;
type Ctx<T = any> = Context<T, { user?: { token_id: string } }>;

const OPEN_STATES = ["waiting", "started", "failed"];
const config = readConfig().scheduler;

const SchedulerService: TypedServiceSchema<Vars, Methods> = {
  name: "scheduler",
  mixins: [MongoMixin(collections), DurableEventsMixin({ subscriptions: { [SchedulerEvents.jobFinished]: "onJobFinished" } })],
  settings: {
    rest: "/scheduler",
    /** The in-process clock adds each due date; off where Kubernetes CronJobs do it (SCHEDULER_CLOCK=off). */
    clock: config.clock,
    clockIntervalMs: 60_000,
    /** How often the chain is re-planned without a report arriving: retries due, the 05:00 start. */
    pumpIntervalMs: config.pumpIntervalMs,
    /** Attempts per job and date, the first included; then the chain halts until an admin re-runs it. */
    maxAttempts: config.maxAttempts,
    /** Back-off after a failed attempt n: retryBaseMs × 2^(n−1), at most retryMaxMs. */
    retryBaseMs: config.retryBaseMs,
    retryMaxMs: config.retryMaxMs,
    /** A started attempt with no job.finished report after this long counts as failed (and is retried). */
    jobTimeoutMs: config.jobTimeoutMs,
    /** After start, how long a job's service may be missing before the job is skipped (nodes still joining). */
    discoveryGraceMs: config.discoveryGraceMs,
    /** How far back the clock or a CronJob catches up; older dates need an admin backfill. */
    maxCatchUpDays: 31,
    /** The business clock; tests inject one. */
    now: undefined as undefined | (() => Date),
  },

  actions: {
    /** Ask for (or backfill) a job's run for a date; it starts once its upstream for that date is done. */
    runTick: {
      rest: "POST /ticks",
      roles: Access.ADMIN,
      params: { job: oneOf(JOB_NAMES), business_date: isoDate(), trigger: oneOf(["admin", "cron"] as const, { optional: true }) },
      handler(this: Self, ctx: Ctx) {
        const today = businessToday(this.zone(), DateTime.fromJSDate(this.now()));
        if (ctx.params.business_date > today) {
          throw new BusinessRuleError(`business_date ${ctx.params.business_date} is after today (${today})`, "no_future_ticks");
        }
        return this.requestRun(ctx.params.job, ctx.params.business_date, ctx.params.trigger ?? "admin", ctx.meta.user?.token_id);
      },
    },
    /** The ledger's history: started / completed / failed / skipped runs with counts and durations. */
    listTicks: {
      rest: "GET /ticks",
      roles: Access.STAFF_READ,
      params: { job: oneOf(JOB_NAMES, { optional: true }), status: oneOf(RUN_STATES, { optional: true }), ...dateWindowParams, ...paginationParams },
      handler(this: Self, ctx: Ctx) {
        const { job, status, from, to, limit, offset } = ctx.params;
        const query = definedOnly({ job, state: status, business_date: dateRange(from, to) });
        return listEntities(this.models.ticks, query, { limit, offset }, { business_date: -1, _id: 1 });
      },
    },
    /** The chain's progress for a date; without one, the oldest date not settled (else the latest). */
    chain: {
      rest: "GET /chain",
      roles: Access.STAFF_READ,
      params: { business_date: isoDate({ optional: true }) },
      async handler(this: Self, ctx: Ctx) {
        const date = ctx.params.business_date ?? (await this.defaultChainDate());
        if (!date) return { business_date: null, status: "not_scheduled", jobs: [] };
        const rows = await this.models.ticks.find({ business_date: date });
        return chainView(date, rows.map((r) => r.toJSON() as any), this.zone());
      },
    },
    /**
     * Starts the in-process clock of a scheduler created with `clock: false` — the embedded start
     * does, while its demo book runs the chain over the past year itself, so the clock's catch-up
     * finds those dates done instead of racing the demo.
     */
    startClock: {
      visibility: "public",
      params: {},
      async handler(this: Self) {
        if (this.clockTimer) return { started: false };
        this.clockTimer = setInterval(() => this.clockCheck().catch((err) => this.logger.error("scheduler clock check failed", err)), this.settings.clockIntervalMs);
        this.timers.push(this.clockTimer);
        await this.clockCheck().catch((err) => this.logger.error("scheduler clock check failed", err));
        return { started: true };
      },
    },
    /** What the clock does each minute: add the due dates (catch-up included) and run the chain. */
    catchUp: {
      visibility: "public",
      params: {},
      handler(this: Self) {
        return this.clockCheck();
      },
    },
  },

  methods: {
    now(this: Self) {
      return this.settings.now ? this.settings.now() : new Date();
    },
    zone(this: Self) {
      return this.broker.metadata.businessTz as string;
    },

    async requestRun(this: Self, job: DailyJob, date: string, trigger: TickEvent["trigger"], actor?: string) {
      // The periodic drivers (a CronJob) catch up the dates missed since the last; an admin
      // backfill adds only the date asked for.
      if (trigger === "cron") await this.addDatesThrough(date, "cron", { exceptTarget: true });
      const added = await ensureChain(this.models.ticks, date, { trigger, requestedJob: job, actor, maxAttempts: this.settings.maxAttempts, now: this.now() });
      const id = runId(job, date);
      const existing = (await this.models.ticks.findById(id).lean()) as LedgerRow;
      const reopens = trigger === "admin" && (existing.state === "skipped" || (existing.state === "failed" && !existing.next_attempt_at));
      if (reopens) await reopenRun(this.models.ticks, existing, this.settings.maxAttempts, actor);
      await this.advance();
      const row = (await this.models.ticks.findById(id))!.toJSON() as any;
      return { tick_id: id, job, business_date: date, duplicate: !added.has(job) && !reopens, state: row.state, attempt: row.attempt, emitted_at: row.emitted_at };
    },

    /** Adds every date after the ledger's latest up to `target` (capped), oldest first. */
    async addDatesThrough(this: Self, target: string, trigger: "clock" | "cron", opts: { exceptTarget?: boolean } = {}) {
      const latest = (await this.models.ticks.findOne({}, { business_date: 1 }).sort({ business_date: -1 }).lean()) as { business_date: string } | null;
      const dates = datesToAdd(latest?.business_date, target, this.settings.maxCatchUpDays).filter((d) => !(opts.exceptTarget && d === target));
      for (const date of dates) {
        await ensureChain(this.models.ticks, date, { trigger: date === target ? trigger : "catch_up", maxAttempts: this.settings.maxAttempts, now: this.now() });
      }
      return dates;
    },

    async clockCheck(this: Self) {
      const added = await this.addDatesThrough(latestDueDate(this.zone(), this.now()), "clock");
      const started = await this.advance();
      return { added, started };
    },

    /** Re-plans the chain until nothing more can start now; one pass at a time per instance. */
    advance(this: Self) {
      const run = (this.advancing ?? Promise.resolve()).then(() => this.advanceOnce());
      this.advancing = run.catch(() => undefined);
      return run;
    },

    async advanceOnce(this: Self) {
      const started: string[] = [];
      let rows: LedgerRow[] = [];
      for (let pass = 0; pass < 1000; pass++) {
        rows = await this.openChains();
        const actions = planChain(rows, {
          now: this.now(),
          zone: this.zone(),
          deployed: this.deployedServices(),
          undeployedIsFinal: Date.now() - this.startedAt >= this.settings.discoveryGraceMs,
          jobTimeoutMs: this.settings.jobTimeoutMs,
        });
        if (!actions.length) break;
        const byId = new Map(rows.map((r) => [r._id, r]));
        let changed = false;
        for (const action of actions) {
          const result = await this.applyAction(byId.get(runId(action.job, action.business_date))!, action);
          changed ||= result.changed;
          if (result.started) started.push(result.started);
        }
        // Another instance moved every row first: its own pass carries on from there.
        if (!changed) break;
      }
      this.updateLag(rows);
      return started;
    },

    async applyAction(this: Self, run: LedgerRow, action: PlanAction) {
      if (action.kind === "time_out") {
        const silentMs = this.now().getTime() - new Date(run.started_at!).getTime();
        const report: JobFinishedEvent = { job: run.job, business_date: run.business_date, status: "failed", attempt: action.attempt, duration_ms: silentMs, error: `no job.finished report within ${Math.round(silentMs / 60_000)} min` };
        return { changed: await this.recordReport(run, report) };
      }
      if (action.kind === "skip") {
        if (await skipRun(this.models.ticks, run, action.reason, this.now())) {
          countRun(this.broker, run.job, "skipped");
          this.logger.warn(`scheduler: ${run._id} skipped: ${action.reason}`);
          return { changed: true };
        }
        return { changed: false };
      }
      const claimed = await startAttempt(this.models.ticks, run, action.attempt, this.now());
      if (!claimed) return { changed: false };
      await this.publishTick(claimed);
      countRun(this.broker, run.job, "started");
      return { changed: true, started: tickEventId(claimed.job, claimed.business_date, claimed.attempt) };
    },

    async publishTick(this: Self, row: LedgerRow) {
      const event: TickEvent = {
        tick_id: row._id,
        job: row.job,
        business_date: row.business_date,
        emitted_at: new Date(row.emitted_at).toISOString(),
        trigger: row.trigger,
        attempt: row.attempt,
      };
      await this.publishDurable(SchedulerEvents.tick(row.job), tickEventId(row.job, row.business_date, row.attempt), event);
    },

    /** Every row of the dates that have a job not done yet. */
    async openChains(this: Self): Promise<LedgerRow[]> {
      const open = (await this.models.ticks.find({ state: { $in: OPEN_STATES } }, { business_date: 1 }).lean()) as { business_date: string }[];
      const dates = [...new Set(open.map((r) => r.business_date))];
      if (!dates.length) return [];
      return (await this.models.ticks.find({ business_date: { $in: dates } }).lean()) as LedgerRow[];
    },

    deployedServices(this: Self) {
      return new Set<string>(this.broker.registry.getServiceList({ onlyAvailable: true, skipInternal: true }).map((s: any) => s.name));
    },

    /** Chain lag: business dates due whose chain has not settled (0 when up to date). */
    updateLag(this: Self, openRows: LedgerRow[]) {
      const due = latestDueDate(this.zone(), this.now());
      const oldest = openRows.filter((r) => r.state !== "completed" && r.state !== "skipped").map((r) => r.business_date).sort()[0];
      setChainLag(this.broker, oldest && oldest <= due ? daysBetween(oldest, due) + 1 : 0);
    },

    async defaultChainDate(this: Self) {
      const open = (await this.models.ticks.findOne({ state: { $in: OPEN_STATES } }).sort({ business_date: 1 }).lean()) as LedgerRow | null;
      if (open) return open.business_date;
      const latest = (await this.models.ticks.findOne({}).sort({ business_date: -1 }).lean()) as LedgerRow | null;
      return latest?.business_date;
    },

    /** A job's service reports its run for D: record it, retry or go on down the chain. */
    async onJobFinished(this: Self, delivered: DeliveredEvent) {
      const event = delivered.payload as JobFinishedEvent;
      const id = runId(event.job, event.business_date);
      for (let tries = 0; tries < 5; tries++) {
        const run = (await this.models.ticks.findById(id).lean()) as LedgerRow | null;
        if (!run) {
          this.logger.warn(`scheduler: ${id} reported ${event.status} but was never asked for; not recorded`);
          return;
        }
        if (await this.recordReport(run, event)) break;
        // recordReport is false for an ignored report too; a re-read then ignores it again.
        const again = (await this.models.ticks.findById(id).lean()) as LedgerRow;
        if (again.state === run.state && again.attempt === run.attempt) break;
      }
      await this.advance();
    },

    /** Stores a report (or a time-out) on its row; false when ignored or when the row moved meanwhile. */
    async recordReport(this: Self, run: LedgerRow, event: JobFinishedEvent) {
      const outcome = applyJobFinished(run, event, this.now(), { baseDelayMs: this.settings.retryBaseMs, maxDelayMs: this.settings.retryMaxMs });
      if (outcome.kind === "ignored") {
        this.logger.debug(`scheduler: report for ${run._id} ignored (${outcome.reason})`);
        return false;
      }
      if (!(await recordFinished(this.models.ticks, run, outcome.patch))) return false;
      countRun(this.broker, event.job, outcome.kind === "completed" ? "completed" : "failed");
      observeDuration(this.broker, event.job, event.duration_ms);
      if (outcome.kind !== "completed") {
        const next = outcome.patch.next_attempt_at ? `retry at ${outcome.patch.next_attempt_at.toISOString()}` : "no attempts left: the chain halts";
        this.logger.warn(`scheduler: ${run._id} attempt ${outcome.patch.attempt} failed (${outcome.patch.error}); ${next}`);
      }
      return true;
    },
  },

  created(this: Self) {
    registerSchedulerMetrics(this.broker);
    this.timers = [];
  },

  async started(this: Self) {
    this.startedAt = Date.now();
    // A crash between claiming an attempt and writing its tick to the outbox left it unsent: send
    // it again (same id: delivered once).
    const inFlight = (await this.models.ticks.find({ state: "started" }).lean()) as LedgerRow[];
    for (const row of inFlight) await this.publishTick(row);
    const every = (ms: number, fn: () => Promise<unknown>) => {
      this.timers.push(setInterval(() => fn().catch((err) => this.logger.error("scheduler check failed", err)), ms));
    };
    every(this.settings.pumpIntervalMs, () => this.advance());
    if (this.settings.clock) {
      await this.clockCheck().catch((err) => this.logger.error("scheduler clock check failed", err));
      every(this.settings.clockIntervalMs, () => this.clockCheck());
      this.clockTimer = this.timers[this.timers.length - 1];
    }
  },
  stopped(this: Self) {
    for (const t of this.timers.splice(0)) clearInterval(t);
  },
};

interface Methods {
  now(): Date;
  zone(): string;
  requestRun(job: DailyJob, date: string, trigger: TickEvent["trigger"], actor?: string): Promise<any>;
  addDatesThrough(target: string, trigger: "clock" | "cron", opts?: { exceptTarget?: boolean }): Promise<string[]>;
  clockCheck(): Promise<{ added: string[]; started: string[] }>;
  advance(): Promise<string[]>;
  advanceOnce(): Promise<string[]>;
  applyAction(run: LedgerRow, action: PlanAction): Promise<{ changed: boolean; started?: string }>;
  publishTick(row: LedgerRow): Promise<void>;
  openChains(): Promise<LedgerRow[]>;
  deployedServices(): Set<string>;
  updateLag(openRows: LedgerRow[]): void;
  defaultChainDate(): Promise<string | undefined>;
  onJobFinished(event: DeliveredEvent): Promise<void>;
  recordReport(run: LedgerRow, event: JobFinishedEvent): Promise<boolean>;
}

export default SchedulerService;
