/** Collections owned by the scheduler: the tick ledger. */
import { Schema } from "mongoose";

export const tickSchema = new Schema(
  {
    // `${job}:${business_date}`: the ledger's key is the idempotency key of the tick.
    _id: { type: String, required: true },
    job: { type: String, required: true },
    business_date: { type: String, required: true },
    trigger: { type: String, required: true },
    emitted_at: { type: Date, required: true },
    requested_by: String,
  },
  { versionKey: false },
);
tickSchema.index({ job: 1, business_date: -1 });
