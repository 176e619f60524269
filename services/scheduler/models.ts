/** Collections owned by the scheduler: the job-run ledger (shared/scheduler/job-run.ts). */
import { Schema } from "mongoose";
import { RUN_STATES } from "../../shared/scheduler/job-run";

const attemptSchema = new Schema(
  {
    attempt: Number,
    state: String,
    started_at: Date,
    finished_at: Date,
    duration_ms: Number,
    error: String,
  },
  { _id: false },
);

export const tickSchema = new Schema(
  {
    // `${job}:${business_date}`: the ledger's key is the idempotency key of the tick.
    _id: { type: String, required: true },
    job: { type: String, required: true },
    service: { type: String, required: true },
    business_date: { type: String, required: true },
    state: { type: String, enum: RUN_STATES, required: true },
    /** The trigger of the emitted tick: what asked for this date (or "chain" for a downstream job). */
    trigger: { type: String, required: true },
    requested_by: String,
    attempt: { type: Number, required: true, default: 0 },
    max_attempt: { type: Number, required: true },
    created_at: { type: Date, required: true },
    /** The last attempt's tick. */
    emitted_at: Date,
    started_at: Date,
    finished_at: Date,
    duration_ms: Number,
    counts: { type: Schema.Types.Mixed },
    error: String,
    /** Why the job was skipped. */
    reason: String,
    next_attempt_at: Date,
    attempts: { type: [attemptSchema], default: [] },
  },
  { versionKey: false, minimize: false },
);
// The open part of the ledger (what the planner reads) and the history list's filters.
tickSchema.index({ state: 1, business_date: 1 });
tickSchema.index({ job: 1, business_date: -1 });
tickSchema.index({ business_date: -1 });
