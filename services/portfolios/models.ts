/**
 * Collections owned by the portfolios service.
 *
 * - `portfolios`: seed 000 + seed 004 fields, the sale once sold, the maintained first dates.
 * - `portfolio_loans`: the service's own projection of loans, keyed by loan id (DESIGN.md §1),
 *   fed by the loans service's durable events (shared/portfolios/loan-projection.ts), plus what
 *   this service owns about each loan: its current portfolio and its membership history. Keeping
 *   membership on the loan's own document makes "at most one portfolio" and the history one
 *   atomic single-document write.
 * - `loan_claims`: which portfolio holds each loan now (unique by loan id).
 * - `auto_assign_runs`: one record per business date, so the daily job is idempotent.
 *
 * On the embedded MongoDB server a filter with anything beside `_id` scans the collection, so
 * every write to `portfolio_loans` filters on `_id` alone; races are settled by the claim's
 * unique key (membership) or by checking the write's before-image (the projection).
 */
import { Schema } from "mongoose";

const D128 = Schema.Types.Decimal128;
const timestamps = { timestamps: { createdAt: "created_at", updatedAt: "updated_at" } } as const;

const saleLineSchema = new Schema(
  { assignment_id: String, loan_id: String, purchase_price: D128, principal_balance: D128 },
  { _id: false },
);

export const portfolioSchema = new Schema(
  {
    name: { type: String, required: true },
    description: String,
    program_id: { type: String, default: null },
    status: { type: String, required: true, default: "open" },
    criteria: { type: Schema.Types.Mixed, default: null },
    /** Auto-assign order: lower first, then older first. */
    priority: { type: Number, default: 100 },
    // Seed 004
    user_code: { type: String, required: true },
    portfolio_type: { type: String, required: true },
    short_name: String,
    public_name: { type: String, required: true },
    notes: String,
    accounts: { type: [String], default: [] },
    transaction_types: { type: [String], default: [] },
    responsibles: { type: [String], default: [] },
    counterparties: { type: [String], default: [] },
    first_transaction_date: { type: String, default: null },
    first_cash_flow_date: { type: String, default: null },
    /** Guards the maintained first dates (not the client's `version`). */
    dates_rev: { type: Number, default: 0 },
    /** Bumped by every membership change: a sale commits only over the members it read. */
    members_rev: { type: Number, default: 0 },
    closed_at: { type: Date, default: null },
    sale: {
      type: new Schema(
        {
          investor_id: String,
          sale_date: String,
          price: D128,
          sold_at: Date,
          actor: String,
          /** Seed 000 "snapshot at time of sale": what was sold, each loan's balance and price. */
          lines: { type: [saleLineSchema], default: [] },
        },
        { _id: false },
      ),
      default: null,
    },
    version: { type: Number, default: 1 },
  },
  { ...timestamps, minimize: false },
);
portfolioSchema.index({ user_code: 1 }, { unique: true });
portfolioSchema.index({ status: 1, priority: 1 });

const membershipSchema = new Schema(
  {
    portfolio_id: String,
    added_on: String,
    removed_on: { type: String, default: null },
    source: String,
    removed_by: { type: String, default: null },
  },
  { _id: false },
);

export const portfolioLoanSchema = new Schema(
  {
    _id: { type: String, required: true },
    version: { type: Number, required: true },
    attributes: { type: Schema.Types.Mixed, required: true },
    state: { type: Schema.Types.Mixed, required: true },
    ledger: { type: [Schema.Types.Mixed], default: [] },
    retired: { type: [String], default: [] },
    first_transaction_date: { type: String, default: null },
    first_cash_flow_date: { type: String, default: null },
    /** Criteria fields, typed for queries (shared/portfolios/criteria.ts criteriaDocument). */
    m: { type: Schema.Types.Mixed, default: {} },
    /** Bumped by every projection write: the before-image check of loan-events.ts compares it. */
    prev: { type: Number, default: 0 },
    portfolio_id: { type: String, default: null },
    investor_id: { type: String, default: null },
    memberships: { type: [membershipSchema], default: [] },
    /** Ledger changes written to the projection whose portfolio first-date step is still to run. */
    pending_dates: { type: [Schema.Types.Mixed], default: [] },
  },
  { versionKey: false, minimize: false },
);
portfolioLoanSchema.index({ portfolio_id: 1 });
portfolioLoanSchema.index({ "memberships.portfolio_id": 1 });
portfolioLoanSchema.index({ "m.status": 1, portfolio_id: 1 });

/**
 * A loan's claim on its portfolio, keyed by loan id: "at most one portfolio" is the unique `_id`
 * (an insert either wins or finds the owner), and on the embedded server only `_id` is a lookup,
 * so the projection's own writes can stay `_id`-only.
 */
export const loanClaimSchema = new Schema(
  {
    _id: { type: String, required: true },
    portfolio_id: { type: String, required: true },
    since: { type: String, required: true },
    source: { type: String, required: true },
  },
  { versionKey: false },
);
loanClaimSchema.index({ portfolio_id: 1 });

export const autoAssignRunSchema = new Schema(
  {
    _id: { type: String, required: true },
    status: { type: String, required: true },
    started_at: Date,
    completed_at: Date,
    scanned: Number,
    assigned: Number,
    by_portfolio: { type: Schema.Types.Mixed, default: {} },
    duration_ms: Number,
  },
  { versionKey: false, minimize: false },
);
