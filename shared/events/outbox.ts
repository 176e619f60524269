/**
 * Transactional outbox without transactions (DESIGN.md §1). A service that moves money or
 * ownership first makes its business write, then writes the event here, keyed by the event id
 * (so writing it again, e.g. when a retried request re-runs, is a no-op), and only then publishes.
 * The relay publishes unpublished records in creation order and then deletes them (or, with a
 * retention, marks them published and deletes them later). It keeps up to PUBLISH_WINDOW publishes
 * in flight: they reach the stream in order, and one at a time (a round trip each to JetStream)
 * could not keep up with the payments path — the backlog grew by thousands a minute, every run
 * became a scan of it, and events reached consumers later and later. A publish that fails leaves
 * its record for the next run; records after it in the same window may be in the stream before
 * it then — the reordering a JetStream redelivery causes too, which every consumer already takes
 * (handlers are idempotent; loan events carry the loan's version and older ones are ignored).
 * - right after each enqueue (fast path): the records this process just wrote, from memory, marked
 *   by `_id` — no query over the outbox, which on the embedded wire server would scan every record
 *   kept (the payments and close-of-business paths enqueue thousands a minute). Taken only while
 *   the relay knows nothing older waits: after a failure, or at start, the next run is a scan;
 * - on an interval (recovery: the process died between the business write and the publish, or
 *   the bus was unreachable), by a query for unpublished records oldest first.
 * A crash after the publish but before the delete (or mark) republishes the record with the same
 * id on the next run; JetStream's duplicate window (Nats-Msg-Id) drops it, and consumers are
 * idempotent anyway. Several instances of a service may relay the same record at once for the
 * same reason, and a record written again after it went (a retried request) is published again
 * under its id, with the same outcome.
 *
 * Why delete: the stream is the durable record of what was published; a copy kept here would make
 * the collection grow with the traffic, and on the embedded wire server every query that is not
 * an `_id` lookup — the recovery scan, the purge — reads the whole collection (at a few hundred
 * events a second, an hour's records are a million), while a delete is cheaper there than the
 * update a mark is. `OUTBOX_RETENTION_MS` keeps published records for inspection instead.
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

/** Publishes in flight at once (each JetStream publish waits for its own ack). */
export const PUBLISH_WINDOW = 256;

/**
 * Publishes the events in order, up to PUBLISH_WINDOW in flight. Answers the ids the bus stored
 * and the first failure (the caller keeps that record and any other that failed for a retry).
 */
export async function publishInOrder(bus: DurableBus, events: readonly DurableEvent[], stopped: () => boolean = () => false): Promise<{ done: string[]; failure?: { id: string; error: unknown } }> {
  const done: string[] = [];
  for (let from = 0; from < events.length && !stopped(); from += PUBLISH_WINDOW) {
    const window = events.slice(from, from + PUBLISH_WINDOW);
    const results = await Promise.allSettled(window.map((e) => bus.publish({ id: e.id, subject: e.subject, payload: e.payload ?? null, occurred_at: e.occurred_at })));
    let failure: { id: string; error: unknown } | undefined;
    results.forEach((r, i) => {
      if (r.status === "fulfilled") done.push(window[i].id!);
      else failure ??= { id: window[i].id!, error: r.reason };
    });
    if (failure) return { done, failure };
  }
  return { done };
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
 * Writes many events at once (a batch job's events: one insert per chunk instead of one per
 * event). Ids already present are skipped, as in enqueueOutbox. Returns how many were new.
 */
export async function enqueueOutboxMany(model: Model<OutboxRecord>, events: readonly DurableEvent[]): Promise<number> {
  return (await writeOutboxMany(model, events)).length;
}

/** enqueueOutboxMany, answering the events that were new (in order): the relay's fast path publishes those. */
export async function writeOutboxMany(model: Model<OutboxRecord>, events: readonly DurableEvent[]): Promise<DurableEvent[]> {
  if (!events.length) return [];
  const now = new Date();
  const docs = events.map((event) => {
    if (!event.id) throw new Error("durable event without id");
    assertPublishSubject(event.subject);
    return { _id: event.id, subject: event.subject, payload: event.payload ?? null, occurred_at: event.occurred_at ?? now.toISOString(), seq: nextSeq(), published: false, created_at: now, attempts: 0 };
  });
  try {
    await model.collection.insertMany(docs as any[], { ordered: false });
    return [...events];
  } catch (err) {
    const e = err as { writeErrors?: { code?: number; index?: number }[] | { code?: number; index?: number } };
    const writeErrors = Array.isArray(e.writeErrors) ? e.writeErrors : e.writeErrors ? [e.writeErrors] : [];
    // Counted from the failures: the embedded server's reply overstates insertedCount.
    if (writeErrors.length && writeErrors.every((w) => w.code === 11000)) {
      const existing = new Set(writeErrors.map((w) => w.index));
      return events.filter((_, i) => !existing.has(i));
    }
    throw err;
  }
}

export interface OutboxRelayOptions {
  model: Model<OutboxRecord>;
  bus: DurableBus;
  logger: BusLogger;
  /** How often the relay looks whether it owes a run (a failed publish is retried then). Default 5 s. */
  intervalMs?: number;
  /**
   * While the fast path is healthy, how often a scan looks for records left unpublished (another
   * process died between its write and its publish and never came back — one that restarts scans
   * at its start — or a record this process wrote outside the fast path). Default 5 s: a CI run saw
   * one event wait past 10 s with 60 s, its cause not yet found. The scan reads the whole
   * collection on the embedded server — only unpublished records once published ones are
   * deleted (33–80 ms at 100,000 kept records) — and is a lookup on an index elsewhere.
   */
  scanEveryMs?: number;
  /** Records read per query. Default 200. */
  batchSize?: number;
  /**
   * How long published records are kept, marked `published` (deleted after it, every tenth of it
   * at most; no TTL indexes here). Default `OUTBOX_RETENTION_MS`, else 0: deleted once published.
   */
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
  private readonly scanEveryMs: number;
  private lastScan = 0;
  /** Records written by this process since the last run, in write order (the fast path's work). */
  private fresh: DurableEvent[] = [];
  /** True once a scan found nothing left behind and no publish has failed since: fresh may skip the scan. */
  private clean = false;
  /** A scan is owed (the interval fired, start, or a kick without records). */
  private scanDue = false;

  constructor(opts: OutboxRelayOptions) {
    this.model = opts.model;
    this.bus = opts.bus;
    this.logger = opts.logger;
    this.intervalMs = opts.intervalMs ?? 5_000;
    this.batchSize = opts.batchSize ?? 200;
    this.retentionMs = opts.retentionMs ?? outboxRetentionFromEnv();
    this.scanEveryMs = opts.scanEveryMs ?? 5_000;
  }

  /** Starts the interval and runs once at once (publishes what a previous life left behind). */
  start(): void {
    this.stopped = false;
    this.clean = false;
    this.timer ??= setInterval(() => this.onInterval(), this.intervalMs);
    this.timer.unref?.();
    void this.kick();
  }

  /**
   * Asks for a run. With `written` (records this process has just written to the outbox, in
   * order) the run publishes those; without, it scans the outbox. Resolves when a run that
   * started after this call has finished (errors are logged, not thrown: the interval retries).
   * Callers may ignore the promise.
   */
  kick(written?: readonly DurableEvent[]): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (written?.length) this.fresh.push(...written);
    else this.scanDue = true;
    return this.schedule();
  }

  private schedule(): Promise<void> {
    this.again = true;
    this.running ??= this.loop().finally(() => {
      this.running = undefined;
      // A kick that landed after the loop's last check: run again rather than wait for the interval.
      if (this.again && !this.stopped) void this.schedule();
    });
    return this.running.then(() => undefined);
  }

  /** A failed publish is retried each interval; a healthy relay scans every scanEveryMs. */
  private onInterval(): void {
    if (!this.clean || Date.now() - this.lastScan >= this.scanEveryMs) void this.kick();
    else if (this.fresh.length) void this.schedule();
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
        if (this.scanDue || !this.clean) {
          // A scan covers every fresh record too: each was written before it was queued.
          this.scanDue = false;
          this.fresh = [];
          total += await this.drain();
          this.clean = true;
          this.lastScan = Date.now();
          await this.purge();
        } else {
          total += await this.publishFresh();
        }
      } catch (err) {
        this.clean = false;
        this.logger.warn(`outbox relay: ${errorText(err)} (retrying on the next interval)`);
        // Leave retries to the interval, so an unreachable bus is not hammered.
        this.again = false;
        break;
      }
    }
    return total;
  }

  /**
   * The fast path: publishes the records written since the last run, in order, and marks them by
   * `_id`. A failure leaves the failed records (and any window not yet sent) unpublished, for the scan.
   */
  private async publishFresh(): Promise<number> {
    const batch = this.fresh;
    this.fresh = [];
    const { done, failure } = await publishInOrder(this.bus, batch, () => this.stopped);
    if (done.length) await this.markPublished(done);
    if (failure) await this.recordFailure(failure);
    // Stopped midway: what is left stays unpublished for the next start's scan.
    return done.length;
  }

  /** Notes the error on the record and throws it: the run stops, the next one is a scan. */
  private async recordFailure(failure: { id: string; error: unknown }): Promise<never> {
    await this.model
      .updateOne({ _id: failure.id }, { $set: { last_error: errorText(failure.error).slice(0, 2000) }, $inc: { attempts: 1 } })
      .catch(() => undefined);
    throw failure.error;
  }

  /** One round trip, each record found by `_id` (a lookup on every server): deleted, or marked when kept. */
  private async markPublished(ids: readonly string[]): Promise<void> {
    if (!this.retentionMs) {
      await this.model.collection.deleteMany({ _id: { $in: [...ids] } } as any);
      return;
    }
    const update = { $set: { published: true, published_at: new Date() }, $inc: { attempts: 1 } };
    await this.model.bulkWrite(ids.map((_id) => ({ updateOne: { filter: { _id }, update } })), { ordered: false });
  }

  /** Publishes unpublished records oldest first until none are left or a publish fails. */
  async drain(): Promise<number> {
    let published = 0;
    for (;;) {
      if (this.stopped) return published;
      const batch = await this.model.find({ published: false }).sort({ seq: 1 }).limit(this.batchSize).lean();
      if (!batch.length) return published;
      // A failure stops the run (the interval retries it, oldest first).
      const { done, failure } = await publishInOrder(this.bus, batch.map((r) => ({ id: r._id, subject: r.subject, payload: r.payload, occurred_at: r.occurred_at })), () => this.stopped);
      if (done.length) {
        await this.markPublished(done);
        published += done.length;
      }
      if (failure) await this.recordFailure(failure);
      if (batch.length < this.batchSize) return published;
    }
  }

  /** Published records past the retention (only when records are kept). */
  private async purge(): Promise<void> {
    const now = Date.now();
    if (!this.retentionMs || now - this.lastPurge < this.retentionMs / 10) return;
    this.lastPurge = now;
    await this.model.deleteMany({ published: true, published_at: { $lt: new Date(now - this.retentionMs) } });
  }
}

/** OUTBOX_RETENTION_MS: how long published records are kept (default 0: deleted once published). */
export function outboxRetentionFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.OUTBOX_RETENTION_MS;
  if (raw === undefined || raw === "") return 0;
  const ms = Number(raw);
  if (!Number.isFinite(ms) || ms < 0) throw new Error(`OUTBOX_RETENTION_MS must be a number of milliseconds ≥ 0, not '${raw}'`);
  return ms;
}
