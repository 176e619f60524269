/**
 * tapes — loan tape configs, runs and generated CSV/XLSX files, emailed on a schedule
 * (seed 000's Loan Tape Config, DESIGN.md §11, issue 12).
 *
 * Collections: tape_configs, tape_runs (one per config and business date), tape_file_chunks.
 * Events in:   scheduler.tick.tapes (durable) → the configs due on D; reports scheduler.job.finished.
 * Calls:       snapshots.get / snapshots.take / snapshots.portfolioLoans (the snapshot of D and its
 *              member loans: tapes reconcile with it), portfolios.getPortfolio (who bought it).
 *
 * The catalogue, layouts, schedules and reconciliation are pure modules in shared/tapes/; the run
 * (snapshot → reconcile → file → email) is services/tapes/run-tape.ts.
 */
import type { Context } from "moleculer";
import type { ServiceThis, TypedServiceSchema } from "../shared/service-types";
import { Access, type Principal } from "../shared/auth/roles";
import { createEntity, definedOnly, getEntity, listEntities, patchEntity } from "../shared/db/crud";
import { MongoMixin, type MongoVars } from "../shared/db/mongo.mixin";
import { DurableEventsMixin, type DurableEventsVars } from "../shared/events/durable-events.mixin";
import type { DeliveredEvent } from "../shared/events/bus";
import { ConflictError, FieldErrors, NotFoundError } from "../shared/errors";
import { readConfig } from "../shared/config";
import { SchedulerEvents } from "../shared/contracts/scheduler";
import { runDailyJob } from "../shared/scheduler/daily-job";
import { businessToday } from "../shared/runtime/business-date";
import { objectId } from "../shared/validation/fields";
import { paginationParams } from "../shared/db/pagination";
import { catalogueView } from "../shared/tapes/catalogue";
import { isDue } from "../shared/tapes/schedule";
import { tapeConfigSchema, tapeFileChunkSchema, tapeRunSchema } from "./tapes/models";
import { attempt, runTape, type RunDeps, type TapeConfig } from "./tapes/run-tape";
import { readStoredFile } from "./tapes/file-store";
import * as P from "./tapes/params";
import { created } from "../shared/http/created";

const collections = { tape_configs: tapeConfigSchema, tape_runs: tapeRunSchema, tape_file_chunks: tapeFileChunkSchema };
type Vars = MongoVars<typeof collections> & DurableEventsVars;
type Self = ServiceThis<Vars, Methods>;
type Ctx<T = any> = Context<T, { user?: Principal; $statusCode?: number; $responseType?: string; $responseHeaders?: Record<string, string> }>;

/** Issue 12 point 7: staff who report run and download; an investor downloads what it bought. */
const DOWNLOAD = [...Access.REPORTING, "investor"] as const;

const TapesService: TypedServiceSchema<Vars, Methods> = {
  name: "tapes",
  mixins: [
    MongoMixin(collections),
    DurableEventsMixin({
      // A day's tapes of a big book take minutes: the tick stays unacknowledged that long.
      subscriptions: { [SchedulerEvents.tick("tapes")]: { handler: "onTapesTick", ackWaitMs: 30 * 60_000, maxDeliver: 5 } },
    }),
  ],
  settings: { rest: "/" },

  actions: {
    // ── the field catalogue ─────────────────────────────────────────────────────────────────
    listFields: {
      rest: "GET /tape-fields",
      openapi: { response: { type: "array", items: { type: "object" } } },
      roles: Access.REPORTING,
      handler() {
        return catalogueView();
      },
    },

    // ── configs ─────────────────────────────────────────────────────────────────────────────
    createConfig: {
      rest: "POST /tape-configs",
      openapi: { status: 201 },
      roles: Access.REPORTING,
      params: P.createConfigParams,
      async handler(this: Self, ctx: Ctx) {
        await this.portfolioOrFieldError(ctx.params.portfolio_id);
        const doc = await createEntity(this.models.tape_configs, "tape config", ctx.params);
        created(ctx, `/tape-configs/${doc._id}`);
        return doc.toJSON();
      },
    },
    listConfigs: {
      rest: "GET /tape-configs",
      roles: Access.REPORTING,
      params: { portfolio_id: { ...objectId, optional: true }, ...paginationParams },
      handler(this: Self, ctx: Ctx) {
        const { limit, offset, ...filter } = ctx.params;
        return listEntities(this.models.tape_configs, definedOnly(filter), { limit, offset }, { name: 1 });
      },
    },
    getConfig: {
      rest: "GET /tape-configs/:id",
      roles: Access.REPORTING,
      params: { id: objectId },
      async handler(this: Self, ctx: Ctx) {
        return (await getEntity(this.models.tape_configs, "tape config", ctx.params.id)).toJSON();
      },
    },
    updateConfig: {
      rest: "PATCH /tape-configs/:id",
      roles: Access.REPORTING,
      params: P.patchConfigParams,
      async handler(this: Self, ctx: Ctx) {
        const { id, version, ...patch } = ctx.params;
        await getEntity(this.models.tape_configs, "tape config", id);
        new FieldErrors().addAll(P.columnsChoiceErrors(patch)).throwIfAny();
        // A layout and a field list exclude each other: choosing one drops the other.
        const update: Record<string, unknown> = { ...patch };
        if (patch.layout) update.required_fields = null;
        if (patch.required_fields) update.layout = null;
        const doc = await patchEntity(this.models.tape_configs, "tape config", id, update, version);
        return doc.toJSON();
      },
    },

    // ── runs ────────────────────────────────────────────────────────────────────────────────
    runConfig: {
      rest: "POST /tape-configs/:id/run",
      openapi: { status: 200 },
      roles: Access.REPORTING,
      params: P.runParams,
      async handler(this: Self, ctx: Ctx) {
        const config = (await getEntity(this.models.tape_configs, "tape config", ctx.params.id)).toJSON() as TapeConfig;
        return runTape(this.runDeps(ctx), config, ctx.params.business_date ?? businessToday(readConfig().businessTz), "api");
      },
    },
    listRuns: {
      rest: "GET /tape-runs",
      roles: Access.REPORTING,
      params: P.listRunsParams,
      handler(this: Self, ctx: Ctx) {
        const { limit, offset, ...filter } = ctx.params;
        return listEntities(this.models.tape_runs, definedOnly(filter), { limit, offset }, { business_date: -1, _id: -1 });
      },
    },
    getRun: {
      rest: "GET /tape-runs/:id",
      roles: Access.REPORTING,
      params: { id: objectId },
      async handler(this: Self, ctx: Ctx) {
        return (await getEntity(this.models.tape_runs, "tape run", ctx.params.id)).toJSON();
      },
    },
    retryRun: {
      rest: "POST /tape-runs/:id/retry",
      openapi: { status: 200 },
      roles: Access.REPORTING,
      params: { id: objectId },
      async handler(this: Self, ctx: Ctx) {
        const run = await getEntity(this.models.tape_runs, "tape run", ctx.params.id);
        if (run.status !== "failed") throw new ConflictError(`tape run ${run.id} is ${run.status}: only a failed run is retried`, { status: run.status });
        if (run.retryable === false) throw new ConflictError(`tape run ${run.id} failed at ${run.failed_stage} and a retry would fail the same way: ${run.error}`, { failed_stage: run.failed_stage });
        const config = (await getEntity(this.models.tape_configs, "tape config", run.config_id)).toJSON() as TapeConfig;
        return attempt(this.runDeps(ctx), config, run.id);
      },
    },
    download: {
      rest: "GET /tapes/:run_id/download",
      openapi: { responseType: "application/octet-stream", response: { type: "string", format: "binary" } },
      roles: DOWNLOAD,
      params: { run_id: objectId },
      async handler(this: Self, ctx: Ctx) {
        const run = await getEntity(this.models.tape_runs, "tape run", ctx.params.run_id);
        if (ctx.meta.user?.role === "investor" && !(await this.investorOwns(ctx.meta.user, run.portfolio_id))) {
          throw new NotFoundError("tape run", ctx.params.run_id);
        }
        if (!run.file) throw new ConflictError(`tape run ${run.id} has no file (${run.status}${run.error ? `: ${run.error}` : ""})`, { status: run.status });
        ctx.meta.$responseType = run.file.content_type;
        ctx.meta.$responseHeaders = {
          "Content-Disposition": `attachment; filename="${run.file.name}"`,
          "Content-Length": String(run.file.size),
          "X-Content-SHA256": run.file.sha256,
        };
        return readStoredFile(this.models.tape_file_chunks, run.id, run.file.chunks);
      },
    },

    /** The `tapes` job for D (also the REPL's "run the tapes of a date"). */
    runDue: {
      visibility: "public",
      params: { business_date: { type: "string", pattern: "^\\d{4}-\\d{2}-\\d{2}$" } },
      handler(this: Self, ctx: Ctx) {
        return this.runDueTapes(ctx.params.business_date);
      },
    },
  },

  methods: {
    runDeps(this: Self, ctx?: Ctx): RunDeps {
      const config = readConfig();
      const caller = ctx ?? this.broker;
      return {
        runs: this.models.tape_runs,
        chunks: this.models.tape_file_chunks,
        call: (action, params) => (caller as any).call(action, params, { timeout: 10 * 60_000 }),
        mail: {
          smtpUrl: this.settings.smtpUrl ?? config.smtpUrl,
          mailDropDir: this.settings.mailDropDir ?? config.mailDropDir,
          from: this.settings.mailFrom ?? "loan-tapes@loan-platform.local",
        },
        logger: this.logger,
      };
    },

    /**
     * DESIGN.md §8's `tapes` job: every config due on D, plus every earlier run that failed and may
     * be retried (an SMTP outage is over by the next tick). Failures are counted and logged, not
     * thrown: the chain must not halt the next day's close for a mail server.
     */
    async runDueTapes(this: Self, businessDate: string) {
      const configs = (await this.models.tape_configs.find({})).map((d: any) => d.toJSON() as TapeConfig & { tape_schedule: string });
      const due = configs.filter((c) => isDue(c.tape_schedule, businessDate));
      const counts = { configs_due: due.length, completed: 0, failed: 0, retried: 0 };
      for (const config of due) {
        const run = await runTape(this.runDeps(), config, businessDate, "schedule");
        counts[run.status === "completed" ? "completed" : "failed"] += 1;
      }
      const byId = new Map(configs.map((c) => [c.id, c]));
      const failed = await this.models.tape_runs.find({ status: "failed", retryable: true });
      for (const run of failed) {
        const config = byId.get(run.config_id);
        if (!config || run.business_date === businessDate) continue;
        counts.retried += 1;
        await attempt(this.runDeps(), config, run.id);
      }
      return counts;
    },

    async onTapesTick(this: Self, e: DeliveredEvent) {
      await runDailyJob(this, e, (tick) => this.runDueTapes(tick.business_date));
    },

    async portfolioOrFieldError(this: Self, portfolioId: string) {
      try {
        await this.broker.call("portfolios.getPortfolio", { id: portfolioId });
      } catch (err: any) {
        if (err?.code === 404) new FieldErrors().add("portfolio_id", `'portfolio_id' ${portfolioId} is not a portfolio`, "exists").throwIfAny();
        throw err;
      }
    },

    /** The portfolio was sold to this investor (portfolios owns the sale). */
    async investorOwns(this: Self, user: Principal, portfolioId: string) {
      try {
        // Asked as the service, not as the investor: the answer must carry the sale to compare.
        const portfolio: any = await this.broker.call("portfolios.getPortfolio", { id: portfolioId });
        return !!user.investor_id && portfolio?.sale?.investor_id === user.investor_id;
      } catch (err: any) {
        if (err?.code === 404) return false;
        throw err;
      }
    },
  },
};

interface Methods {
  runDeps(ctx?: Ctx): RunDeps;
  runDueTapes(businessDate: string): Promise<Record<string, number>>;
  onTapesTick(e: DeliveredEvent): Promise<void>;
  portfolioOrFieldError(portfolioId: string): Promise<void>;
  investorOwns(user: Principal, portfolioId: string): Promise<boolean>;
}

export default TapesService;
