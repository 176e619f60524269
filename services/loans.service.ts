/**
 * loans — loans, their schedules, the ledger, modifications, promotions (PromoRate) and
 * statements: origination, disbursement, payments, fees, quotes, lease and line-of-credit
 * operations (DESIGN.md §3, §7).
 *
 * Collections: loans, loan_schedules, loan_transactions, loan_idempotency, loan_external_ids,
 *              loan_modifications, loan_promotions, loan_statements (services/loans/models.ts).
 * Events out:  loan.* (durable; shared/contracts/loans.ts), each with the loan's attributes,
 *              position and version.
 * Events in:   portfolio.loan.added|removed, portfolio.loans.added (auto-assign batches), portfolio.sold,
 *              investor.assignment.created (durable)
 *              → the loan's portfolio_id / investor_id.
 * Calls:       programs.resolveProduct, programs.getPromotion (origination), rates.rateOn (pricing).
 *
 * Every write goes through LoanStore.mutate (services/loans/loan-store.ts): one version-guarded
 * loan write, side writes keyed by the mutation, so a retry finishes a half-done mutation.
 */
import type { Context } from "moleculer";
import { createHash } from "node:crypto";
import { DateTime } from "luxon";
import { Types } from "mongoose";
import type { ServiceThis, TypedServiceSchema } from "../shared/service-types";
import { Access, type Principal } from "../shared/auth/roles";
import { readConfig } from "../shared/config";
import { definedOnly, isDuplicateKey } from "../shared/db/crud";
import { MongoMixin, type MongoVars } from "../shared/db/mongo.mixin";
import { BadRequestError, BusinessRuleError, ConflictError, FieldErrors, NotFoundError } from "../shared/errors";
import { DurableEventsMixin, type DurableEventsVars } from "../shared/events/durable-events.mixin";
import type { DeliveredEvent } from "../shared/events/bus";
import { LoanEvents } from "../shared/contracts/loans";
import type { EffectiveProductConfig } from "../shared/contracts/programs";
import {
  InvestorEvents, PortfolioEvents, type InvestorAssignmentEvent, type PortfolioMembershipBatchEvent, type PortfolioMembershipEvent, type PortfolioSoldEvent,
} from "../shared/contracts/portfolios";
import { FinanceInputError, FinanceRuleError, calculatePayoff, generateSchedule, leaseBuyoutQuote, projectRemainingSchedule } from "../shared/finance";
import { needsIndexRate, originationErrors, partitionOf, variableRateAt, type CreateLoanRequest } from "../shared/loans/origination";
import { accrualTrail } from "../shared/loans/accrual-trail";
import { cachedBusinessToday } from "../shared/runtime/business-date";
import { LoanStore, type LedgerDoc, type LoadedLoan, type MutationPlan } from "./loans/loan-store";
import { change, type OpContext } from "./loans/change";
import { loanView, transactionView } from "./loans/loan-views";
import * as Ops from "./loans/operations";
import * as P from "./loans/params";
import { decodeLoan, encodeLoanFields } from "./loans/stored-loan";
import {
  closeChunkSchema, closeRunSchema, closeUnitSchema, loanExternalIdSchema, loanIdempotencySchema, loanModificationSchema, loanPromotionSchema, loanSchema, loanScheduleSchema,
  loanStatementSchema, loanTransactionSchema, loanBucketMoveSchema,
} from "./loans/models";
import { CloseOfBusiness } from "./loans/close-of-business";
import { exportPositions } from "./loans/export";
import { SchedulerEvents } from "../shared/contracts/scheduler";
import { runDailyJob } from "../shared/scheduler/daily-job";
import { PARTITIONS } from "../shared/loans/origination";
import { RetentionSweeper } from "../shared/db/retention";
import { created } from "../shared/http/created";

const config = readConfig();

const collections = {
  loans: loanSchema,
  loan_schedules: loanScheduleSchema,
  loan_transactions: loanTransactionSchema,
  loan_idempotency: loanIdempotencySchema,
  loan_external_ids: loanExternalIdSchema,
  loan_modifications: loanModificationSchema,
  loan_promotions: loanPromotionSchema,
  loan_statements: loanStatementSchema,
  loan_bucket_moves: loanBucketMoveSchema,
  loan_close_runs: closeRunSchema,
  loan_close_units: closeUnitSchema,
  loan_close_chunks: closeChunkSchema,
};
type Vars = MongoVars<typeof collections> &
  DurableEventsVars & { store: LoanStore; close: CloseOfBusiness; closing: Map<string, Promise<unknown>>; lastClosed: string | null; sweeper?: NodeJS.Timeout; retention?: RetentionSweeper };
type Self = ServiceThis<Vars, Methods>;
type Meta = { user?: Principal; $statusCode?: number; idempotencyKey?: string };
type Ctx<T = any> = Context<T, Meta>;

const LoansService: TypedServiceSchema<Vars, Methods> = {
  name: "loans",
  mixins: [
    MongoMixin(collections),
    DurableEventsMixin({
      subscriptions: {
        [PortfolioEvents.loanAdded]: "onPortfolioLoanAdded",
        [PortfolioEvents.loansAdded]: "onPortfolioLoansAdded",
        [PortfolioEvents.loanRemoved]: "onPortfolioLoanRemoved",
        [PortfolioEvents.sold]: "onPortfolioSold",
        [InvestorEvents.assignmentCreated]: "onInvestorAssignment",
        // A close takes minutes on a big book: the tick stays unacknowledged that long.
        [SchedulerEvents.tick("close_of_business")]: { handler: "onCloseTick", ackWaitMs: 30 * 60_000, maxDeliver: 5 },
      },
    }),
  ],
  settings: {
    rest: "/loans",
    sweepIntervalMs: 60_000,
    /**
     * How long a payment's idempotency key is remembered (its record answers a retry with the
     * first answer). Past it the same key books again: clients retry within minutes, not months.
     */
    idempotencyRetentionDays: config.loans.idempotencyRetentionDays,
    /** Close of business (DESIGN.md §8): work units leased by instances, chunk size, lease length, units one instance closes at once. */
    close: { ...config.loans.close },
  },

  actions: {
    // ── origination and lifecycle ───────────────────────────────────────────────────────────
    createLoan: {
      rest: "POST /",
      roles: Access.SERVICING,
      params: P.createLoanParams,
      handler(this: Self, ctx: Ctx<CreateLoanRequest>) {
        return this.originate(ctx);
      },
    },
    listLoans: {
      rest: "GET /",
      roles: Access.READ_WITH_INVESTOR,
      params: P.listLoansParams,
      async handler(this: Self, ctx: Ctx) {
        const { limit, offset, ...filter } = ctx.params;
        const query: Record<string, unknown> = definedOnly(filter);
        if (ctx.meta.user?.role === "investor") query.investor_id = ctx.meta.user.investor_id;
        const [docs, total] = await Promise.all([
          this.models.loans.find(query).sort({ _id: 1 }).skip(offset).limit(limit).lean(),
          this.models.loans.countDocuments(query),
        ]);
        return { items: docs.map((d) => loanView(decodeLoan(d))), total, limit, offset };
      },
    },
    getLoan: {
      rest: "GET /:id",
      roles: Access.READ_WITH_INVESTOR,
      params: P.loanId,
      async handler(this: Self, ctx: Ctx) {
        return loanView(await this.visibleLoan(ctx));
      },
    },
    disburse: {
      rest: "POST /:id/disburse",
      roles: Access.SERVICING,
      params: P.disburseParams,
      async handler(this: Self, ctx: Ctx) {
        const pricing = await this.pricingAt(ctx, await this.store.read(ctx.params.id), ctx.params.date);
        return this.commit(ctx, (l) => Ops.disburse(l, { date: ctx.params.date, ...pricing }, this.opContext(ctx)));
      },
    },
    cancel: {
      rest: "POST /:id/cancel",
      roles: Access.SERVICING,
      params: P.loanId,
      handler(this: Self, ctx: Ctx) {
        return this.commit(ctx, (l) => Ops.cancel(l, this.opContext(ctx)));
      },
    },
    close: {
      rest: "POST /:id/close",
      roles: Access.SERVICING,
      params: P.closeParams,
      handler(this: Self, ctx: Ctx) {
        return this.commit(ctx, (l) => Ops.closeLine(l, { date: ctx.params.date ?? this.today() }, this.opContext(ctx)));
      },
    },

    // ── money in and out ────────────────────────────────────────────────────────────────────
    pay: {
      rest: "POST /:id/payments",
      roles: Access.SERVICING,
      params: P.paymentParams,
      handler(this: Self, ctx: Ctx) {
        const key = this.idempotencyKey(ctx, true)!;
        return this.commit(ctx, async (l) => {
          const history = l.state && ctx.params.date < l.state.accrued_through ? await this.history(l) : undefined;
          return Ops.pay(l, { amount: ctx.params.amount, date: ctx.params.date, idempotency_key: key }, this.opContext(ctx), history);
        }, key, 201);
      },
    },
    assessFee: {
      rest: "POST /:id/fees",
      roles: Access.SERVICING,
      params: P.feeParams,
      handler(this: Self, ctx: Ctx) {
        const key = this.idempotencyKey(ctx);
        return this.commit(ctx, (l) => Ops.fee(l, { ...ctx.params, idempotency_key: key }, this.opContext(ctx)), key, 201);
      },
    },
    draw: {
      rest: "POST /:id/draws",
      roles: Access.SERVICING,
      params: P.drawParams,
      handler(this: Self, ctx: Ctx) {
        const key = this.idempotencyKey(ctx);
        return this.commit(ctx, (l) => Ops.draw(l, { ...ctx.params, idempotency_key: key }, this.opContext(ctx)), key, 201);
      },
    },
    statement: {
      rest: "POST /:id/statements",
      roles: Access.SERVICING,
      params: P.statementParams,
      handler(this: Self, ctx: Ctx) {
        return this.commit(ctx, (l) => Ops.statement(l, ctx.params, this.opContext(ctx)), null, 201);
      },
    },
    buyout: {
      rest: "POST /:id/buyout",
      roles: Access.SERVICING,
      params: P.buyoutParams,
      handler(this: Self, ctx: Ctx) {
        const key = this.idempotencyKey(ctx);
        return this.commit(ctx, (l) => Ops.buyout(l, { ...ctx.params, idempotency_key: key }, this.opContext(ctx)), key, 201);
      },
    },
    returnAsset: {
      rest: "POST /:id/return",
      roles: Access.SERVICING,
      params: P.assetReturnParams,
      handler(this: Self, ctx: Ctx) {
        const key = this.idempotencyKey(ctx);
        return this.commit(ctx, (l) => Ops.assetReturn(l, { ...ctx.params, idempotency_key: key }, this.opContext(ctx)), key, 201);
      },
    },
    refundCredit: {
      rest: "POST /:id/credit-refund",
      roles: Access.SERVICING,
      params: P.creditRefundParams,
      handler(this: Self, ctx: Ctx) {
        const key = this.idempotencyKey(ctx);
        return this.commit(ctx, (l) => Ops.creditRefund(l, { ...ctx.params, idempotency_key: key }, this.opContext(ctx)), key, 201);
      },
    },
    assignPromotion: {
      rest: "POST /:id/promotions",
      roles: Access.SERVICING,
      params: P.promotionParams,
      async handler(this: Self, ctx: Ctx) {
        const promo = await this.promotion(ctx, ctx.params.promotion_id);
        return this.commit(ctx, async (l) => {
          if (promo.program_id !== l.doc.program_id) throw new BusinessRuleError("the promotion belongs to another lending program", "promotion_program", { promotion_id: promo.id });
          const history = l.doc.disbursement_date ? await this.history(l) : null;
          return Ops.assignPromotion(l, { promotion_id: promo.id, name: promo.name, terms: promoTerms(promo) }, this.opContext(ctx), history);
        }, null, 201);
      },
    },

    // ── the ledger: rebook, return, delete (seed 004 book / rebook / delete) ──────────────────
    rebook: {
      rest: "POST /:id/transactions/:tx/rebook",
      roles: Access.SERVICING,
      params: P.rebookParams,
      handler(this: Self, ctx: Ctx) {
        return this.commit(ctx, async (l) => Ops.rebook(l, ctx.params.tx, ctx.params, this.opContext(ctx), await this.history(l)));
      },
    },
    returnPayment: {
      rest: "POST /:id/transactions/:tx/return",
      roles: Access.SERVICING,
      params: P.returnPaymentParams,
      handler(this: Self, ctx: Ctx) {
        return this.commit(ctx, async (l) => Ops.reverse(l, ctx.params.tx, this.opContext(ctx), await this.history(l), { nsfFee: true, date: ctx.params.date }));
      },
    },
    reverseTransaction: {
      rest: "DELETE /:id/transactions/:tx",
      roles: Access.SERVICING,
      params: P.reverseParams,
      handler(this: Self, ctx: Ctx) {
        return this.commit(ctx, async (l) => Ops.reverse(l, ctx.params.tx, this.opContext(ctx), await this.history(l)));
      },
    },

    // ── the daily close (DESIGN.md §8) ──────────────────────────────────────────────────────
    /** Closes D over every open loan (what the close_of_business tick runs); idempotent per D. */
    closeOfBusiness: {
      visibility: "public",
      params: { $$strict: true, business_date: { type: "string", pattern: "^\\d{4}-\\d{2}-\\d{2}$" } },
      async handler(this: Self, ctx: Ctx) {
        if (ctx.params.business_date > this.today()) throw new BusinessRuleError(`business_date ${ctx.params.business_date} is after today`, "future_date");
        return this.closeDate(ctx.params.business_date, true);
      },
    },

    /** Every loan's attributes, position, version and cash transactions, as streamed NDJSON (a projection's resync). */
    exportPositions: {
      visibility: "public",
      handler(this: Self) {
        return exportPositions(this.models.loans, this.models.loan_transactions);
      },
    },

    // ── reads ───────────────────────────────────────────────────────────────────────────────
    schedule: {
      rest: "GET /:id/schedule",
      roles: Access.READ_WITH_INVESTOR,
      params: P.loanId,
      async handler(this: Self, ctx: Ctx) {
        const doc = await this.visibleLoan(ctx);
        if (!doc.terms) return { loan_id: ctx.params.id, status: doc.status, schedule: [], remaining: [] };
        const state = await this.store.stateOf(doc);
        return {
          loan_id: ctx.params.id,
          status: doc.status,
          schedule: generateSchedule(doc.terms),
          remaining: state && state.status === "active" && doc.program_type !== "line_of_credit" ? projectRemainingSchedule(state) : [],
        };
      },
    },
    transactions: {
      rest: "GET /:id/transactions",
      roles: Access.READ_WITH_INVESTOR,
      params: P.ledgerListParams,
      async handler(this: Self, ctx: Ctx) {
        const doc = await this.visibleLoan(ctx);
        const ids = seqIds(String(doc._id), "-", doc.ledger_seq).slice(ctx.params.offset, ctx.params.offset + ctx.params.limit);
        const docs = await this.byIds(this.models.loan_transactions, ids);
        return { items: docs.map((d) => transactionView(d as LedgerDoc)), total: doc.ledger_seq, limit: ctx.params.limit, offset: ctx.params.offset };
      },
    },
    transaction: {
      rest: "GET /:id/transactions/:tx",
      roles: Access.READ_WITH_INVESTOR,
      params: { $$strict: true, ...P.loanId, tx: P.txId },
      async handler(this: Self, ctx: Ctx) {
        await this.visibleLoan(ctx);
        const doc = await this.models.loan_transactions.findById(ctx.params.tx).lean();
        if (!doc || (doc as any).loan_id !== ctx.params.id) throw new NotFoundError("transaction", ctx.params.tx);
        return transactionView(doc as unknown as LedgerDoc);
      },
    },
    modifications: {
      rest: "GET /:id/modifications",
      roles: Access.READ_WITH_INVESTOR,
      params: P.loanId,
      async handler(this: Self, ctx: Ctx) {
        const doc = await this.visibleLoan(ctx);
        const docs = await this.byIds(this.models.loan_modifications, seqIds(String(doc._id), ":m", doc.mod_seq ?? 0));
        return { items: docs.map((d: any) => ({ id: d._id, ...d.record })), total: docs.length };
      },
    },
    statements: {
      rest: "GET /:id/statements",
      roles: Access.READ_WITH_INVESTOR,
      params: P.loanId,
      async handler(this: Self, ctx: Ctx) {
        const doc = await this.visibleLoan(ctx);
        const docs = await this.byIds(this.models.loan_statements, seqIds(String(doc._id), ":s", doc.statement_seq ?? 0));
        return { items: docs.map((d: any) => ({ id: d._id, ...d.record })), total: docs.length };
      },
    },
    payoff: {
      rest: "GET /:id/payoff",
      roles: Access.READ_WITH_INVESTOR,
      params: P.quoteParams,
      async handler(this: Self, ctx: Ctx) {
        return this.quote(ctx, "payoff");
      },
    },
    buyoutQuote: {
      rest: "GET /:id/buyout",
      roles: Access.READ_WITH_INVESTOR,
      params: P.quoteParams,
      async handler(this: Self, ctx: Ctx) {
        return this.quote(ctx, "buyout");
      },
    },
    /** DESIGN.md §7 explain: the day-by-day interest trail, rounded per span to what is billed. */
    accruals: {
      rest: "GET /:id/accruals",
      roles: Access.READ_WITH_INVESTOR,
      params: P.accrualParams,
      async handler(this: Self, ctx: Ctx) {
        const doc = await this.visibleLoan(ctx);
        if (!doc.disbursement_date) throw new ConflictError("the loan is not disbursed: it has no accruals", { status: doc.status });
        const loaded = { doc, state: await this.store.stateOf(doc) };
        const history = await this.history(loaded);
        const from = ctx.params.from ?? doc.disbursement_date;
        const to = ctx.params.to ?? this.today();
        if (from < doc.disbursement_date) new FieldErrors().add("from", `'from' must be on or after the disbursement on ${doc.disbursement_date}`, "range", from).throwIfAny();
        return accrualTrail({ ...history, allocationOrder: doc.config.payment_allocation_order }, from, to);
      },
    },
  },

  events: {
    /** Another instance got the tick: join the close of D (units are leased, so work is shared). */
    "loans.close.requested"(this: Self, ctx: Context<{ business_date: string }>) {
      void this.closeDate(ctx.params.business_date).catch((err) => this.logger.error(`close ${ctx.params.business_date} failed`, err));
    },
  },

  methods: {
    async originate(this: Self, ctx: Ctx<CreateLoanRequest>) {
      const req = ctx.params;
      const cfg = await this.productConfig(ctx, req.product_id);
      if (!cfg.originations_allowed) throw new BusinessRuleError(`new loans are not allowed: ${cfg.blocked_reasons.join("; ")}`, "originations_closed", { reasons: cfg.blocked_reasons });
      new FieldErrors().addAll(originationErrors(req, cfg)).throwIfAny();
      const today = this.today();
      const pricing = needsIndexRate(cfg)
        ? await this.indexPricing(ctx, cfg, today)
        : { annual_rate: req.annual_rate ?? cfg.default_interest_rate, index_value: null };
      const _id = new Types.ObjectId();
      const loanId = _id.toHexString();
      const doc = {
        _id,
        external_id: req.external_id ?? null,
        product_id: cfg.product_id,
        program_id: cfg.program_id,
        program_type: cfg.program_type,
        status: "pending",
        partition: partitionOf(loanId),
        config: cfg,
        request: definedOnly({ ...req, borrower: undefined }),
        borrower: req.borrower ?? null,
        annual_rate: pricing.annual_rate,
        index_value: pricing.index_value,
        origination_date: today,
        total_disbursed: "0.00",
        total_collected: "0.00",
        status_history: [{ from: null, to: "pending", business_date: today, reason: "created", at: new Date().toISOString(), actor: ctx.meta.user?.token_id ?? null }],
        version: 1,
      };
      if (req.external_id) await this.reserveExternalId(req.external_id, loanId);
      try {
        await this.models.loans.create(encodeLoanFields(doc));
      } catch (err) {
        if (req.external_id) await this.models.loan_external_ids.deleteOne({ _id: req.external_id, loan_id: loanId });
        throw err;
      }
      const stored: any = decodeLoan(await this.models.loans.findById(loanId).lean());
      const plan = change({ doc: stored, state: null }, this.opContext(ctx), {
        kind: "create",
        events: [{ subject: LoanEvents.created }],
        response: (a) => a.loan,
      });
      // The creation event goes through the same write path as every other change.
      const result = await this.store.mutate(loanId, () => ({ ...plan, set: { ...plan.set } }));
      created(ctx, `/loans/${loanId}`);
      return result.response;
    },

    /** Commits a mutation; 201 for what books something, the idempotent answer when replayed. */
    async commit(this: Self, ctx: Ctx, plan: (l: LoadedLoan) => MutationPlan | Promise<MutationPlan>, key?: string | null, status = 200) {
      const hash = key ? requestHash(ctx.action?.name ?? "", ctx.params) : null;
      const prefetched = await this.store.prefetch(ctx.params.id, key);
      const current = await this.upToDate(ctx.params.id, prefetched.doc);
      try {
        const { response } = await this.store.mutate(ctx.params.id, plan, key ? { key, hash: hash! } : null, current ? prefetched : null);
        const txId = (response as any)?.transaction?.id;
        if (status === 201) created(ctx, txId ? `/loans/${ctx.params.id}/transactions/${txId}` : `/loans/${ctx.params.id}`);
        else ctx.meta.$statusCode = status;
        return response;
      } catch (err) {
        throw financeToApi(err);
      }
    },

    async quote(this: Self, ctx: Ctx, kind: "payoff" | "buyout") {
      const doc = await this.visibleLoan(ctx);
      const state = await this.store.stateOf(doc);
      if (!state || !["active", "delinquent"].includes(doc.status)) throw new ConflictError(`a ${doc.status} loan has no ${kind} quote`, { status: doc.status });
      if (kind === "buyout" && doc.program_type !== "lease") throw new BusinessRuleError("a buyout quote applies to a lease only", "program_type", { program_type: doc.program_type });
      const date = ctx.params.date ?? this.today();
      if (date < state.accrued_through) new FieldErrors().add("date", `'date' must be on or after the loan's last activity on ${state.accrued_through}`, "range", date).throwIfAny();
      try {
        const q = kind === "buyout" ? leaseBuyoutQuote(state, date) : calculatePayoff(state, date);
        return { ...q, rebate: q.rule_of_78_rebate, credit: q.credit_balance, loan_id: String(doc._id) };
      } catch (err) {
        throw financeToApi(err);
      }
    },

    /**
     * servicing-pitfalls 8: a loan behind the last completed close is brought up to date before a
     * write; a loan the close could not process answers 409 until a close succeeds.
     */
    async upToDate(this: Self, loanId: string, doc: any): Promise<boolean> {
      if (!this.lastClosed) return true; // no close has run: nothing can be behind it
      if (!doc) return true;
      if (doc.close_error) throw new ConflictError(`loan ${loanId} is held by a failed close of business (${doc.close_error.business_date}): ${doc.close_error.message}`, { loan_id: loanId, close_error: doc.close_error });
      // the last close before today (a simulation walking the calendar may have closed later dates)
      const yesterday = DateTime.fromISO(this.today(), { zone: "utc" }).minus({ days: 1 }).toISODate()!;
      const last = this.lastClosed && this.lastClosed > yesterday ? yesterday : this.lastClosed;
      if (last && ["active", "delinquent"].includes(doc.status) && (!doc.closed_through || doc.closed_through < last)) {
        await this.close.closeInline(loanId, last);
        return false;
      }
      return true;
    },

    /** Runs (or joins) the close of D on this instance; `announce` asks the other instances to join. */
    closeDate(this: Self, date: string, announce = false) {
      const running = this.closing.get(date);
      if (running) return running;
      const started = Date.now();
      // Registered before the broadcast runs: the broadcast reaches this instance too, and its
      // handler must join this run, not start a second one beside it.
      const run = Promise.resolve().then(async () => {
        if (announce) await this.broker.broadcast("loans.close.requested", { business_date: date }, { groups: ["loans"] });
        const counts = await this.close.run(date);
        if (!this.lastClosed || date > this.lastClosed) this.lastClosed = date;
        const seconds = (Date.now() - started) / 1000;
        this.logger.info(`close of business ${date}: ${counts.loans} loans in ${seconds.toFixed(1)} s`, counts);
        return { business_date: date, duration_ms: Date.now() - started, counts };
      });
      this.closing.set(date, run);
      void run.finally(() => this.closing.delete(date)).catch(() => undefined);
      return run;
    },

    /** The close_of_business job of the daily chain: closes D and reports to the scheduler. */
    async onCloseTick(this: Self, e: DeliveredEvent) {
      await runDailyJob(this, e, async (tick) => ((await this.closeDate(tick.business_date, true)) as any).counts);
    },

    /** Everything a replay reads: opening state, ledger, statements, rate resets. */
    async history(this: Self, l: LoadedLoan) {
      const id = String(l.doc._id);
      if (!l.doc.opening_ref) throw new ConflictError(`a ${l.doc.status} loan has no ledger to change`, { status: l.doc.status });
      const [ledger, statements, mods] = await Promise.all([
        this.byIds(this.models.loan_transactions, seqIds(id, "-", l.doc.ledger_seq)),
        this.byIds(this.models.loan_statements, seqIds(id, ":s", l.doc.statement_seq ?? 0)),
        this.byIds(this.models.loan_modifications, seqIds(id, ":m", l.doc.mod_seq ?? 0)),
      ]);
      return {
        opening: await this.store.openingState(l.doc),
        ledger: ledger as LedgerDoc[],
        statements: statements.map((s: any) => ({ statement_date: s.record.statement_date, due_date: s.record.due_date })),
        rateResets: mods.filter((m: any) => m.record.modification_type === "rate_change").map((m: any) => m.record.reset_input),
      };
    },

    async byIds(this: Self, model: any, ids: string[]) {
      if (!ids.length) return [];
      const docs = await model.find({ _id: { $in: ids } }).lean();
      const byId = new Map(docs.map((d: any) => [d._id, d]));
      return ids.map((i) => byId.get(i)).filter(Boolean) as any[];
    },

    /** The loan if the caller may see it: an investor only its own loans (404 otherwise, never a leak). */
    async visibleLoan(this: Self, ctx: Ctx) {
      const doc = await this.store.read(ctx.params.id);
      const user = ctx.meta.user;
      if (user?.role === "investor" && doc.investor_id !== user.investor_id) throw new NotFoundError("loan", ctx.params.id);
      return doc;
    },

    async productConfig(this: Self, ctx: Ctx, productId: string): Promise<EffectiveProductConfig> {
      try {
        return await ctx.call("programs.resolveProduct", { id: productId });
      } catch (err: any) {
        if (err?.code === 404) new FieldErrors().add("product_id", `'product_id' ${productId} is not a product`, "exists", productId).throwIfAny();
        throw err;
      }
    },

    async promotion(this: Self, ctx: Ctx, id: string) {
      try {
        return await ctx.call("programs.getPromotion", { id });
      } catch (err: any) {
        if (err?.code === 404) new FieldErrors().add("promotion_id", `'promotion_id' ${id} is not a promotion`, "exists", id).throwIfAny();
        throw err;
      }
    },

    async indexPricing(this: Self, ctx: Ctx, cfg: EffectiveProductConfig, date: string) {
      const index = cfg.variable_rate!.index_name;
      try {
        const r: any = await ctx.call("rates.rateOn", { index_name: index, date });
        return { annual_rate: variableRateAt(r.rate, cfg), index_value: r.rate as string };
      } catch (err: any) {
        if (err?.code === 404) throw new BusinessRuleError(`index ${index} has no rate on ${date}: the loan cannot be priced`, "no_index_rate", { index_name: index, date });
        throw err;
      }
    },

    /** Rate at disbursement: variable loans are priced on the index of the disbursement date. */
    async pricingAt(this: Self, ctx: Ctx, doc: any, date: string) {
      if (doc.status === "pending" && needsIndexRate(doc.config)) return this.indexPricing(ctx, doc.config, date);
      return { annual_rate: doc.annual_rate, index_value: doc.index_value ?? null };
    },

    async reserveExternalId(this: Self, externalId: string, loanId: string) {
      try {
        await this.models.loan_external_ids.create({ _id: externalId, loan_id: loanId });
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        const held: any = await this.models.loan_external_ids.findById(externalId).lean();
        // A reservation whose loan never got written (a crash in between) is free to take.
        if (held && (await this.models.loans.exists({ _id: held.loan_id }))) throw new ConflictError(`a loan with external_id '${externalId}' exists`, { external_id: externalId, loan_id: held.loan_id });
        await this.models.loan_external_ids.updateOne({ _id: externalId }, { $set: { loan_id: loanId } });
      }
    },

    idempotencyKey(this: Self, ctx: Ctx, required = false): string | null {
      const body = ctx.params.idempotency_key as string | undefined;
      const header = ctx.meta.idempotencyKey;
      if (body && header && body !== header) new FieldErrors().add("idempotency_key", "the Idempotency-Key header and the body's idempotency_key differ", "mismatch").throwIfAny();
      const key = body ?? header ?? null;
      if (required && !key) new FieldErrors().add("idempotency_key", "'idempotency_key' (or an Idempotency-Key header) is required", "required").throwIfAny();
      if (key && !/^[A-Za-z0-9_.:-]{1,200}$/.test(key)) new FieldErrors().add("idempotency_key", "the idempotency key may hold letters, digits and _ . : - only (at most 200)", "pattern").throwIfAny();
      return key;
    },

    opContext(this: Self, ctx: Ctx): OpContext {
      return { today: this.today(), now: new Date().toISOString(), actor: ctx.meta.user?.token_id ?? null };
    },
    /**
     * Today's business date: the business time zone's calendar date, unless the settings fix it
     * (`businessDate`: a date or a function) — how tests and simulations walk the calendar.
     */
    today(this: Self) {
      const fixed = this.settings.businessDate as string | (() => string) | undefined;
      if (fixed) return typeof fixed === "function" ? fixed() : fixed;
      return cachedBusinessToday(this.broker.metadata.businessTz);
    },

    // ── ownership from the portfolios and investors services (DESIGN.md §9) ─────────────────
    async onPortfolioLoanAdded(this: Self, e: DeliveredEvent) {
      const p = e.payload as PortfolioMembershipEvent;
      await this.setOwnership([{ loan_id: p.loan_id, set: { portfolio_id: p.portfolio_id } }]);
    },
    /** The daily auto-assign's memberships, a batch per event. */
    async onPortfolioLoansAdded(this: Self, e: DeliveredEvent) {
      const p = e.payload as PortfolioMembershipBatchEvent;
      await this.setOwnership(p.memberships.map((m) => ({ loan_id: m.loan_id, set: { portfolio_id: m.portfolio_id } })));
    },
    async onPortfolioLoanRemoved(this: Self, e: DeliveredEvent) {
      const p = e.payload as PortfolioMembershipEvent;
      await this.setOwnership([{ loan_id: p.loan_id, set: { portfolio_id: null }, onlyIf: { portfolio_id: p.portfolio_id } }]);
    },
    async onPortfolioSold(this: Self, e: DeliveredEvent) {
      const p = e.payload as PortfolioSoldEvent;
      await this.setOwnership(p.assignments.map((a) => ({ loan_id: a.loan_id, set: { investor_id: p.investor_id } })));
    },
    async onInvestorAssignment(this: Self, e: DeliveredEvent) {
      const p = e.payload as InvestorAssignmentEvent;
      await this.setOwnership([{ loan_id: p.loan_id, set: { investor_id: p.investor_id } }]);
    },
    /**
     * Records who holds loans. Each loan is written by `{ _id, version }` (a lookup on the unique
     * index of that pair) and its version moves, so a money mutation computed on the old document
     * recomputes; a loan that moved meanwhile is read and written again.
     */
    async setOwnership(this: Self, changes: { loan_id: string; set: Record<string, unknown>; onlyIf?: Record<string, unknown> }[]) {
      let todo = changes.filter((c) => Types.ObjectId.isValid(c.loan_id));
      for (let round = 0; todo.length && round < 10; round++) {
        const docs = await this.models.loans.find({ _id: { $in: todo.map((c) => c.loan_id) } }, { version: 1, portfolio_id: 1, investor_id: 1 }).lean();
        const byId = new Map(docs.map((d: any) => [String(d._id), d]));
        const ops = todo.flatMap((c) => {
          const d: any = byId.get(c.loan_id);
          if (!d || Object.entries(c.onlyIf ?? {}).some(([k, v]) => d[k] !== v)) return [];
          const set = { ...c.set, ...Object.fromEntries(Object.entries(c.set).map(([k, v]) => [`position.${k}`, v])) };
          return [{ c, op: { updateOne: { filter: { _id: d._id, version: d.version }, update: { $set: { ...set, version: d.version + 1 } } } } }];
        });
        if (!ops.length) return;
        const res = await this.models.loans.bulkWrite(ops.map((o) => o.op) as any, { ordered: false });
        if (res.matchedCount === ops.length) return;
        const after = await this.models.loans.find({ _id: { $in: ops.map((o) => o.c.loan_id) } }, { portfolio_id: 1, investor_id: 1 }).lean();
        const now = new Map(after.map((d: any) => [String(d._id), d]));
        todo = ops.map((o) => o.c).filter((c) => Object.entries(c.set).some(([k, v]) => (now.get(c.loan_id) as any)?.[k] !== v));
      }
    },
  },

  created(this: Self) {
    // The store is built once the models exist (started); handlers only run after that.
  },
  async started(this: Self) {
    this.store = new LoanStore(this.models as any, (subject, id, payload) => this.publishDurable(subject, id, payload), undefined, (events) => this.publishDurableMany(events));
    this.closing = new Map();
    this.close = new CloseOfBusiness(this.models as any, this.store, {
      ...this.settings.close,
      partitions: PARTITIONS,
      nodeId: this.broker.nodeID,
      publish: (subject, id, payload) => this.publishDurable(subject, id, payload),
      publishMany: (events) => this.publishDurableMany(events),
      logger: this.logger,
      indexRateOn: async (index, date) => {
        try {
          return ((await this.broker.call("rates.rateOn", { index_name: index, date })) as any).rate as string;
        } catch (err: any) {
          if (err?.code === 404) return null;
          throw err;
        }
      },
    });
    const last: any = await this.models.loan_close_runs.findOne({ status: "completed" }).sort({ _id: -1 }).lean();
    this.lastClosed = last?._id ?? null;
    this.retention = new RetentionSweeper(
      [{ name: "loan_idempotency", model: this.models.loan_idempotency, field: "created_at", iso: true, keepMs: this.settings.idempotencyRetentionDays * 24 * 3600_000 }],
      this.logger,
    );
    this.retention.start();
    const finished = await this.store.sweep();
    if (finished) this.logger.warn(`finished ${finished} loan mutation(s) a stop left half done`);
    // Periodically: finish what a crash left half done, and learn of closes other instances completed.
    this.sweeper = setInterval(() => {
      void this.store.sweep().catch((err) => this.logger.error("sweep failed", err));
      void this.models.loan_close_runs
        .findOne({ status: "completed" })
        .sort({ _id: -1 })
        .lean()
        .then((r: any) => {
          if (r && (!this.lastClosed || r._id > this.lastClosed)) this.lastClosed = r._id;
        })
        .catch(() => undefined);
    }, this.settings.sweepIntervalMs);
  },
  async stopped(this: Self) {
    if (this.sweeper) clearInterval(this.sweeper);
    await this.retention?.stop();
  },
};

interface Methods {
  upToDate(loanId: string, doc: any): Promise<boolean>;
  closeDate(date: string, announce?: boolean): Promise<unknown>;
  onCloseTick(e: DeliveredEvent): Promise<void>;
  originate(ctx: Ctx<CreateLoanRequest>): Promise<unknown>;
  commit(ctx: Ctx, plan: (l: LoadedLoan) => MutationPlan | Promise<MutationPlan>, key?: string | null, status?: number): Promise<unknown>;
  quote(ctx: Ctx, kind: "payoff" | "buyout"): Promise<unknown>;
  history(l: LoadedLoan): Promise<Ops.LoanHistory>;
  byIds(model: any, ids: string[]): Promise<any[]>;
  visibleLoan(ctx: Ctx): Promise<any>;
  productConfig(ctx: Ctx, productId: string): Promise<EffectiveProductConfig>;
  promotion(ctx: Ctx, id: string): Promise<any>;
  indexPricing(ctx: Ctx, cfg: EffectiveProductConfig, date: string): Promise<{ annual_rate: string; index_value: string | null }>;
  pricingAt(ctx: Ctx, doc: any, date: string): Promise<{ annual_rate: string; index_value: string | null }>;
  reserveExternalId(externalId: string, loanId: string): Promise<void>;
  idempotencyKey(ctx: Ctx, required?: boolean): string | null;
  opContext(ctx: Ctx): OpContext;
  today(): string;
  onPortfolioLoanAdded(e: DeliveredEvent): Promise<void>;
  onPortfolioLoansAdded(e: DeliveredEvent): Promise<void>;
  onPortfolioLoanRemoved(e: DeliveredEvent): Promise<void>;
  onPortfolioSold(e: DeliveredEvent): Promise<void>;
  onInvestorAssignment(e: DeliveredEvent): Promise<void>;
  setOwnership(changes: { loan_id: string; set: Record<string, unknown>; onlyIf?: Record<string, unknown> }[]): Promise<void>;
}

/** `<loan><sep><n>` for n = 1..count: the ids of a loan's ledger (or statements, modifications). */
function seqIds(loanId: string, sep: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${loanId}${sep}${i + 1}`);
}

/**
 * The idempotency fingerprint of a request: its action and fields, key excluded, in a stable
 * order. The action counts: a payment and a draw share their fields, and one key must not turn a
 * payment into the answer of an earlier draw.
 */
function requestHash(action: string, params: Record<string, unknown>): string {
  const { idempotency_key: _k, ...rest } = params;
  const stable = JSON.stringify([action, ...Object.keys(rest).sort().map((k) => [k, rest[k]])]);
  return createHash("sha256").update(stable).digest("hex");
}

function promoTerms(p: any) {
  return {
    promo_type: p.promo_type,
    start_date: p.start_date,
    end_date: p.end_date,
    apr: p.apr ?? null,
    deferred_interest_rate: p.deferred_interest_rate ?? null,
    min_payment_type: p.min_payment_type ?? null,
    min_payment_amount: p.min_payment_amount ?? null,
  };
}

/** The engine's refusals in the API's vocabulary: malformed → 400, refused by a money rule → 422. */
function financeToApi(err: unknown): unknown {
  if (err instanceof FinanceInputError) return new BadRequestError(err.message, [{ field: err.field ?? "request", message: err.message, type: "invalid" }]);
  if (err instanceof FinanceRuleError) return new BusinessRuleError(err.message, err.rule, err.data);
  return err;
}

export default LoansService;
