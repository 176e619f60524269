/**
 * Collections owned by the snapshots service (DESIGN.md §10). Every hot write is by `_id`
 * (DESIGN.md §1: on the embedded server anything else scans); the secondary indexes serve the
 * list endpoints on a real MongoDB.
 *
 * - `snapshot_loans`: the projection, one document per loan (shared/snapshots/loan-projection.ts),
 *   `rev` guarding read-modify-write against a concurrent consumer; attributes, position and cash
 *   flows as JSON strings (services/snapshots/projection-store.ts says why).
 * - `snapshot_portfolios`: what the projection knows of each portfolio (name, program, status, sale).
 * - `snapshots`: one per (portfolio, business date) — `_id` `<portfolio>:<date>` — immutable once
 *   inserted; the sale's is `<portfolio>:<sale date>:sale`.
 * - `snapshot_rows`: the member loans each snapshot saw, in chunks `<snapshot>:<token>:<n>` of up
 *   to a few thousand rows (one JSON array each, deflated: services/snapshots/take.ts), so a tape
 *   built from them agrees with the snapshot by construction.
 * - `group_metrics`: program and vintage metrics per date, `_id` `<level>:<key>:<date>`.
 * - `snapshot_runs`: the daily job per business date (idempotent per D).
 */
import { Schema } from "mongoose";

const loose = { versionKey: false, minimize: false, strict: false } as const;

export const projectedLoanSchema = new Schema(
  { _id: { type: String, required: true }, version: Number, spans: [Schema.Types.Mixed], attributes_json: String, state_json: String, flows_json: String, figures: Schema.Types.Mixed, rev: Number },
  loose,
);

export const projectedPortfolioSchema = new Schema(
  { _id: { type: String, required: true }, version: Number, name: String, program_id: String, status: String, sale: Schema.Types.Mixed },
  loose,
);

export const snapshotSchema = new Schema(
  { _id: { type: String, required: true }, portfolio_id: String, business_date: String, kind: String },
  loose,
);
snapshotSchema.index({ portfolio_id: 1, business_date: 1 });
snapshotSchema.index({ business_date: 1 });

export const snapshotRowsSchema = new Schema({ _id: { type: String, required: true }, rows_z: Buffer, rows_json: String }, loose);

export const groupMetricsSchema = new Schema(
  { _id: { type: String, required: true }, level: String, key: String, business_date: String, metrics: Schema.Types.Mixed },
  loose,
);
groupMetricsSchema.index({ level: 1, key: 1, business_date: 1 });
groupMetricsSchema.index({ level: 1, business_date: 1 });

export const snapshotRunSchema = new Schema({ _id: { type: String, required: true }, status: String, counts: Schema.Types.Mixed, duration_ms: Number }, loose);
