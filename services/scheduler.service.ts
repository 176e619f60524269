/**
 * scheduler — the daily ticks every batch job runs on (DESIGN.md §1).
 *
 * Collections: ticks (the ledger: one row per job and business date).
 * Events out:  scheduler.tick.<job> (durable; shared/contracts/scheduler.ts).
 *
 * A tick is idempotent per (job, business date): the ledger's unique key decides, so the
 * in-process clock, a Kubernetes CronJob (bin/tick.ts) and an admin backfill can all ask for the
 * same tick and it is emitted once. Missed days are caught up, oldest first, at start and on
 * every clock check.
 */
import type { Context } from "moleculer";
import type { ServiceThis, TypedServiceSchema } from "../shared/service-types";
import { DateTime } from "luxon";
import { Access } from "../shared/auth/roles";
import { dateRange, definedOnly, isDuplicateKey, listEntities } from "../shared/db/crud";
import { MongoMixin, type MongoVars } from "../shared/db/mongo.mixin";
import { paginationParams } from "../shared/db/pagination";
import { BusinessRuleError } from "../shared/errors";
import { DurableEventsMixin } from "../shared/events/durable-events.mixin";
import { CHAIN, JOB_NAMES, SchedulerEvents, type DailyJob, type TickEvent } from "../shared/contracts/scheduler";
import { businessToday, datesAfter, isPastTimeOfDay } from "../shared/runtime/business-date";
import { dateWindowParams, isoDate, oneOf } from "../shared/validation/fields";
import { pageSchema } from "../shared/http/openapi";
import { tickSchema } from "./scheduler/models";

const collections = { ticks: tickSchema };
type Vars = MongoVars<typeof collections> & { publishDurable(subject: string, id: string, payload: unknown): Promise<void>; clock?: NodeJS.Timeout };
type Self = ServiceThis<Vars, Methods>;
type Ctx<T = any> = Context<T, { user?: { token_id: string } }>;

/** A tick as the ledger holds it, and the answer of a run. */
const tickRow = {
  type: "object",
  required: ["id", "job", "business_date"],
  properties: { id: { type: "string" }, job: { type: "string", enum: [...JOB_NAMES] }, business_date: { type: "string", format: "date" }, trigger: { type: "string" }, emitted_at: { type: "string", format: "date-time" } },
  additionalProperties: true,
};
const tickRun = {
  type: "object",
  required: ["tick_id", "job", "business_date", "duplicate"],
  properties: { tick_id: { type: "string" }, job: { type: "string", enum: [...JOB_NAMES] }, business_date: { type: "string", format: "date" }, duplicate: { type: "boolean" }, emitted_at: { type: "string", format: "date-time" } },
  additionalProperties: true,
};

/** How far back a catch-up reaches: a scheduler down longer than this needs an admin backfill. */
const MAX_CATCH_UP_DAYS = 31;

const SchedulerService: TypedServiceSchema<Vars, Methods> = {
  name: "scheduler",
  mixins: [MongoMixin(collections), DurableEventsMixin({ subscriptions: {} })],
  settings: {
    rest: "/scheduler",
    /** The in-process clock; off where Kubernetes CronJobs drive the ticks (SCHEDULER_CLOCK=off). */
    clock: process.env.SCHEDULER_CLOCK !== "off",
    clockIntervalMs: 60_000,
  },

  actions: {
    /** Run (or backfill) one tick. Returns the ledger row; `duplicate` when it already ran. */
    runTick: {
      rest: "POST /ticks",
      openapi: { status: 200, response: tickRun },
      roles: Access.ADMIN,
      params: { job: oneOf(JOB_NAMES), business_date: isoDate(), trigger: oneOf(["admin", "cron"] as const, { optional: true }) },
      async handler(this: Self, ctx: Ctx) {
        const today = businessToday(this.broker.metadata.businessTz);
        if (ctx.params.business_date > today) {
          throw new BusinessRuleError(`business_date ${ctx.params.business_date} is after today (${today})`, "no_future_ticks");
        }
        return this.emitTick(ctx.params.job, ctx.params.business_date, ctx.params.trigger ?? "admin", ctx.meta.user?.token_id);
      },
    },
    listTicks: {
      rest: "GET /ticks",
      openapi: { response: pageSchema(tickRow) },
      roles: Access.STAFF_READ,
      params: { job: oneOf(JOB_NAMES, { optional: true }), ...dateWindowParams, ...paginationParams },
      handler(this: Self, ctx: Ctx) {
        const { job, from, to, limit, offset } = ctx.params;
        const query = definedOnly({ job, business_date: dateRange(from, to) });
        // A tick's id is its key, `${job}:${business_date}`.
        return listEntities(this.models.ticks, query, { limit, offset }, { business_date: -1, job: 1 });
      },
    },
    /** Emit every due tick not yet emitted (missed days first). Called by the clock. */
    catchUp: {
      visibility: "public",
      params: {},
      handler(this: Self) {
        return this.catchUpAll();
      },
    },
  },

  methods: {
    async emitTick(this: Self, job: DailyJob, businessDate: string, trigger: TickEvent["trigger"], actor?: string) {
      const tickId = `${job}:${businessDate}`;
      const emittedAt = new Date();
      try {
        await this.models.ticks.create({ _id: tickId, job, business_date: businessDate, trigger, emitted_at: emittedAt, requested_by: actor });
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        const existing = await this.models.ticks.findById(tickId).lean();
        // Re-publishing with the same id is a no-op downstream (dedupe + idempotent handlers), and
        // it finishes the job if a crash fell between the ledger write and the publish.
        await this.publishTick(existing as any);
        return { tick_id: tickId, job, business_date: businessDate, duplicate: true, emitted_at: existing?.emitted_at };
      }
      await this.publishTick({ _id: tickId, job, business_date: businessDate, trigger, emitted_at: emittedAt });
      return { tick_id: tickId, job, business_date: businessDate, duplicate: false, emitted_at: emittedAt.toISOString() };
    },
    async publishTick(this: Self, row: { _id: string; job: DailyJob; business_date: string; trigger: TickEvent["trigger"]; emitted_at: Date }) {
      const event: TickEvent = { tick_id: row._id, job: row.job, business_date: row.business_date, trigger: row.trigger, emitted_at: new Date(row.emitted_at).toISOString() };
      await this.publishDurable(SchedulerEvents.tick(row.job), row._id, event);
    },
    /** For each job: every business date after its last tick up to today (or yesterday, before its time). */
    async catchUpAll(this: Self) {
      const zone = this.broker.metadata.businessTz;
      const today = businessToday(zone);
      const emitted: string[] = [];
      for (const job of JOB_NAMES) {
        // Before the job's time of day, the latest tick due is yesterday's.
        const due = isPastTimeOfDay(zone, CHAIN.find((c) => c.job === job)!.notBefore) ? today : previousDay(today);
        const last = await this.models.ticks.findOne({ job }).sort({ business_date: -1 }).lean();
        const start = last?.business_date ?? previousDay(due);
        const dates = datesAfter(start, due).slice(-MAX_CATCH_UP_DAYS);
        for (const date of dates) {
          const res = await this.emitTick(job, date, date === due ? "clock" : "catch_up");
          if (!res.duplicate) emitted.push(res.tick_id);
        }
      }
      return { emitted };
    },
  },

  async started(this: Self) {
    if (!this.settings.clock) return;
    const check = () => this.catchUpAll().catch((err) => this.logger.error("scheduler clock check failed", err));
    await check();
    this.clock = setInterval(check, this.settings.clockIntervalMs);
  },
  stopped(this: Self) {
    if (this.clock) clearInterval(this.clock);
  },
};

function previousDay(iso: string): string {
  return DateTime.fromISO(iso, { zone: "utc" }).minus({ days: 1 }).toISODate()!;
}

interface Methods {
  emitTick(job: DailyJob, businessDate: string, trigger: TickEvent["trigger"], actor?: string): Promise<any>;
  publishTick(row: any): Promise<void>;
  catchUpAll(): Promise<{ emitted: string[] }>;
}

export default SchedulerService;
