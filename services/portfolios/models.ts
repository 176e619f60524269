/**
 * Collections owned by the portfolios service.
 *
 * - `portfolios`: seed 000 + seed 004 fields, the sale once sold, the maintained first dates.
 * - `portfolio_loans`: the service's own projection of loans, keyed by loan id (DESIGN.md §1),
 *   fed by the loans service's durable events (shared/portfolios/loan-projection.ts).
 * - `loan_claims`: which portfolio holds each loan now, unique by loan id ("at most one").
 * - `portfolio_memberships`: every add and remove with its dates (as-of answers).
 * - `auto_assign_runs`: one record per business date, so the daily job is idempotent.
 *
 * On the embedded MongoDB server a filter with anything beside `_id` scans the collection, and
 * rewriting a big projection document costs far more than inserting a small one: so membership
 * lives in small documents of its own (claims, history) written by insert or by `_id`, and the
 * daily auto-assign touches no projection document at all.
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

/** Every add and remove with its dates (DESIGN.md §9): membership as of any past date. */
export const membershipSchema = new Schema(
  {
    _id: { type: String, required: true },
    loan_id: { type: String, required: true },
    portfolio_id: { type: String, required: true },
    added_on: { type: String, required: true },
    removed_on: { type: String, default: null },
    source: { type: String, required: true },
    removed_by: { type: String, default: null },
  },
  { versionKey: false },
);
membershipSchema.index({ portfolio_id: 1 });
membershipSchema.index({ loan_id: 1 });

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
    /** When the loan's last membership ended (a new one may not start before). */
    membership_end: { type: String, default: null },
    /** Ledger changes written to the projection whose portfolio first-date step is still to run. */
    pending_dates: { type: [Schema.Types.Mixed], default: [] },
  },
  { versionKey: false, minimize: false },
);
portfolioLoanSchema.index({ "m.status": 1 });

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
    /** The portfolio_memberships record this claim opened. */
    membership_id: { type: String, required: true },
    /** Set when the portfolio is sold. */
    investor_id: { type: String, default: null },
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
