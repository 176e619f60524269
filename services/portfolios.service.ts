/**
 * portfolios — portfolios, memberships, sales (seeds 000 and 004, DESIGN.md §5, §8, §9).
 *
 * Collections: portfolios, portfolio_loans (its own projection of loans, fed by their events),
 *              loan_claims (which portfolio holds a loan), portfolio_memberships (every add and
 *              remove with its dates), auto_assign_runs (services/portfolios/models.ts).
 * Events in:   loan.> (durable: the loan projection and the first dates),
 *              scheduler.tick.auto_assign (durable: the daily auto-assign).
 * Events out:  portfolio.loan.added, portfolio.loans.added (the auto-assign's batches),
 *              portfolio.loan.removed, portfolio.sold, portfolio.changed (durable;
 *              shared/contracts/portfolios.ts).
 * Calls:       investors.exists (a sale's buyer).
 *
 * Investors (role `investor`) see the portfolios they bought, and their loans, in full; every
 * other portfolio only as `{ id, public_name }`, and none of its loans (403).
 */
import type { Context } from "moleculer";
import { Types } from "mongoose";
import type { ServiceThis, TypedServiceSchema } from "../shared/service-types";
import { Access, type Principal } from "../shared/auth/roles";
import { readConfig } from "../shared/config";
import { createEntity, definedOnly, getEntity, patchEntity } from "../shared/db/crud";
import { MongoMixin, type MongoVars } from "../shared/db/mongo.mixin";
import { paginationParams } from "../shared/db/pagination";
import { ConflictError, ForbiddenError } from "../shared/errors";
import { LOAN_EVENTS_FILTER } from "../shared/contracts/loans";
import { PortfolioEvents, type PortfolioChangedEvent } from "../shared/contracts/portfolios";
import { SchedulerEvents, type TickEvent } from "../shared/contracts/scheduler";
import { runDailyJob } from "../shared/scheduler/daily-job";
import type { DeliveredEvent } from "../shared/events/bus";
import { businessToday } from "../shared/runtime/business-date";
import { DurableEventsMixin, type DurableEventsVars } from "../shared/events/durable-events.mixin";
import { isoDate, objectId, oneOf } from "../shared/validation/fields";
import { autoAssignRunSchema, loanClaimSchema, membershipSchema, portfolioLoanSchema, portfolioSchema } from "./portfolios/models";
import * as P from "./portfolios/params";
import { onLoanEvent } from "./portfolios/loan-events";
import { addLoan, currentMembers, membersAsOf, removeLoan, type MembershipDeps } from "./portfolios/membership";
import { runAutoAssign } from "./portfolios/auto-assign";
import { sellPortfolio } from "./portfolios/sale";
import { exportMemberships } from "./portfolios/export";
import { isInvestor, memberLoanView, ownsPortfolio, portfolioFor, portfolioView } from "./portfolios/views";
import { created } from "../shared/http/created";

const collections = {
  portfolios: portfolioSchema,
  portfolio_loans: portfolioLoanSchema,
  loan_claims: loanClaimSchema,
  portfolio_memberships: membershipSchema,
  auto_assign_runs: autoAssignRunSchema,
};
type Vars = MongoVars<typeof collections> & DurableEventsVars;
type Self = ServiceThis<Vars, Methods>;
type Ctx<T = any> = Context<T, { user?: Principal; $statusCode?: number }>;

const config = readConfig();

const PortfoliosService: TypedServiceSchema<Vars, Methods> = {
  name: "portfolios",
  mixins: [
    MongoMixin(collections),
    DurableEventsMixin({
      subscriptions: {
        [LOAN_EVENTS_FILTER]: "onLoanEvent",
        [SchedulerEvents.tick("auto_assign")]: { handler: "onAutoAssignTick", ackWaitMs: 600_000 },
      },
    }),
  ],
  settings: { rest: "/" },

  actions: {
    createPortfolio: {
      rest: "POST /portfolios",
      roles: Access.SERVICING,
      params: P.createPortfolioParams,
      async handler(this: Self, ctx: Ctx) {
        const _id = new Types.ObjectId();
        const body = ctx.params;
        const doc = await createEntity(this.models.portfolios, "portfolio", {
          ...body,
          _id,
          user_code: userCode(body.user_code, _id.toHexString()),
          portfolio_type: body.portfolio_type ?? P.PORTFOLIO_TYPES[0],
          public_name: body.public_name || body.name,
          status: "open",
        });
        created(ctx, `/portfolios/${doc._id}`);
        return this.announce(doc);
      },
    },
    listPortfolios: {
      rest: "GET /portfolios",
      roles: Access.READ_WITH_INVESTOR,
      params: { status: oneOf(P.PORTFOLIO_STATUSES, { optional: true }), program_id: { ...objectId, optional: true }, portfolio_type: { type: "string", optional: true, max: 40 }, ...paginationParams },
      async handler(this: Self, ctx: Ctx) {
        const { limit, offset, ...filter } = ctx.params;
        const user = ctx.meta.user;
        // An investor's filters apply to its own portfolios only: filtering the others by status
        // or program would tell it what it may not see.
        const query = isInvestor(user)
          ? { $or: [{ ...definedOnly(filter), "sale.investor_id": user!.investor_id }, { "sale.investor_id": { $ne: user!.investor_id } }] }
          : definedOnly(filter);
        const [docs, total] = await Promise.all([
          this.models.portfolios.find(query).sort({ priority: 1, created_at: 1 }).skip(offset).limit(limit),
          this.models.portfolios.countDocuments(query),
        ]);
        return { items: docs.map((d: any) => portfolioFor(ctx.meta.user, portfolioView(d))), total, limit, offset };
      },
    },
    getPortfolio: {
      rest: "GET /portfolios/:id",
      roles: Access.READ_WITH_INVESTOR,
      params: { id: objectId },
      async handler(this: Self, ctx: Ctx) {
        const doc = await getEntity(this.models.portfolios, "portfolio", ctx.params.id);
        return portfolioFor(ctx.meta.user, portfolioView(doc, { saleLines: true }));
      },
    },
    updatePortfolio: {
      rest: "PATCH /portfolios/:id",
      roles: Access.SERVICING,
      params: P.patchPortfolioParams,
      async handler(this: Self, ctx: Ctx) {
        const { id, version, ...patch } = ctx.params;
        const current = await getEntity(this.models.portfolios, "portfolio", id);
        if (current.status === "sold") throw new ConflictError(`portfolio ${id} is sold: a sale is final`, { status: "sold" });
        if (patch.user_code) patch.user_code = userCode(patch.user_code, id);
        const doc = await patchEntity(this.models.portfolios, "portfolio", id, patch, version ?? current.version);
        return this.announce(doc);
      },
    },
    closePortfolio: {
      rest: "POST /portfolios/:id/close",
      roles: Access.SERVICING,
      params: { id: objectId },
      async handler(this: Self, ctx: Ctx) {
        const current = await getEntity(this.models.portfolios, "portfolio", ctx.params.id);
        if (current.status !== "open") throw new ConflictError(`portfolio ${ctx.params.id} is ${current.status}: only an open portfolio closes`, { status: current.status });
        const doc = await this.models.portfolios.findOneAndUpdate(
          { _id: ctx.params.id, status: "open" },
          { $set: { status: "closed", closed_at: new Date() }, $inc: { version: 1 } },
          { returnDocument: "after" },
        );
        if (!doc) throw new ConflictError(`portfolio ${ctx.params.id} changed meanwhile; retry`, {});
        return this.announce(doc);
      },
    },
    sellPortfolio: {
      rest: "POST /portfolios/:id/sell",
      roles: Access.SERVICING,
      params: P.sellParams,
      async handler(this: Self, ctx: Ctx) {
        const { id, ...body } = ctx.params;
        const current = await getEntity(this.models.portfolios, "portfolio", id);
        const wasSold = current.status === "sold";
        const doc = await sellPortfolio(
          {
            portfolios: this.models.portfolios,
            loans: this.models.portfolio_loans,
            claims: this.models.loan_claims,
            investorExists: (investorId) => ctx.call("investors.exists", { id: investorId }) as Promise<boolean>,
            publish: (s, eid, p) => this.publishDurable(s, eid, p),
            actor: ctx.meta.user?.token_id ?? null,
          },
          current.toObject(),
          body,
        );
        if (!wasSold) await this.announce(doc);
        return portfolioView(await getEntity(this.models.portfolios, "portfolio", id), { saleLines: true });
      },
    },

    // ── membership ──────────────────────────────────────────────────────────────────────
    addLoan: {
      rest: "POST /portfolios/:id/loans",
      roles: Access.SERVICING,
      params: P.addLoanParams,
      async handler(this: Self, ctx: Ctx) {
        const portfolio = await getEntity(this.models.portfolios, "portfolio", ctx.params.id);
        const out = await addLoan(this.membershipDeps(ctx), portfolio.toObject(), ctx.params.loan_id, ctx.params.effective_date ?? businessToday(config.businessTz));
        created(ctx, `/portfolios/${ctx.params.id}/loans`);
        return out;
      },
    },
    removeLoan: {
      rest: "DELETE /portfolios/:id/loans/:loan_id",
      roles: Access.SERVICING,
      params: P.removeLoanParams,
      async handler(this: Self, ctx: Ctx) {
        const portfolio = await getEntity(this.models.portfolios, "portfolio", ctx.params.id);
        return removeLoan(this.membershipDeps(ctx), portfolio.toObject(), ctx.params.loan_id, ctx.params.effective_date ?? businessToday(config.businessTz));
      },
    },
    listLoans: {
      rest: "GET /portfolios/:id/loans",
      roles: Access.READ_WITH_INVESTOR,
      params: { id: objectId, as_of: isoDate({ optional: true }), ...paginationParams },
      async handler(this: Self, ctx: Ctx) {
        const portfolio = await getEntity(this.models.portfolios, "portfolio", ctx.params.id);
        if (isInvestor(ctx.meta.user) && !ownsPortfolio(ctx.meta.user, portfolio)) throw new ForbiddenError("an investor sees the loans of its own portfolios only");
        const { id, as_of, limit, offset } = ctx.params;
        const deps = this.membershipDeps(ctx);
        if (as_of) {
          const rows = (await membersAsOf(deps, id, as_of)).map((r) => memberLoanView(r.doc, r.membership, null));
          return { items: rows.slice(offset, offset + limit), total: rows.length, limit, offset, as_of };
        }
        const [total, page] = await Promise.all([this.models.loan_claims.countDocuments({ portfolio_id: id }), currentMembers(deps, id, undefined, { offset, limit })]);
        const items = page.map((r) => memberLoanView(r.doc, { added_on: r.claim.since, removed_on: null, source: r.claim.source, portfolio_id: id }, r.claim.investor_id));
        return { items, total, limit, offset };
      },
    },

    /** Every portfolio and membership with its dates, as streamed NDJSON (a projection's resync). */
    exportMemberships: {
      visibility: "public",
      handler(this: Self) {
        return exportMemberships(this.models.portfolios, this.models.portfolio_memberships);
      },
    },

    // ── the daily job ───────────────────────────────────────────────────────────────────
    /** The `auto_assign` job for a business date (idempotent per date); also run by its tick. */
    autoAssign: {
      params: { business_date: isoDate() },
      handler(this: Self, ctx: Ctx) {
        return this.autoAssignFor(ctx.params.business_date);
      },
    },
  },

  methods: {
    /** Emits portfolio.changed (durable) and returns the portfolio as staff see it. */
    async announce(this: Self, doc: any) {
      const view = portfolioView(doc);
      const id = `portfolio.changed:${view.id}:${view.version}`;
      const payload: PortfolioChangedEvent = { event_id: id, portfolio_id: view.id, version: view.version, name: view.name, program_id: view.program_id ?? null, status: view.status, occurred_at: new Date().toISOString() };
      await this.publishDurable(PortfolioEvents.changed, id, payload);
      return view;
    },
    membershipDeps(this: Self, ctx: Ctx) {
      return {
        portfolios: this.models.portfolios,
        loans: this.models.portfolio_loans,
        claims: this.models.loan_claims,
        memberships: this.models.portfolio_memberships,
        publish: (s: string, id: string, p: unknown) => this.publishDurable(s, id, p),
        actor: ctx.meta.user?.token_id ?? null,
      };
    },
    autoAssignFor(this: Self, businessDate: string) {
      return runAutoAssign(
        { portfolios: this.models.portfolios, loans: this.models.portfolio_loans, claims: this.models.loan_claims, memberships: this.models.portfolio_memberships, runs: this.models.auto_assign_runs, publishMany: (events) => this.publishDurableMany(events), logger: this.logger },
        businessDate,
      );
    },
    async onLoanEvent(this: Self, event: DeliveredEvent) {
      await onLoanEvent(this.models, event);
    },
    /** The auto_assign job of the daily chain: runs for D and reports to the scheduler. */
    async onAutoAssignTick(this: Self, event: DeliveredEvent) {
      await runDailyJob(this, event, async (tick: TickEvent) => {
        const r = await this.autoAssignFor(tick.business_date);
        return { scanned: r.scanned, assigned: r.assigned };
      });
    },
  },
};

/** Seed 004: a user code carries its source prefix; a code given without one came through the API. */
function userCode(given: string | undefined, id: string): string {
  if (!given) return `api:${id}`;
  return given.includes(":") ? given : `api:${given}`;
}

interface Methods {
  announce(doc: any): Promise<Record<string, any>>;
  membershipDeps(ctx: Ctx): MembershipDeps;
  autoAssignFor(businessDate: string): ReturnType<typeof runAutoAssign>;
  onLoanEvent(event: DeliveredEvent): Promise<void>;
  onAutoAssignTick(event: DeliveredEvent): Promise<void>;
}

export default PortfoliosService;
