/**
 * Issue 8 point 5 through the gateway, with figures computed by hand (the working beside each):
 * backdated payment, rebook, return (NSF fee) and delete replay the ledger from the earliest date
 * touched; a reversal on a paid-off loan reopens it; each operation emits one durable event with
 * the old and new trade dates.
 *
 * The loan: 10,000.00 at 12 % a year, 12 months, actual/365, simple; disbursed 2026-01-01, first
 * payment 2026-02-01.
 *   payment   = round(10000 · 0.01 / (1 − 1.01^−12)) = round(888.4878…) = 888.49
 *   row 1     interest = round(10000 · 0.12 · 31/365) = round(101.9178…) = 101.92; principal 786.57; balance 9213.43
 *   row 2     interest = round(9213.43 · 0.12 · 28/365) = round(84.8140…) = 84.81;  principal 803.68; balance 8409.75
 */
import { DurableEventsMixin } from "../../../shared/events/durable-events.mixin";
import type { DeliveredEvent } from "../../../shared/events/bus";
import { makeProduct, ok, openLoan, pay, startLoanSystem, type LoanSystem } from "../../support/loans";
import { eventually, TEST_TOKENS as T } from "../../support/system";

const seen: { subject: string; payload: any }[] = [];
const listener = {
  name: "replay-listener",
  mixins: [DurableEventsMixin({ subscriptions: { "loan.transaction.*": "onTx" } })],
  methods: {
    onTx(e: DeliveredEvent) {
      seen.push({ subject: e.subject, payload: e.payload });
    },
  },
};

let sys: LoanSystem;
let productId: string;
beforeAll(async () => {
  // the listener needs a database of its own collections: run it on the core node with MongoMixin
  const { MongoMixin } = await import("../../../shared/db/mongo.mixin");
  sys = await startLoanSystem("loans_replay", { extraServices: [{ ...listener, mixins: [MongoMixin({}), ...listener.mixins] } as any] });
  ({ product_id: productId } = await makeProduct(sys.api, { fees: [{ fee_type: "nsf", calculation: "flat", amount: "30.00" }, { fee_type: "late", calculation: "flat", amount: "25.00" }] }));
}, 60_000);
afterAll(async () => sys?.stop());

const body = () => ({ product_id: productId, principal: "10000.00", term_months: 12, annual_rate: "0.12", first_payment_date: "2026-02-01" });
const get = async (id: string) => ok(sys.api("GET", `/api/v1/loans/${id}`, { token: T.analyst }));
const ledger = async (id: string) => (await ok(sys.api("GET", `/api/v1/loans/${id}/transactions?limit=500`, { token: T.analyst }))).items;

it("the schedule is the hand-computed one", async () => {
  const loan = await openLoan(sys.api, body(), "2026-01-01");
  expect(loan.schedule[0]).toMatchObject({ due_date: "2026-02-01", payment: "888.49", interest: "101.92", principal: "786.57", balance: "9213.43" });
  expect(loan.schedule[1]).toMatchObject({ due_date: "2026-03-01", payment: "888.49", interest: "84.81", principal: "803.68", balance: "8409.75" });
});

describe("rebook", () => {
  it("moves the first payment ten days later and re-allocates the second", async () => {
    const loan = await openLoan(sys.api, body(), "2026-01-01");
    const p1 = await pay(sys.api, loan.id, "888.49", "2026-02-01");
    const p2 = await pay(sys.api, loan.id, "888.49", "2026-03-01");
    expect(p2.transaction.components).toMatchObject({ interest: "84.81", principal: "803.68" });

    const res = await ok(sys.api("POST", `/api/v1/loans/${loan.id}/transactions/${p1.transaction.id}/rebook`, { token: T.servicer, body: { trade_date: "2026-02-11" } }));
    // Payment 1 on 02-11 still settles installment 1 exactly (101.92 + 786.57). Meanwhile 10 days
    // of interest accrue on the 10,000.00 outstanding until it arrives:
    //   round(10000 · 0.12 · 10/365) = round(32.8767…) = 32.88
    // then 18 days on 9213.43 to 03-01: round(9213.43 · 0.12 · 18/365) = round(54.5233…) = 54.52
    // installment 2 interest = 32.88 + 54.52 = 87.40; principal = 888.49 − 87.40 = 801.09
    expect(res.old_trade_date).toBe("2026-02-01");
    expect(res.new_trade_date).toBe("2026-02-11");
    expect(res.transaction.components).toMatchObject({ interest: "101.92", principal: "786.57" });
    expect(res.replay.from).toBe("2026-02-01");
    expect(res.replay.changed).toEqual([
      expect.objectContaining({ transaction_id: p2.transaction.id, before: expect.objectContaining({ interest: "84.81", principal: "803.68" }), after: expect.objectContaining({ interest: "87.40", principal: "801.09" }) }),
    ]);
    // balance 10000 − 786.57 − 801.09 = 8412.34
    expect(res.loan.position.principal_balance).toBe("8412.34");
    const txs = await ledger(loan.id);
    expect(txs.find((t: any) => t.id === p1.transaction.id)).toMatchObject({ status: "reversed", reversed_by: res.transaction.id });
    expect(txs.find((t: any) => t.id === res.transaction.id)).toMatchObject({ status: "booked", rebooked_from: p1.transaction.id, trade_date: "2026-02-11" });
    expect(txs.find((t: any) => t.id === p2.transaction.id).components).toMatchObject({ interest: "87.40", principal: "801.09" });

    await eventually(() => seen.some((e) => e.subject === "loan.transaction.rebooked" && e.payload.transaction.id === res.transaction.id));
    const events = seen.filter((e) => e.subject === "loan.transaction.rebooked" && e.payload.loan_id === loan.id);
    expect(events).toHaveLength(1);
    expect(events[0].payload).toMatchObject({ old_trade_date: "2026-02-01", new_trade_date: "2026-02-11", replayed_from: "2026-02-01" });
    expect(events[0].payload.state.principal_balance).toBe("8412.34");
  });
});

describe("backdated payment", () => {
  it("is booked at its date and the later payment re-allocated", async () => {
    const loan = await openLoan(sys.api, body(), "2026-01-01");
    await pay(sys.api, loan.id, "888.49", "2026-02-01");
    const p2 = await pay(sys.api, loan.id, "888.49", "2026-03-01");
    // An extra 500.00 dated 02-15 arrives after the 03-01 payment was booked. Nothing is due on
    // 02-15, so it prepays principal: 9213.43 − 500 = 8713.43.
    // 02-01..02-15 on 9213.43: round(9213.43 · 0.12 · 14/365) = round(42.4066…) = 42.41
    // 02-15..03-01 on 8713.43: round(8713.43 · 0.12 · 14/365) = round(40.1052…) = 40.11
    // installment 2 interest = 42.41 + 40.11 = 82.52; principal 888.49 − 82.52 = 805.97
    const res = await pay(sys.api, loan.id, "500.00", "2026-02-15");
    expect(res.transaction).toMatchObject({ trade_date: "2026-02-15", amount: "500.00" });
    expect(res.transaction.components).toMatchObject({ principal: "500.00", interest: "0.00" });
    expect(res.replay.changed).toEqual([expect.objectContaining({ transaction_id: p2.transaction.id, after: expect.objectContaining({ interest: "82.52", principal: "805.97" }) })]);
    // 8713.43 − 805.97 = 7907.46
    expect(res.loan.position.principal_balance).toBe("7907.46");
  });
});

describe("return (NSF)", () => {
  it("reverses the payment, assesses the NSF fee and the loan is past due again", async () => {
    const loan = await openLoan(sys.api, body(), "2026-01-01");
    const p1 = await pay(sys.api, loan.id, "888.49", "2026-02-01");
    const res = await ok(sys.api("POST", `/api/v1/loans/${loan.id}/transactions/${p1.transaction.id}/return`, { token: T.servicer, body: { date: "2026-02-05" } }));
    expect(res.reversed).toMatchObject({ id: p1.transaction.id, status: "reversed" });
    expect(res.reversal).toMatchObject({ reverses: p1.transaction.id, amount: "888.49" });
    expect(res.fee).toMatchObject({ type: "fee", fee_type: "nsf", amount: "30.00", trade_date: "2026-02-05" });
    // Nothing paid: principal back to 10,000.00; installment 1 (and every later one, by today) unpaid.
    expect(res.loan.position.principal_balance).toBe("10000.00");
    expect(res.loan.status).toBe("delinquent");
    expect(Number(res.loan.position.days_past_due)).toBeGreaterThan(10);
    expect(res.loan.position.fees_due).toBe("30.00");
    const after = await get(loan.id);
    expect(after.total_collected ?? after.position.total_collected).toBe("0.00");
    await eventually(() => seen.some((e) => e.subject === "loan.transaction.reversed" && e.payload.transaction.id === p1.transaction.id));
    const ev = seen.find((e) => e.subject === "loan.transaction.reversed" && e.payload.transaction.id === p1.transaction.id)!;
    expect(ev.payload).toMatchObject({ old_trade_date: "2026-02-01", new_trade_date: null });
    expect(ev.payload.transaction.status).toBe("reversed");
  });
});

describe("delete", () => {
  it("reversing the payment that paid a loan off reopens it", async () => {
    const loan = await openLoan(sys.api, { ...body(), principal: "1200.00" }, "2026-01-01");
    const quote = await ok(sys.api("GET", `/api/v1/loans/${loan.id}/payoff?date=2026-01-20`, { token: T.analyst }));
    // 19 days on 1200.00: round(1200 · 0.12 · 19/365) = round(7.4958…) = 7.50
    expect(quote).toMatchObject({ principal: "1200.00", interest: "7.50", fees: "0.00", total: "1207.50" });
    const p = await pay(sys.api, loan.id, quote.total, "2026-01-20");
    expect(p.loan.status).toBe("paid_off");
    expect(p.loan.position).toMatchObject({ principal_balance: "0.00", interest_receivable: "0.00", fees_due: "0.00", credit_balance: "0.00" });
    const res = await ok(sys.api("DELETE", `/api/v1/loans/${loan.id}/transactions/${p.transaction.id}`, { token: T.servicer }));
    expect(res.loan.status).not.toBe("paid_off");
    expect(["active", "delinquent"]).toContain(res.loan.status);
    expect(res.loan.position.principal_balance).toBe("1200.00");
    expect(res.loan.version).toBe(p.loan.version + 1);
    const reopened = await ok(sys.api("GET", `/api/v1/loans/${loan.id}`, { token: T.analyst }));
    expect(reopened.status_history.map((h: any) => h.to)).toEqual(["pending", "active", "paid_off", res.loan.status]);
  });

  it("refuses to reverse a reversal, an unknown transaction or a disbursement", async () => {
    const loan = await openLoan(sys.api, body(), "2026-01-01");
    const p = await pay(sys.api, loan.id, "888.49", "2026-02-01");
    const del = await ok(sys.api("DELETE", `/api/v1/loans/${loan.id}/transactions/${p.transaction.id}`, { token: T.servicer }));
    expect((await sys.api("DELETE", `/api/v1/loans/${loan.id}/transactions/${p.transaction.id}`, { token: T.servicer })).status).toBe(409);
    expect((await sys.api("DELETE", `/api/v1/loans/${loan.id}/transactions/${del.reversal.id}`, { token: T.servicer })).status).toBe(409);
    expect((await sys.api("DELETE", `/api/v1/loans/${loan.id}/transactions/${loan.id}-99`, { token: T.servicer })).status).toBe(404);
    expect((await sys.api("DELETE", `/api/v1/loans/${loan.id}/transactions/${loan.id}-1`, { token: T.servicer })).status).toBe(409);
  });
});
