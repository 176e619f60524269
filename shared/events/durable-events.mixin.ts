/**
 * Durable events for a Moleculer service (DESIGN.md §1), after the Mongo mixin:
 *
 *   mixins: [MongoMixin({...}), DurableEventsMixin({ subscriptions: { "loan.payment.applied": "onPaymentApplied" } })]
 *
 * - `this.publishDurable(subject, id, payload)` writes the event to the service's outbox
 *   (`<service>_outbox`; the same id twice = one event) and kicks the relay, which publishes it on
 *   the bus; the relay's interval publishes whatever a crash left behind.
 * - each subscription runs one durable consumer named after the service, calling the named method
 *   with the DeliveredEvent through handleOnce (`<service>_processed_events`, keyed
 *   `<service>/<method>:<event id>`), so a redelivery is skipped. The method must still be
 *   idempotent by event id (see idempotency.ts).
 * - the bus comes from the broker: JetStream on the transporter's NATS server (or JETSTREAM_URL);
 *   without a transporter, the process-wide in-process bus.
 *
 * Lifecycle order. Moleculer 0.15 runs the `started` handlers of `mixins: [A, B]` as B, A, then
 * the service's own, and `stopped` in the reverse order — so listed after MongoMixin this mixin's
 * `started` would run before `this.db` exists, and its `stopped` after the connection is closed.
 * The `merged` hook therefore rearranges the handlers, wherever the mixin is listed:
 *   started: other mixins (MongoMixin) → outbox + relay → the service's own → consumers
 *   stopped: consumers (nak in flight) → the service's own → relay + bus → other mixins
 * so the service's own started/stopped can publish, and no handler runs on a half-started or
 * half-stopped service. ("Own" = the handlers of the schema given to createService. When that
 * schema only wraps the real one as a mixin, the real one's handlers count as other mixins': its
 * started then runs before the relay exists, and what it publishes waits in the outbox for the
 * relay's first run, a moment later.)
 */
import type { Connection, Model } from "mongoose";
import type { ServiceSchema } from "moleculer";
import type { ConsumeOptions, ConsumerHandle, DeliveredEvent, DurableBus } from "./bus";
import { acquireBus, busTargetFor, releaseBus, type BusTarget } from "./broker-bus";
import { handleOnce, processedEventsModel } from "./idempotency";
import { RetentionSweeper } from "../db/retention";
import { enqueueOutbox, outboxModel, writeOutboxMany, OutboxRelay, type OutboxRecord } from "./outbox";
import { assertFilterSubject, safeName } from "./subjects";
import { recordConsumerLag, recordDeadLetter } from "../runtime/business-metrics";

/** A subscription: the method name, or the method name with consumer options. */
export type SubscriptionSpec =
  | string
  | ({ handler: string } & Pick<ConsumeOptions, "maxDeliver" | "ackWaitMs" | "concurrency" | "retryDelayMs" | "maxRetryDelayMs" | "shutdownGraceMs">);

export interface DurableEventsMixinOptions {
  /** subject (wildcards allowed) → method called with the DeliveredEvent. */
  subscriptions?: Record<string, SubscriptionSpec>;
  outbox?: { collection?: string; intervalMs?: number; batchSize?: number; retentionMs?: number };
  /** How often each subscription's backlog is read into the consumer-lag metric. Default 15 s; 0 = off. */
  lagIntervalMs?: number;
  /** How long processed-event records are kept. Default PROCESSED_RETENTION_MS. */
  processedRetentionMs?: number;
}

/**
 * Processed-event records outlive the stream's 30-day max age by five days: past it no
 * redelivery of the event can come, so the record has nothing left to guard.
 */
export const PROCESSED_RETENTION_MS = 35 * 24 * 3600_000;

/** What the mixin adds to `this`. */
export interface DurableEventsVars {
  publishDurable(subject: string, id: string, payload: unknown, opts?: { occurred_at?: string }): Promise<void>;
  /** Many events in one outbox write (a batch job's chunk); ids already written are skipped. */
  publishDurableMany(events: readonly { subject: string; id: string; payload: unknown; occurred_at?: string }[]): Promise<void>;
  /** Set between started and stopped. */
  durable?: DurableState;
}

interface DurableState {
  target: BusTarget;
  bus: DurableBus;
  relay: OutboxRelay;
  consumers: ConsumerHandle[];
  /** Each subscription's handle, for the consumer-lag metric. */
  subjects: Array<{ subject: string; handle: ConsumerHandle }>;
  lagTimer?: NodeJS.Timeout;
  retention: RetentionSweeper;
}

/** A durable-event handler method of a service. */
export type DurableEventMethod = (event: DeliveredEvent) => Promise<void> | void;

type Self = {
  db?: Connection;
  durable?: DurableState;
  broker: any;
  logger: any;
  name: string;
  fullName?: string;
  [method: string]: unknown;
};

export function DurableEventsMixin(opts: DurableEventsMixinOptions = {}): Partial<ServiceSchema> {
  const subscriptions = Object.entries(opts.subscriptions ?? {}).map(([subject, spec]) => {
    assertFilterSubject(subject);
    return { subject, ...(typeof spec === "string" ? { handler: spec } : spec) };
  });
  // Collections are named after the service: services of one node may share a database, and
  // no service reads another's collections (DESIGN.md §1).
  const outboxCollection = (self: Self) => opts.outbox?.collection ?? `${safeName(self.fullName ?? self.name)}_outbox`;
  const processedCollection = (self: Self) => `${safeName(self.fullName ?? self.name)}_processed_events`;
  const outboxOf = (self: Self): Model<OutboxRecord> => {
    if (!self.db) throw new Error(`${self.name}: DurableEventsMixin needs MongoMixin (no this.db yet)`);
    return outboxModel(self.db, outboxCollection(self));
  };

  async function startOutbox(this: Self): Promise<void> {
    const model = outboxOf(this);
    await model.createIndexes();
    await processedEventsModel(this.db!, processedCollection(this)).createIndexes();
    const target = busTargetFor(this.broker);
    const bus = await acquireBus(target, this.broker.getLogger("durable-events"));
    const relay = new OutboxRelay({ model, bus, logger: this.logger, ...opts.outbox });
    const processed = processedEventsModel(this.db!, processedCollection(this));
    const retention = new RetentionSweeper(
      [{ name: `${processedCollection(this)}`, model: processed, field: "processed_at", keepMs: opts.processedRetentionMs ?? PROCESSED_RETENTION_MS }],
      this.logger,
    );
    this.durable = { target, bus, relay, consumers: [], subjects: [], retention };
    relay.start();
    retention.start();
  }

  async function startConsumers(this: Self): Promise<void> {
    const state = this.durable!;
    const consumer = this.fullName ?? this.name;
    const collection = processedCollection(this);
    for (const sub of subscriptions) {
      const method = this[sub.handler];
      if (typeof method !== "function") throw new Error(`${consumer}: durable subscription "${sub.subject}" names no method "${sub.handler}"`);
      const { handler: _name, subject, ...consumeOpts } = sub;
      const handle = await state.bus.consume({
          ...consumeOpts,
          consumer,
          subject,
          onDeadLetter: () => recordDeadLetter(this.broker, consumer, subject),
          handler: async (event) => {
            // Processed per (service, method): two subscriptions of one service may match the
            // same event (`loan.paid` and `loan.*`), and each must apply it once.
            const result = await handleOnce(this.db!, `${consumer}/${sub.handler}`, event, async () => {
              await (method as DurableEventMethod).call(this, event);
            }, { collection });
            if (result === "duplicate") this.logger.debug(`durable ${subject}: ${event.id} already processed (delivery ${event.delivery})`);
          },
        });
      state.consumers.push(handle);
      state.subjects.push({ subject, handle });
    }
    const every = opts.lagIntervalMs ?? 15_000;
    if (every > 0 && state.subjects.length) {
      const measure = () => void readLag(this.broker, consumer, state.subjects, this.logger);
      measure();
      state.lagTimer = setInterval(measure, every);
      state.lagTimer.unref?.();
    }
  }

  async function stopConsumers(this: Self): Promise<void> {
    const state = this.durable;
    if (!state) return;
    clearInterval(state.lagTimer);
    state.subjects = [];
    await Promise.all(state.consumers.splice(0).map((c) => c.stop()));
  }

  async function closeOutbox(this: Self): Promise<void> {
    const state = this.durable;
    if (!state) return;
    this.durable = undefined;
    await Promise.all([state.relay.stop(), state.retention.stop()]);
    await releaseBus(state.target);
  }

  // `merged` is a Moleculer lifecycle hook missing from its 0.15 typings.
  const mixin: Partial<ServiceSchema> & { merged(this: unknown, schema: Partial<ServiceSchema>): void } = {
    merged(this: { originalSchema?: Partial<ServiceSchema> }, schema: Partial<ServiceSchema>) {
      const own = new Set<unknown>([...asArray(this.originalSchema?.started), ...asArray(this.originalSchema?.stopped)]);
      const ours = new Set<unknown>([startOutbox, startConsumers, stopConsumers, closeOutbox]);
      const others = (list: unknown) => asArray(list).filter((fn) => !own.has(fn) && !ours.has(fn));
      const mine = (list: unknown) => asArray(list).filter((fn) => own.has(fn));
      (schema as any).started = [...others(schema.started), startOutbox, ...mine(schema.started), startConsumers];
      // Moleculer runs `stopped` from the end of the list: consumers first, other mixins last.
      (schema as any).stopped = [...others(schema.stopped), closeOutbox, ...mine(schema.stopped), stopConsumers];
    },
    started: [startOutbox, startConsumers] as any,
    stopped: [closeOutbox, stopConsumers] as any,
    methods: {
      async publishDurable(this: Self, subject: string, id: string, payload: unknown, options: { occurred_at?: string } = {}): Promise<void> {
        // Stamped here, so the fast path publishes what the record holds.
        const event = { id, subject, payload, occurred_at: options.occurred_at ?? new Date().toISOString() };
        // Written twice (a retried request): the first record stands and is the relay's to publish.
        const written = await enqueueOutbox(outboxOf(this), event);
        // Fast path; if the bus is not up yet (service starting) the relay's first run picks it up.
        if (written) void this.durable?.relay.kick([event]);
      },
      async publishDurableMany(this: Self, events: readonly { subject: string; id: string; payload: unknown; occurred_at?: string }[]): Promise<void> {
        const now = new Date().toISOString();
        const stamped = events.map((e) => ({ ...e, occurred_at: e.occurred_at ?? now }));
        // Only the new records go to the fast path: one written before is the relay's already.
        const written = await writeOutboxMany(outboxOf(this), stamped);
        if (written.length) void this.durable?.relay.kick(written);
      },
    },
  };
  return mixin;
}

/** Sets the consumer-lag gauge of each subscription; a failed read (NATS away) keeps the last value. */
async function readLag(broker: any, consumer: string, subjects: DurableState["subjects"], logger: any): Promise<void> {
  for (const { subject, handle } of subjects) {
    try {
      recordConsumerLag(broker, consumer, subject, await handle.pending());
    } catch (err) {
      logger.debug(`durable ${consumer} ${subject}: cannot read the backlog: ${(err as Error)?.message}`);
    }
  }
}

function asArray(v: unknown): unknown[] {
  if (v == null) return [];
  return Array.isArray(v) ? v : [v];
}
