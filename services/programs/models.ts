/**
 * Collections owned by the programs service. Money and rates are Decimal128 (exact; strings on
 * the wire), business dates are ISO date strings (they sort and compare as dates).
 */
import { Schema } from "mongoose";

const D128 = Schema.Types.Decimal128;
const timestamps = { timestamps: { createdAt: "created_at", updatedAt: "updated_at" } } as const;

export const programSchema = new Schema(
  {
    name: { type: String, required: true },
    description: String,
    program_type: { type: String, required: true },
    day_count_convention: { type: String, required: true },
    accrual_method: { type: String, required: true },
    payment_allocation_order: { type: [String], required: true },
    is_active: { type: Boolean, default: true },
    // Variable-rate support (seed 003): index + margin, clamped to floor/ceiling, reset on a cadence.
    index_name: String,
    margin: D128,
    floor: D128,
    ceiling: D128,
    adjustment_frequency: String,
    program_config: { type: Schema.Types.Mixed, default: {} },
    version: { type: Number, default: 1 },
  },
  { ...timestamps, minimize: false },
);
programSchema.index({ name: 1 }, { unique: true });
programSchema.index({ program_type: 1, is_active: 1 });

export const productSchema = new Schema(
  {
    name: { type: String, required: true },
    description: String,
    program_id: { type: Schema.Types.ObjectId, required: true },
    interest_rate_type: { type: String, required: true },
    default_interest_rate: { type: D128, required: true },
    fixed_period_months: Number,
    min_term_months: { type: Number, required: true },
    max_term_months: { type: Number, required: true },
    min_loan_amount: { type: D128, required: true },
    max_loan_amount: { type: D128, required: true },
    grace_period_days: { type: Number, required: true },
    program_config: { type: Schema.Types.Mixed, default: {} },
    is_active: { type: Boolean, default: true },
    version: { type: Number, default: 1 },
  },
  { ...timestamps, minimize: false },
);
productSchema.index({ name: 1 }, { unique: true });
productSchema.index({ program_id: 1, is_active: 1 });

const feeSchema = new Schema(
  {
    fee_type: { type: String, required: true },
    calculation: { type: String, required: true },
    amount: D128,
    percent: D128,
    percent_basis: String,
    min_amount: D128,
    max_amount: D128,
  },
  { _id: false },
);

export const feeScheduleSchema = new Schema(
  {
    name: { type: String, required: true },
    product_id: { type: Schema.Types.ObjectId, required: true },
    fees: { type: [feeSchema], default: [] },
    is_active: { type: Boolean, default: true },
    version: { type: Number, default: 1 },
  },
  timestamps,
);
feeScheduleSchema.index({ product_id: 1, name: 1 }, { unique: true });

export const promotionSchema = new Schema(
  {
    name: { type: String, required: true },
    description: String,
    program_id: { type: Schema.Types.ObjectId, required: true },
    promo_type: { type: String, required: true },
    start_date: { type: String, required: true },
    end_date: { type: String, required: true },
    apr: D128,
    deferred_interest_rate: D128,
    min_payment_type: String,
    min_payment_amount: D128,
    is_active: { type: Boolean, default: true },
    version: { type: Number, default: 1 },
  },
  timestamps,
);
promotionSchema.index({ program_id: 1, start_date: 1 });
promotionSchema.index({ program_id: 1, name: 1 }, { unique: true });
