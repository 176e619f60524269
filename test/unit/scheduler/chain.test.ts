/** The daily chain's pure rules (DESIGN.md §8): timing, planning, reports, back-off, progress view. */
import { CHAIN, type DailyJob } from "../../../shared/contracts/scheduler";
import { planChain, type PlanContext } from "../../../shared/scheduler/chain-plan";
import { datesToAdd, earliestStart, latestDueDate } from "../../../shared/scheduler/chain-time";
import { chainStatus, chainView } from "../../../shared/scheduler/chain-view";
import { applyJobFinished } from "../../../shared/scheduler/job-finished";
import { tickEventId, type JobRun, type RunState } from "../../../shared/scheduler/job-run";
import { retryDelayMs } from "../../../shared/scheduler/retry";

const zone = "America/New_York";
const allServices = new Set(CHAIN.map((c) => c.service));
const ctx = (nowIso: string, over: Partial<PlanContext> = {}): PlanContext => ({ now: new Date(nowIso), zone, deployed: allServices, undeployedIsFinal: true, jobTimeoutMs: 3_600_000, ...over });

function chain(date: string, states: Partial<Record<DailyJob, RunState>>, extra: Partial<Record<DailyJob, Partial<JobRun>>> = {}): JobRun[] {
  return CHAIN.map((c) => ({
    _id: `${c.job}:${date}`,
    job: c.job,
    business_date: date,
    state: states[c.job] ?? "waiting",
    attempt: states[c.job] && states[c.job] !== "waiting" && states[c.job] !== "skipped" ? 1 : 0,
    max_attempt: 5,
    trigger: "clock",
    ...extra[c.job],
  }));
}

describe("chain time", () => {
  it("runs D's close from midnight ending D and auto_assign from 05:00 the next day, business time", () => {
    expect(earliestStart("close_of_business", "2026-03-02", zone).toISO()).toBe("2026-03-03T00:00:00.000-05:00");
    expect(earliestStart("auto_assign", "2026-03-02", zone).toISO()).toBe("2026-03-03T05:00:00.000-05:00");
    // Across the spring-forward night the 05:00 is EDT.
    expect(earliestStart("auto_assign", "2026-03-07", zone).toISO()).toBe("2026-03-08T05:00:00.000-04:00");
  });

  it("the latest due date is yesterday in the business zone, not in UTC", () => {
    // 02:30 UTC on the 3rd is 21:30 on the 2nd in New York: D = the 1st.
    expect(latestDueDate(zone, new Date("2026-03-03T02:30:00Z"))).toBe("2026-03-01");
    expect(latestDueDate(zone, new Date("2026-03-03T05:30:00Z"))).toBe("2026-03-02");
  });

  it("adds the dates after the latest known up to the target, capped; an empty ledger starts at the target", () => {
    expect(datesToAdd("2026-03-01", "2026-03-04", 31)).toEqual(["2026-03-02", "2026-03-03", "2026-03-04"]);
    expect(datesToAdd("2026-03-04", "2026-03-04", 31)).toEqual([]);
    expect(datesToAdd("2026-03-05", "2026-03-04", 31)).toEqual([]);
    expect(datesToAdd(undefined, "2026-03-04", 31)).toEqual(["2026-03-04"]);
    expect(datesToAdd("2026-01-01", "2026-03-04", 2)).toEqual(["2026-03-03", "2026-03-04"]);
  });
});

describe("planChain", () => {
  it("starts only the first job whose upstream is done", () => {
    expect(planChain(chain("2026-03-02", {}), ctx("2026-03-03T06:00:00-05:00"))).toEqual([
      { kind: "start", job: "close_of_business", business_date: "2026-03-02", attempt: 1 },
    ]);
    expect(planChain(chain("2026-03-02", { close_of_business: "started" }), ctx("2026-03-03T06:00:00-05:00"))).toEqual([]);
    expect(planChain(chain("2026-03-02", { close_of_business: "completed", auto_assign: "completed" }), ctx("2026-03-03T06:00:00-05:00"))).toEqual([
      { kind: "start", job: "snapshots", business_date: "2026-03-02", attempt: 1 },
    ]);
  });

  it("holds auto_assign until 05:00 of the next day, and close_of_business until D has ended", () => {
    expect(planChain(chain("2026-03-02", {}), ctx("2026-03-02T23:59:00-05:00"))).toEqual([]);
    const closed = chain("2026-03-02", { close_of_business: "completed" });
    expect(planChain(closed, ctx("2026-03-03T04:59:00-05:00"))).toEqual([]);
    expect(planChain(closed, ctx("2026-03-03T05:00:00-05:00"))).toEqual([{ kind: "start", job: "auto_assign", business_date: "2026-03-02", attempt: 1 }]);
  });

  it("runs the whole chain for D before D + 1 starts", () => {
    const runs = [...chain("2026-03-02", { close_of_business: "completed", auto_assign: "completed", snapshots: "started" }), ...chain("2026-03-03", {})];
    expect(planChain(runs, ctx("2026-03-05T06:00:00-05:00"))).toEqual([]);
    const done = [...chain("2026-03-02", { close_of_business: "completed", auto_assign: "completed", snapshots: "completed", tapes: "skipped" }), ...chain("2026-03-03", {})];
    expect(planChain(done, ctx("2026-03-05T06:00:00-05:00"))).toEqual([{ kind: "start", job: "close_of_business", business_date: "2026-03-03", attempt: 1 }]);
  });

  it("retries a failed attempt once its back-off has passed, and halts when the attempts are spent", () => {
    const failed = (next: string | null, attempt = 2) =>
      chain("2026-03-02", { close_of_business: "failed" }, { close_of_business: { attempt, next_attempt_at: next ? new Date(next) : null } });
    expect(planChain(failed("2026-03-03T06:10:00-05:00"), ctx("2026-03-03T06:09:59-05:00"))).toEqual([]);
    expect(planChain(failed("2026-03-03T06:10:00-05:00"), ctx("2026-03-03T06:10:00-05:00"))).toEqual([
      { kind: "start", job: "close_of_business", business_date: "2026-03-02", attempt: 3 },
    ]);
    // Spent: nothing of D or of D + 1 starts.
    expect(planChain([...failed(null, 5), ...chain("2026-03-03", {})], ctx("2026-03-05T06:00:00-05:00"))).toEqual([]);
  });

  it("times out a started attempt that has had no report for jobTimeoutMs", () => {
    const started = chain("2026-03-02", { close_of_business: "started" }, { close_of_business: { started_at: new Date("2026-03-03T00:00:00-05:00") } });
    expect(planChain(started, ctx("2026-03-03T00:59:59-05:00"))).toEqual([]);
    expect(planChain(started, ctx("2026-03-03T01:00:00-05:00"))).toEqual([{ kind: "time_out", job: "close_of_business", business_date: "2026-03-02", attempt: 1 }]);
  });

  it("skips the jobs of services no node runs, visibly, and goes on down the chain", () => {
    const deployed = new Set(["loans", "snapshots"]);
    expect(planChain(chain("2026-03-02", { close_of_business: "completed" }), ctx("2026-03-03T06:00:00-05:00", { deployed }))).toEqual([
      { kind: "skip", job: "auto_assign", business_date: "2026-03-02", reason: 'service "portfolios" is not deployed' },
      { kind: "start", job: "snapshots", business_date: "2026-03-02", attempt: 1 },
    ]);
    // Just after start the cluster may not be discovered yet: wait rather than skip.
    expect(planChain(chain("2026-03-02", { close_of_business: "completed" }), ctx("2026-03-03T06:00:00-05:00", { deployed, undeployedIsFinal: false }))).toEqual([]);
  });

  it("a date whose jobs are all skipped settles and lets the next date start in the same pass", () => {
    const deployed = new Set(["loans"]);
    const runs = [...chain("2026-03-02", { close_of_business: "completed" }), ...chain("2026-03-03", {})];
    expect(planChain(runs, ctx("2026-03-05T06:00:00-05:00", { deployed })).map((a) => `${a.kind} ${a.job} ${a.business_date}`)).toEqual([
      "skip auto_assign 2026-03-02",
      "skip snapshots 2026-03-02",
      "skip tapes 2026-03-02",
      "start close_of_business 2026-03-03",
    ]);
  });
});

describe("applyJobFinished", () => {
  const policy = { baseDelayMs: 60_000, maxDelayMs: 30 * 60_000 };
  const now = new Date("2026-03-03T06:00:00Z");
  const started = (attempt: number, max = 5): JobRun => ({ _id: "snapshots:2026-03-02", job: "snapshots", business_date: "2026-03-02", state: "started", attempt, max_attempt: max, trigger: "chain" });
  const report = (status: "completed" | "failed", attempt: number) => ({ job: "snapshots" as const, business_date: "2026-03-02", status, attempt, duration_ms: 1500, counts: { portfolios: 3 }, ...(status === "failed" ? { error: "boom" } : {}) });

  it("records a completed run with its counts and duration", () => {
    expect(applyJobFinished(started(1), report("completed", 1), now, policy)).toEqual({
      kind: "completed",
      patch: { state: "completed", attempt: 1, finished_at: now, duration_ms: 1500, counts: { portfolios: 3 }, error: null, next_attempt_at: null },
    });
  });

  it("schedules a retry after 1 min × 2^(n−1) while attempts remain, then fails for good", () => {
    const second = applyJobFinished(started(2), report("failed", 2), now, policy);
    expect(second).toMatchObject({ kind: "retry", patch: { state: "failed", error: "boom", next_attempt_at: new Date(now.getTime() + 120_000) } });
    expect(applyJobFinished(started(5), report("failed", 5), now, policy)).toMatchObject({ kind: "failed", patch: { next_attempt_at: null } });
  });

  it("ignores a late report of an earlier attempt, and a second report of a completed run", () => {
    expect(applyJobFinished(started(3), report("failed", 2), now, policy).kind).toBe("ignored");
    expect(applyJobFinished({ ...started(1), state: "completed" }, report("failed", 1), now, policy).kind).toBe("ignored");
  });
});

describe("back-off, tick ids, progress", () => {
  it("doubles the delay per attempt up to the cap", () => {
    const p = { baseDelayMs: 60_000, maxDelayMs: 600_000 };
    expect([1, 2, 3, 4, 5, 6].map((n) => retryDelayMs(n, p))).toEqual([60_000, 120_000, 240_000, 480_000, 600_000, 600_000]);
  });

  it("keeps the ledger key for the first attempt's tick and gives each retry its own id", () => {
    expect(tickEventId("tapes", "2026-03-02", 1)).toBe("tapes:2026-03-02");
    expect(tickEventId("tapes", "2026-03-02", 2)).toBe("tapes:2026-03-02:attempt-2");
  });

  it("summarises a date's chain", () => {
    expect(chainStatus([])).toBe("not_scheduled");
    expect(chainStatus(chain("d", { close_of_business: "started" }))).toBe("running");
    expect(chainStatus(chain("d", { close_of_business: "failed" }, { close_of_business: { next_attempt_at: new Date() } }))).toBe("retrying");
    expect(chainStatus(chain("d", { close_of_business: "failed" }, { close_of_business: { attempt: 5, next_attempt_at: null } }))).toBe("halted");
    expect(chainStatus(chain("d", { close_of_business: "completed", auto_assign: "skipped", snapshots: "completed", tapes: "completed" }))).toBe("completed");
    const view = chainView("2026-03-02", chain("2026-03-02", {}).slice(0, 1), zone);
    expect(view.jobs.map((j) => [j.job, j.state])).toEqual([["close_of_business", "waiting"], ["auto_assign", "not_scheduled"], ["snapshots", "not_scheduled"], ["tapes", "not_scheduled"]]);
    expect(view.jobs[1].not_before).toBe("2026-03-03T05:00:00.000-05:00");
  });
});
