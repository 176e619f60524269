/** runDailyJob: the job side of the chain's contract — what a job's service reports, and under which id. */
import type { DeliveredEvent } from "../../../shared/events/bus";
import { runDailyJob } from "../../../shared/scheduler/daily-job";

function host() {
  const published: { subject: string; id: string; payload: any }[] = [];
  const errors: unknown[] = [];
  return {
    published,
    errors,
    broker: { nodeID: "node-1" },
    logger: { error: (...args: unknown[]) => errors.push(args) },
    async publishDurable(subject: string, id: string, payload: unknown) {
      published.push({ subject, id, payload });
    },
  };
}
const tick = (attempt?: number): DeliveredEvent => ({
  id: attempt && attempt > 1 ? `snapshots:2026-03-02:attempt-${attempt}` : "snapshots:2026-03-02",
  subject: "scheduler.tick.snapshots",
  occurred_at: "2026-03-03T11:00:00.000Z",
  delivery: 1,
  payload: { tick_id: "snapshots:2026-03-02", job: "snapshots", business_date: "2026-03-02", emitted_at: "2026-03-03T11:00:00.000Z", trigger: "chain", ...(attempt ? { attempt } : {}) },
});

it("reports a completed run with the job's counts, its duration and the tick's attempt", async () => {
  const h = host();
  const dates: string[] = [];
  await runDailyJob(h, tick(), async (t) => {
    dates.push(t.business_date);
    return { portfolios: 3 };
  });
  expect(dates).toEqual(["2026-03-02"]);
  expect(h.published).toEqual([
    {
      subject: "scheduler.job.finished",
      id: "snapshots:2026-03-02:finished",
      payload: { job: "snapshots", business_date: "2026-03-02", status: "completed", counts: { portfolios: 3 }, attempt: 1, node_id: "node-1", duration_ms: expect.any(Number) },
    },
  ]);
});

it("reports a failure instead of throwing, under an id that names the retry's attempt", async () => {
  const h = host();
  const report = await runDailyJob(h, tick(3), async () => {
    throw new Error("mail server down");
  });
  expect(report).toMatchObject({ status: "failed", error: "mail server down", attempt: 3 });
  expect(h.published.map((p) => p.id)).toEqual(["snapshots:2026-03-02:attempt-3:finished"]);
  expect(h.errors).toHaveLength(1);
});
