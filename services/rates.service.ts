/**
 * rates — index rates (SOFR, Prime, …) with their effective dates and the computed
 * trailing-12-month average (seed 003, Index Rates).
 *
 * Collections: index_rates.
 * Events out:  index_rate.published (shared/contracts/rates.ts).
 * Called by:   loans (rateOn at each variable-rate reset).
 */
import type { Context } from "moleculer";
import type { ServiceThis, TypedServiceSchema } from "../shared/service-types";
import { DateTime } from "luxon";
import { Access } from "../shared/auth/roles";
import { createEntity, dateRange, definedOnly, getEntity, listEntities, patchEntity } from "../shared/db/crud";
import { MongoMixin, type MongoVars } from "../shared/db/mongo.mixin";
import { paginationParams } from "../shared/db/pagination";
import { NotFoundError } from "../shared/errors";
import { RateEvents, type IndexRate, type IndexRateEvent } from "../shared/contracts/rates";
import { affectedWindow, lookbackStart, trailing12MonthAverages } from "../shared/rates/index-rate-series";
import { dateWindowParams, isoDate, objectId, rate, text } from "../shared/validation/fields";
import { indexRateSchema } from "./rates/models";
import { entitySchema, pageSchema } from "../shared/http/openapi";
import { versionParam } from "../shared/validation/patch";
import { created } from "../shared/http/created";

const collections = { index_rates: indexRateSchema };
type Vars = MongoVars<typeof collections>;
type Self = ServiceThis<Vars, Methods>;
type Ctx<T = any> = Context<T, { user?: { token_id: string }; $statusCode?: number }>;

const indexName = { ...text(40), pattern: "^[A-Za-z0-9][A-Za-z0-9_ .-]*$" };

/** An observation as answered (shared/contracts/rates.ts IndexRate). */
const indexRateEntity = entitySchema(
  { index_name: indexName, rate: rate(), effective_date: isoDate(), source: text(200, { optional: true }) },
  { trailing_12_month_average: { type: "string", nullable: true } },
);
const rateOnAnswer = { ...indexRateEntity, required: [...indexRateEntity.required, "as_of"], properties: { ...indexRateEntity.properties, as_of: { type: "string", format: "date" } } };

const RatesService: TypedServiceSchema<Vars, Methods> = {
  name: "rates",
  mixins: [MongoMixin(collections)],
  settings: { rest: "/" },

  actions: {
    createIndexRate: {
      rest: "POST /index-rates",
      openapi: { status: 201, response: indexRateEntity },
      roles: Access.ADMIN,
      params: { $$strict: true, index_name: indexName, rate: rate({ max: 1 }), effective_date: isoDate(), source: text(200, { optional: true }) },
      async handler(this: Self, ctx: Ctx) {
        const doc = await createEntity(this.models.index_rates, "index rate", ctx.params);
        created(ctx, `/index-rates/${ctx.params.index_name}/on/${ctx.params.effective_date}`);
        const saved = await this.refreshAverages(ctx.params.index_name, ctx.params.effective_date, String(doc._id));
        await ctx.emit(RateEvents.indexRatePublished, { rate: saved, change: "created" } satisfies IndexRateEvent);
        return saved;
      },
    },
    /** Correct an observation's rate; the averages it feeds are recomputed. */
    updateIndexRate: {
      rest: "PATCH /index-rates/:id",
      openapi: { response: indexRateEntity },
      roles: Access.ADMIN,
      params: { $$strict: true, id: objectId, rate: rate({ max: 1 }), source: text(200, { optional: true }), version: versionParam },
      async handler(this: Self, ctx: Ctx) {
        const { id, version, ...patch } = ctx.params;
        const current = await getEntity(this.models.index_rates, "index rate", id);
        const previous = current.rate.toString();
        await patchEntity(this.models.index_rates, "index rate", id, patch, version);
        const saved = await this.refreshAverages(current.index_name, current.effective_date, id);
        await ctx.emit(RateEvents.indexRatePublished, { rate: saved, change: "corrected", previous_rate: previous } satisfies IndexRateEvent);
        return saved;
      },
    },
    listIndexRates: {
      rest: "GET /index-rates",
      openapi: { response: pageSchema(indexRateEntity) },
      roles: Access.STAFF_READ,
      params: { index_name: { ...indexName, optional: true }, ...dateWindowParams, ...paginationParams },
      handler(this: Self, ctx: Ctx) {
        const { index_name, from, to, limit, offset } = ctx.params;
        const query = definedOnly({ index_name, effective_date: dateRange(from, to) });
        return listEntities(this.models.index_rates, query, { limit, offset }, { index_name: 1, effective_date: 1 });
      },
    },
    /** The latest rate of an index, as of today in the business time zone or `as_of`. */
    latestIndexRate: {
      rest: "GET /index-rates/:index_name/latest",
      openapi: { response: rateOnAnswer },
      roles: Access.STAFF_READ,
      params: { index_name: indexName, as_of: isoDate({ optional: true }) },
      handler(this: Self, ctx: Ctx) {
        const asOf = ctx.params.as_of ?? DateTime.now().setZone(this.broker.metadata.businessTz).toISODate()!;
        return this.rateOnDate(ctx.params.index_name, asOf);
      },
    },
    /** "Rate of index X on date D": the latest effective on or before D (404 before the first). */
    rateOn: {
      rest: "GET /index-rates/:index_name/on/:date",
      openapi: { response: rateOnAnswer },
      roles: Access.STAFF_READ,
      params: { index_name: indexName, date: isoDate() },
      handler(this: Self, ctx: Ctx) {
        return this.rateOnDate(ctx.params.index_name, ctx.params.date);
      },
    },
  },

  methods: {
    async rateOnDate(this: Self, index: string, date: string) {
      const doc = await this.models.index_rates
        .findOne({ index_name: index, effective_date: { $lte: date } })
        .sort({ effective_date: -1 });
      if (!doc) throw new NotFoundError(`rate of index ${index} on`, date);
      return { ...doc.toJSON(), as_of: date };
    },
    /**
     * Recomputes the stored trailing average of every observation a change at `changedDate` can
     * reach (the next 12 months), from the series itself. Returns the observation `id` as stored.
     */
    async refreshAverages(this: Self, index: string, changedDate: string, id: string): Promise<IndexRate> {
      const window = affectedWindow(changedDate);
      const series = await this.models.index_rates
        .find({ index_name: index, effective_date: { $gte: lookbackStart(changedDate), $lte: window.to } })
        .sort({ effective_date: 1 })
        .lean();
      const points = series.map((r) => ({ effective_date: r.effective_date, rate: r.rate.toString() }));
      const affected = series.filter((r) => r.effective_date >= window.from);
      const averages = trailing12MonthAverages(points, affected.map((r) => r.effective_date));
      const updates = affected.map((r, i) => ({
        updateOne: { filter: { _id: r._id }, update: { $set: { trailing_12_month_average: averages[i] } } },
      }));
      if (updates.length) await this.models.index_rates.bulkWrite(updates as any);
      return (await getEntity(this.models.index_rates, "index rate", id)).toJSON() as IndexRate;
    },
  },
};

interface Methods {
  rateOnDate(index: string, date: string): Promise<IndexRate & { as_of: string }>;
  refreshAverages(index: string, changedDate: string, id: string): Promise<IndexRate>;
}

export default RatesService;
