/**
 * Transactional outbox without transactions (DESIGN.md §1). A service that moves money or
 * ownership first makes its business write, then writes the event here, keyed by the event id
 * (so writing it again, e.g. when a retried request re-runs, is a no-op), and only then publishes.
 * The relay publishes unpublished records in creation order and marks them published:
 * - right after each enqueue (fast path);
 * - on an interval (recovery: the process died between the business write and the publish, or
 *   the bus was unreachable).
 * A crash after the publish but before the mark republishes the record with the same id on the
 * next run; JetStream's duplicate window (Nats-Msg-Id) drops it, and consumers are idempotent
 * anyway. Several instances of a service may relay the same record at once for the same reason.
 *
 * The collection lives in the owning service's own database connection, beside its data.
 */
import { Schema, type Connection, type Model } from "mongoose";
import type { BusLogger, DurableBus, DurableEvent } from "./bus";
import { errorText } from "./delivery";
import { assertPublishSubject } from "./subjects";

export interface OutboxRecord {
  /** The event id: the dedupe key end to end (outbox, stream, consumers). */
  _id: string;
  subject: string;
  payload: unknown;
  occurred_at: string;
  /** Creation order within the writing process, roughly time order across processes. */
  seq: number;
  published: boolean;
  created_at: Date;
  published_at?: Date;
  attempts: number;
  last_error?: string;
}

export const OUTBOX_COLLECTION = "outbox";

export const outboxSchema = new Schema<OutboxRecord>(
  {
    _id: { type: String, required: true },
    subject: { type: String, required: true },
    // Mixed: the payload is stored as given (JSON-able: money as decimal strings, DESIGN.md §2).
    payload: { type: Schema.Types.Mixed },
    occurred_at: { type: String, required: true },
    seq: { type: Number, required: true },
    published: { type: Boolean, required: true, default: false },
    created_at: { type: Date, required: true },
    published_at: { type: Date },
    attempts: { type: Number, required: true, default: 0 },
    last_error: { type: String },
  },
  { versionKey: false, minimize: false },
);
// The relay's query: unpublished, oldest first. Also serves the purge of old published records.
outboxSchema.index({ published: 1, seq: 1 });

/** The outbox model on a service's connection (registered once per connection). */
export function outboxModel(conn: Connection, collection = OUTBOX_COLLECTION): Model<OutboxRecord> {
  const name = `durable_${collection}`;
  return (conn.models[name] as Model<OutboxRecord> | undefined) ?? conn.model<OutboxRecord>(name, outboxSchema, collection);
}

let lastSeq = 0;
/** Strictly increasing within the process, microsecond-scaled wall clock across processes. */
function nextSeq(): number {
  lastSeq = Math.max(lastSeq + 1, Date.now() * 1000);
  return lastSeq;
}

/**
 * Writes the event to the outbox. Returns false when a record with this id already exists
 * (the same event written twice: nothing changes, the first record stands).
 */
export async function enqueueOutbox(model: Model<OutboxRecord>, event: DurableEvent): Promise<boolean> {
  if (!event.id) throw new Error("durable event without id");
  // Refuse a bad subject here: in the outbox it would block every later record.
  assertPublishSubject(event.subject);
  const now = new Date();
  try {
    await model.create({
      _id: event.id,
      subject: event.subject,
      payload: event.payload ?? null,
      occurred_at: event.occurred_at ?? now.toISOString(),
      seq: nextSeq(),
      published: false,
      created_at: now,
      attempts: 0,
    });
    return true;
  } catch (err) {
    if ((err as { code?: number }).code === 11000) return false;
    throw err;
  }
}

/**
 * enqueueOutbox for many events in one insert, in order (their seq follows the array). An event
 * already in the outbox is skipped as above; any other failure is thrown.
 */
export async function enqueueOutboxMany(model: Model<OutboxRecord>, events: DurableEvent[]): Promise<void> {
  if (!events.length) return;
  for (const event of events) {
    if (!event.id) throw new Error("durable event without id");
    assertPublishSubject(event.subject);
  }
  const now = new Date();
  const records = events.map((e) => ({ _id: e.id, subject: e.subject, payload: e.payload ?? null, occurred_at: e.occurred_at ?? now.toISOString(), seq: nextSeq(), published: false, created_at: now, attempts: 0 }));
  try {
    await model.insertMany(records, { ordered: false });
  } catch (err: any) {
    const errors: any[] = err?.writeErrors ?? (err?.code === 11000 ? [err] : []);
    if (!errors.length || !errors.every((e) => (e?.err?.code ?? e?.code) === 11000)) throw err;
  }
}

export interface OutboxRelayOptions {
  model: Model<OutboxRecord>;
  bus: DurableBus;
  logger: BusLogger;
  /** Recovery interval. Default 5 s. */
  intervalMs?: number;
  /** Records read per query. Default 200. */
  batchSize?: number;
  /** Published records older than this are deleted (no TTL indexes here). Default 7 days; 0 = keep. */
  retentionMs?: number;
}

/** Publishes the outbox. One run at a time per relay; a kick during a run schedules one more. */
export class OutboxRelay {
  private readonly model: Model<OutboxRecord>;
  private readonly bus: DurableBus;
  private readonly logger: BusLogger;
  private readonly intervalMs: number;
  private readonly batchSize: number;
  private readonly retentionMs: number;
  private timer?: NodeJS.Timeout;
  private running?: Promise<number>;
  private again = false;
  private stopped = false;
  private lastPurge = 0;

  constructor(opts: OutboxRelayOptions) {
    this.model = opts.model;
    this.bus = opts.bus;
    this.logger = opts.logger;
    this.intervalMs = opts.intervalMs ?? 5_000;
    this.batchSize = opts.batchSize ?? 200;
    this.retentionMs = opts.retentionMs ?? 7 * 24 * 3600_000;
  }

  /** Starts the interval and runs once at once (publishes what a previous life left behind). */
  start(): void {
    this.stopped = false;
    this.timer ??= setInterval(() => void this.kick(), this.intervalMs);
    this.timer.unref?.();
    void this.kick();
  }

  /**
   * Asks for a run. Resolves when a run that started after this call has finished (errors are
   * logged, not thrown: the interval retries). Callers may ignore the promise.
   */
  kick(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.again = true;
    this.running ??= this.loop().finally(() => {
      this.running = undefined;
      // A kick that landed after the loop's last check: run again rather than wait for the interval.
      if (this.again) void this.kick();
    });
    return this.running.then(() => undefined);
  }

  /** Stops the interval and waits for a run in progress. Unpublished records stay for the next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private async loop(): Promise<number> {
    let total = 0;
    while (this.again && !this.stopped) {
      this.again = false;
      try {
        total += await this.drain();
        await this.purge();
      } catch (err) {
        this.logger.warn(`outbox relay: ${errorText(err)} (retrying on the next interval)`);
        // Leave retries to the interval, so an unreachable bus is not hammered.
        this.again = false;
        break;
      }
    }
    return total;
  }

  /** Publishes unpublished records oldest first until none are left or a publish fails. */
  async drain(): Promise<number> {
    let published = 0;
    for (;;) {
      if (this.stopped) return published;
      const batch = await this.model.find({ published: false }).sort({ seq: 1 }).limit(this.batchSize).lean();
      if (!batch.length) return published;
      const done: string[] = [];
      let failure: { id: string; error: unknown } | undefined;
      // In order, one at a time: a failure stops the run, so nothing overtakes an event that
      // could not be published (the interval retries it first).
      for (const r of batch) {
        try {
          await this.bus.publish({ id: r._id, subject: r.subject, payload: r.payload, occurred_at: r.occurred_at });
          done.push(r._id);
        } catch (error) {
          failure = { id: r._id, error };
          break;
        }
      }
      if (done.length) {
        await this.model.updateMany({ _id: { $in: done } }, { $set: { published: true, published_at: new Date() }, $inc: { attempts: 1 } });
        published += done.length;
      }
      if (failure) {
        await this.model
          .updateOne({ _id: failure.id }, { $set: { last_error: errorText(failure.error).slice(0, 2000) }, $inc: { attempts: 1 } })
          .catch(() => undefined);
        throw failure.error;
      }
      if (batch.length < this.batchSize) return published;
    }
  }

  private async purge(): Promise<void> {
    const now = Date.now();
    if (!this.retentionMs || now - this.lastPurge < 3600_000) return;
    this.lastPurge = now;
    await this.model.deleteMany({ published: true, published_at: { $lt: new Date(now - this.retentionMs) } });
  }
}
