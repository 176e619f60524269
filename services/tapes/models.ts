/**
 * Collections owned by the tapes service: configs (seed 000's Loan Tape Config), runs (one per
 * config and business date: idempotent), and the generated files as chunk documents keyed by
 * `<run id>:<n>` (every read is an `_id` lookup, DESIGN.md §1).
 */
import { Schema } from "mongoose";

const timestamps = { timestamps: { createdAt: "created_at", updatedAt: "updated_at" } } as const;

export const tapeConfigSchema = new Schema(
  {
    name: { type: String, required: true },
    portfolio_id: { type: String, required: true },
    tape_format: { type: String, required: true },
    tape_schedule: { type: String, required: true },
    required_fields: { type: [String], default: undefined },
    layout: String,
    recipient_email: { type: [String], required: true },
    version: { type: Number, default: 1 },
  },
  { ...timestamps, minimize: false },
);
tapeConfigSchema.index({ portfolio_id: 1 });

export const tapeRunSchema = new Schema(
  {
    /** `<config id>:<business date>`: a second run for the same date answers the first. */
    run_key: { type: String, required: true },
    config_id: { type: String, required: true },
    portfolio_id: { type: String, required: true },
    business_date: { type: String, required: true },
    tape_format: { type: String, required: true },
    trigger: String,
    /** running → completed | failed */
    status: { type: String, required: true },
    /** Where a failed run stopped: snapshot, reconcile, generate, email. */
    failed_stage: String,
    error: String,
    retryable: Boolean,
    attempts: { type: Number, default: 0 },
    row_count: Number,
    totals: Schema.Types.Mixed,
    reconciliation: Schema.Types.Mixed,
    file: Schema.Types.Mixed,
    email: Schema.Types.Mixed,
    started_at: Date,
    finished_at: Date,
  },
  { ...timestamps, minimize: false },
);
tapeRunSchema.index({ run_key: 1 }, { unique: true });
tapeRunSchema.index({ config_id: 1, business_date: -1 });
tapeRunSchema.index({ status: 1 });

export const tapeFileChunkSchema = new Schema({
  _id: { type: String, required: true },
  run_id: { type: String, required: true },
  n: { type: Number, required: true },
  data: { type: Buffer, required: true },
});
