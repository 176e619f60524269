/**
 * Idempotent consumption: delivery is at-least-once (a crash before the ack, a nak on shutdown,
 * an ack lost on the wire all redeliver), so every consuming service records the events it has
 * processed in its own `processed_events` collection, `_id` = `<consumer>:<event id>` (unique by
 * construction), and skips an event it finds there.
 *
 * IMPORTANT — `apply` must itself be idempotent, keyed by the event id. Without multi-document
 * transactions (DESIGN.md §1) there is a window between `apply` succeeding and the processed
 * record being written: a crash there redelivers the event with no record, and `apply` runs a
 * second time. Make its writes no-ops the second time: insert side records with `_id` derived from
 * the event id (duplicate key = already done), and guard single-document updates with the event
 * id (e.g. `{ _id, applied_events: { $ne: eventId } }` + `$push`) or a version check. The record
 * here is the fast path that makes most redeliveries cost one read; it is not the only guard.
 */
import { Schema, type Connection, type Model } from "mongoose";

export interface ProcessedEvent {
  /** `<consumer>:<event id>` */
  _id: string;
  consumer: string;
  event_id: string;
  subject: string;
  /** The delivery that applied it (> 1 means it was applied on a redelivery). */
  delivery: number;
  processed_at: Date;
}

export const PROCESSED_EVENTS_COLLECTION = "processed_events";

export const processedEventSchema = new Schema<ProcessedEvent>(
  {
    _id: { type: String, required: true },
    consumer: { type: String, required: true },
    event_id: { type: String, required: true },
    subject: { type: String, required: true },
    delivery: { type: Number, required: true },
    processed_at: { type: Date, required: true },
  },
  { versionKey: false },
);

/** The processed-events model on a service's connection (registered once per connection). */
export function processedEventsModel(conn: Connection, collection = PROCESSED_EVENTS_COLLECTION): Model<ProcessedEvent> {
  const name = `durable_${collection}`;
  return (conn.models[name] as Model<ProcessedEvent> | undefined) ?? conn.model<ProcessedEvent>(name, processedEventSchema, collection);
}

export function processedKey(consumer: string, eventId: string): string {
  return `${consumer}:${eventId}`;
}

export type HandleOnceResult = "applied" | "duplicate";

/**
 * Runs `apply` unless `consumer` has already processed this event, then records it.
 * Throws what `apply` throws (the bus then retries); the record is written only after success.
 * `opts.collection`: where the records live (default `processed_events`; the mixin uses
 * `<service>_processed_events`, since services may share one database).
 */
export async function handleOnce(
  conn: Connection,
  consumer: string,
  event: { id: string; subject: string; delivery?: number },
  apply: () => Promise<void>,
  opts: { collection?: string } = {},
): Promise<HandleOnceResult> {
  const model = processedEventsModel(conn, opts.collection);
  const _id = processedKey(consumer, event.id);
  if (await model.exists({ _id })) return "duplicate";
  await apply();
  try {
    await model.create({ _id, consumer, event_id: event.id, subject: event.subject, delivery: event.delivery ?? 1, processed_at: new Date() });
  } catch (err) {
    // Two instances processed it concurrently (e.g. a redelivery after ack_wait): both applied,
    // which the idempotent `apply` made harmless; one record is enough.
    if ((err as { code?: number }).code !== 11000) throw err;
  }
  return "applied";
}
