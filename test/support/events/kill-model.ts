/**
 * What the kill test's consumer writes (test/support/events/consumer-process.ts) and the test
 * reads back (test/integration/events/kill-consumer.test.ts).
 */
import { Schema, type Connection, type Model } from "mongoose";

/** Counter buckets: one atomic, id-guarded write per event without one huge document. */
export const BUCKETS = 64;

/** FNV-1a: spreads event ids over the counter buckets. */
export function bucketOf(id: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193) >>> 0;
  return `b${h % BUCKETS}`;
}

export interface Bucket {
  _id: string;
  n: number;
  ids: string[];
}

export interface Applied {
  _id: string;
  delivery: number;
  pid: number;
}

export interface Redelivery {
  event_id: string;
  delivery: number;
  pid: number;
  /** applied: first applied on a redelivery (it was in flight, unapplied, at the kill);
   *  skipped: handleOnce found it processed (applied and recorded, but the ack was lost);
   *  no-op: applied but not recorded before the kill: the id guard made the second application a no-op. */
  outcome: "applied" | "skipped" | "no-op";
}

export interface KillModels {
  Buckets: Model<Bucket>;
  Applied: Model<Applied>;
  Redeliveries: Model<Redelivery>;
}

export function killModels(conn: Connection): KillModels {
  const opts = { versionKey: false } as const;
  return {
    Buckets: conn.models.Bucket ?? conn.model<Bucket>("Bucket", new Schema<Bucket>({ _id: String, n: Number, ids: [String] }, opts), "kill_buckets"),
    Applied: conn.models.Applied ?? conn.model<Applied>("Applied", new Schema<Applied>({ _id: String, delivery: Number, pid: Number }, opts), "kill_applied"),
    Redeliveries:
      conn.models.Redelivery ??
      conn.model<Redelivery>("Redelivery", new Schema<Redelivery>({ event_id: String, delivery: Number, pid: Number, outcome: String }, opts), "kill_redeliveries"),
  };
}
