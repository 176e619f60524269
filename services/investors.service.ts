/**
 * investors — investors and their loan assignments (seed 000, DESIGN.md §9).
 *
 * Collections: investors (bank details sealed with AES-256-GCM under a configured key id),
 *              loan_assignments.
 * Events in:   portfolio.sold (durable): one LoanAssignment per sold loan, keyed by the
 *              portfolio's assignment id, so a redelivered or retried sale records each once.
 * Events out:  investor.assignment.created (durable; shared/contracts/portfolios.ts).
 * Called by:   portfolios (exists: a sale's buyer).
 *
 * An investor's id is the id its token names (`AUTH_TOKENS=token:investor:<id>`): chosen at
 * creation (`id`) or generated. An investor token reads its own record and assignments only.
 */
import type { Context } from "moleculer";
import { Types } from "mongoose";
import Decimal from "decimal.js";
import type { ServiceThis, TypedServiceSchema } from "../shared/service-types";
import { Access, type Principal } from "../shared/auth/roles";
import { readConfig } from "../shared/config";
import { isDuplicateKey } from "../shared/db/crud";
import { MongoMixin, type MongoVars } from "../shared/db/mongo.mixin";
import { paginationParams } from "../shared/db/pagination";
import { ConflictError, NotFoundError } from "../shared/errors";
import { parseKeyRing, seal, type KeyRing } from "../shared/crypto/field-encryption";
import { InvestorEvents, PortfolioEvents, type InvestorAssignmentEvent, type PortfolioSoldEvent } from "../shared/contracts/portfolios";
import type { DeliveredEvent } from "../shared/events/bus";
import { DurableEventsMixin, type DurableEventsVars } from "../shared/events/durable-events.mixin";
import { oneOf } from "../shared/validation/fields";
import { assignmentSchema, investorSchema } from "./investors/models";
import * as P from "./investors/params";
import { investorView } from "./investors/views";
import { created } from "../shared/http/created";

const collections = { investors: investorSchema, loan_assignments: assignmentSchema };
type Vars = MongoVars<typeof collections> & DurableEventsVars & { ring: KeyRing };
type Self = ServiceThis<Vars, Methods>;
type Ctx<T = any> = Context<T, { user?: Principal; $statusCode?: number }>;

const config = readConfig();

const InvestorsService: TypedServiceSchema<Vars, Methods> = {
  name: "investors",
  mixins: [MongoMixin(collections), DurableEventsMixin({ subscriptions: { [PortfolioEvents.sold]: "onPortfolioSold" } })],
  settings: { rest: "/" },

  actions: {
    createInvestor: {
      rest: "POST /investors",
      roles: Access.ADMIN,
      params: P.createInvestorParams,
      async handler(this: Self, ctx: Ctx) {
        const { id, bank_details, ...fields } = ctx.params;
        const _id = id ?? new Types.ObjectId().toHexString();
        try {
          const doc = await this.models.investors.create({ _id, ...fields, bank_details_sealed: bank_details ? seal(this.ring, bank_details, _id) : null });
          created(ctx, `/investors/${_id}`);
          return investorView(this.ring, doc);
        } catch (err) {
          if (isDuplicateKey(err)) throw new ConflictError(`investor ${_id} already exists`, { keys: { id: _id } });
          throw err;
        }
      },
    },
    listInvestors: {
      rest: "GET /investors",
      roles: Access.STAFF_READ,
      params: { investor_type: oneOf(P.INVESTOR_TYPES, { optional: true }), ...paginationParams },
      async handler(this: Self, ctx: Ctx) {
        const { limit, offset, investor_type } = ctx.params;
        const query = investor_type ? { investor_type } : {};
        const [docs, total] = await Promise.all([this.models.investors.find(query).sort({ name: 1, _id: 1 }).skip(offset).limit(limit), this.models.investors.countDocuments(query)]);
        return { items: docs.map((d: any) => investorView(this.ring, d)), total, limit, offset };
      },
    },
    getInvestor: {
      rest: "GET /investors/:id",
      roles: Access.READ_WITH_INVESTOR,
      params: { id: P.investorId },
      async handler(this: Self, ctx: Ctx) {
        return investorView(this.ring, await this.visibleInvestor(ctx, ctx.params.id));
      },
    },
    updateInvestor: {
      rest: "PATCH /investors/:id",
      roles: Access.ADMIN,
      params: P.patchInvestorParams,
      async handler(this: Self, ctx: Ctx) {
        const { id, version, bank_details, ...patch } = ctx.params;
        const current = await this.visibleInvestor(ctx, id);
        const set: Record<string, unknown> = { ...patch };
        // Any write re-seals under the active key: editing a record also rotates it.
        if (bank_details !== undefined) set.bank_details_sealed = bank_details ? seal(this.ring, bank_details, id) : null;
        const doc = await this.models.investors.findOneAndUpdate({ _id: id, version: version ?? current.version }, { $set: set, $inc: { version: 1 } }, { returnDocument: "after" });
        if (!doc) throw new ConflictError(`investor ${id} was changed by someone else (version ${version ?? current.version} is stale)`, { id });
        return investorView(this.ring, doc);
      },
    },
    /** Is there an investor with this id? (portfolios: a sale's buyer.) */
    exists: {
      params: { id: "string" },
      async handler(this: Self, ctx: Ctx) {
        return !!(await this.models.investors.exists({ _id: ctx.params.id }));
      },
    },

    // ── loan assignments ────────────────────────────────────────────────────────────────
    createAssignment: {
      rest: "POST /investors/:id/assignments",
      roles: Access.ADMIN,
      params: P.createAssignmentParams,
      async handler(this: Self, ctx: Ctx) {
        const { id, loan_id, portfolio_id, assignment_date, purchase_price } = ctx.params;
        await this.visibleInvestor(ctx, id);
        const assignmentId = `manual:${id}:${loan_id}:${assignment_date}`;
        const existing: any = await this.models.loan_assignments.findById(assignmentId).lean();
        if (existing) {
          const same = String(existing.purchase_price) === purchase_price && (existing.portfolio_id ?? undefined) === portfolio_id;
          if (!same) throw new ConflictError(`loan ${loan_id} is already assigned to investor ${id} on ${assignment_date} with other terms`, { assignment_id: assignmentId });
        } else {
          try {
            await this.models.loan_assignments.create({ _id: assignmentId, investor_id: id, loan_id, portfolio_id: portfolio_id ?? null, assignment_date, purchase_price, source: "manual" });
            created(ctx, `/investors/${id}/assignments`);
          } catch (err) {
            if (!isDuplicateKey(err)) throw err;
          }
        }
        const doc = await this.models.loan_assignments.findById(assignmentId);
        await this.announceAssignments([doc!.toJSON()]);
        return doc!.toJSON();
      },
    },
    listAssignments: {
      rest: "GET /investors/:id/assignments",
      roles: Access.READ_WITH_INVESTOR,
      params: { id: P.investorId, ...paginationParams },
      async handler(this: Self, ctx: Ctx) {
        const { id, limit, offset } = ctx.params;
        await this.visibleInvestor(ctx, id);
        const query = { investor_id: id };
        const [docs, total] = await Promise.all([
          this.models.loan_assignments.find(query).sort({ assignment_date: 1, _id: 1 }).skip(offset).limit(limit),
          this.models.loan_assignments.countDocuments(query),
        ]);
        return { items: docs.map((d: any) => d.toJSON()), total, limit, offset };
      },
    },
  },

  methods: {
    /** The investor, if the caller may see it: staff any, an investor token only its own (else 404, no leak). */
    async visibleInvestor(this: Self, ctx: Ctx, id: string) {
      const user = ctx.meta.user;
      if (user?.role === "investor" && user.investor_id !== id) throw new NotFoundError("investor", id);
      const doc = await this.models.investors.findById(id);
      if (!doc) throw new NotFoundError("investor", id);
      return doc;
    },
    async announceAssignments(this: Self, rows: any[]) {
      await this.publishDurableMany(
        rows.map((a) => {
          const eventId = `${InvestorEvents.assignmentCreated}:${a.id}`;
          const payload: InvestorAssignmentEvent = { event_id: eventId, assignment_id: a.id, investor_id: a.investor_id, loan_id: a.loan_id, portfolio_id: a.portfolio_id ?? null, assignment_date: a.assignment_date, purchase_price: String(a.purchase_price), occurred_at: new Date().toISOString() };
          return { subject: InvestorEvents.assignmentCreated, id: eventId, payload };
        }),
      );
    },
    /** A sale's assignments, each recorded once however often the event arrives. */
    async onPortfolioSold(this: Self, event: DeliveredEvent) {
      const sale = event.payload as PortfolioSoldEvent;
      const docs = sale.assignments.map((a) => ({
        _id: a.assignment_id,
        investor_id: sale.investor_id,
        loan_id: a.loan_id,
        portfolio_id: sale.portfolio_id,
        assignment_date: sale.sale_date,
        purchase_price: Types.Decimal128.fromString(new Decimal(a.purchase_price).toFixed(2)),
        source: "sale",
        created_at: new Date(),
        updated_at: new Date(),
      }));
      try {
        if (docs.length) await this.models.loan_assignments.collection.insertMany(docs as any[], { ordered: false });
      } catch (err) {
        const writeErrors = (err as any).writeErrors;
        const list = Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : [];
        if (!list.length || !list.every((w: any) => w.code === 11000)) throw err;
      }
      await this.announceAssignments(docs.map((d) => ({ id: d._id, ...d, purchase_price: d.purchase_price.toString() })));
    },
  },

  created(this: Self) {
    const s = this.settings as { dataKeys?: string; dataKeyId?: string };
    // Refuses to start in production without keys (parseKeyRing throws).
    this.ring = parseKeyRing(s.dataKeys ?? config.investorDataKeys, s.dataKeyId ?? config.investorDataKeyId, config.nodeEnv);
  },
};

interface Methods {
  visibleInvestor(ctx: Ctx, id: string): Promise<any>;
  announceAssignments(rows: any[]): Promise<void>;
  onPortfolioSold(event: DeliveredEvent): Promise<void>;
}

export default InvestorsService;
