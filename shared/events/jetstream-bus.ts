/**
 * The durable bus on NATS JetStream (nats.js JetStream API; @moleculer/channels is not used: a
 * thin layer gives us the exact ack/nak/term and dedupe behaviour we need).
 *
 * - One stream (`EVENTS`, subjects `events.>`, file storage) holds the events; its duplicate
 *   window drops a second publish of the same event id (Nats-Msg-Id), which is what makes the
 *   outbox's "publish, crash before marking, publish again" harmless.
 * - One durable pull consumer per (consumer, subject), explicit ack, `max_deliver` unlimited on
 *   the server: the client decides when to give up, so a message is never dropped silently — it is
 *   either acked or copied to the dead-letter stream (`EVENTS_DLQ`, `dlq.>`) and then termed.
 * - A failed handler naks with a growing delay; a running handler keeps its message with
 *   `working()`, so a slow handler is not redelivered under its feet; a crashed consumer's
 *   messages come back after `ackWaitMs`.
 * - stop() stops pulling and naks what is buffered or still running after a short grace, so the
 *   next instance gets it at once instead of after ack_wait.
 * With a Moleculer namespace the stream names and subjects are prefixed, so namespaces sharing a
 * NATS server never share durables.
 */
import {
  AckPolicy,
  connect,
  DeliverPolicy,
  DiscardPolicy,
  nanos,
  RetentionPolicy,
  StorageType,
  type ConnectionOptions,
  type ConsumerConfig,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type NatsConnection,
  type StreamConfig,
} from "nats";
import type { BusLogger, ConsumeOptions, ConsumerHandle, DeadLetter, DeliveredEvent, DurableBus, DurableEvent } from "./bus";
import { errorText, notifyDeadLetter, runDelivery, settingsOf, type ConsumerSettings } from "./delivery";
import { assertFilterSubject, assertPublishSubject, durableName, namespaceToken, safeName } from "./subjects";

export interface JetStreamBusOptions {
  /** One URL, or several separated by commas. */
  natsUrl: string;
  logger: BusLogger;
  /** Moleculer namespace: prefixes stream names and subjects. */
  namespace?: string;
  /** Window in which a repeated event id is dropped. Default 5 min. */
  duplicateWindowMs?: number;
  /** How long the streams keep events (a consumer down longer than this misses them). Default 30 days. */
  maxAgeMs?: number;
  /** How long a publish waits for the stream's ack. Default 5 s. */
  publishTimeoutMs?: number;
  /** Extra nats.js connection options (user/pass/token, tls, name). */
  connection?: Partial<ConnectionOptions>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** nats.js API errors carry the JetStream error code. */
function apiErrCode(err: unknown): number | undefined {
  return (err as { api_error?: { err_code?: number } } | undefined)?.api_error?.err_code;
}
const STREAM_NOT_FOUND = 10059;
const CONSUMER_NOT_FOUND = 10014;
const NO_MESSAGE_FOUND = 10037;

export class JetStreamBus implements DurableBus {
  readonly kind = "jetstream" as const;
  readonly stream: string;
  readonly dlqStream: string;
  private readonly subjectPrefix: string;
  private readonly dlqPrefix: string;
  private readonly js: JetStreamClient;
  private readonly consumers = new Set<JsConsumer>();
  private closed = false;

  private constructor(
    readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly opts: JetStreamBusOptions,
  ) {
    const ns = namespaceToken(opts.namespace);
    this.stream = ns ? `${ns}_EVENTS` : "EVENTS";
    this.dlqStream = ns ? `${ns}_EVENTS_DLQ` : "EVENTS_DLQ";
    this.subjectPrefix = ns ? `${ns}.events` : "events";
    this.dlqPrefix = ns ? `${ns}.dlq` : "dlq";
    this.js = nc.jetstream();
  }

  /** Connects and creates (or updates) both streams; idempotent across instances and restarts. */
  static async connect(opts: JetStreamBusOptions): Promise<JetStreamBus> {
    const nc = await connect({
      servers: opts.natsUrl.split(",").map((s) => s.trim()).filter(Boolean),
      name: "durable-events",
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
      ...opts.connection,
    });
    try {
      const bus = new JetStreamBus(nc, await nc.jetstreamManager(), opts);
      await bus.ensureStreams();
      return bus;
    } catch (err) {
      await nc.close().catch(() => undefined);
      throw err;
    }
  }

  get logger(): BusLogger {
    return this.opts.logger;
  }

  /** The stream subject of an event subject (`loan.paid` → `events.loan.paid`). */
  streamSubject(subject: string): string {
    return `${this.subjectPrefix}.${subject}`;
  }

  async publish(event: DurableEvent): Promise<void> {
    if (this.closed) throw new Error("durable bus is closed");
    assertPublishSubject(event.subject);
    if (!event.id) throw new Error("durable event without id");
    const data = encoder.encode(
      JSON.stringify({
        id: event.id,
        subject: event.subject,
        payload: event.payload ?? null,
        occurred_at: event.occurred_at ?? new Date().toISOString(),
      }),
    );
    const ack = await this.js.publish(this.streamSubject(event.subject), data, {
      msgID: event.id,
      timeout: this.opts.publishTimeoutMs ?? 5_000,
    });
    if (ack.duplicate) this.logger.debug(`durable event ${event.id} (${event.subject}) is a duplicate: dropped by the stream`);
  }

  async consume(opts: ConsumeOptions): Promise<ConsumerHandle> {
    if (this.closed) throw new Error("durable bus is closed");
    assertFilterSubject(opts.subject);
    const settings = settingsOf(opts);
    const durable = durableName(settings.consumer, settings.subject);
    await this.ensureConsumer(durable, settings);
    const consumer = new JsConsumer(this, durable, settings);
    this.consumers.add(consumer);
    await consumer.start();
    return {
      stop: async () => {
        await consumer.stop();
        this.consumers.delete(consumer);
      },
      pending: () => this.pending(durable),
    };
  }

  /** A durable's backlog as the server counts it: not yet delivered + delivered and not yet acked. */
  async pending(durable: string): Promise<number> {
    const info = await this.jsm.consumers.info(this.stream, durable);
    return info.num_pending + info.num_ack_pending;
  }

  async deadLetters(limit = 1000): Promise<DeadLetter[]> {
    return (await this.storedDeadLetters(limit)).map((d) => d.letter);
  }

  /** The dead letters with their sequence in the dead-letter stream (what replayDeadLetter takes). */
  async storedDeadLetters(limit = 1000): Promise<Array<{ seq: number; letter: DeadLetter }>> {
    const info = await this.jsm.streams.info(this.dlqStream);
    const out: Array<{ seq: number; letter: DeadLetter }> = [];
    if (!info.state.messages) return out; // an empty stream reports first_seq 0, not a valid seq
    for (let seq = info.state.first_seq; seq <= info.state.last_seq && out.length < limit; seq++) {
      try {
        const m = await this.jsm.streams.getMessage(this.dlqStream, { seq });
        out.push({ seq, letter: JSON.parse(decoder.decode(m.data)) as DeadLetter });
      } catch (err) {
        if (apiErrCode(err) !== NO_MESSAGE_FOUND) throw err; // a deleted message leaves a gap
      }
    }
    return out;
  }

  /**
   * Publishes a dead letter's event again, then removes the letter. The stream message id is new
   * (the duplicate window would drop the original id) but the event id is the same, so consumers
   * that already applied the event skip it (handleOnce) and the failed one applies it.
   */
  async replayDeadLetter(seq: number): Promise<DeadLetter> {
    const m = await this.jsm.streams.getMessage(this.dlqStream, { seq });
    const letter = JSON.parse(decoder.decode(m.data)) as DeadLetter;
    const e = letter.event;
    const data = encoder.encode(JSON.stringify({ id: e.id, subject: e.subject, payload: e.payload ?? null, occurred_at: e.occurred_at }));
    await this.js.publish(this.streamSubject(e.subject), data, { msgID: `${e.id}:replay:${seq}`, timeout: this.opts.publishTimeoutMs ?? 5_000 });
    await this.jsm.streams.deleteMessage(this.dlqStream, seq);
    return letter;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await Promise.all([...this.consumers].map((c) => c.stop()));
    this.consumers.clear();
    this.closed = true;
    // drain flushes the naks/acks just sent before closing; bounded, since with the server gone
    // it would wait for a reconnect that may never come.
    if (this.nc.isClosed()) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.nc.drain().catch(() => undefined), new Promise((r) => (timer = setTimeout(r, 5_000)))]);
    clearTimeout(timer);
    if (!this.nc.isClosed()) await this.nc.close().catch(() => undefined);
  }

  /** Copies a failed message to the dead-letter stream; deduped per (consumer, event). */
  async publishDeadLetter(letter: DeadLetter): Promise<void> {
    const subject = `${this.dlqPrefix}.${safeName(letter.consumer)}.${letter.event.subject}`;
    await this.js.publish(subject, encoder.encode(JSON.stringify(letter)), {
      msgID: `${letter.consumer}:${letter.event.id}`,
      timeout: this.opts.publishTimeoutMs ?? 5_000,
    });
  }

  consumerApi(durable: string) {
    return this.js.consumers.get(this.stream, durable);
  }

  private async ensureStreams(): Promise<void> {
    const common: Partial<StreamConfig> = {
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      discard: DiscardPolicy.Old,
      max_age: nanos(this.opts.maxAgeMs ?? 30 * 24 * 3600_000),
      duplicate_window: nanos(this.opts.duplicateWindowMs ?? 5 * 60_000),
    };
    await this.ensureStream({ ...common, name: this.stream, subjects: [`${this.subjectPrefix}.>`] });
    await this.ensureStream({ ...common, name: this.dlqStream, subjects: [`${this.dlqPrefix}.>`] });
  }

  private async ensureStream(cfg: Partial<StreamConfig> & { name: string }): Promise<void> {
    try {
      const info = await this.jsm.streams.info(cfg.name);
      const c = info.config;
      const same =
        JSON.stringify(c.subjects) === JSON.stringify(cfg.subjects) &&
        c.max_age === cfg.max_age &&
        c.duplicate_window === cfg.duplicate_window;
      if (!same) await this.jsm.streams.update(cfg.name, { ...c, ...cfg });
    } catch (err) {
      if (apiErrCode(err) !== STREAM_NOT_FOUND) throw err;
      try {
        await this.jsm.streams.add(cfg);
      } catch (addErr) {
        // Another instance created it between our info and add: fine if it now exists.
        await this.jsm.streams.info(cfg.name).catch(() => {
          throw addErr;
        });
      }
    }
  }

  private async ensureConsumer(durable: string, s: ConsumerSettings): Promise<void> {
    const wanted: Partial<ConsumerConfig> = {
      ack_wait: nanos(s.ackWaitMs),
      // Unlimited on the server: the client dead-letters after maxDeliver, so nothing is dropped
      // silently (a server-side limit would drop a message whose last attempt was lost to a crash).
      max_deliver: -1,
      max_ack_pending: Math.max(1000, s.concurrency * 4),
    };
    try {
      const info = await this.jsm.consumers.info(this.stream, durable);
      const c = info.config;
      if (c.ack_wait !== wanted.ack_wait || c.max_deliver !== wanted.max_deliver || c.max_ack_pending !== wanted.max_ack_pending) {
        await this.jsm.consumers.update(this.stream, durable, wanted);
      }
    } catch (err) {
      if (apiErrCode(err) !== CONSUMER_NOT_FOUND) throw err;
      try {
        await this.jsm.consumers.add(this.stream, {
          ...wanted,
          durable_name: durable,
          ack_policy: AckPolicy.Explicit,
          deliver_policy: DeliverPolicy.All,
          filter_subject: this.streamSubject(s.subject),
        });
      } catch (addErr) {
        await this.jsm.consumers.info(this.stream, durable).catch(() => {
          throw addErr;
        });
      }
    }
  }
}

/** One instance of a durable pull consumer: pulls, runs handlers up to `concurrency`, settles. */
class JsConsumer {
  private messages?: ConsumerMessages;
  private loop?: Promise<void>;
  private readonly inflight = new Map<JsMsg, { abandoned: boolean; done: Promise<void> }>();
  private stopping = false;
  private stopped?: Promise<void>;
  private slotFreed: () => void = () => undefined;

  constructor(
    private readonly bus: JetStreamBus,
    private readonly durable: string,
    private readonly s: ConsumerSettings,
  ) {}

  async start(): Promise<void> {
    // The first pull is opened here so that a missing stream or consumer fails consume() itself.
    this.messages = await this.open();
    this.loop = this.run(this.messages);
  }

  stop(): Promise<void> {
    this.stopped ??= this.doStop();
    return this.stopped;
  }

  private async open(): Promise<ConsumerMessages> {
    const consumer = await this.bus.consumerApi(this.durable);
    // Pull no more than we can run: a buffered message's ack_wait is already ticking.
    return consumer.consume({ max_messages: this.s.concurrency });
  }

  private async run(first: ConsumerMessages): Promise<void> {
    let messages: ConsumerMessages | undefined = first;
    while (messages) {
      try {
        for await (const m of messages) {
          while (!this.stopping && this.inflight.size >= this.s.concurrency) {
            await new Promise<void>((done) => (this.slotFreed = done));
          }
          // Received after stop began: hand it straight back for the next instance.
          if (this.stopping) safely(() => m.nak());
          else this.handle(m);
        }
      } catch (err) {
        if (!this.stopping) this.bus.logger.error(`durable ${this.durable}: pull failed: ${errorText(err)}`);
      }
      messages = undefined;
      // The iterator ended without stop() (consumer deleted, permissions, ...): re-open and resume.
      while (!this.stopping && !messages) {
        await new Promise((r) => setTimeout(r, 1000));
        try {
          messages = await this.open();
          this.messages = messages;
          // stop() may have come while opening: close so the loop naks whatever arrived.
          if (this.stopping) void messages.close().catch(() => undefined);
        } catch (err) {
          this.bus.logger.error(`durable ${this.durable}: cannot resume pulling: ${errorText(err)}`);
        }
      }
    }
  }

  private handle(m: JsMsg): void {
    const entry = { abandoned: false, done: Promise.resolve() };
    this.inflight.set(m, entry);
    entry.done = this.process(m, entry)
      // ack/nak throw once the connection is closed: the message then simply comes back later.
      .catch((err) => this.bus.logger.warn(`durable ${this.durable}: cannot settle message ${m.seq}: ${errorText(err)}`))
      .finally(() => {
        this.inflight.delete(m);
        this.slotFreed();
      });
  }

  private async process(m: JsMsg, entry: { abandoned: boolean }): Promise<void> {
    let event: DeliveredEvent;
    try {
      event = { ...(JSON.parse(decoder.decode(m.data)) as Omit<DeliveredEvent, "delivery">), delivery: m.info.redeliveryCount };
    } catch (err) {
      // Not ours to retry: a malformed message can never succeed.
      await this.deadLetter(m, { id: `seq-${m.seq}`, subject: m.subject, payload: decoder.decode(m.data), occurred_at: "", delivery: m.info.redeliveryCount }, `unparsable message: ${errorText(err)}`);
      return;
    }
    // Keep the message ours while the handler runs (ack_wait would redeliver it to another instance).
    const keepAlive = setInterval(() => {
      try {
        m.working();
      } catch {
        // Connection gone: the server will redeliver after ack_wait; nothing to do here.
      }
    }, Math.max(250, this.s.ackWaitMs / 2));
    let outcome;
    try {
      outcome = await runDelivery(event, this.s);
    } finally {
      clearInterval(keepAlive);
    }
    if (entry.abandoned) return; // already nak'ed by stop()
    switch (outcome.kind) {
      case "ack":
        m.ack();
        return;
      case "retry":
        this.bus.logger.warn(
          `durable ${this.durable}: event ${event.id} failed (delivery ${event.delivery}/${this.s.maxDeliver}), retry in ${outcome.delayMs} ms: ${firstLine(outcome.error)}`,
        );
        m.nak(outcome.delayMs);
        return;
      case "dead":
        await this.deadLetter(m, event, outcome.error);
        return;
    }
  }

  private async deadLetter(m: JsMsg, event: DeliveredEvent, error: string): Promise<void> {
    const { delivery, ...rest } = event;
    try {
      const letter: DeadLetter = { consumer: this.s.consumer, event: rest, deliveries: delivery, error, failed_at: new Date().toISOString() };
      await this.bus.publishDeadLetter(letter);
      notifyDeadLetter(this.s, letter, this.bus.logger);
      this.bus.logger.error(`durable ${this.durable}: event ${event.id} dead-lettered after ${delivery} deliveries: ${firstLine(error)}`);
      m.term();
    } catch (dlqErr) {
      // The DLQ is unreachable: keep the message in the stream and try again later.
      this.bus.logger.error(`durable ${this.durable}: cannot dead-letter ${event.id}, retrying: ${errorText(dlqErr)}`);
      m.nak(this.s.maxRetryDelayMs);
    }
  }

  private async doStop(): Promise<void> {
    this.stopping = true;
    this.slotFreed();
    // Stop pulling; what the client already buffered is yielded to run() and nak'ed there. (Not
    // awaited: close() settles only once the loop has iterated up to the end.)
    void this.messages?.close().catch(() => undefined);
    await this.loop;
    if (this.inflight.size) {
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((done) => (timer = setTimeout(done, this.s.shutdownGraceMs)));
      await Promise.race([Promise.all([...this.inflight.values()].map((e) => e.done)), grace]);
      clearTimeout(timer);
    }
    // Handlers still running: nak now so another instance takes over at once; their late outcome
    // is ignored (the idempotent handler makes a second application harmless).
    for (const [m, entry] of this.inflight) {
      entry.abandoned = true;
      safely(() => m.nak());
    }
    this.inflight.clear();
    if (!this.bus.nc.isClosed()) await this.bus.nc.flush().catch(() => undefined);
  }
}

/** Settling after the connection closed throws; the server redelivers after ack_wait anyway. */
function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    // ignored on purpose (see above)
  }
}

function firstLine(text: string): string {
  const nl = text.indexOf("\n");
  return nl < 0 ? text : text.slice(0, nl);
}
