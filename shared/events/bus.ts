/**
 * Durable events (DESIGN.md §1): the events that move money or ownership must survive a consumer
 * being down. Plain Moleculer events are at-most-once, so those events go through this bus
 * instead: at-least-once delivery to a durable consumer per service, explicit ack, bounded
 * redelivery with a growing delay, then a dead-letter queue. Handlers must be idempotent
 * (see idempotency.ts); publishers write to the outbox first (see outbox.ts).
 *
 * Two implementations behind one interface:
 * - JetStreamBus (jetstream-bus.ts): NATS JetStream, used whenever the system runs on NATS;
 * - InProcessBus (in-process-bus.ts): the embedded default (no TRANSPORTER), same semantics
 *   within one process, durable only for the life of that process.
 */
import { InProcessBus, retainedBytesFromEnv } from "./in-process-bus";
import { JetStreamBus, type JetStreamBusOptions } from "./jetstream-bus";

/** What a publisher hands to the bus. `id` is the dedupe key: publishing an id twice delivers once. */
export interface DurableEvent {
  id: string;
  subject: string;
  payload: unknown;
  /** ISO instant of the business fact; defaults to the publish time. */
  occurred_at?: string;
}

/** What a handler receives. `delivery` counts attempts: 1 first time, > 1 on redelivery. */
export interface DeliveredEvent {
  id: string;
  subject: string;
  payload: unknown;
  occurred_at: string;
  delivery: number;
}

export type DurableHandler = (msg: DeliveredEvent) => Promise<void>;

export interface ConsumeOptions {
  /** Durable consumer name: the consuming service. Instances with the same name share the work. */
  consumer: string;
  /** Subject filter; NATS wildcards `*` and a trailing `>` are allowed. */
  subject: string;
  handler: DurableHandler;
  /** Attempts before the event goes to the dead-letter queue. Default 5. */
  maxDeliver?: number;
  /** JetStream: how long a delivery may stay unacknowledged before the server redelivers it
   *  (a crashed consumer's messages come back after this). Default 30 s. */
  ackWaitMs?: number;
  /** Handlers running at once for this consumer. Default 1 (keeps publish order on the happy path). */
  concurrency?: number;
  /** First retry delay after a failure; doubles per attempt up to maxRetryDelayMs. Default 1 s. */
  retryDelayMs?: number;
  /** Cap of the retry delay. Default 60 s. */
  maxRetryDelayMs?: number;
  /** On stop, how long running handlers may finish before their messages are nak'ed. Default 5 s. */
  shutdownGraceMs?: number;
  /** Called once an event has been dead-lettered (metrics: shared/runtime/business-metrics.ts). */
  onDeadLetter?: (letter: DeadLetter) => void;
}

export interface ConsumerHandle {
  /** Stops pulling, naks what was received but not handled, waits for (or naks) running handlers. */
  stop(): Promise<void>;
  /** The durable's backlog: events matched but not yet acknowledged (waiting, retrying or in flight). */
  pending(): Promise<number>;
}

/** A message that failed maxDeliver times, as kept in the dead-letter queue. */
export interface DeadLetter {
  consumer: string;
  event: Omit<DeliveredEvent, "delivery">;
  deliveries: number;
  error: string;
  failed_at: string;
}

export interface DurableBus {
  readonly kind: "jetstream" | "in-process";
  /**
   * Resolves once the bus has stored the event. Sends before its first await, so publishes
   * started back to back reach the stream in the order they were started (the outbox relay keeps
   * many in flight and relies on it).
   */
  publish(event: DurableEvent): Promise<void>;
  consume(opts: ConsumeOptions): Promise<ConsumerHandle>;
  /** The oldest `limit` dead letters (for operators and tests). */
  deadLetters(limit?: number): Promise<DeadLetter[]>;
  close(): Promise<void>;
}

/** The subset of Moleculer's logger the bus uses (console works too). */
export interface BusLogger {
  debug(...args: unknown[]): void;
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
}

export interface CreateBusOptions extends Partial<Omit<JetStreamBusOptions, "natsUrl" | "logger">> {
  /** NATS URL with JetStream enabled; absent = in-process bus. */
  natsUrl?: string;
  logger: BusLogger;
}

/** JetStream when a NATS URL is given, else a new in-process bus. Streams are ensured at connect. */
export async function createDurableBus(opts: CreateBusOptions): Promise<DurableBus> {
  const { natsUrl, logger, ...rest } = opts;
  if (natsUrl) return JetStreamBus.connect({ ...rest, natsUrl, logger });
  return new InProcessBus({ logger, maxRetainedBytes: retainedBytesFromEnv() });
}
