/**
 * The durable bus of the embedded system (no TRANSPORTER): every service runs in one process, so
 * delivery is in memory, with JetStream's semantics so that code and tests written against one
 * hold on the other:
 * - publish dedupes by event id within a window (JetStream's Nats-Msg-Id duplicate window);
 * - a durable consumer per (consumer, subject) sees every retained event, including those
 *   published before it first subscribed, and keeps its backlog while no instance is attached;
 * - several instances of one durable share its work; each event goes to one of them;
 * - a failed handler is retried with a growing delay, then dead-lettered (`deadLetters()`);
 * - stop() naks what is in flight, so another instance gets it at once.
 * Payloads are serialised at publish (as on the wire), so a handler never shares objects with the
 * publisher. "Durable" here means for the life of the process: the outbox (outbox.ts) still
 * protects the publisher side across restarts.
 */
import type { BusLogger, ConsumeOptions, ConsumerHandle, DeadLetter, DeliveredEvent, DurableBus, DurableEvent } from "./bus";
import { notifyDeadLetter, runDelivery, settingsOf, type ConsumerSettings } from "./delivery";
import { assertFilterSubject, assertPublishSubject, durableName, subjectMatches } from "./subjects";

export interface InProcessBusOptions {
  logger: BusLogger;
  /** Ids seen within this window are dropped as duplicates. Default 5 min (as the JetStream stream). */
  duplicateWindowMs?: number;
  /** Events kept for durables that subscribe later (the stream's retention). Default 100 000. */
  maxRetained?: number;
  /**
   * The same retention bounded by size: the serialised events kept, in bytes (as a JetStream
   * stream's max_bytes). Default 64 MiB (DURABLE_BUS_MAX_BYTES). A count alone let the close of
   * business's batch events (a chunk's states each, ~36 KB) hold ~200 MB of a 200,000-loan close.
   */
  maxRetainedBytes?: number;
}

/** The in-process bus's byte budget from DURABLE_BUS_MAX_BYTES (a positive integer), else 64 MiB. */
export function retainedBytesFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.DURABLE_BUS_MAX_BYTES);
  return Number.isInteger(n) && n > 0 ? n : DEFAULT_MAX_RETAINED_BYTES;
}
export const DEFAULT_MAX_RETAINED_BYTES = 64 * 1024 * 1024;

/** One stored event: the subject for matching and the serialised envelope. */
interface Stored {
  subject: string;
  data: string;
}

interface Pending {
  stored: Stored;
  deliveries: number;
}

interface Instance {
  settings: ConsumerSettings;
  inflight: Set<Delivery>;
  stopped: boolean;
}

interface Delivery {
  pending: Pending;
  /** Set when stop() gave up waiting: the late outcome of the handler is then ignored. */
  abandoned: boolean;
  done: Promise<void>;
}

/** A durable consumer's state, which outlives its instances (as a JetStream durable does). */
interface Durable {
  name: string;
  filter: string;
  ready: Pending[];
  timers: Set<NodeJS.Timeout>;
  instances: Instance[];
  next: number;
}

export class InProcessBus implements DurableBus {
  readonly kind = "in-process" as const;
  private readonly logger: BusLogger;
  private readonly duplicateWindowMs: number;
  private readonly maxRetained: number;
  private readonly maxRetainedBytes: number;
  /** The serialised size of `retained` (string length: the envelopes are JSON, mostly ASCII). */
  private retainedBytes = 0;
  private readonly seen = new Map<string, number>();
  private readonly retained: Stored[] = [];
  private readonly durables = new Map<string, Durable>();
  private readonly dead: DeadLetter[] = [];
  private closed = false;

  constructor(opts: InProcessBusOptions) {
    this.logger = opts.logger;
    this.duplicateWindowMs = opts.duplicateWindowMs ?? 5 * 60_000;
    this.maxRetained = opts.maxRetained ?? 100_000;
    this.maxRetainedBytes = opts.maxRetainedBytes ?? DEFAULT_MAX_RETAINED_BYTES;
  }

  async publish(event: DurableEvent): Promise<void> {
    if (this.closed) throw new Error("durable bus is closed");
    assertPublishSubject(event.subject);
    if (!event.id) throw new Error("durable event without id");
    const now = Date.now();
    this.forgetOldIds(now);
    if (this.seen.has(event.id)) {
      this.logger.debug(`durable event ${event.id} (${event.subject}) is a duplicate: dropped`);
      return;
    }
    this.seen.set(event.id, now);
    const stored: Stored = {
      subject: event.subject,
      data: JSON.stringify({
        id: event.id,
        subject: event.subject,
        payload: event.payload ?? null,
        occurred_at: event.occurred_at ?? new Date(now).toISOString(),
      }),
    };
    this.retained.push(stored);
    this.retainedBytes += stored.data.length;
    this.trimRetained();
    for (const d of this.durables.values()) {
      if (subjectMatches(d.filter, stored.subject)) {
        d.ready.push({ stored, deliveries: 0 });
        this.schedulePump(d);
      }
    }
  }

  async consume(opts: ConsumeOptions): Promise<ConsumerHandle> {
    if (this.closed) throw new Error("durable bus is closed");
    assertFilterSubject(opts.subject);
    const settings = settingsOf(opts);
    const name = durableName(settings.consumer, settings.subject);
    let durable = this.durables.get(name);
    if (!durable) {
      // New durable: deliver everything retained that matches (JetStream's deliver policy "all").
      durable = { name, filter: settings.subject, ready: [], timers: new Set(), instances: [], next: 0 };
      for (const stored of this.retained) {
        if (subjectMatches(durable.filter, stored.subject)) durable.ready.push({ stored, deliveries: 0 });
      }
      this.durables.set(name, durable);
    }
    const instance: Instance = { settings, inflight: new Set(), stopped: false };
    durable.instances.push(instance);
    this.schedulePump(durable);
    const d = durable;
    return { stop: () => this.stopInstance(d, instance), pending: async () => this.backlog(d) };
  }

  async deadLetters(limit = 1000): Promise<DeadLetter[]> {
    return this.dead.slice(0, limit).map((x) => structuredClone(x));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const stops: Promise<void>[] = [];
    for (const d of this.durables.values()) {
      for (const t of d.timers) clearTimeout(t);
      d.timers.clear();
      for (const i of [...d.instances]) stops.push(this.stopInstance(d, i));
    }
    await Promise.all(stops);
  }

  /** Waiting + waiting to be retried + in flight on any instance. */
  private backlog(d: Durable): number {
    return d.ready.length + d.timers.size + d.instances.reduce((n, i) => n + i.inflight.size, 0);
  }

  /** Deliveries start on a later tick: publish never runs a handler synchronously. */
  private schedulePump(d: Durable): void {
    setImmediate(() => this.pump(d));
  }

  private pump(d: Durable): void {
    if (this.closed) return;
    // Round-robin over instances with a free slot, as JetStream spreads a durable's messages.
    while (d.ready.length && d.instances.length) {
      let chosen: Instance | undefined;
      for (let k = 0; k < d.instances.length; k++) {
        const candidate = d.instances[(d.next + k) % d.instances.length];
        if (candidate.inflight.size < candidate.settings.concurrency) {
          chosen = candidate;
          d.next = (d.next + k + 1) % d.instances.length;
          break;
        }
      }
      if (!chosen) return;
      this.deliver(d, chosen, d.ready.shift()!);
    }
  }

  private deliver(d: Durable, instance: Instance, pending: Pending): void {
    pending.deliveries++;
    const event: DeliveredEvent = { ...(JSON.parse(pending.stored.data) as Omit<DeliveredEvent, "delivery">), delivery: pending.deliveries };
    const delivery: Delivery = { pending, abandoned: false, done: Promise.resolve() };
    instance.inflight.add(delivery);
    delivery.done = runDelivery(event, instance.settings).then((outcome) => {
      instance.inflight.delete(delivery);
      if (delivery.abandoned || this.closed) return;
      if (outcome.kind === "retry") {
        this.logger.warn(
          `durable ${d.name}: event ${event.id} failed (delivery ${event.delivery}/${instance.settings.maxDeliver}), retry in ${outcome.delayMs} ms: ${firstLine(outcome.error)}`,
        );
        const t = setTimeout(() => {
          d.timers.delete(t);
          d.ready.push(pending);
          this.pump(d);
        }, outcome.delayMs);
        t.unref?.();
        d.timers.add(t);
      } else if (outcome.kind === "dead") {
        this.logger.error(`durable ${d.name}: event ${event.id} dead-lettered after ${event.delivery} deliveries: ${firstLine(outcome.error)}`);
        const { delivery: deliveries, ...rest } = event;
        const letter: DeadLetter = { consumer: instance.settings.consumer, event: rest, deliveries, error: outcome.error, failed_at: new Date().toISOString() };
        this.dead.push(letter);
        notifyDeadLetter(instance.settings, structuredClone(letter), this.logger);
      }
      this.pump(d);
    });
  }

  private async stopInstance(d: Durable, instance: Instance): Promise<void> {
    if (instance.stopped) return;
    instance.stopped = true;
    d.instances = d.instances.filter((i) => i !== instance);
    if (instance.inflight.size) {
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((done) => (timer = setTimeout(done, instance.settings.shutdownGraceMs)));
      await Promise.race([Promise.all([...instance.inflight].map((x) => x.done)), grace]);
      clearTimeout(timer);
    }
    // Nak what is still running: back to the head of the backlog for the next instance.
    const abandoned = [...instance.inflight];
    for (const x of abandoned) x.abandoned = true;
    instance.inflight.clear();
    if (abandoned.length) {
      d.ready.unshift(...abandoned.map((x) => x.pending));
      this.schedulePump(d);
    }
  }

  /**
   * Drops the oldest retained events beyond the count or the byte budget, as a JetStream stream
   * with limits discards its oldest messages. What goes is gone for a durable created later: its
   * "deliver all" sees only what is still retained. A durable that exists keeps its own backlog
   * (`ready` holds its events), so no consumer that was subscribed loses an event. Trimmed in
   * chunks, past 110 % of a limit back to it: Array#shift per publish would be O(n) each time.
   */
  private trimRetained(): void {
    const overCount = this.retained.length > this.maxRetained * 1.1;
    const overBytes = this.retainedBytes > this.maxRetainedBytes * 1.1 && this.retained.length > 1;
    if (!overCount && !overBytes) return;
    let drop = Math.max(0, this.retained.length - this.maxRetained);
    let bytes = this.retainedBytes;
    for (let i = 0; i < drop; i++) bytes -= this.retained[i].data.length;
    // Always keep the newest event, whatever its size.
    while (bytes > this.maxRetainedBytes && drop < this.retained.length - 1) bytes -= this.retained[drop++].data.length;
    this.retained.splice(0, drop);
    this.retainedBytes = bytes;
  }

  /** What is retained for durables created later: events and their serialised size. */
  retention(): { events: number; bytes: number } {
    return { events: this.retained.length, bytes: this.retainedBytes };
  }

  private forgetOldIds(now: number): void {
    // Map iteration is insertion order, i.e. oldest first.
    for (const [id, at] of this.seen) {
      if (now - at <= this.duplicateWindowMs) break;
      this.seen.delete(id);
    }
  }
}

function firstLine(text: string): string {
  const nl = text.indexOf("\n");
  return nl < 0 ? text : text.slice(0, nl);
}
