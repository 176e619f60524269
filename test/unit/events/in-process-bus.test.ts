/**
 * The in-process durable bus (embedded default): the same semantics as the JetStream bus —
 * delivery to durables (including a backlog published before they subscribed), dedupe by id,
 * retry with a growing delay then dead-letter, work shared between instances, nak on stop.
 */
import type { DeliveredEvent } from "../../../shared/events/bus";
import { InProcessBus } from "../../../shared/events/in-process-bus";
import { gate, quietLogger, waitFor } from "../../support/events/wait";

describe("InProcessBus", () => {
  let bus: InProcessBus;
  beforeEach(() => {
    bus = new InProcessBus({ logger: quietLogger });
  });
  afterEach(async () => {
    await bus.close();
  });

  it("delivers an event with its envelope, on a later tick", async () => {
    const got: DeliveredEvent[] = [];
    await bus.consume({ consumer: "loans", subject: "loan.disbursed", handler: async (m) => void got.push(m) });
    await bus.publish({ id: "e1", subject: "loan.disbursed", payload: { amount: "100.00" } });
    expect(got).toHaveLength(0); // never synchronously inside publish
    await waitFor(() => got.length === 1, "delivery");
    expect(got[0]).toMatchObject({ id: "e1", subject: "loan.disbursed", payload: { amount: "100.00" }, delivery: 1 });
    expect(Date.parse(got[0].occurred_at)).not.toBeNaN();
  });

  it("keeps the given occurred_at and hands each consumer its own copy of the payload", async () => {
    const a: DeliveredEvent[] = [];
    const b: DeliveredEvent[] = [];
    await bus.consume({ consumer: "a", subject: "x.y", handler: async (m) => void (a.push(m), ((m.payload as any).n = 99)) });
    await bus.consume({ consumer: "b", subject: "x.y", handler: async (m) => void b.push(m) });
    const payload = { n: 1 };
    await bus.publish({ id: "e1", subject: "x.y", payload, occurred_at: "2026-03-01T00:00:00.000Z" });
    await waitFor(() => a.length === 1 && b.length === 1, "both consumers");
    expect(b[0].payload).toEqual({ n: 1 });
    expect(payload).toEqual({ n: 1 });
    expect(a[0].occurred_at).toBe("2026-03-01T00:00:00.000Z");
  });

  it("delivers to a new durable what was published before it subscribed", async () => {
    await bus.publish({ id: "e1", subject: "loan.disbursed", payload: 1 });
    await bus.publish({ id: "e2", subject: "loan.disbursed", payload: 2 });
    const got: string[] = [];
    await bus.consume({ consumer: "portfolios", subject: "loan.disbursed", handler: async (m) => void got.push(m.id) });
    await waitFor(() => got.length === 2, "backlog");
    expect(got).toEqual(["e1", "e2"]);
  });

  it("drops a second publish of the same id", async () => {
    const got: string[] = [];
    await bus.consume({ consumer: "c", subject: "s.t", handler: async (m) => void got.push(m.id) });
    await bus.publish({ id: "same", subject: "s.t", payload: 1 });
    await bus.publish({ id: "same", subject: "s.t", payload: 2 });
    await bus.publish({ id: "other", subject: "s.t", payload: 3 });
    await waitFor(() => got.length === 2, "deliveries");
    await new Promise((r) => setTimeout(r, 30));
    expect(got).toEqual(["same", "other"]);
  });

  it("forgets ids after the duplicate window", async () => {
    const short = new InProcessBus({ logger: quietLogger, duplicateWindowMs: 20 });
    const got: string[] = [];
    await short.consume({ consumer: "c", subject: "s.t", handler: async (m) => void got.push(m.id) });
    await short.publish({ id: "same", subject: "s.t", payload: 1 });
    await new Promise((r) => setTimeout(r, 40));
    await short.publish({ id: "same", subject: "s.t", payload: 2 });
    await waitFor(() => got.length === 2, "both deliveries");
    await short.close();
  });

  it("retries a failing handler with a growing delay, then dead-letters it", async () => {
    const attempts: { delivery: number; at: number }[] = [];
    await bus.consume({
      consumer: "loans",
      subject: "loan.payment.applied",
      maxDeliver: 4,
      retryDelayMs: 10,
      handler: async (m) => {
        attempts.push({ delivery: m.delivery, at: Date.now() });
        throw new Error("ledger unavailable");
      },
    });
    await bus.publish({ id: "p1", subject: "loan.payment.applied", payload: { amount: "5.00" } });
    const dead = await waitFor(async () => (await bus.deadLetters()).length === 1 && bus.deadLetters(), "dead letter");
    expect(attempts.map((a) => a.delivery)).toEqual([1, 2, 3, 4]);
    // Delays 10, 20, 40 ms: each gap at least its delay.
    const gaps = attempts.slice(1).map((a, i) => a.at - attempts[i].at);
    expect(gaps[0]).toBeGreaterThanOrEqual(9);
    expect(gaps[1]).toBeGreaterThanOrEqual(19);
    expect(gaps[2]).toBeGreaterThanOrEqual(39);
    expect(dead[0]).toMatchObject({
      consumer: "loans",
      deliveries: 4,
      event: { id: "p1", subject: "loan.payment.applied", payload: { amount: "5.00" } },
    });
    expect(dead[0].error).toContain("ledger unavailable");
    await new Promise((r) => setTimeout(r, 100));
    expect(attempts).toHaveLength(4); // nothing after the dead letter
  });

  it("acks once a retried handler succeeds (no dead letter)", async () => {
    const deliveries: number[] = [];
    await bus.consume({
      consumer: "c",
      subject: "s.t",
      retryDelayMs: 1,
      handler: async (m) => {
        deliveries.push(m.delivery);
        if (m.delivery < 3) throw new Error("transient");
      },
    });
    await bus.publish({ id: "e", subject: "s.t", payload: null });
    await waitFor(() => deliveries.length === 3, "third delivery");
    await new Promise((r) => setTimeout(r, 30));
    expect(deliveries).toEqual([1, 2, 3]);
    expect(await bus.deadLetters()).toEqual([]);
  });

  it("gives each durable every event, and each event to one instance of a durable", async () => {
    const byInstance = { one: [] as string[], two: [] as string[], other: [] as string[] };
    const slow = (list: string[]) => async (m: DeliveredEvent) => {
      list.push(m.id);
      await new Promise((r) => setTimeout(r, 2));
    };
    await bus.consume({ consumer: "loans", subject: "x.y", handler: slow(byInstance.one) });
    await bus.consume({ consumer: "loans", subject: "x.y", handler: slow(byInstance.two) });
    await bus.consume({ consumer: "portfolios", subject: "x.y", handler: slow(byInstance.other) });
    for (let i = 0; i < 20; i++) await bus.publish({ id: `e${i}`, subject: "x.y", payload: i });
    await waitFor(() => byInstance.one.length + byInstance.two.length === 20 && byInstance.other.length === 20, "all deliveries");
    expect(new Set([...byInstance.one, ...byInstance.two]).size).toBe(20);
    expect(byInstance.one.length).toBeGreaterThan(0);
    expect(byInstance.two.length).toBeGreaterThan(0);
  });

  it("matches wildcard subscriptions", async () => {
    const star: string[] = [];
    const all: string[] = [];
    await bus.consume({ consumer: "a", subject: "loan.transaction.*", handler: async (m) => void star.push(m.subject) });
    await bus.consume({ consumer: "b", subject: "loan.>", handler: async (m) => void all.push(m.subject) });
    await bus.publish({ id: "1", subject: "loan.transaction.booked", payload: null });
    await bus.publish({ id: "2", subject: "loan.transaction.booked.late", payload: null });
    await bus.publish({ id: "3", subject: "loan.disbursed", payload: null });
    await bus.publish({ id: "4", subject: "portfolio.sold", payload: null });
    await waitFor(() => all.length === 3 && star.length === 1, "matching deliveries");
    expect(star).toEqual(["loan.transaction.booked"]);
  });

  it("runs at most `concurrency` handlers at once", async () => {
    let running = 0;
    let peak = 0;
    let done = 0;
    await bus.consume({
      consumer: "c",
      subject: "s.t",
      concurrency: 3,
      handler: async () => {
        peak = Math.max(peak, ++running);
        await new Promise((r) => setTimeout(r, 5));
        running--;
        done++;
      },
    });
    for (let i = 0; i < 12; i++) await bus.publish({ id: `e${i}`, subject: "s.t", payload: i });
    await waitFor(() => done === 12, "all handled");
    expect(peak).toBe(3);
  });

  it("on stop, naks a handler still running so the next instance gets it at once", async () => {
    const hold = gate();
    const first: DeliveredEvent[] = [];
    const handle = await bus.consume({
      consumer: "c",
      subject: "s.t",
      shutdownGraceMs: 20,
      handler: async (m) => {
        first.push(m);
        await hold.promise;
      },
    });
    await bus.publish({ id: "e1", subject: "s.t", payload: null });
    await waitFor(() => first.length === 1, "first delivery");
    await handle.stop();

    const second: DeliveredEvent[] = [];
    await bus.consume({ consumer: "c", subject: "s.t", handler: async (m) => void second.push(m) });
    await waitFor(() => second.length === 1, "redelivery");
    expect(second[0]).toMatchObject({ id: "e1", delivery: 2 });
    hold.open(); // the abandoned handler finishing late changes nothing
    await new Promise((r) => setTimeout(r, 20));
    expect(second).toHaveLength(1);
    expect(await bus.deadLetters()).toEqual([]);
  });

  it("on stop, lets a handler finish within the grace period", async () => {
    const handled: string[] = [];
    const handle = await bus.consume({
      consumer: "c",
      subject: "s.t",
      handler: async (m) => {
        await new Promise((r) => setTimeout(r, 20));
        handled.push(m.id);
      },
    });
    await bus.publish({ id: "e1", subject: "s.t", payload: null });
    await new Promise((r) => setImmediate(r)); // the delivery starts on the next tick
    await handle.stop();
    expect(handled).toEqual(["e1"]);
    const again: string[] = [];
    await bus.consume({ consumer: "c", subject: "s.t", handler: async (m) => void again.push(m.id) });
    await new Promise((r) => setTimeout(r, 30));
    expect(again).toEqual([]);
  });

  it("keeps a durable's backlog while no instance is attached", async () => {
    const handle = await bus.consume({ consumer: "c", subject: "s.t", handler: async () => undefined });
    await handle.stop();
    await bus.publish({ id: "while-down", subject: "s.t", payload: null });
    const got: string[] = [];
    await bus.consume({ consumer: "c", subject: "s.t", handler: async (m) => void got.push(m.id) });
    await waitFor(() => got.length === 1, "backlog after restart");
    expect(got).toEqual(["while-down"]);
  });

  it("retains for later durables by bytes as well as by count: the oldest go, a subscribed durable keeps its backlog", async () => {
    // Each envelope is ~1 KB of JSON; a 5 KB budget keeps the newest few.
    const small = new InProcessBus({ logger: quietLogger, maxRetainedBytes: 5_000 });
    const early: string[] = [];
    await small.consume({ consumer: "early", subject: "s.t", handler: async (m) => void early.push(m.id) });
    const pad = "x".repeat(1_000);
    for (let i = 1; i <= 20; i++) await small.publish({ id: `e${i}`, subject: "s.t", payload: { pad } });
    const { events, bytes } = small.retention();
    expect(bytes).toBeLessThanOrEqual(5_000 * 1.1);
    expect(events).toBeGreaterThanOrEqual(4);
    expect(events).toBeLessThan(20);
    const late: string[] = [];
    await small.consume({ consumer: "late", subject: "s.t", handler: async (m) => void late.push(m.id) });
    await waitFor(() => early.length === 20 && late.length === events, "both durables");
    // The later durable's "deliver all" is what is still retained: the newest events, in order.
    expect(late).toEqual(Array.from({ length: events }, (_, k) => `e${21 - events + k}`));
    expect(early).toEqual(Array.from({ length: 20 }, (_, k) => `e${k + 1}`));
    await small.close();
  });

  it("keeps the newest event even when it alone is over the byte budget", async () => {
    const tiny = new InProcessBus({ logger: quietLogger, maxRetainedBytes: 10 });
    await tiny.publish({ id: "a", subject: "s.t", payload: "x".repeat(100) });
    await tiny.publish({ id: "b", subject: "s.t", payload: "x".repeat(100) });
    expect(tiny.retention().events).toBe(1);
    const got: string[] = [];
    await tiny.consume({ consumer: "c", subject: "s.t", handler: async (m) => void got.push(m.id) });
    await waitFor(() => got.length === 1, "the newest");
    expect(got).toEqual(["b"]);
    await tiny.close();
  });

  it("refuses bad subjects and missing ids", async () => {
    await expect(bus.publish({ id: "1", subject: "loan.*", payload: null })).rejects.toThrow(/invalid event subject/);
    await expect(bus.publish({ id: "", subject: "loan.x", payload: null })).rejects.toThrow(/without id/);
    await expect(bus.consume({ consumer: "c", subject: "a.>.b", handler: async () => undefined })).rejects.toThrow(/invalid subscription/);
  });
});
