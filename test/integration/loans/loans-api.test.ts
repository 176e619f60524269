/**
 * Issue 8 points 1, 2, 6, 8 and 9 through the gateway over NATS: every program type's life,
 * origination rules, quotes that close a loan to the cent, and bad input that leaves the loan,
 * its ledger and its outbox as they were.
 */
import mongoose from "mongoose";
import { makeProduct, ok, openLoan, pay, startLoanSystem, type LoanSystem } from "../../support/loans";
import { eventually, TEST_TOKENS as T } from "../../support/system";
import { keepPublishedOutboxRecords } from "../../support/events/keep-published";

// A refused request must leave the outbox as it was: the count must see every write.
keepPublishedOutboxRecords();

let sys: LoanSystem;
let db: mongoose.Connection;
beforeAll(async () => {
  sys = await startLoanSystem("loans_api");
  db = await mongoose.createConnection(sys.mongoUrl).asPromise();
}, 60_000);
afterAll(async () => {
  await db?.close();
  await sys?.stop();
});

const api = (...a: Parameters<LoanSystem["api"]>) => sys.api(...a);
const get = (id: string) => ok(api("GET", `/api/v1/loans/${id}`, { token: T.analyst }));

/** The loan document, its ledger and its outbox: what a refused request must leave untouched. */
async function footprint(loanId: string) {
  const loan = await db.collection("loans").findOne({ _id: new mongoose.Types.ObjectId(loanId) });
  const ledger = await db.collection("loan_transactions").countDocuments({ loan_id: loanId });
  const outbox = await db.collection("loans_outbox").countDocuments({});
  const { updated_at: _u, ...rest } = loan as any;
  return { loan: JSON.stringify(rest), ledger, outbox };
}

async function expectRefused(loanId: string, req: Promise<{ status: number; body: any }>, status: number, fields?: string[]) {
  // The loan as the last accepted request left it, its `pending` mark cleared (the clear follows
  // that request's answer).
  const before = await eventually(async () => {
    const f = await footprint(loanId);
    return !JSON.parse(f.loan).pending && f;
  });
  const res = await req;
  expect({ status: res.status, body: res.body }).toMatchObject({ status });
  expect(res.body.error).toBeDefined();
  if (fields) expect(res.body.error.data.fields.map((f: any) => f.field).sort()).toEqual([...fields].sort());
  expect(await footprint(loanId)).toEqual(before);
  return res.body;
}

describe("installment loans", () => {
  it("pays exactly the payoff total and is paid off with every balance 0.00", async () => {
    const { product_id } = await makeProduct(api, { day_count_convention: "actual_360", accrual_method: "compound_daily" });
    const loan = await openLoan(api, { product_id, principal: "25000.00", term_months: 36, annual_rate: "0.0899" }, "2026-02-10");
    for (const row of loan.schedule.slice(0, 3)) await pay(api, loan.id, row.payment, row.due_date);
    const q = await ok(api("GET", `/api/v1/loans/${loan.id}/payoff?date=2026-06-02`, { token: T.analyst }));
    expect(Object.keys(q)).toEqual(expect.arrayContaining(["date", "principal", "interest", "fees", "deferred_interest", "rebate", "credit", "total"]));
    expect(q.principal).toBe(loan.schedule[2].balance);
    const p = await pay(api, loan.id, q.total, "2026-06-02");
    expect(p.loan.status).toBe("paid_off");
    expect(p.loan.position).toMatchObject({ principal_balance: "0.00", interest_receivable: "0.00", fees_due: "0.00", credit_balance: "0.00", past_due_amount: "0.00" });
    expect(p.transaction.components.credit).toBe("0.00");
  });

  it("holds an overpayment as a credit balance, refundable by credit_refund", async () => {
    const { product_id } = await makeProduct(api);
    const loan = await openLoan(api, { product_id, principal: "1000.00", term_months: 6, annual_rate: "0.10" }, "2026-03-01");
    const q = await ok(api("GET", `/api/v1/loans/${loan.id}/payoff?date=2026-03-11`, { token: T.analyst }));
    const p = await pay(api, loan.id, "1100.00", "2026-03-11");
    expect(p.loan.status).toBe("paid_off");
    // the excess over the payoff total is credit, never lost
    const excess = (110000 - Math.round(Number(q.total) * 100)) / 100;
    expect(p.transaction.components.credit).toBe(excess.toFixed(2));
    expect(p.loan.position.credit_balance).toBe(excess.toFixed(2));
    const r = await ok(api("POST", `/api/v1/loans/${loan.id}/credit-refund`, { token: T.servicer, body: { date: "2026-03-12" } }), 201);
    expect(r.transaction).toMatchObject({ type: "credit_refund", amount: excess.toFixed(2), cash_class: "cash_outflow" });
    expect(r.loan.position.credit_balance).toBe("0.00");
    await expectRefused(loan.id, api("POST", `/api/v1/loans/${loan.id}/credit-refund`, { token: T.servicer, body: { date: "2026-03-12" } }), 422);
  });

  it("shows the rule-of-78 rebate in the payoff quote", async () => {
    const { product_id } = await makeProduct(api, { accrual_method: "rule_of_78" });
    const loan = await openLoan(api, { product_id, principal: "6000.00", term_months: 12, annual_rate: "0.15" }, "2026-01-05");
    const q = await ok(api("GET", `/api/v1/loans/${loan.id}/payoff?date=2026-03-20`, { token: T.analyst }));
    expect(Number(q.rebate)).toBeGreaterThan(0);
    const p = await pay(api, loan.id, q.total, "2026-03-20");
    expect(p.loan.status).toBe("paid_off");
  });

  it("builds interest-only, balloon and graduated schedules from the product's program_config", async () => {
    const io = await makeProduct(api, { program_config: { interest_only_months: 3 } });
    const a = await openLoan(api, { product_id: io.product_id, principal: "12000.00", term_months: 12, annual_rate: "0.12" }, "2026-01-10");
    expect(a.schedule.slice(0, 3).every((r: any) => r.interest_only && r.principal === "0.00")).toBe(true);
    const balloon = await makeProduct(api, { program_config: { balloon_amortization_months: 60 } });
    const b = await openLoan(api, { product_id: balloon.product_id, principal: "50000.00", term_months: 12, annual_rate: "0.08" }, "2026-01-10");
    expect(Number(b.schedule[11].payment)).toBeGreaterThan(Number(b.schedule[0].payment) * 10);
    expect(b.schedule[11].balance).toBe("0.00");
    const grad = await makeProduct(api, { program_config: { graduated_step_percent: "0.05", graduated_step_months: 12 } });
    const g = await openLoan(api, { product_id: grad.product_id, principal: "20000.00", term_months: 36, annual_rate: "0.10" }, "2026-01-10");
    expect(Number(g.schedule[12].payment)).toBeGreaterThan(Number(g.schedule[0].payment));
    expect(g.schedule[35].balance).toBe("0.00");
  });

  it("a deferred-interest promotion shows its deferred interest only after it ends", async () => {
    const { product_id, program_id } = await makeProduct(api);
    const promo = await ok(api("POST", "/api/v1/promotions", { token: T.admin, body: { name: `DI ${Date.now()}`, program_id, promo_type: "deferred_interest", start_date: "2026-01-01", end_date: "2026-06-30", deferred_interest_rate: "0.24", min_payment_type: "none" } }));
    const created = await ok(api("POST", "/api/v1/loans", { token: T.servicer, body: { product_id, principal: "3000.00", term_months: 12, annual_rate: "0.24" } }), 201);
    const assigned = await ok(api("POST", `/api/v1/loans/${created.id}/promotions`, { token: T.servicer, body: { promotion_id: promo.id } }), 201);
    expect(assigned.promotion).toMatchObject({ promotion_id: promo.id });
    const loan = await ok(api("POST", `/api/v1/loans/${created.id}/disburse`, { token: T.servicer, body: { date: "2026-01-01" } }));
    expect(loan.schedule[0].interest).toBe("0.00");
    const inside = await ok(api("GET", `/api/v1/loans/${loan.id}/payoff?date=2026-05-01`, { token: T.analyst }));
    expect(inside.deferred_interest).toBe("0.00");
    expect(Number(inside.deferred_interest_waivable)).toBeGreaterThan(0);
    const after = await ok(api("GET", `/api/v1/loans/${loan.id}/payoff?date=2026-07-15`, { token: T.analyst }));
    expect(Number(after.deferred_interest)).toBeGreaterThan(0);
    expect(Number(after.total)).toBeGreaterThan(Number(inside.total));
  });
  it("a promotion assigned after disbursement re-plans the loan from the start, as the engine says", async () => {
    const { product_id, program_id } = await makeProduct(api);
    const loan = await openLoan(api, { product_id, principal: "6000.00", term_months: 12, annual_rate: "0.18", first_payment_date: "2026-02-01" }, "2026-01-01");
    await pay(api, loan.id, loan.schedule[0].payment, "2026-02-01");
    const promo = await ok(api("POST", "/api/v1/promotions", { token: T.admin, body: { name: `ZI ${Date.now()}`, program_id, promo_type: "zero_interest", start_date: "2026-03-01", end_date: "2026-05-31" } }));
    const res = await ok(api("POST", `/api/v1/loans/${loan.id}/promotions`, { token: T.servicer, body: { promotion_id: promo.id } }), 201);
    // rows due inside (03-01, 05-31] carry no interest; the first, before the promotion, is unchanged
    expect(res.schedule[0].interest).toBe(loan.schedule[0].interest);
    const inside = res.schedule.filter((r: any) => r.due_date > "2026-03-31" && r.due_date <= "2026-05-31");
    expect(inside.length).toBeGreaterThan(0);
    expect(inside.every((r: any) => r.interest === "0.00")).toBe(true);
    expect(res.replay.from).toBe("2026-01-01");
    expect(res.replay.changed).toEqual([]); // the payment before the promotion keeps its allocation
    const again = await api("POST", `/api/v1/loans/${loan.id}/promotions`, { token: T.servicer, body: { promotion_id: promo.id } });
    expect(again.status).toBe(409);
  });
});

describe("leases", () => {
  it("pays rent, quotes and executes a buyout, then is closed", async () => {
    const { product_id } = await makeProduct(api, { program_type: "lease", day_count_convention: "30_360", accrual_method: "compound_monthly", program_config: { return_fee: "250.00" } });
    const lease = await openLoan(api, { product_id, capitalized_cost: "40000.00", residual_value: "8000.00", term_months: 36, annual_rate: "0.07" }, "2026-01-01");
    expect(lease.program_type).toBe("lease");
    for (const row of lease.schedule.slice(0, 2)) await pay(api, lease.id, row.payment, row.due_date);
    const q = await ok(api("GET", `/api/v1/loans/${lease.id}/buyout?date=2026-03-15`, { token: T.analyst }));
    expect(Number(q.total)).toBeGreaterThan(8000);
    const b = await ok(api("POST", `/api/v1/loans/${lease.id}/buyout`, { token: T.servicer, body: { date: "2026-03-15" } }), 201);
    expect(b.transaction).toMatchObject({ type: "buyout", amount: q.total, cash_class: "cash_inflow" });
    expect(b.loan.status).toBe("closed");
    await expectRefused(lease.id, api("POST", `/api/v1/loans/${lease.id}/payments`, { token: T.servicer, body: { amount: "10.00", date: "2026-03-16", idempotency_key: "after-buyout" } }), 409);
  });

  it("returns the asset with the return fee owed, and is closed", async () => {
    const { product_id } = await makeProduct(api, { program_type: "lease", program_config: { return_fee: "250.00" } });
    const lease = await openLoan(api, { product_id, capitalized_cost: "20000.00", residual_value: "5000.00", term_months: 24, annual_rate: "0.06" }, "2026-01-01");
    const r = await ok(api("POST", `/api/v1/loans/${lease.id}/return`, { token: T.servicer, body: { date: "2026-01-20" } }), 201);
    expect(r.transaction.type).toBe("asset_return");
    expect(r.loan.status).toBe("closed");
  });
});

describe("lines of credit", () => {
  it("draws within the limit, bills a statement with its minimum, pays to zero and closes", async () => {
    const { product_id } = await makeProduct(api, { program_type: "line_of_credit", program_config: { credit_limit: "10000.00", min_payment_percent: "0.03", min_payment_floor: "50.00" } });
    const line = await openLoan(api, { product_id, term_months: 24 }, "2026-01-01");
    expect(line.credit_limit).toBe("10000.00");
    const d1 = await ok(api("POST", `/api/v1/loans/${line.id}/draws`, { token: T.servicer, body: { amount: "4000.00", date: "2026-01-05" } }), 201);
    expect(d1.available_credit).toBe("6000.00");
    await expectRefused(line.id, api("POST", `/api/v1/loans/${line.id}/draws`, { token: T.servicer, body: { amount: "6000.01", date: "2026-01-06" } }), 422);
    const s = await ok(api("POST", `/api/v1/loans/${line.id}/statements`, { token: T.servicer, body: { statement_date: "2026-01-31" } }), 201);
    // minimum = max(3 % of 4000.00, 50.00) = 120.00 principal, plus the cycle's interest
    expect(s.statement.minimum_payment ?? s.statement.minimum_principal).toBeDefined();
    const statements = await ok(api("GET", `/api/v1/loans/${line.id}/statements`, { token: T.analyst }));
    expect(statements.items).toHaveLength(1);
    await expectRefused(line.id, api("POST", `/api/v1/loans/${line.id}/close`, { token: T.servicer, body: { date: "2026-02-01" } }), 422);
    const q = await ok(api("GET", `/api/v1/loans/${line.id}/payoff?date=2026-02-10`, { token: T.analyst }));
    const p = await pay(api, line.id, q.total, "2026-02-10");
    expect(p.loan.position.principal_balance).toBe("0.00");
    expect(p.loan.status).toBe("active"); // a paid line stays open until closed on request
    const closed = await ok(api("POST", `/api/v1/loans/${line.id}/close`, { token: T.servicer, body: { date: "2026-02-10" } }));
    expect(closed.status).toBe("closed");
    await expectRefused(line.id, api("POST", `/api/v1/loans/${line.id}/draws`, { token: T.servicer, body: { amount: "10.00", date: "2026-02-11" } }), 409);
  });
});

describe("origination", () => {
  let product: { product_id: string; program_id: string };
  beforeAll(async () => {
    product = await makeProduct(api, { product: { min_term_months: 12, max_term_months: 60, min_loan_amount: "1000.00", max_loan_amount: "50000.00" } });
  });

  it("names every field outside the product's ranges (400) and writes nothing", async () => {
    const before = await db.collection("loans").countDocuments({});
    const res = await api("POST", "/api/v1/loans", { token: T.servicer, body: { product_id: product.product_id, principal: "50000.01", term_months: 61, capitalized_cost: "100.00" } });
    expect(res.status).toBe(400);
    expect(res.body.error.data.fields.map((f: any) => f.field).sort()).toEqual(["capitalized_cost", "principal", "term_months"]);
    const bad = await api("POST", "/api/v1/loans", { token: T.servicer, body: { product_id: "nope", principal: "abc", term_months: "x", borrower: { credit_score: 900, email: "not-mail" } } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.data.fields.map((f: any) => f.field)).toEqual(expect.arrayContaining(["product_id", "principal", "term_months", "borrower.credit_score", "borrower.email"]));
    const unknown = await api("POST", "/api/v1/loans", { token: T.servicer, body: { product_id: "0123456789abcdef01234567", principal: "5000.00", term_months: 12 } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.data.fields[0].field).toBe("product_id");
    expect(await db.collection("loans").countDocuments({})).toBe(before);
  });

  it("refuses a loan of an inactive product or program (422)", async () => {
    const p = await makeProduct(api);
    await ok(api("POST", `/api/v1/products/${p.product_id}/deactivate`, { token: T.admin }));
    const res = await api("POST", "/api/v1/loans", { token: T.servicer, body: { product_id: p.product_id, principal: "5000.00", term_months: 12 } });
    expect(res.status).toBe(422);
    const q = await makeProduct(api);
    await ok(api("POST", `/api/v1/programs/${q.program_id}/deactivate`, { token: T.admin }));
    expect((await api("POST", "/api/v1/loans", { token: T.servicer, body: { product_id: q.product_id, principal: "5000.00", term_months: 12 } })).status).toBe(422);
  });

  it("prices a variable loan from the index on the origination date plus margin, clamped", async () => {
    const index = `IDX${Date.now() % 100000}`;
    await ok(api("POST", "/api/v1/index-rates", { token: T.admin, body: { index_name: index, rate: "0.0100", effective_date: "2025-12-01" } }));
    const low = await makeProduct(api, { variable: { index_name: index, margin: "0.0200", floor: "0.0450", ceiling: "0.0900", adjustment_frequency: "monthly" }, product: { default_interest_rate: "0.0600" } });
    const loan = await ok(api("POST", "/api/v1/loans", { token: T.servicer, body: { product_id: low.product_id, principal: "10000.00", term_months: 24 } }), 201);
    // 0.0100 + 0.0200 = 0.0300, below the floor: 0.0450
    expect(loan.annual_rate).toBe("0.045");
    expect(loan.index_value).toBe("0.0100");
    await ok(api("POST", "/api/v1/index-rates", { token: T.admin, body: { index_name: index, rate: "0.0800", effective_date: "2026-01-01" } }));
    const high = await ok(api("POST", "/api/v1/loans", { token: T.servicer, body: { product_id: low.product_id, principal: "10000.00", term_months: 24 } }), 201);
    // 0.0800 + 0.0200 = 0.1000, above the ceiling: 0.0900
    expect(high.annual_rate).toBe("0.09");
    const fixedRate = await api("POST", "/api/v1/loans", { token: T.servicer, body: { product_id: low.product_id, principal: "10000.00", term_months: 24, annual_rate: "0.05" } });
    expect(fixedRate.status).toBe(400);
  });

  it("copies the product's configuration: editing the program later changes nothing", async () => {
    const p = await makeProduct(api, { product: { grace_period_days: 7 } });
    const loan = await openLoan(api, { product_id: p.product_id, principal: "5000.00", term_months: 12 }, "2026-02-01");
    const program = await ok(api("GET", `/api/v1/programs/${p.program_id}`, { token: T.admin }));
    await ok(api("PATCH", `/api/v1/programs/${p.program_id}`, { token: T.admin, body: { day_count_convention: "30_360", version: program.version } }));
    const after = await get(loan.id);
    expect(after.day_count_convention).toBe("actual_365");
    expect(after.grace_period_days).toBe(7);
  });

  it("keeps external_id unique (409)", async () => {
    const p = await makeProduct(api);
    const ext = `EXT-${Date.now()}`;
    await ok(api("POST", "/api/v1/loans", { token: T.servicer, body: { product_id: p.product_id, principal: "5000.00", term_months: 12, external_id: ext } }), 201);
    expect((await api("POST", "/api/v1/loans", { token: T.servicer, body: { product_id: p.product_id, principal: "5000.00", term_months: 12, external_id: ext } })).status).toBe(409);
    const list = await ok(api("GET", `/api/v1/loans?external_id=${ext}`, { token: T.analyst }));
    expect(list.total).toBe(1);
  });
});

describe("bad input on every route leaves the loan, its ledger and its outbox unchanged", () => {
  let loan: any;
  let pending: any;
  beforeAll(async () => {
    const p = await makeProduct(api, { fees: [{ fee_type: "late", calculation: "flat", amount: "25.00" }] });
    loan = await openLoan(api, { product_id: p.product_id, principal: "8000.00", term_months: 12 }, "2026-01-15");
    await pay(api, loan.id, loan.schedule[0].payment, loan.schedule[0].due_date, "first");
    pending = await ok(api("POST", "/api/v1/loans", { token: T.servicer, body: { product_id: p.product_id, principal: "8000.00", term_months: 12 } }), 201);
  });

  it("400 names each bad field", async () => {
    await expectRefused(loan.id, api("POST", `/api/v1/loans/${loan.id}/payments`, { token: T.servicer, body: { amount: "-5", date: "2026-13-01", idempotency_key: "x y" } }), 400, ["amount", "date", "idempotency_key"]);
    await expectRefused(loan.id, api("POST", `/api/v1/loans/${loan.id}/payments`, { token: T.servicer, body: { amount: "5.00", date: "2026-03-01" } }), 400, ["idempotency_key"]);
    await expectRefused(loan.id, api("POST", `/api/v1/loans/${loan.id}/payments`, { token: T.servicer, body: { amount: 5, date: "2026-03-01", idempotency_key: "k", extra: 1 } }), 400, ["amount", "extra"]);
    await expectRefused(loan.id, api("POST", `/api/v1/loans/${loan.id}/fees`, { token: T.servicer, body: { fee_type: "bogus", date: "x" } }), 400, ["fee_type", "date"]);
    await expectRefused(loan.id, api("POST", `/api/v1/loans/${loan.id}/transactions/${loan.id}-2/rebook`, { token: T.servicer, body: { trade_date: "yesterday" } }), 400, ["trade_date"]);
    await expectRefused(loan.id, api("GET", `/api/v1/loans/${loan.id}/payoff?date=2026-02-30`, { token: T.analyst }), 400, ["date"]);
    await expectRefused(loan.id, api("GET", `/api/v1/loans/${loan.id}/accruals?from=2026-03-01&to=2026-02-01`, { token: T.analyst }), 400, ["to"]);
  });

  it("404 for an unknown loan or transaction", async () => {
    expect((await api("GET", "/api/v1/loans/0123456789abcdef01234567", { token: T.analyst })).status).toBe(404);
    expect((await api("POST", "/api/v1/loans/0123456789abcdef01234567/payments", { token: T.servicer, body: { amount: "5.00", date: "2026-03-01", idempotency_key: "k404" } })).status).toBe(404);
    await expectRefused(loan.id, api("POST", `/api/v1/loans/${loan.id}/transactions/${loan.id}-77/rebook`, { token: T.servicer, body: { trade_date: "2026-03-01" } }), 404);
    await expectRefused(loan.id, api("GET", `/api/v1/loans/${loan.id}/transactions/${loan.id}-77`, { token: T.analyst }), 404);
  });

  it("409 for a state conflict", async () => {
    await expectRefused(loan.id, api("POST", `/api/v1/loans/${loan.id}/disburse`, { token: T.servicer, body: { date: "2026-02-01" } }), 409);
    await expectRefused(pending.id, api("POST", `/api/v1/loans/${pending.id}/payments`, { token: T.servicer, body: { amount: "5.00", date: "2026-03-01", idempotency_key: "pend" } }), 409);
    await ok(api("POST", `/api/v1/loans/${pending.id}/cancel`, { token: T.servicer }));
    await expectRefused(pending.id, api("POST", `/api/v1/loans/${pending.id}/payments`, { token: T.servicer, body: { amount: "5.00", date: "2026-03-01", idempotency_key: "canc" } }), 409);
    await expectRefused(pending.id, api("POST", `/api/v1/loans/${pending.id}/disburse`, { token: T.servicer, body: { date: "2026-03-01" } }), 409);
    await expectRefused(loan.id, api("POST", `/api/v1/loans/${loan.id}/payments`, { token: T.servicer, body: { amount: "9.00", date: "2026-03-01", idempotency_key: "first" } }), 409);
  });

  it("422 for a refused business rule", async () => {
    await expectRefused(loan.id, api("POST", `/api/v1/loans/${loan.id}/payments`, { token: T.servicer, body: { amount: "5.00", date: "2199-01-01", idempotency_key: "future" } }), 422);
    await expectRefused(loan.id, api("POST", `/api/v1/loans/${loan.id}/payments`, { token: T.servicer, body: { amount: "5.00", date: "2026-01-01", idempotency_key: "before" } }), 422);
    await expectRefused(loan.id, api("POST", `/api/v1/loans/${loan.id}/draws`, { token: T.servicer, body: { amount: "5.00", date: "2026-03-01" } }), 422);
    await expectRefused(loan.id, api("POST", `/api/v1/loans/${loan.id}/fees`, { token: T.servicer, body: { fee_type: "annual", date: "2026-03-01" } }), 422);
    await expectRefused(loan.id, api("GET", `/api/v1/loans/${loan.id}/buyout?date=2026-03-01`, { token: T.analyst }), 422);
  });

  it("roles: analysts read but never write; an investor sees no loan not assigned to it", async () => {
    await expectRefused(loan.id, api("POST", `/api/v1/loans/${loan.id}/payments`, { token: T.analyst, body: { amount: "5.00", date: "2026-03-01", idempotency_key: "an" } }), 403);
    expect((await api("POST", "/api/v1/loans", { token: T.analyst, body: {} })).status).toBe(403);
    expect((await api("GET", `/api/v1/loans/${loan.id}`, { token: T.investor })).status).toBe(404);
    expect((await api("GET", `/api/v1/loans/${loan.id}/transactions`, { token: T.investor })).status).toBe(404);
    const list = await ok(api("GET", "/api/v1/loans", { token: T.investor }));
    expect(list.items).toEqual([]);
    expect((await api("GET", `/api/v1/loans/${loan.id}`)).status).toBe(401);
  });
});
