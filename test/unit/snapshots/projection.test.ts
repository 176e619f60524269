/** The snapshots projection and group metrics as pure functions (DESIGN.md §4, §10). */
import * as formulajs from "@formulajs/formulajs";
import { applyLoanEvent, applyLoanState, applyMembership, canonicalLoan, emptyLoan, flowsThrough, loanFromExport, portfolioOn, positionDate, positionsAsOf, type ProjectedLoan } from "../../../shared/snapshots/loan-projection";
import { addLoan, buyerView, groupMetrics } from "../../../shared/snapshots/group-metrics";
import { SnapshotMetricsAccumulator } from "../../../shared/finance";
import { toProjected, toStored } from "../../../services/snapshots/projection-store";
import { rowChunks, rowOf, storedRowJson } from "../../../services/snapshots/take";
import type { LoanAttributes, LoanPosition, LoanTransaction } from "../../../shared/contracts/loans";

const attrs = (rate = "0.1200"): LoanAttributes => ({
  loan_id: "L1", external_id: null, product_id: "p", program_id: "g", program_type: "installment", interest_rate_type: "fixed",
  origination_date: "2026-01-01", vintage: "2026-01", principal: "1000.00", annual_rate: rate, term_months: 12, maturity_date: null,
  index_name: null, margin: null, region: null, credit_score: null, currency: "USD",
});
const pos = (over: Partial<LoanPosition> = {}): LoanPosition => ({
  status: "active", principal_balance: "1000.00", interest_receivable: "0.00", fees_due: "0.00", deferred_interest: "0.00", credit_balance: "0.00",
  past_due_amount: "0.00", days_past_due: 0, bucket: "current", next_due_date: null, next_payment_amount: null, total_disbursed: "1000.00",
  total_collected: "0.00", as_of: "2026-01-01", closed_through: null, portfolio_id: null, investor_id: null, ...over,
});
const tx = (id: string, type: LoanTransaction["type"], date: string, amount: string, over: Partial<LoanTransaction> = {}): LoanTransaction => ({
  id, loan_id: "L1", type, trade_date: date, amount, components: { principal: "0", interest: "0", fees: "0", deferred_interest: "0", credit: "0" },
  status: "booked", cash_class: type === "disbursement" || type === "draw" ? "cash_outflow" : type === "payment" ? "cash_inflow" : null,
  reverses: null, rebooked_from: null, idempotency_key: null, booked_at: "x", actor: null, ...over,
});
const ev = (version: number, extra: Record<string, unknown> = {}, state = pos()) => ({ event_id: `e${version}`, loan_id: "L1", version, occurred_at: "x", attributes: attrs(), state, actor: null, ...extra }) as any;

describe("loan projection", () => {
  it("applies a state only when its version is newer", () => {
    let p = applyLoanState(emptyLoan("L1"), { version: 3, attributes: attrs(), state: pos({ principal_balance: "900.00" }) });
    p = applyLoanState(p, { version: 2, attributes: attrs(), state: pos({ principal_balance: "950.00" }) });
    expect(p.state!.principal_balance).toBe("900.00");
    expect(applyLoanState(p, { version: 3, attributes: attrs(), state: pos() })).toBe(p);
    expect(applyLoanState(p, { version: 4, attributes: attrs(), state: pos({ principal_balance: "800.00" }) }).state!.principal_balance).toBe("800.00");
  });

  it("keeps cash flows: disbursement negative, payments positive, fees left out; a reversal removes, a rebook moves", () => {
    let p: ProjectedLoan = emptyLoan("L1");
    p = applyLoanEvent(p, "loan.disbursed", ev(2, { disbursement: tx("L1-1", "disbursement", "2026-01-01", "1000.00") }));
    p = applyLoanEvent(p, "loan.transaction.booked", ev(3, { transaction: tx("L1-2", "payment", "2026-02-01", "100.00") }));
    p = applyLoanEvent(p, "loan.transaction.booked", ev(4, { transaction: tx("L1-3", "fee", "2026-02-12", "25.00") }));
    p = applyLoanEvent(p, "loan.transaction.booked", ev(5, { transaction: tx("L1-4", "payment", "2026-03-01", "100.00") }));
    expect(flowsThrough(p, "2026-12-31").map((f) => [f.date, f.amount])).toEqual([["2026-01-01", "-1000.00"], ["2026-02-01", "100.00"], ["2026-03-01", "100.00"]]);
    // reversal of L1-2: the event carries the original (reversed) and the reversing entry
    p = applyLoanEvent(p, "loan.transaction.reversed", ev(6, { transaction: tx("L1-2", "payment", "2026-02-01", "100.00", { status: "reversed" }), reversal: tx("L1-5", "payment", "2026-02-01", "100.00", { reverses: "L1-2" }) }));
    // rebook of L1-4 to 03-05 as L1-6
    p = applyLoanEvent(p, "loan.transaction.rebooked", ev(7, { transaction: tx("L1-6", "payment", "2026-03-05", "100.00", { rebooked_from: "L1-4" }), old_trade_date: "2026-03-01", new_trade_date: "2026-03-05" }));
    expect(flowsThrough(p, "2026-12-31").map((f) => [f.tx_id, f.date, f.amount])).toEqual([["L1-1", "2026-01-01", "-1000.00"], ["L1-6", "2026-03-05", "100.00"]]);
    expect(flowsThrough(p, "2026-03-04").length).toBe(1);
    // the booking of L1-2 delivered again, late: older than its reversal, ignored
    const again = applyLoanEvent(p, "loan.transaction.booked", ev(3, { transaction: tx("L1-2", "payment", "2026-02-01", "100.00") }));
    expect(flowsThrough(again, "2026-12-31").map((f) => f.tx_id)).toEqual(["L1-1", "L1-6"]);
    expect(again.version).toBe(7);
  });

  it("keeps each collection's prepaid principal, and a replay's new split of the payments it re-allocated", () => {
    let p: ProjectedLoan = emptyLoan("L1");
    p = applyLoanEvent(p, "loan.transaction.booked", ev(3, { transaction: tx("L1-2", "payment", "2026-02-10", "300.00", { prepaid_principal: "100.00" }) }));
    expect(flowsThrough(p, "2026-12-31").map((f) => f.prepaid_principal)).toEqual(["100.00"]);
    // a backdated payment replays L1-2: its event names L1-2's new split (no event of its own)
    const realloc = { id: "L1-2", trade_date: "2026-02-10", components: { principal: "300.00", interest: "0.00", fees: "0.00", deferred_interest: "0.00", credit: "0.00" }, prepaid_principal: "300.00" };
    p = applyLoanEvent(p, "loan.transaction.booked", ev(4, { transaction: tx("L1-3", "payment", "2026-02-01", "200.00", { prepaid_principal: "0.00" }), replayed_from: "2026-02-01", reallocated: [realloc] }));
    expect(flowsThrough(p, "2026-12-31").map((f) => [f.tx_id, f.prepaid_principal])).toEqual([["L1-3", "0.00"], ["L1-2", "300.00"]]);
    // an older event naming the old split comes late: ignored
    const late = applyLoanEvent(p, "loan.transaction.booked", ev(3, { transaction: tx("L1-2", "payment", "2026-02-10", "300.00", { prepaid_principal: "100.00" }) }));
    expect(flowsThrough(late, "2026-12-31").find((f) => f.tx_id === "L1-2")!.prepaid_principal).toBe("300.00");
    // a reallocation never brings back a reversed payment
    p = applyLoanEvent(p, "loan.transaction.reversed", ev(5, { transaction: tx("L1-2", "payment", "2026-02-10", "300.00", { status: "reversed" }) }));
    p = applyLoanEvent(p, "loan.transaction.booked", ev(6, { transaction: tx("L1-4", "payment", "2026-01-20", "50.00"), reallocated: [realloc] }));
    expect(flowsThrough(p, "2026-12-31").map((f) => f.tx_id)).toEqual(["L1-4", "L1-3"]);
  });

  it("keeps memberships with their dates for as-of questions", () => {
    let p = emptyLoan("L1");
    const m = (portfolio_id: string, effective_date: string) => ({ event_id: "m", portfolio_id, loan_id: "L1", effective_date, source: "static", occurred_at: "x", actor: null }) as const;
    p = applyMembership(p, "portfolio.loan.added", m("A", "2026-01-10"));
    p = applyMembership(p, "portfolio.loan.added", m("A", "2026-01-10"));
    p = applyMembership(p, "portfolio.loan.removed", m("A", "2026-02-01"));
    p = applyMembership(p, "portfolio.loan.added", m("B", "2026-02-01"));
    expect(p.spans).toHaveLength(2);
    expect(portfolioOn(p, "2026-01-09")).toBeNull();
    expect(portfolioOn(p, "2026-01-10")).toBe("A");
    expect(portfolioOn(p, "2026-01-31")).toBe("A");
    expect(portfolioOn(p, "2026-02-01")).toBe("B");
  });

  it("a loan rebuilt from its export equals the event-fed one", () => {
    let fed = applyLoanEvent(emptyLoan("L1"), "loan.disbursed", ev(2, { disbursement: tx("L1-1", "disbursement", "2026-01-01", "1000.00") }));
    fed = applyLoanEvent(fed, "loan.transaction.booked", ev(3, { transaction: tx("L1-2", "payment", "2026-02-01", "100.00") }));
    fed = applyLoanEvent(fed, "loan.transaction.reversed", ev(4, { transaction: tx("L1-2", "payment", "2026-02-01", "100.00", { status: "reversed" }) }));
    const rebuilt = loanFromExport(
      { loan_id: "L1", version: 4, attributes: attrs(), state: pos(), transactions: [tx("L1-1", "disbursement", "2026-01-01", "1000.00"), tx("L1-2", "payment", "2026-02-01", "100.00", { status: "reversed" }), tx("L1-3", "payment", "2026-02-01", "100.00", { reverses: "L1-2" })] },
      [],
    );
    expect(canonicalLoan(rebuilt)).toEqual(canonicalLoan(fed));
  });
});

describe("group metrics", () => {
  const loan = (id: string, balance: string, rate: string, dpd: number, status: LoanPosition["status"], flows: [string, string][]): ProjectedLoan => ({
    _id: id, version: 1, attributes: { ...attrs(rate), loan_id: id }, spans: [],
    state: pos({ principal_balance: balance, days_past_due: dpd, status, interest_receivable: "1.005" === balance ? "0" : "2.50" }),
    flows: flows.map(([date, amount], i) => ({ tx_id: `${id}-${i}`, date, amount, type: amount.startsWith("-") ? "disbursement" : "payment", v: 1, gone: false })),
  });

  it("sums balances and buckets, weights the rate, and takes MOIC and XIRR of flows through the date", () => {
    const loans = [
      loan("a", "900.00", "0.10", 0, "active", [["2026-01-01", "-1000.00"], ["2026-02-01", "150.00"], ["2026-06-01", "999.00"]]),
      loan("b", "500.00", "0.20", 35, "delinquent", [["2026-01-15", "-500.00"]]),
      loan("c", "100.00", "0.30", 5, "active", [["2026-01-20", "-100.00"], ["2026-03-01", "20.00"]]),
    ];
    const m = groupMetrics("2026-03-31", loans);
    expect(m.total_balance).toBe("1500.00");
    expect(m.interest_receivable).toBe("7.50");
    expect(m.delinquent_amount).toBe("500.00");
    expect(m.loan_count).toBe(3);
    expect(m.weighted_avg_rate).toBe("0.1466666667");
    expect(m.bucket_breakdown.current).toEqual({ count: 1, balance: "900.00" });
    expect(m.bucket_breakdown["1_29"]).toEqual({ count: 1, balance: "100.00" });
    expect(m.bucket_breakdown["30_59"]).toEqual({ count: 1, balance: "500.00" });
    expect(m.total_disbursed).toBe("1600.00");
    expect(m.total_collected).toBe("170.00");
    expect(m.moic).toBe("0.10625");
    // through March the flows lose nearly everything: no root the engine accepts
    expect(m.irr).toBeNull();
    const later = groupMetrics("2026-06-30", loans);
    expect(later.total_collected).toBe("1169.00");
    const excel = formulajs.XIRR([-1000, -500, -100, 150, 20, 999], ["2026-01-01", "2026-01-15", "2026-01-20", "2026-02-01", "2026-03-01", "2026-06-01"].map((d) => new Date(d)), -0.5) as number;
    expect(Math.abs(Number(later.irr) - excel)).toBeLessThan(1e-7);
  });

  it("sums the group's cash flows per day and kind, through the date only", () => {
    const loans = [
      loan("a", "900.00", "0.10", 0, "active", [["2026-01-01", "-1000.00"], ["2026-02-01", "150.00"], ["2026-09-01", "5.00"]]),
      loan("b", "500.00", "0.20", 0, "active", [["2026-01-01", "-500.00"], ["2026-02-01", "-20.00"], ["2026-02-01", "30.00"]]),
    ];
    const m = groupMetrics("2026-06-30", loans);
    expect([m.total_disbursed, m.total_collected, m.moic]).toEqual(["1520.00", "180.00", "0.1184210526"]);
  });

  it("groups accumulated loan by loan, or merged from parts, equal the metrics of the whole", () => {
    const loans = [
      loan("a", "900.00", "0.10", 0, "active", [["2026-01-01", "-1000.00"], ["2026-02-01", "150.00"], ["2026-06-01", "999.00"]]),
      loan("b", "500.00", "0.20", 35, "delinquent", [["2026-01-15", "-500.00"], ["2026-02-01", "40.00"]]),
      loan("c", "100.00", "0.30", 5, "active", [["2026-01-20", "-100.00"], ["2026-03-01", "20.00"], ["2026-08-01", "500.00"]]),
    ];
    const whole = groupMetrics("2026-06-30", loans);
    const one = new SnapshotMetricsAccumulator("2026-06-30");
    for (const l of loans) addLoan(one, l);
    expect(one.result()).toEqual(whole);
    const left = new SnapshotMetricsAccumulator("2026-06-30");
    const right = new SnapshotMetricsAccumulator("2026-06-30");
    addLoan(left, loans[0]);
    addLoan(right, loans[1]);
    addLoan(right, loans[2]);
    left.merge(right);
    expect(left.result()).toEqual(whole);
    expect(whole.irr).not.toBeNull();
  });

  it("the buyer's view: the price at the sale date, collections after it", () => {
    const loans = [loan("a", "900.00", "0.10", 0, "active", [["2026-01-01", "-1000.00"], ["2026-02-01", "150.00"], ["2026-04-01", "300.00"], ["2026-05-01", "600.00"], ["2026-07-01", "50.00"]])];
    const v = buyerView({ investor_id: "i", sale_date: "2026-02-01", price: "800.00", loan_ids: ["a"] }, loans, "2026-06-30");
    expect(v.collected_since_sale).toBe("900.00");
    expect(v.moic).toBe("1.125");
    const excel = formulajs.XIRR([-800, 300, 600], [new Date("2026-02-01"), new Date("2026-04-01"), new Date("2026-05-01")]) as number;
    expect(Math.abs(Number(v.irr) - excel)).toBeLessThan(1e-7);
    // a loan not in the sale counts for nothing
    expect(buyerView({ investor_id: "i", sale_date: "2026-02-01", price: "800.00", loan_ids: [] }, loans, "2026-06-30").collected_since_sale).toBe("0.00");
  });
});

describe("stored projection and snapshot rows", () => {
  let p = applyLoanEvent(emptyLoan("L1"), "loan.disbursed", ev(2, { disbursement: tx("L1-1", "disbursement", "2026-01-01", "1000.00") }));
  p = applyLoanEvent(p, "loan.transaction.booked", ev(3, { transaction: tx("L1-2", "payment", "2026-02-01", "100.00") }, pos({ as_of: "2026-02-01", closed_through: "2026-02-03" })));
  p = applyMembership(p, "portfolio.loan.added", { event_id: "m", portfolio_id: "A", loan_id: "L1", effective_date: "2026-01-10", source: "static", occurred_at: "x", actor: null });

  it("a stored loan reads back equal, from the new shape and from the older one", () => {
    expect(toProjected({ _id: "L1", rev: 1, ...toStored(p) }, "L1")).toEqual(p);
    expect(toProjected({ _id: "L1", rev: 1, version: p.version, attributes: p.attributes, state: p.state, flows: p.flows, spans: p.spans }, "L1")).toEqual(p);
  });

  it("a row built from the stored JSON is the row itself, and chunks hold every row once", () => {
    const stored = { _id: "L1", rev: 1, ...toStored(p) };
    for (const date of ["2026-01-15", "2026-03-01"]) {
      expect(storedRowJson(stored, JSON.parse(stored.flows_json), date)).toBe(JSON.stringify(rowOf(p, date)));
      // a document of the older shape gives the same row
      expect(storedRowJson({ _id: "L1", version: p.version, attributes: p.attributes, state: p.state, flows: p.flows, spans: p.spans }, p.flows, date)).toBe(JSON.stringify(rowOf(p, date)));
    }
    const ids = Array.from({ length: 9001 }, (_, i) => `L${String(i).padStart(5, "0")}`);
    const row = JSON.stringify(rowOf(p, "2026-03-01"));
    const chunks = rowChunks(ids.map((loan_id) => ({ loan_id, json: row.replace('"L1"', JSON.stringify(loan_id)) })));
    // ~1 KB rows: a chunk stops near a million characters, so 9,001 rows take several
    expect(chunks.length).toBeGreaterThan(5);
    for (const c of chunks) expect(c.length).toBeLessThan(1_000_000 + row.length + 20);
    expect(chunks.flatMap((c) => JSON.parse(c).map((r: any) => r.loan_id))).toEqual(ids);
  });

  it("a loan's position date is its last transaction or close, whichever is later", () => {
    expect(positionDate(p.state)).toBe("2026-02-03");
    expect(positionDate(emptyLoan("x").state)).toBeNull();
    expect(positionsAsOf([p, { state: pos({ as_of: "2026-02-05", closed_through: null }) }, emptyLoan("y")])).toBe("2026-02-05");
  });
});
