/** Collections owned by the rates service. */
import { Schema } from "mongoose";

export const indexRateSchema = new Schema(
  {
    index_name: { type: String, required: true },
    rate: { type: Schema.Types.Decimal128, required: true },
    effective_date: { type: String, required: true },
    // Computed from the series (shared/rates), never typed in; refreshed when an earlier rate changes.
    trailing_12_month_average: { type: Schema.Types.Decimal128, default: null },
    source: String,
    version: { type: Number, default: 1 },
  },
  { timestamps: { createdAt: "created_at", updatedAt: "updated_at" } },
);
// One rate per index per day; also the index every lookup ("rate of X on D") walks.
indexRateSchema.index({ index_name: 1, effective_date: 1 }, { unique: true });
