/**
 * The JetStream durable bus against a real `nats-server -js`: streams created idempotently,
 * dedupe by event id, bounded redelivery then the dead-letter stream, nak on shutdown.
 * Each test runs in its own namespace, so its streams and durables are its own.
 */
import { connect, type NatsConnection } from "nats";
import type { DeliveredEvent } from "../../../shared/events/bus";
import { durableName } from "../../../shared/events/subjects";
import { JetStreamBus } from "../../../shared/events/jetstream-bus";
import { gate, quietLogger, waitFor } from "../../support/events/wait";
import { startNats, type RunningNats } from "../../support/nats";

describe("JetStreamBus", () => {
  let nats: RunningNats;
  let nc: NatsConnection;
  const buses: JetStreamBus[] = [];
  let n = 0;
  let ns: string;

  const open = async (namespace = ns): Promise<JetStreamBus> => {
    const bus = await JetStreamBus.connect({ natsUrl: nats.url, logger: quietLogger, namespace });
    buses.push(bus);
    return bus;
  };

  beforeAll(async () => {
    nats = await startNats({ jetstream: true });
    nc = await connect({ servers: nats.url });
  });
  beforeEach(() => {
    ns = `jsbus${++n}`;
  });
  afterEach(async () => {
    await Promise.all(buses.splice(0).map((b) => b.close()));
  });
  afterAll(async () => {
    await nc?.close();
    await nats?.stop();
  });

  it("creates the event and dead-letter streams once, whoever connects first", async () => {
    const [a, b] = await Promise.all([open(), open()]);
    expect(a.stream).toBe(`${ns}_EVENTS`);
    const jsm = await nc.jetstreamManager();
    const info = await jsm.streams.info(a.stream);
    expect(info.config.subjects).toEqual([`${ns}.events.>`]);
    expect(info.config.storage).toBe("file");
    expect(info.config.duplicate_window).toBe(5 * 60 * 1e9);
    expect((await jsm.streams.info(b.dlqStream)).config.subjects).toEqual([`${ns}.dlq.>`]);
    await open(); // a third connect finds them as they are
    // Without a namespace the names are the plain ones.
    const plain = await open("");
    expect([plain.stream, plain.dlqStream]).toEqual(["EVENTS", "EVENTS_DLQ"]);
  });

  it("delivers an event published twice with the same id once", async () => {
    const bus = await open();
    const got: DeliveredEvent[] = [];
    await bus.consume({ consumer: "portfolios", subject: "loan.disbursed", handler: async (m) => void got.push(m) });
    await bus.publish({ id: "loan-1:disbursed", subject: "loan.disbursed", payload: { amount: "1000.00" } });
    await bus.publish({ id: "loan-1:disbursed", subject: "loan.disbursed", payload: { amount: "1000.00" } });
    await bus.publish({ id: "sentinel", subject: "loan.disbursed", payload: null });
    // concurrency 1 keeps publish order: once the sentinel is in, the duplicate would have been too.
    await waitFor(() => got.some((m) => m.id === "sentinel"), "sentinel");
    expect(got.map((m) => m.id)).toEqual(["loan-1:disbursed", "sentinel"]);
    expect(got[0]).toMatchObject({ subject: "loan.disbursed", payload: { amount: "1000.00" }, delivery: 1 });
    const jsm = await nc.jetstreamManager();
    expect((await jsm.streams.info(bus.stream)).state.messages).toBe(2);
  });

  it("keeps one durable per (consumer, subject) and resumes it where it stopped", async () => {
    const bus = await open();
    await bus.publish({ id: "e1", subject: "loan.disbursed", payload: 1 });
    const first: string[] = [];
    const h = await bus.consume({ consumer: "portfolios", subject: "loan.disbursed", handler: async (m) => void first.push(m.id) });
    await waitFor(() => first.length === 1, "first event");
    await h.stop();
    await bus.publish({ id: "e2", subject: "loan.disbursed", payload: 2 });
    const second: string[] = [];
    await bus.consume({ consumer: "portfolios", subject: "loan.disbursed", handler: async (m) => void second.push(m.id) });
    await waitFor(() => second.length === 1, "event published while stopped");
    expect(second).toEqual(["e2"]);
    const jsm = await nc.jetstreamManager();
    const info = await jsm.consumers.info(bus.stream, durableName("portfolios", "loan.disbursed"));
    expect(info.config).toMatchObject({ ack_policy: "explicit", filter_subject: `${ns}.events.loan.disbursed`, durable_name: durableName("portfolios", "loan.disbursed") });
  });

  it("redelivers a failing event up to maxDeliver with a growing delay, then dead-letters it", async () => {
    const bus = await open();
    const attempts: { delivery: number; at: number }[] = [];
    await bus.consume({
      consumer: "investors",
      subject: "portfolio.sold",
      maxDeliver: 3,
      retryDelayMs: 100,
      handler: async (m) => {
        attempts.push({ delivery: m.delivery, at: Date.now() });
        throw new Error("bank details missing");
      },
    });
    await bus.publish({ id: "sale-9", subject: "portfolio.sold", payload: { portfolio_id: "p9" } });
    const dead = await waitFor(async () => {
      const list = await bus.deadLetters();
      return list.length ? list : undefined;
    }, "dead letter");
    expect(attempts.map((a) => a.delivery)).toEqual([1, 2, 3]);
    expect(attempts[1].at - attempts[0].at).toBeGreaterThanOrEqual(90);
    expect(attempts[2].at - attempts[1].at).toBeGreaterThanOrEqual(190);
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({ consumer: "investors", deliveries: 3, event: { id: "sale-9", subject: "portfolio.sold", payload: { portfolio_id: "p9" } } });
    expect(dead[0].error).toContain("bank details missing");
    // The DLQ message sits on dlq.<consumer>.<subject>.
    const jsm = await nc.jetstreamManager();
    const stored = await jsm.streams.getMessage(bus.dlqStream, { seq: 1 });
    expect(stored.subject).toBe(`${ns}.dlq.investors.portfolio.sold`);
    // Termed: nothing pending on the consumer, no further attempts.
    const durable = durableName("investors", "portfolio.sold");
    await waitFor(async () => (await jsm.consumers.info(bus.stream, durable)).num_ack_pending === 0, "term");
    await new Promise((r) => setTimeout(r, 300));
    expect(attempts).toHaveLength(3);
  });

  it("on stop, naks in-flight messages so a new instance gets them at once (not after ack_wait)", async () => {
    const bus = await open();
    const hold = gate();
    const first: DeliveredEvent[] = [];
    const h = await bus.consume({
      consumer: "snapshots",
      subject: "loan.payment.applied",
      ackWaitMs: 30_000,
      concurrency: 2,
      shutdownGraceMs: 50,
      handler: async (m) => {
        first.push(m);
        await hold.promise;
      },
    });
    for (const id of ["a", "b", "c"]) await bus.publish({ id, subject: "loan.payment.applied", payload: id });
    await waitFor(() => first.length === 2, "two running handlers");
    await h.stop();

    const bus2 = await open();
    const second: DeliveredEvent[] = [];
    const started = Date.now();
    await bus2.consume({ consumer: "snapshots", subject: "loan.payment.applied", concurrency: 4, handler: async (m) => void second.push(m) });
    await waitFor(() => second.length === 3, "all three on the new instance", 5_000);
    expect(Date.now() - started).toBeLessThan(5_000); // far below the 30 s ack_wait
    const byId = Object.fromEntries(second.map((m) => [m.id, m.delivery]));
    // a and b were running (nak'ed after the grace), c was received or still in the stream.
    expect(byId.a).toBe(2);
    expect(byId.b).toBe(2);
    expect(byId.c).toBeGreaterThanOrEqual(1);
    hold.open();
  });

  it("lets a handler slower than ack_wait finish without a redelivery (working)", async () => {
    const bus = await open();
    const deliveries: number[] = [];
    await bus.consume({
      consumer: "tapes",
      subject: "portfolio.sold",
      ackWaitMs: 1_000,
      handler: async (m) => {
        deliveries.push(m.delivery);
        await new Promise((r) => setTimeout(r, 2_500));
      },
    });
    await bus.publish({ id: "slow", subject: "portfolio.sold", payload: null });
    await waitFor(() => deliveries.length === 1, "delivery");
    const jsm = await nc.jetstreamManager();
    const durable = durableName("tapes", "portfolio.sold");
    await waitFor(async () => (await jsm.consumers.info(bus.stream, durable)).num_ack_pending === 0, "ack", 6_000);
    expect(deliveries).toEqual([1]);
  });
});
