/** Subject rules and names shared by both durable buses, and the retry delay policy. */
import { retryDelay, runDelivery, settingsOf } from "../../../shared/events/delivery";
import { assertFilterSubject, assertPublishSubject, durableName, safeName, subjectMatches } from "../../../shared/events/subjects";

describe("durable event subjects", () => {
  it("matches NATS wildcards", () => {
    expect(subjectMatches("loan.payment.applied", "loan.payment.applied")).toBe(true);
    expect(subjectMatches("loan.payment.applied", "loan.payment")).toBe(false);
    expect(subjectMatches("loan.*", "loan.disbursed")).toBe(true);
    expect(subjectMatches("loan.*", "loan.payment.applied")).toBe(false);
    expect(subjectMatches("loan.>", "loan.payment.applied")).toBe(true);
    expect(subjectMatches("loan.>", "loan")).toBe(false);
    expect(subjectMatches("*.sold", "portfolio.sold")).toBe(true);
  });

  it("validates publish and filter subjects", () => {
    expect(() => assertPublishSubject("loan.transaction.booked")).not.toThrow();
    for (const bad of ["", "loan..x", "loan.*", "loan.>", "loan x", ".loan"]) expect(() => assertPublishSubject(bad)).toThrow();
    expect(() => assertFilterSubject("loan.transaction.*")).not.toThrow();
    expect(() => assertFilterSubject("loan.>")).not.toThrow();
    expect(() => assertFilterSubject("loan.>.x")).toThrow();
  });

  it("makes JetStream-safe, distinct durable names", () => {
    expect(safeName("v2.loans")).toBe("v2_loans");
    const names = ["loan.transaction.*", "loan.transaction.>", "loan.transaction.STAR"].map((s) => durableName("portfolios", s));
    expect(new Set(names).size).toBe(3);
    for (const n of names) expect(n).toMatch(/^[A-Za-z0-9_-]+$/);
  });
});

describe("durable event retry policy", () => {
  const base = { consumer: "c", subject: "s", handler: async () => undefined };

  it("doubles the delay per delivery up to the cap", () => {
    const s = { retryDelayMs: 100, maxRetryDelayMs: 500 };
    expect([1, 2, 3, 4, 5].map((d) => retryDelay(d, s))).toEqual([100, 200, 400, 500, 500]);
  });

  it("retries below maxDeliver and dead-letters at it", async () => {
    const s = settingsOf({ ...base, maxDeliver: 3, retryDelayMs: 10, handler: async () => Promise.reject(new Error("boom")) });
    const ev = { id: "e", subject: "s", payload: null, occurred_at: "" };
    expect(await runDelivery({ ...ev, delivery: 1 }, s)).toMatchObject({ kind: "retry", delayMs: 10 });
    expect(await runDelivery({ ...ev, delivery: 2 }, s)).toMatchObject({ kind: "retry", delayMs: 20 });
    expect(await runDelivery({ ...ev, delivery: 3 }, s)).toMatchObject({ kind: "dead", error: expect.stringContaining("boom") });
  });

  it("dead-letters without running a message that keeps killing its consumer", async () => {
    let ran = false;
    const s = settingsOf({ ...base, maxDeliver: 2, handler: async () => void (ran = true) });
    const outcome = await runDelivery({ id: "e", subject: "s", payload: null, occurred_at: "", delivery: 7 }, s);
    expect(outcome.kind).toBe("dead");
    expect(ran).toBe(false);
  });
});
