/**
 * Collections owned by the loans service (DESIGN.md §1, §7). Every hot path is an `_id` lookup
 * (the embedded wire server scans on anything else):
 *
 *   loans               the hot document: attributes, copied configuration, the engine's state
 *                       WITHOUT its installments, the position, and the pending mutation; the
 *                       nested parts no query looks into are JSON text (stored-loan.ts)
 *   loan_schedules      immutable installment lists, `_id` = `<loan>:<n>`; the loan points at one
 *                       and says how many of its rows are still to bill. A 360-month loan's hot
 *                       document stays the size of a 12-month one; a re-amortisation writes a new
 *                       schedule document before the loan write (an orphan if that write loses).
 *   loan_transactions   the ledger, one document per transaction, `_id` = `<loan>-<seq>` (seq from
 *                       the loan), so a loan's ledger is read by exact ids, never by a scan
 *   loan_idempotency    `_id` = `<loan>:<idempotency key>` → request hash and the first answer
 *                       (as a JSON string: see StoredPending in loan-store.ts)
 *   loan_external_ids   `_id` = the lender's external id → the loan (uniqueness without a sparse index)
 *   loan_modifications  rate changes and other modifications, `_id` = `<loan>:m<seq>`
 *   loan_promotions     PromoRate records, `_id` = `<loan>:p<seq>`
 *   loan_statements     line-of-credit statements, `_id` = `<loan>:s<seq>`
 *   loan_bucket_moves   the delinquency-bucket moves a close-of-business chunk made, `_id` =
 *                       `<loan>:b<seq>` (seq up to the loan's `bucket_seq`): kept (every move is,
 *                       servicing-pitfalls 6) but read by no view, so off the hot document
 *
 * Side documents are written after the loan, keyed by ids fixed inside the loan write, so a
 * retry after a crash writes the same documents again instead of new ones.
 */
import { Schema } from "mongoose";

const Mixed = Schema.Types.Mixed;
const timestamps = { timestamps: { createdAt: "created_at", updatedAt: "updated_at" } } as const;

export const loanSchema = new Schema(
  {
    external_id: { type: String, default: null },
    product_id: { type: String, required: true },
    program_id: { type: String, required: true },
    program_type: { type: String, required: true },
    status: { type: String, required: true },
    partition: { type: Number, required: true },
    /** The product's effective configuration at origination (DESIGN.md §7: copied, never re-read). */
    config: { type: Mixed, required: true },
    /** The create request's loan fields (principal, term, first payment date, lease/line fields). */
    request: { type: Mixed, required: true },
    borrower: { type: Mixed, default: null },
    annual_rate: { type: String, required: true },
    index_value: { type: String, default: null },
    origination_date: { type: String, required: true },
    disbursement_date: { type: String, default: null },
    maturity_date: { type: String, default: null },
    /** LoanTerms the schedule was generated from (without promotions' runtime state). */
    terms: { type: Mixed, default: null },
    /** The engine's LoanState without `installments` (see loan_schedules). */
    state: { type: Mixed, default: null },
    schedule_ref: { type: Mixed, default: null },
    /** Opening state at disbursement (without installments), the start of every replay. */
    opening_ref: { type: Mixed, default: null },
    position: { type: Mixed, default: null },
    /** JSON text, like config, request, borrower, terms, state and the histories (stored-loan.ts). */
    promotions: { type: Mixed, default: "[]" },
    ledger_seq: { type: Number, default: 0 },
    mod_seq: { type: Number, default: 0 },
    statement_seq: { type: Number, default: 0 },
    total_disbursed: { type: String, default: "0.00" },
    total_collected: { type: String, default: "0.00" },
    portfolio_id: { type: String, default: null },
    investor_id: { type: String, default: null },
    ownership_version: { type: Mixed, default: {} },
    /** Close of business (DESIGN.md §8): the date closed through, what it fined, when it resets. */
    closed_through: { type: String, default: null },
    close_chunk: { type: String, default: null },
    close_error: { type: Mixed, default: null },
    late_fees: { type: [String], default: [] },
    next_reset_date: { type: String, default: null },
    next_statement_date: { type: String, default: null },
    /** Bucket moves made by single-loan writes; the close's are in loan_bucket_moves (up to `bucket_seq`). */
    bucket_history: { type: Mixed, default: "[]" },
    bucket_seq: { type: Number, default: 0 },
    status_history: { type: Mixed, default: "[]" },
    pending: { type: Mixed, default: null },
    version: { type: Number, default: 1 },
  },
  { ...timestamps, minimize: false },
);
// Every write to a loan is guarded by its version. On the embedded wire server only `_id` or an
// exact match on a unique index is a lookup, so the pair gets a unique index of its own: measured
// there at 20,000 loans, 200 guarded updates took 3.2 s without it and 0.15 s with it, a bulk of
// 2,000 took 52 s without and 0.25 s with. (On MongoDB it is a small redundant index.)
loanSchema.index({ _id: 1, version: 1 }, { unique: true });
// (No index on pending.id: every clear of `pending` is keyed by {_id, version} as well. On the
// wire server each unique index is kept up to date on every update of a loan — two per mutation.)
// For the list endpoints on a real MongoDB (the embedded server scans either way).
loanSchema.index({ status: 1 });
loanSchema.index({ product_id: 1 });
loanSchema.index({ program_id: 1 });
loanSchema.index({ portfolio_id: 1 });
loanSchema.index({ investor_id: 1 });
loanSchema.index({ partition: 1, status: 1 });

export const loanScheduleSchema = new Schema({ _id: String, loan_id: String, installments: [Mixed], opening_state: Mixed }, { minimize: false, versionKey: false });

export const loanTransactionSchema = new Schema(
  {
    _id: String,
    loan_id: String,
    seq: Number,
    type: String,
    trade_date: String,
    amount: String,
    components: Mixed,
    status: String,
    cash_class: { type: String, default: null },
    reverses: { type: String, default: null },
    reversed_by: { type: String, default: null },
    rebooked_from: { type: String, default: null },
    idempotency_key: { type: String, default: null },
    allocation: { type: Mixed, default: null },
    fee_type: { type: String, default: null },
    booked_at: String,
    actor: { type: String, default: null },
    /** When a replay last moved this entry's allocation, and the loan version that moved it. */
    reallocated_at: { type: String, default: null },
    loan_version: { type: Number, default: null },
  },
  { minimize: false, versionKey: false },
);

export const loanIdempotencySchema = new Schema({ _id: String, loan_id: String, hash: String, response_json: String, response: Mixed, created_at: String }, { minimize: false, versionKey: false });
export const loanExternalIdSchema = new Schema({ _id: String, loan_id: String }, { versionKey: false });
export const loanModificationSchema = new Schema({ _id: String, loan_id: String, seq: Number, record: Mixed }, { minimize: false, versionKey: false });
export const loanPromotionSchema = new Schema({ _id: String, loan_id: String, seq: Number, record: Mixed }, { minimize: false, versionKey: false });
export const loanStatementSchema = new Schema({ _id: String, loan_id: String, seq: Number, record: Mixed }, { minimize: false, versionKey: false });
export const loanBucketMoveSchema = new Schema({ _id: String, loan_id: String, seq: Number, record: Mixed }, { minimize: false, versionKey: false });

/** Close-of-business bookkeeping: one run per business date, its work units (leased), its chunks. */
export const closeRunSchema = new Schema({ _id: String, business_date: String, status: String, started_at: Date, completed_at: Date, counts: Mixed, units: Number }, { minimize: false, versionKey: false });
export const closeUnitSchema = new Schema({ _id: String, business_date: String, unit: Number, owner: String, expires_at: Date, done: Boolean, counts: Mixed, chunks: Number }, { minimize: false, versionKey: false });
export const closeChunkSchema = new Schema({ _id: String, business_date: String, unit: Number, chunk: Number, loans: [Mixed], announced: Boolean }, { minimize: false, versionKey: false });
