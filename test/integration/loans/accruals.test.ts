/**
 * Issue 8 point 7: for every accrual method and day count, the day-by-day trail of
 * /loans/:id/accruals rounds per span to exactly the interest the schedule bills (and the days of
 * a span add up to the span's unrounded interest).
 */
import Decimal from "decimal.js";
import { makeProduct, ok, openLoan, pay, startLoanSystem, type LoanSystem } from "../../support/loans";
import { TEST_TOKENS as T } from "../../support/system";

let sys: LoanSystem;
beforeAll(async () => {
  sys = await startLoanSystem("loans_accruals");
}, 60_000);
afterAll(async () => sys?.stop());

const DAY_COUNTS = ["actual_360", "actual_365", "30_360", "actual_actual"];
const METHODS = ["simple", "compound_daily", "compound_monthly"];

describe.each(METHODS)("%s", (method) => {
  it.each(DAY_COUNTS)("%s: spans round to the billed interest", async (dc) => {
    const { product_id } = await makeProduct(sys.api, { day_count_convention: dc, accrual_method: method });
    // an odd first period (disbursed on the 31st: 30/360 day rules) and a leap February
    const loan = await openLoan(sys.api, { product_id, principal: "15432.10", term_months: 24, annual_rate: "0.1375", first_payment_date: "2024-02-29" }, "2024-01-31");
    const rows = loan.schedule.slice(0, 4);
    for (const r of rows) await pay(sys.api, loan.id, r.payment, r.due_date);
    const lastDay = new Date(Date.parse(rows[3].due_date) - 86400000).toISOString().slice(0, 10);
    const trail = await ok(sys.api("GET", `/api/v1/loans/${loan.id}/accruals?from=2024-01-31&to=${lastDay}`, { token: T.analyst }));
    expect(trail.spans.map((s: any) => s.charged)).toEqual(rows.map((r: any) => r.interest));
    expect(trail.total_charged).toBe(rows.reduce((s: Decimal, r: any) => s.plus(r.interest), new Decimal(0)).toFixed(2));
    for (const span of trail.spans) {
      const days = trail.days.filter((d: any) => d.date >= span.start && d.date < span.end);
      const sum = days.reduce((s: Decimal, d: any) => s.plus(d.interest), new Decimal(0));
      expect(sum.minus(span.unrounded).abs().lte("1e-9")).toBe(true);
      expect(days.every((d: any) => d.principal_balance === span.principal_balance)).toBe(true);
    }
    // the running total is kept unrounded; each listed day is shown to 12 decimals
    const listed = trail.days.reduce((s: Decimal, d: any) => s.plus(d.interest), new Decimal(0));
    expect(listed.minus(trail.days[trail.days.length - 1].running_total).abs().lte("1e-9")).toBe(true);
  });
});

it("rule of 78: the trail shows each installment's precomputed charge", async () => {
  const { product_id } = await makeProduct(sys.api, { accrual_method: "rule_of_78" });
  const loan = await openLoan(sys.api, { product_id, principal: "6000.00", term_months: 12, annual_rate: "0.15" }, "2026-01-05");
  const trail = await ok(sys.api("GET", `/api/v1/loans/${loan.id}/accruals?from=2026-01-05&to=2026-04-04`, { token: T.analyst }));
  expect(trail.spans.map((s: any) => s.charged)).toEqual(loan.schedule.slice(0, 3).map((r: any) => r.interest));
});

it("a late payment splits the period: the spans still add up to what was billed", async () => {
  const { product_id } = await makeProduct(sys.api);
  const loan = await openLoan(sys.api, { product_id, principal: "10000.00", term_months: 12, annual_rate: "0.12", first_payment_date: "2026-02-01" }, "2026-01-01");
  await pay(sys.api, loan.id, "888.49", "2026-02-11");
  const second = await pay(sys.api, loan.id, "888.49", "2026-03-01");
  const trail = await ok(sys.api("GET", `/api/v1/loans/${loan.id}/accruals?from=2026-01-01&to=2026-02-28`, { token: T.analyst }));
  // 01-01..02-01 101.92 (installment 1); 02-01..02-11 32.88 on 10000.00; 02-11..03-01 54.52 on 9213.43
  expect(trail.spans.map((s: any) => [s.start, s.end, s.principal_balance, s.charged])).toEqual([
    ["2026-01-01", "2026-02-01", "10000.00", "101.92"],
    ["2026-02-01", "2026-02-11", "10000.00", "32.88"],
    ["2026-02-11", "2026-03-01", "9213.43", "54.52"],
  ]);
  expect(second.transaction.components.interest).toBe("87.40");
});
