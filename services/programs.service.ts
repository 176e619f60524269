/**
 * programs — lending programs, loan products, fee schedules and promotions (seed 003, DESIGN.md §1).
 *
 * Collections: programs, products, fee_schedules, promotions.
 * Events out:  program.* / product.* / fee_schedule.* / promotion.* (shared/contracts/programs.ts).
 * Called by:   loans (resolveProduct at origination, promotionFor when a promo is assigned).
 *
 * A program's settings reach a loan only when the loan is originated (resolveProduct is copied
 * onto it), so editing or deactivating a program never changes an existing loan.
 */
import type { Context } from "moleculer";
import type { ServiceThis, TypedServiceSchema } from "../shared/service-types";
import { Access } from "../shared/auth/roles";
import { createEntity, definedOnly, getEntity, listEntities, patchEntity } from "../shared/db/crud";
import { MongoMixin, type MongoVars } from "../shared/db/mongo.mixin";
import { paginationParams } from "../shared/db/pagination";
import { FieldErrors, NotFoundError } from "../shared/errors";
import { ProgramEvents } from "../shared/contracts/programs";
import { feeScheduleErrors, programErrors, productErrors, promotionErrors } from "../shared/programs/rules";
import { effectiveProductConfig } from "../shared/programs/effective-config";
import { INTEREST_RATE_TYPES, PROGRAM_TYPES, PROMO_TYPES, isoDate, objectId, oneOf } from "../shared/validation/fields";
import { feeScheduleSchema, productSchema, programSchema, promotionSchema } from "./programs/models";
import * as P from "./programs/params";
import * as R from "./programs/responses";
import { created } from "../shared/http/created";

const collections = {
  programs: programSchema,
  products: productSchema,
  fee_schedules: feeScheduleSchema,
  promotions: promotionSchema,
};
type Vars = MongoVars<typeof collections>;
type Self = ServiceThis<Vars, Methods>;
type Ctx<T = any> = Context<T, { user?: { token_id: string; role: string }; $statusCode?: number }>;

const bool = { type: "boolean", optional: true, convert: true } as const;

const ProgramsService: TypedServiceSchema<Vars, Methods> = {
  name: "programs",
  mixins: [MongoMixin(collections)],
  settings: { rest: "/" },

  actions: {
    // ── lending programs ────────────────────────────────────────────────────────────────
    createProgram: {
      rest: "POST /programs",
      openapi: { status: 201, response: R.programEntity },
      roles: Access.ADMIN,
      params: P.createProgramParams,
      async handler(this: Self, ctx: Ctx) {
        const doc = await createEntity(this.models.programs, "program", ctx.params);
        created(ctx, `/programs/${doc._id}`);
        return this.announce(ctx, ProgramEvents.programCreated, doc);
      },
    },
    listPrograms: {
      rest: "GET /programs",
      openapi: { response: R.programPage },
      roles: Access.STAFF_READ,
      params: { program_type: oneOf(PROGRAM_TYPES, { optional: true }), is_active: bool, index_name: { type: "string", optional: true }, ...paginationParams },
      handler(this: Self, ctx: Ctx) {
        const { limit, offset, ...filter } = ctx.params;
        return listEntities(this.models.programs, definedOnly(filter), { limit, offset }, { name: 1 });
      },
    },
    getProgram: {
      rest: "GET /programs/:id",
      openapi: { response: R.programEntity },
      roles: Access.STAFF_READ,
      params: { id: objectId },
      async handler(this: Self, ctx: Ctx) {
        return (await getEntity(this.models.programs, "program", ctx.params.id)).toJSON();
      },
    },
    updateProgram: {
      rest: "PATCH /programs/:id",
      openapi: { response: R.programEntity },
      roles: Access.ADMIN,
      params: P.patchProgramParams,
      async handler(this: Self, ctx: Ctx) {
        const { id, version, ...patch } = ctx.params;
        const current = await getEntity(this.models.programs, "program", id);
        const merged = { ...current.toJSON(), ...patch };
        new FieldErrors().addAll(programErrors(merged)).throwIfAny();
        const doc = await patchEntity(this.models.programs, "program", id, patch, version);
        return this.announce(ctx, ProgramEvents.programUpdated, doc, Object.keys(patch));
      },
    },
    deactivateProgram: {
      rest: "POST /programs/:id/deactivate",
      openapi: { status: 200, response: R.programEntity },
      roles: Access.ADMIN,
      params: { id: objectId },
      handler(this: Self, ctx: Ctx) {
        return this.setActive(ctx, this.models.programs, "program", false, ProgramEvents.programDeactivated);
      },
    },
    activateProgram: {
      rest: "POST /programs/:id/activate",
      openapi: { status: 200, response: R.programEntity },
      roles: Access.ADMIN,
      params: { id: objectId },
      handler(this: Self, ctx: Ctx) {
        return this.setActive(ctx, this.models.programs, "program", true, ProgramEvents.programActivated);
      },
    },

    // ── loan products ───────────────────────────────────────────────────────────────────
    createProduct: {
      rest: "POST /products",
      openapi: { status: 201, response: R.productEntity },
      roles: Access.ADMIN,
      params: P.createProductParams,
      async handler(this: Self, ctx: Ctx) {
        const program = await this.programOrFieldError(ctx.params.program_id);
        new FieldErrors().addAll(productErrors(ctx.params, program)).throwIfAny();
        const doc = await createEntity(this.models.products, "product", ctx.params);
        created(ctx, `/products/${doc._id}`);
        return this.announce(ctx, ProgramEvents.productCreated, doc);
      },
    },
    listProducts: {
      rest: "GET /products",
      openapi: { response: R.productPage },
      roles: Access.STAFF_READ,
      params: { program_id: { ...objectId, optional: true }, interest_rate_type: oneOf(INTEREST_RATE_TYPES, { optional: true }), is_active: bool, ...paginationParams },
      handler(this: Self, ctx: Ctx) {
        const { limit, offset, ...filter } = ctx.params;
        return listEntities(this.models.products, definedOnly(filter), { limit, offset }, { name: 1 });
      },
    },
    getProduct: {
      rest: "GET /products/:id",
      openapi: { response: R.productEntity },
      roles: Access.STAFF_READ,
      params: { id: objectId },
      async handler(this: Self, ctx: Ctx) {
        return (await getEntity(this.models.products, "product", ctx.params.id)).toJSON();
      },
    },
    updateProduct: {
      rest: "PATCH /products/:id",
      openapi: { response: R.productEntity },
      roles: Access.ADMIN,
      params: P.patchProductParams,
      async handler(this: Self, ctx: Ctx) {
        const { id, version, ...patch } = ctx.params;
        const current = await getEntity(this.models.products, "product", id);
        const program = await this.models.programs.findById(current.program_id);
        const merged = { ...current.toJSON(), ...patch };
        new FieldErrors().addAll(productErrors(merged, program?.toJSON())).throwIfAny();
        const doc = await patchEntity(this.models.products, "product", id, patch, version);
        return this.announce(ctx, ProgramEvents.productUpdated, doc, Object.keys(patch));
      },
    },
    deactivateProduct: {
      rest: "POST /products/:id/deactivate",
      openapi: { status: 200, response: R.productEntity },
      roles: Access.ADMIN,
      params: { id: objectId },
      handler(this: Self, ctx: Ctx) {
        return this.setActive(ctx, this.models.products, "product", false, ProgramEvents.productDeactivated);
      },
    },
    activateProduct: {
      rest: "POST /products/:id/activate",
      openapi: { status: 200, response: R.productEntity },
      roles: Access.ADMIN,
      params: { id: objectId },
      handler(this: Self, ctx: Ctx) {
        return this.setActive(ctx, this.models.products, "product", true, ProgramEvents.productActivated);
      },
    },
    /** The configuration a new loan of this product gets (program overlaid by product). */
    resolveProduct: {
      rest: "GET /products/:id/effective-config",
      openapi: { response: R.effectiveConfig },
      roles: Access.STAFF_READ,
      params: { id: objectId },
      async handler(this: Self, ctx: Ctx) {
        const product = await getEntity(this.models.products, "product", ctx.params.id);
        const program = await this.models.programs.findById(product.program_id);
        if (!program) throw new NotFoundError("program", String(product.program_id));
        const schedules = await this.models.fee_schedules.find({ product_id: product._id, is_active: true }).sort({ created_at: -1 }).limit(1);
        return effectiveProductConfig(program.toJSON(), product.toJSON(), schedules[0]?.toJSON());
      },
    },

    // ── fee schedules ───────────────────────────────────────────────────────────────────
    createFeeSchedule: {
      rest: "POST /fee-schedules",
      openapi: { status: 201, response: R.feeScheduleEntity },
      roles: Access.ADMIN,
      params: P.createFeeScheduleParams,
      async handler(this: Self, ctx: Ctx) {
        if (!(await this.models.products.exists({ _id: ctx.params.product_id }))) {
          new FieldErrors().add("product_id", `'product_id' ${ctx.params.product_id} is not a product`, "exists").throwIfAny();
        }
        const doc = await createEntity(this.models.fee_schedules, "fee schedule", ctx.params);
        created(ctx, `/fee-schedules/${doc._id}`);
        return this.announce(ctx, ProgramEvents.feeScheduleCreated, doc);
      },
    },
    listFeeSchedules: {
      rest: "GET /fee-schedules",
      openapi: { response: R.feeSchedulePage },
      roles: Access.STAFF_READ,
      params: { product_id: { ...objectId, optional: true }, is_active: bool, ...paginationParams },
      handler(this: Self, ctx: Ctx) {
        const { limit, offset, ...filter } = ctx.params;
        return listEntities(this.models.fee_schedules, definedOnly(filter), { limit, offset }, { name: 1 });
      },
    },
    getFeeSchedule: {
      rest: "GET /fee-schedules/:id",
      openapi: { response: R.feeScheduleEntity },
      roles: Access.STAFF_READ,
      params: { id: objectId },
      async handler(this: Self, ctx: Ctx) {
        return (await getEntity(this.models.fee_schedules, "fee schedule", ctx.params.id)).toJSON();
      },
    },
    updateFeeSchedule: {
      rest: "PATCH /fee-schedules/:id",
      openapi: { response: R.feeScheduleEntity },
      roles: Access.ADMIN,
      params: P.patchFeeScheduleParams,
      async handler(this: Self, ctx: Ctx) {
        const { id, version, ...patch } = ctx.params;
        const current = await getEntity(this.models.fee_schedules, "fee schedule", id);
        new FieldErrors().addAll(feeScheduleErrors({ ...current.toJSON(), ...patch })).throwIfAny();
        const doc = await patchEntity(this.models.fee_schedules, "fee schedule", id, patch, version);
        return this.announce(ctx, ProgramEvents.feeScheduleUpdated, doc, Object.keys(patch));
      },
    },

    // ── promotional programs ────────────────────────────────────────────────────────────
    createPromotion: {
      rest: "POST /promotions",
      openapi: { status: 201, response: R.promotionEntity },
      roles: Access.ADMIN,
      params: P.createPromotionParams,
      async handler(this: Self, ctx: Ctx) {
        await this.programOrFieldError(ctx.params.program_id);
        const doc = await createEntity(this.models.promotions, "promotion", ctx.params);
        created(ctx, `/promotions/${doc._id}`);
        return this.announce(ctx, ProgramEvents.promotionCreated, doc);
      },
    },
    listPromotions: {
      rest: "GET /promotions",
      openapi: { response: R.promotionPage },
      roles: Access.STAFF_READ,
      params: {
        program_id: { ...objectId, optional: true },
        promo_type: oneOf(PROMO_TYPES, { optional: true }),
        is_active: bool,
        active_on: isoDate({ optional: true }),
        ...paginationParams,
      },
      handler(this: Self, ctx: Ctx) {
        const { limit, offset, active_on, ...filter } = ctx.params;
        const query: Record<string, unknown> = definedOnly(filter);
        if (active_on) Object.assign(query, { start_date: { $lte: active_on }, end_date: { $gte: active_on } });
        return listEntities(this.models.promotions, query, { limit, offset }, { start_date: 1 });
      },
    },
    getPromotion: {
      rest: "GET /promotions/:id",
      openapi: { response: R.promotionEntity },
      roles: Access.STAFF_READ,
      params: { id: objectId },
      async handler(this: Self, ctx: Ctx) {
        return (await getEntity(this.models.promotions, "promotion", ctx.params.id)).toJSON();
      },
    },
    updatePromotion: {
      rest: "PATCH /promotions/:id",
      openapi: { response: R.promotionEntity },
      roles: Access.ADMIN,
      params: P.patchPromotionParams,
      async handler(this: Self, ctx: Ctx) {
        const { id, version, ...patch } = ctx.params;
        const current = await getEntity(this.models.promotions, "promotion", id);
        new FieldErrors().addAll(promotionErrors({ ...current.toJSON(), ...patch })).throwIfAny();
        const doc = await patchEntity(this.models.promotions, "promotion", id, patch, version);
        return this.announce(ctx, ProgramEvents.promotionUpdated, doc, Object.keys(patch));
      },
    },
  },

  methods: {
    /** Emits the change (after the write) and returns the entity as the caller sees it. */
    async announce(this: Self, ctx: Ctx, event: string, doc: any, changed?: string[]) {
      const entity = doc.toJSON();
      await ctx.emit(event, { id: entity.id, version: entity.version, entity, changed_fields: changed, actor: ctx.meta.user?.token_id });
      return entity;
    },
    async setActive(this: Self, ctx: Ctx, model: any, entity: string, active: boolean, event: string) {
      const current = await getEntity(model, entity, ctx.params.id);
      if (current.is_active === active) return current.toJSON();
      const doc = await patchEntity(model, entity, ctx.params.id, { is_active: active }, current.version);
      return this.announce(ctx, event, doc, ["is_active"]);
    },
    /** The program a body refers to, or a 400 naming `program_id`. */
    async programOrFieldError(this: Self, programId: string) {
      const program = await this.models.programs.findById(programId);
      if (!program) new FieldErrors().add("program_id", `'program_id' ${programId} is not a program`, "exists").throwIfAny();
      return program!.toJSON();
    },
  },
};

interface Methods {
  announce(ctx: Ctx, event: string, doc: any, changed?: string[]): Promise<any>;
  setActive(ctx: Ctx, model: any, entity: string, active: boolean, event: string): Promise<any>;
  programOrFieldError(programId: string): Promise<any>;
}

export default ProgramsService;
