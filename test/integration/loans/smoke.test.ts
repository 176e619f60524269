import { makeProduct, ok, openLoan, pay, startLoanSystem, type LoanSystem } from "../../support/loans";
import { TEST_TOKENS as T } from "../../support/system";

let sys: LoanSystem;
beforeAll(async () => {
  sys = await startLoanSystem("loans_smoke");
});
afterAll(async () => sys?.stop());

it("originates, disburses and takes a payment", async () => {
  const { product_id } = await makeProduct(sys.api, { fees: [{ fee_type: "late", calculation: "flat", amount: "25.00" }, { fee_type: "nsf", calculation: "flat", amount: "30.00" }] });
  const loan = await openLoan(sys.api, { product_id, principal: "12000.00", term_months: 12, annual_rate: "0.1200" }, "2026-01-15");
  expect(loan.status).toBe("active");
  expect(loan.schedule).toHaveLength(12);
  const first = loan.schedule[0];
  const p = await pay(sys.api, loan.id, first.payment, first.due_date);
  expect(p.transaction.components.interest).toBe(first.interest);
  expect(p.transaction.components.principal).toBe(first.principal);
  const tx = await ok(sys.api("GET", `/api/v1/loans/${loan.id}/transactions`, { token: T.analyst }));
  expect(tx.items.map((t: any) => t.type)).toEqual(["disbursement", "payment"]);
  const q = await ok(sys.api("GET", `/api/v1/loans/${loan.id}/payoff?date=2026-03-15`, { token: T.analyst }));
  expect(q.total).toMatch(/^\d+\.\d\d$/);
  const trail = await ok(sys.api("GET", `/api/v1/loans/${loan.id}/accruals?from=2026-01-15&to=2026-02-14`, { token: T.analyst }));
  expect(trail.spans[0].charged).toBe(first.interest);
  // backdated payment replays
  const second = loan.schedule[1];
  await pay(sys.api, loan.id, second.payment, second.due_date);
  const back = await pay(sys.api, loan.id, "100.00", "2026-02-20");
  expect(back.replay.from).toBe("2026-02-20");
  expect(back.replay.changed.length).toBe(1);
  const del = await ok(sys.api("DELETE", `/api/v1/loans/${loan.id}/transactions/${back.transaction.id}`, { token: T.servicer }));
  expect(del.reversed.status).toBe("reversed");
  const after = await ok(sys.api("GET", `/api/v1/loans/${loan.id}`, { token: T.analyst }));
  expect(after.position.principal_balance).toBe(second.balance);
}, 60_000);
