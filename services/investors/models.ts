/**
 * Collections owned by the investors service. Bank details are stored only sealed (AES-256-GCM,
 * shared/crypto/field-encryption.ts): `bank_details_sealed` names its key id, so keys rotate.
 * An investor's id is a string: the one its token names (`token:investor:<id>`), chosen at
 * creation or generated.
 */
import { Schema } from "mongoose";

const timestamps = { timestamps: { createdAt: "created_at", updatedAt: "updated_at" } } as const;

export const investorSchema = new Schema(
  {
    _id: { type: String, required: true },
    name: { type: String, required: true },
    investor_type: { type: String, required: true },
    contact: { type: new Schema({ email: String, phone: String, address: String }, { _id: false }), default: {} },
    bank_details_sealed: { type: Schema.Types.Mixed, default: null },
    version: { type: Number, default: 1 },
  },
  { ...timestamps, minimize: false },
);
investorSchema.index({ name: 1 });

export const assignmentSchema = new Schema(
  {
    _id: { type: String, required: true },
    investor_id: { type: String, required: true },
    loan_id: { type: String, required: true },
    portfolio_id: { type: String, default: null },
    assignment_date: { type: String, required: true },
    purchase_price: { type: Schema.Types.Decimal128, required: true },
    source: { type: String, required: true },
  },
  { ...timestamps, minimize: false },
);
assignmentSchema.index({ investor_id: 1, assignment_date: 1 });
assignmentSchema.index({ loan_id: 1 });
