/**
 * The outbox and idempotent consumption against the MongoDB test server and a real JetStream:
 * same event written twice = one record; the relay publishes in creation order and marks; the
 * interval publishes what a crash left unpublished; a crash after publish but before the mark
 * republishes with the same id, which the stream drops; handleOnce skips what was processed.
 * The relay keeps many publishes in flight and still lands them in the stream in write order.
 */
import mongoose, { type Connection } from "mongoose";
import type { DeliveredEvent, DurableBus, DurableEvent } from "../../../shared/events/bus";
import { handleOnce, processedEventsModel } from "../../../shared/events/idempotency";
import { JetStreamBus } from "../../../shared/events/jetstream-bus";
import { enqueueOutbox, enqueueOutboxMany, outboxModel, outboxRetentionFromEnv, OutboxRelay, PUBLISH_WINDOW, writeOutboxMany } from "../../../shared/events/outbox";
import { quietLogger, waitFor } from "../../support/events/wait";
import { startTestMongo, uniqueDbUrl, type RunningMongo } from "../../support/mongo";
import { startNats, type RunningNats } from "../../support/nats";

describe("outbox relay and idempotent consumption", () => {
  let mongo: RunningMongo;
  let nats: RunningNats;
  let conn: Connection;
  let bus: JetStreamBus;
  const relays: OutboxRelay[] = [];
  let n = 0;
  let subject: string;

  beforeAll(async () => {
    [mongo, nats] = await Promise.all([startTestMongo(), startNats({ jetstream: true })]);
    conn = await mongoose.createConnection(uniqueDbUrl(mongo.url, "outbox")).asPromise();
    bus = await JetStreamBus.connect({ natsUrl: nats.url, logger: quietLogger });
    await outboxModel(conn).createIndexes();
  });
  beforeEach(async () => {
    subject = `test.outbox${++n}`;
    await outboxModel(conn).deleteMany({});
  });
  afterEach(async () => {
    await Promise.all(relays.splice(0).map((r) => r.stop()));
  });
  afterAll(async () => {
    await bus?.close();
    await conn?.close();
    await Promise.all([mongo?.stop(), nats?.stop()]);
  });

  // These relays keep what they publish (marked) so the tests can read the marks; the default,
  // deleting once published, has its own test below.
  const relay = (opts: { bus?: DurableBus; intervalMs?: number; scanEveryMs?: number; retentionMs?: number } = {}): OutboxRelay => {
    const r = new OutboxRelay({ model: outboxModel(conn), bus: opts.bus ?? bus, logger: quietLogger, intervalMs: opts.intervalMs ?? 60_000, scanEveryMs: opts.scanEveryMs, retentionMs: opts.retentionMs ?? 3_600_000 });
    relays.push(r);
    return r;
  };
  const collect = async (consumer: string): Promise<DeliveredEvent[]> => {
    const got: DeliveredEvent[] = [];
    await bus.consume({ consumer, subject, handler: async (m) => void got.push(m) });
    return got;
  };

  it("writes the same event once", async () => {
    const model = outboxModel(conn);
    expect(await enqueueOutbox(model, { id: "pay-1", subject, payload: { amount: "10.00" } })).toBe(true);
    expect(await enqueueOutbox(model, { id: "pay-1", subject, payload: { amount: "10.00" } })).toBe(false);
    expect(await model.countDocuments({ _id: "pay-1" })).toBe(1);
    await expect(enqueueOutbox(model, { id: "bad", subject: "loan.*", payload: null })).rejects.toThrow(/invalid event subject/);
  });

  it("writes a batch at once, skipping ids already written, and relays it in order", async () => {
    const got = await collect("batch");
    const model = outboxModel(conn);
    const ev = (i: number) => ({ id: `batch-${n}-${i}`, subject, payload: { i } });
    expect(await enqueueOutboxMany(model, [ev(0), ev(1), ev(2)])).toBe(3);
    expect(await enqueueOutboxMany(model, [ev(1), ev(3), ev(2), ev(4)])).toBe(2);
    expect(await enqueueOutboxMany(model, [])).toBe(0);
    await expect(enqueueOutboxMany(model, [ev(5), { id: "bad", subject: "loan.>", payload: null }])).rejects.toThrow(/invalid event subject/);
    expect(await model.countDocuments({})).toBe(5);
    await relay().kick();
    await waitFor(() => got.length === 5, "the batch");
    expect(got.map((m) => m.id)).toEqual([0, 1, 2, 3, 4].map((i) => ev(i).id));
  });

  it("publishes in creation order and marks records published", async () => {
    const got = await collect("ordered");
    const model = outboxModel(conn);
    const ids = Array.from({ length: 50 }, (_, i) => `ord-${n}-${i}`);
    for (const id of ids) await enqueueOutbox(model, { id, subject, payload: { id } });
    await relay().kick();
    await waitFor(() => got.length === ids.length, "all events");
    expect(got.map((m) => m.id)).toEqual(ids);
    expect(await model.countDocuments({ published: false })).toBe(0);
    const one = await model.findById(ids[0]).lean();
    expect(one).toMatchObject({ published: true, attempts: 1 });
    expect(one?.published_at).toBeInstanceOf(Date);
  });

  it("by default deletes each record once published, by the fast path and by the scan alike", async () => {
    const got = await collect("deleted");
    const model = outboxModel(conn);
    const r = new OutboxRelay({ model, bus, logger: quietLogger, intervalMs: 200, scanEveryMs: 200 });
    relays.push(r);
    // Left unpublished by a crash: the start-up scan publishes it.
    await enqueueOutbox(model, { id: `del-orphan-${n}`, subject, payload: { amount: "1.00" } });
    r.start();
    await waitFor(() => got.some((m) => m.id === `del-orphan-${n}`), "the scan's publish");
    // Written by this process: the fast path publishes it.
    const fresh: DurableEvent = { id: `del-fresh-${n}`, subject, payload: { amount: "2.00" }, occurred_at: new Date().toISOString() };
    await enqueueOutbox(model, fresh);
    await r.kick([fresh]);
    await waitFor(() => got.some((m) => m.id === fresh.id), "the fast path's publish");
    await waitFor(async () => (await model.countDocuments({ _id: { $in: [`del-orphan-${n}`, fresh.id!] } })) === 0, "both deleted");
    expect(got.filter((m) => m.id.startsWith("del-")).map((m) => m.id)).toEqual([`del-orphan-${n}`, fresh.id]);
  });

  it("reads OUTBOX_RETENTION_MS: unset or empty = 0, a number of milliseconds, anything else refused", () => {
    expect(outboxRetentionFromEnv({})).toBe(0);
    expect(outboxRetentionFromEnv({ OUTBOX_RETENTION_MS: "" })).toBe(0);
    expect(outboxRetentionFromEnv({ OUTBOX_RETENTION_MS: "3600000" })).toBe(3_600_000);
    expect(() => outboxRetentionFromEnv({ OUTBOX_RETENTION_MS: "an hour" })).toThrow(/OUTBOX_RETENTION_MS/);
  });

  it("publishes, on its interval, a record left unpublished by a crash", async () => {
    const got = await collect("recovery");
    const r = relay({ intervalMs: 200, scanEveryMs: 200 });
    r.start();
    await waitFor(async () => !(r as any).running, "the start-up run");
    // The crash: the business write and the outbox record happened, the fast-path publish did not.
    await enqueueOutbox(outboxModel(conn), { id: `crashed-${n}`, subject, payload: { amount: "7.00" } });
    await waitFor(() => got.length === 1, "the interval's publish", 3_000);
    expect(got[0]).toMatchObject({ id: `crashed-${n}`, payload: { amount: "7.00" } });
    await waitFor(async () => (await outboxModel(conn).findById(`crashed-${n}`).lean())?.published === true, "mark");
  });

  it("republishes a record whose mark was lost, and the stream drops the duplicate", async () => {
    const got = await collect("lost-mark");
    const model = outboxModel(conn);
    const event: DurableEvent = { id: `lost-mark-${n}`, subject, payload: { amount: "3.00" } };
    await enqueueOutbox(model, event);
    await bus.publish(event); // published, then "crashed" before marking
    await relay().kick(); // the next run publishes it again, same id
    await bus.publish({ id: `after-${n}`, subject, payload: null });
    await waitFor(() => got.some((m) => m.id === `after-${n}`), "the later event");
    expect(got.map((m) => m.id)).toEqual([event.id, `after-${n}`]);
    expect((await model.findById(event.id).lean())?.published).toBe(true);
  });

  it("keeps a record whose publish failed, with the error, and publishes it once the bus is back", async () => {
    const got = await collect("bus-down");
    const model = outboxModel(conn);
    const down: DurableBus = {
      kind: "jetstream",
      publish: async () => Promise.reject(new Error("no JetStream")),
      consume: (o) => bus.consume(o),
      deadLetters: (limit) => bus.deadLetters(limit),
      close: async () => undefined,
    };
    await enqueueOutbox(model, { id: `first-${n}`, subject, payload: 1 });
    await enqueueOutbox(model, { id: `second-${n}`, subject, payload: 2 });
    await relay({ bus: down }).kick();
    const kept = await model.find({ published: false }).sort({ seq: 1 }).lean();
    expect(kept.map((r) => r._id)).toEqual([`first-${n}`, `second-${n}`]);
    expect(kept[0]).toMatchObject({ attempts: 1, last_error: expect.stringContaining("no JetStream") });
    await relay().kick();
    await waitFor(() => got.length === 2, "both events after recovery");
    expect(got.map((m) => m.id)).toEqual([`first-${n}`, `second-${n}`]);
  });

  it("fast path: publishes the records just written without reading the outbox, and falls back to a scan after a failure", async () => {
    const got = await collect("fast");
    const model = outboxModel(conn);
    // Left unpublished by another process (no relay of this one has seen it).
    await enqueueOutbox(model, { id: `orphan-${n}`, subject, payload: 0 });
    let publishes = 0;
    let fail = false;
    const flaky: DurableBus = {
      ...bus,
      kind: "jetstream",
      publish: async (e) => {
        if (fail) throw new Error("bus away");
        publishes++;
        return bus.publish(e);
      },
      consume: (o) => bus.consume(o),
      deadLetters: (limit) => bus.deadLetters(limit),
      close: async () => undefined,
    };
    const r = relay({ bus: flaky });
    await r.kick(); // the first run scans: it finds the orphan
    await waitFor(() => got.length === 1, "the orphan");
    const fresh = (i: number): DurableEvent => ({ id: `fresh-${n}-${i}`, subject, payload: i, occurred_at: "2026-01-01T00:00:00.000Z" });
    await enqueueOutbox(model, { id: `orphan2-${n}`, subject, payload: 0 }); // another process's, unseen
    await enqueueOutbox(model, fresh(1));
    await r.kick([fresh(1)]);
    await waitFor(() => got.length === 2, "the fresh record");
    expect(got.map((m) => m.id)).toEqual([`orphan-${n}`, fresh(1).id]); // the fast path did not scan
    expect((await model.findById(fresh(1).id).lean())?.published).toBe(true);
    expect((await model.findById(`orphan2-${n}`).lean())?.published).toBe(false);

    fail = true;
    for (const i of [2, 3]) await enqueueOutbox(model, fresh(i));
    await r.kick([fresh(2), fresh(3)]);
    expect((await model.findById(fresh(2).id).lean())).toMatchObject({ published: false, last_error: expect.stringContaining("bus away") });
    fail = false;
    await enqueueOutbox(model, fresh(4));
    await r.kick([fresh(4)]); // after a failure the next run is a scan, oldest first
    await waitFor(() => got.length === 6, "the scan's records");
    expect(got.slice(2).map((m) => m.id)).toEqual([`orphan2-${n}`, fresh(2).id, fresh(3).id, fresh(4).id]);
    expect(await model.countDocuments({ published: false })).toBe(0);
    expect(publishes).toBe(6);
  });

  /** The bus, counting the publishes in flight at once. */
  const counting = (fail: (id: string) => boolean = () => false) => {
    const seen = { inFlight: 0, most: 0, calls: 0 };
    const wrapped: DurableBus = {
      kind: "jetstream",
      publish: (e) => {
        seen.calls++;
        seen.inFlight++;
        seen.most = Math.max(seen.most, seen.inFlight);
        const sent = fail(e.id!) ? Promise.reject(new Error(`refused ${e.id}`)) : bus.publish(e);
        return sent.finally(() => seen.inFlight--);
      },
      consume: (o) => bus.consume(o),
      deadLetters: (limit) => bus.deadLetters(limit),
      close: async () => undefined,
    };
    return { wrapped, seen };
  };

  it("keeps many publishes in flight and lands them in the stream in write order, fast path and scan alike", async () => {
    const got = await collect("window");
    const model = outboxModel(conn);
    const ev = (i: number): DurableEvent => ({ id: `win-${n}-${i}`, subject, payload: { i } });
    const { wrapped, seen } = counting();
    const r = relay({ bus: wrapped });
    await r.kick(); // the first run scans an empty outbox; the relay is clean after it
    const fresh = Array.from({ length: 600 }, (_, i) => ev(i));
    await r.kick(await writeOutboxMany(model, fresh));
    // Written by someone else: only a scan finds these.
    const left = Array.from({ length: 300 }, (_, i) => ev(600 + i));
    await enqueueOutboxMany(model, left);
    await r.kick();
    await waitFor(() => got.length === 900, "all 900 events", 30_000);
    expect(got.map((m) => m.id)).toEqual([...fresh, ...left].map((e) => e.id));
    // One at a time would be 1; more than one window would be a bug in the window.
    expect(seen.most).toBeGreaterThan(1);
    expect(seen.most).toBeLessThanOrEqual(PUBLISH_WINDOW);
    expect(await model.countDocuments({ published: false })).toBe(0);
  });

  it("a refused publish in a window keeps that record, with its error, for the next run", async () => {
    const got = await collect("window-fail");
    const model = outboxModel(conn);
    const ev = (i: number): DurableEvent => ({ id: `wf-${n}-${i}`, subject, payload: { i } });
    const events = Array.from({ length: 10 }, (_, i) => ev(i));
    await enqueueOutboxMany(model, events);
    const refused = ev(4).id!;
    const { wrapped } = counting((id) => id === refused);
    await relay({ bus: wrapped }).kick();
    const kept = await model.find({ published: false }).lean();
    expect(kept.map((r) => r._id)).toEqual([refused]);
    expect(kept[0]).toMatchObject({ attempts: 1, last_error: expect.stringContaining(`refused ${refused}`) });
    await waitFor(() => got.length === 9, "the nine the stream stored");
    await relay().kick();
    await waitFor(() => got.length === 10, "the refused one, once the bus takes it");
    expect(got.map((m) => m.id)).toEqual([...events.filter((e) => e.id !== refused), ev(4)].map((e) => e.id));
  });

  it("handleOnce applies an event once per consumer and retries a failed apply", async () => {
    const event = { id: `evt-${n}`, subject, delivery: 1 };
    let applied = 0;
    const apply = async () => void applied++;
    expect(await handleOnce(conn, "portfolios", event, apply)).toBe("applied");
    expect(await handleOnce(conn, "portfolios", { ...event, delivery: 2 }, apply)).toBe("duplicate");
    expect(applied).toBe(1);
    // Another consumer has its own record.
    expect(await handleOnce(conn, "snapshots", event, apply)).toBe("applied");
    expect(applied).toBe(2);

    const failing = { id: `fails-${n}`, subject, delivery: 1 };
    await expect(handleOnce(conn, "portfolios", failing, async () => Promise.reject(new Error("nope")))).rejects.toThrow("nope");
    expect(await processedEventsModel(conn).exists({ _id: `portfolios:fails-${n}` })).toBeNull();
    expect(await handleOnce(conn, "portfolios", { ...failing, delivery: 2 }, apply)).toBe("applied");
    const rec = await processedEventsModel(conn).findById(`portfolios:fails-${n}`).lean();
    expect(rec).toMatchObject({ consumer: "portfolios", event_id: `fails-${n}`, subject, delivery: 2 });
  });
});
