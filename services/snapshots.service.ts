/**
 * snapshots — daily point-in-time portfolio metrics, program and vintage metrics (DESIGN.md §4, §10).
 *
 * Collections: snapshot_loans (its own projection: positions, cash flows, memberships),
 *              snapshot_portfolios, snapshots, snapshot_rows, group_metrics, snapshot_runs
 *              (services/snapshots/models.ts).
 * Events in:   loan.> and portfolio.> (durable: the projection; portfolio.sold takes the sale's
 *              snapshot), scheduler.tick.snapshots (durable: the daily job).
 * Events out:  scheduler.job.finished (durable) after the daily job.
 * Calls:       loans.exportPositions and portfolios.exportMemberships, only from `resync`.
 *
 * Positions are the newest the projection holds (no history); cash flows, totals, IRR and MOIC
 * count what is dated on or before the snapshot's date (shared/snapshots/group-metrics.ts says
 * why). Each snapshot records the latest date of the positions it counted (`positions_as_of`); an
 * ad-hoc snapshot for a date before the members' positions is refused (422) unless it exists.
 */
import type { Context } from "moleculer";
import type { ServiceThis, TypedServiceSchema } from "../shared/service-types";
import { Access, type Principal } from "../shared/auth/roles";
import { readConfig } from "../shared/config";
import { MongoMixin, type MongoVars } from "../shared/db/mongo.mixin";
import { paginationParams } from "../shared/db/pagination";
import { BadRequestError, NotFoundError } from "../shared/errors";
import { LOAN_EVENTS_FILTER, LoanEvents, type LoanCloseBatchEvent, type LoanEventBase } from "../shared/contracts/loans";
import { PortfolioEvents, type PortfolioChangedEvent, type PortfolioMembershipEvent, type PortfolioSoldEvent } from "../shared/contracts/portfolios";
import { SchedulerEvents, type JobFinishedEvent, type TickEvent } from "../shared/contracts/scheduler";
import type { DeliveredEvent } from "../shared/events/bus";
import { DurableEventsMixin, type DurableEventsVars } from "../shared/events/durable-events.mixin";
import { businessToday } from "../shared/runtime/business-date";
import { dateWindowParams, isoDate, objectId, oneOf } from "../shared/validation/fields";
import { applyLoanEvent, applyLoanState, applyMembership, type ProjectedLoan } from "../shared/snapshots/loan-projection";
import { METRIC_NAMES } from "../shared/snapshots/group-metrics";
import { groupMetricsSchema, projectedLoanSchema, projectedPortfolioSchema, snapshotRowsSchema, snapshotRunSchema, snapshotSchema } from "./snapshots/models";
import { updateLoan, updateLoans } from "./snapshots/projection-store";
import { readMembers, rowOf, rowsOf, rowsPage, runDaily, snapshotId, takeOne } from "./snapshots/take";
import { resync } from "./snapshots/resync";
import { created } from "../shared/http/created";

const collections = {
  snapshot_loans: projectedLoanSchema,
  snapshot_portfolios: projectedPortfolioSchema,
  snapshots: snapshotSchema,
  snapshot_rows: snapshotRowsSchema,
  group_metrics: groupMetricsSchema,
  snapshot_runs: snapshotRunSchema,
};
type Vars = MongoVars<typeof collections> & DurableEventsVars;
type Self = ServiceThis<Vars, Methods>;
type Ctx<T = any> = Context<T, { user?: Principal; $statusCode?: number }>;

const config = readConfig();
const LEVELS = ["portfolio", "program", "vintage"] as const;
/** The row chunk `portfolioLoans` read last: a tape's next page usually starts in it. */
const lastRowChunk: { id?: string; rows?: any[] } = {};

const SnapshotsService: TypedServiceSchema<Vars, Methods> = {
  name: "snapshots",
  mixins: [
    MongoMixin(collections),
    DurableEventsMixin({
      subscriptions: {
        [LOAN_EVENTS_FILTER]: "onLoanEvent",
        "portfolio.>": "onPortfolioEvent",
        [SchedulerEvents.tick("snapshots")]: { handler: "onSnapshotsTick", ackWaitMs: 30 * 60_000, maxDeliver: 5 },
      },
    }),
  ],
  settings: {
    rest: "/",
    /** Portfolios computed at once by the daily job. */
    concurrency: config.snapshotsConcurrency,
  },

  actions: {
    takeSnapshot: {
      rest: "POST /portfolios/:id/snapshots",
      roles: Access.SERVICING,
      params: { $$strict: true, id: objectId, business_date: isoDate({ optional: true }) },
      async handler(this: Self, ctx: Ctx) {
        const date = ctx.params.business_date ?? this.today();
        if (date > this.today()) throw new BadRequestError("invalid request", [{ field: "business_date", type: "date", message: "'business_date' must not be after today's business date", actual: date }]);
        await this.knownPortfolio(ctx.params.id);
        created(ctx, `/portfolios/${ctx.params.id}/snapshots?from=${date}&to=${date}`);
        return snapshotView(await takeOne(this.models, ctx.params.id, date, "adhoc"));
      },
    },
    listSnapshots: {
      rest: "GET /portfolios/:id/snapshots",
      roles: Access.STAFF_READ,
      // A page, oldest first: the dashboard asks for up to 500 over a date window.
      params: { $$strict: true, id: objectId, ...dateWindowParams, ...paginationParams },
      async handler(this: Self, ctx: Ctx) {
        const { id, from, to, limit, offset } = ctx.params;
        const range: Record<string, string> = {};
        if (from) range.$gte = from;
        if (to) range.$lte = to;
        const filter = { portfolio_id: id, ...(from || to ? { business_date: range } : {}) };
        const [docs, total] = await Promise.all([
          this.models.snapshots.collection.find(filter).sort({ business_date: 1, kind: 1 }).skip(offset).limit(limit).toArray(),
          this.models.snapshots.collection.countDocuments(filter),
        ]);
        return { portfolio_id: id, items: docs.map(snapshotView), total, limit, offset };
      },
    },
    metrics: {
      rest: "GET /metrics",
      roles: Access.STAFF_READ,
      params: { $$strict: true, level: oneOf(LEVELS), date: isoDate({ optional: true }) },
      async handler(this: Self, ctx: Ctx) {
        const date = ctx.params.date ?? (await this.latestDate());
        if (!date) return { level: ctx.params.level, date: null, items: [] };
        if (ctx.params.level === "portfolio") {
          const docs = await this.models.snapshots.collection.find({ business_date: date }).toArray();
          return { level: "portfolio", date, items: docs.filter((d: any) => d.kind !== "sale").map((d: any) => ({ key: d.portfolio_id, ...metricsOf(d), buyer: d.buyer ?? null })) };
        }
        const docs = await this.models.group_metrics.collection.find({ level: ctx.params.level, business_date: date }).sort({ key: 1 }).toArray();
        return { level: ctx.params.level, date, items: docs.map((d: any) => ({ key: d.key, ...metricsOf(d.metrics) })) };
      },
    },
    trend: {
      rest: "GET /metrics/trend",
      roles: Access.STAFF_READ,
      params: { $$strict: true, level: oneOf(LEVELS), key: { type: "string", min: 1, max: 100 }, metric: oneOf(METRIC_NAMES), ...dateWindowParams },
      async handler(this: Self, ctx: Ctx) {
        const { level, key, metric, from, to } = ctx.params;
        const range: Record<string, string> = {};
        if (from) range.$gte = from;
        if (to) range.$lte = to;
        const when = from || to ? { business_date: range } : {};
        const points =
          level === "portfolio"
            ? (await this.models.snapshots.collection.find({ portfolio_id: key, ...when }).sort({ business_date: 1 }).toArray()).filter((d: any) => d.kind !== "sale").map((d: any) => ({ date: d.business_date, value: d[metric] ?? null }))
            : (await this.models.group_metrics.collection.find({ level, key, ...when }).sort({ business_date: 1 }).toArray()).map((d: any) => ({ date: d.business_date, value: d.metrics[metric] ?? null }));
        return { level, key, metric, points };
      },
    },

    // ── internal: other services (tapes, the REPL) ───────────────────────────────────────
    get: {
      visibility: "public",
      params: { $$strict: true, portfolio_id: { type: "string", min: 1 }, business_date: isoDate(), kind: { type: "enum", values: ["daily", "sale"], optional: true } },
      async handler(this: Self, ctx: Ctx) {
        const doc = await this.models.snapshots.collection.findOne({ _id: snapshotId(ctx.params.portfolio_id, ctx.params.business_date, ctx.params.kind ?? "daily") as any });
        if (!doc) throw new NotFoundError("snapshot", `${ctx.params.portfolio_id}@${ctx.params.business_date}`);
        return snapshotView(doc);
      },
    },
    latest: {
      visibility: "public",
      params: { $$strict: true, portfolio_id: { type: "string", min: 1 } },
      async handler(this: Self, ctx: Ctx) {
        const [doc] = await this.models.snapshots.collection.find({ portfolio_id: ctx.params.portfolio_id }).sort({ business_date: -1 }).limit(1).toArray();
        if (!doc) throw new NotFoundError("snapshot", ctx.params.portfolio_id);
        return snapshotView(doc);
      },
    },
    take: {
      visibility: "public",
      params: { $$strict: true, portfolio_id: { type: "string", min: 1 }, business_date: isoDate({ optional: true }) },
      async handler(this: Self, ctx: Ctx) {
        await this.knownPortfolio(ctx.params.portfolio_id);
        return snapshotView(await takeOne(this.models, ctx.params.portfolio_id, ctx.params.business_date ?? this.today(), "adhoc"));
      },
    },
    /**
     * The member loans of a snapshot, as it saw them: a tape's rows agree with it by construction.
     * With `offset`, one page from there of at most `max_bytes` of JSON and the `next_offset`
     * (null after the last page); without, every row at once (small portfolios only: an answer
     * must fit a NATS message).
     */
    portfolioLoans: {
      visibility: "public",
      params: {
        $$strict: true,
        portfolio_id: { type: "string", min: 1 },
        business_date: isoDate(),
        kind: { type: "enum", values: ["daily", "sale"], optional: true },
        offset: { type: "number", integer: true, min: 0, optional: true },
        max_bytes: { type: "number", integer: true, min: 1024, max: 768 * 1024, optional: true },
      },
      async handler(this: Self, ctx: Ctx) {
        const doc: any = await this.models.snapshots.collection.findOne({ _id: snapshotId(ctx.params.portfolio_id, ctx.params.business_date, ctx.params.kind ?? "daily") as any });
        if (!doc) throw new NotFoundError("snapshot", `${ctx.params.portfolio_id}@${ctx.params.business_date}`);
        if (ctx.params.offset === undefined) return { snapshot: snapshotView(doc), loans: await rowsOf(this.models, doc) };
        const page = await rowsPage(this.models, doc, ctx.params.offset, ctx.params.max_bytes ?? 256 * 1024, lastRowChunk);
        return { snapshot: snapshotView(doc), loans: page.rows, offset: ctx.params.offset, next_offset: page.next_offset };
      },
    },
    /**
     * Read-only: the loans the projection places in the portfolio on D, as a snapshot taken now
     * would see them. The projection is fed asynchronously and a snapshot is immutable once taken,
     * so a caller can wait on this before taking one.
     */
    members: {
      visibility: "public",
      params: { $$strict: true, portfolio_id: { type: "string", min: 1 }, business_date: isoDate() },
      async handler(this: Self, ctx: Ctx) {
        const { portfolio_id, business_date } = ctx.params;
        const members = (await readMembers(this.models.snapshot_loans, portfolio_id, business_date)).filter((p) => p.state && p.attributes);
        const loans = members.map((p) => rowOf(p, business_date));
        return { portfolio_id, business_date, loans: loans.sort((a, b) => a.loan_id.localeCompare(b.loan_id)) };
      },
    },
    /** The daily job for a business date (what the tick runs); idempotent per date. */
    run: {
      visibility: "public",
      params: { $$strict: true, business_date: isoDate() },
      handler(this: Self, ctx: Ctx) {
        return runDaily(this.models, ctx.params.business_date, { concurrency: this.settings.concurrency });
      },
    },
    /** Disaster recovery: the projection rebuilt from the loans and portfolios services. */
    resync: {
      visibility: "public",
      async handler(this: Self, ctx: Ctx) {
        return resync(this.models, ctx);
      },
    },
  },

  methods: {
    today(this: Self) {
      const fixed = this.settings.businessDate as string | (() => string) | undefined;
      if (fixed) return typeof fixed === "function" ? fixed() : fixed;
      return businessToday(config.businessTz);
    },
    async knownPortfolio(this: Self, id: string) {
      const doc = await this.models.snapshot_portfolios.collection.findOne({ _id: id as any });
      if (!doc) throw new NotFoundError("portfolio", id);
      return doc;
    },
    async latestDate(this: Self) {
      const [run] = await this.models.snapshot_runs.collection.find({ status: "completed" }).sort({ _id: -1 }).limit(1).toArray();
      return (run?._id as unknown as string) ?? null;
    },
    async onLoanEvent(this: Self, e: DeliveredEvent) {
      if (e.subject === LoanEvents.closeBatch) {
        const batch = e.payload as LoanCloseBatchEvent;
        await updateLoans(this.models.snapshot_loans, new Map(batch.loans.map((l) => [l.loan_id, (p: ProjectedLoan) => applyLoanState(p, l)])));
        return;
      }
      const ev = e.payload as LoanEventBase;
      await updateLoan(this.models.snapshot_loans, ev.loan_id, (p) => applyLoanEvent(p, e.subject, ev));
    },
    async onPortfolioEvent(this: Self, e: DeliveredEvent) {
      if (e.subject === PortfolioEvents.loanAdded || e.subject === PortfolioEvents.loanRemoved) {
        const ev = e.payload as PortfolioMembershipEvent;
        await this.models.snapshot_portfolios.collection.updateOne({ _id: ev.portfolio_id as any }, { $setOnInsert: { version: 0, status: "open" } }, { upsert: true });
        await updateLoan(this.models.snapshot_loans, ev.loan_id, (p) => applyMembership(p, e.subject, ev));
      } else if (e.subject === PortfolioEvents.changed) {
        const ev = e.payload as PortfolioChangedEvent;
        await this.models.snapshot_portfolios.collection.updateOne({ _id: ev.portfolio_id as any }, { $setOnInsert: { version: 0 } }, { upsert: true });
        await this.models.snapshot_portfolios.collection.updateOne({ _id: ev.portfolio_id as any, version: { $lt: ev.version } }, { $set: { version: ev.version, name: ev.name, program_id: ev.program_id, status: ev.status } });
      } else if (e.subject === PortfolioEvents.sold) {
        const ev = e.payload as PortfolioSoldEvent;
        const sale = { investor_id: ev.investor_id, sale_date: ev.sale_date, price: ev.price, loan_ids: ev.assignments.map((a) => a.loan_id) };
        await this.models.snapshot_portfolios.collection.updateOne({ _id: ev.portfolio_id as any }, { $set: { sale, status: "sold" } }, { upsert: true });
        // Seed 000: the snapshot at the time of sale, preserved — of the loans sold, as of the sale date.
        await takeOne(this.models, ev.portfolio_id, ev.sale_date, "sale", sale.loan_ids);
      }
    },
    async onSnapshotsTick(this: Self, e: DeliveredEvent) {
      const tick = e.payload as TickEvent;
      const started = Date.now();
      let report: JobFinishedEvent;
      try {
        const r = await runDaily(this.models, tick.business_date, { concurrency: this.settings.concurrency });
        report = { job: "snapshots", business_date: tick.business_date, status: "completed", counts: r.counts, duration_ms: Date.now() - started, attempt: tick.attempt, node_id: this.broker.nodeID };
      } catch (err: any) {
        this.logger.error(`snapshots ${tick.business_date} failed`, err);
        report = { job: "snapshots", business_date: tick.business_date, status: "failed", error: String(err?.message ?? err), duration_ms: Date.now() - started, attempt: tick.attempt, node_id: this.broker.nodeID };
      }
      await this.publishDurable(SchedulerEvents.jobFinished, `snapshots:${tick.business_date}:${tick.attempt ?? 1}:${report.status}`, report);
    },
  },
};

const METRIC_KEYS = ["as_of", ...METRIC_NAMES] as const;
function metricsOf(d: any) {
  return Object.fromEntries(METRIC_KEYS.map((k) => [k, d?.[k] ?? null]));
}

/** A snapshot as the API shows it. */
function snapshotView(d: any) {
  if (!d) return d;
  const { _id, rows_token: _t, row_chunks: _c, ...rest } = d;
  return { id: _id, ...rest };
}

interface Methods {
  today(): string;
  knownPortfolio(id: string): Promise<unknown>;
  latestDate(): Promise<string | null>;
  onLoanEvent(e: DeliveredEvent): Promise<void>;
  onPortfolioEvent(e: DeliveredEvent): Promise<void>;
  onSnapshotsTick(e: DeliveredEvent): Promise<void>;
}

export default SnapshotsService;
