import { LoanEvents } from "../../../shared/contracts/loans";
import { applyLoanEvent, applyPosition, type LoanProjection } from "../../../shared/portfolios/loan-projection";
import { base, tx } from "./fixtures";

const disbursed = (v = 1) => ({ ...base("L1", v), disbursement: tx("t-d", "disbursement", "2026-01-15") });
const booked = (v: number, t: ReturnType<typeof tx>) => ({ ...base("L1", v), transaction: t, old_trade_date: null, new_trade_date: null, replayed_from: null });

function run(events: [string, unknown][]): LoanProjection | null {
  let p: LoanProjection | null = null;
  for (const [subject, payload] of events) p = applyLoanEvent(p, subject, payload)?.projection ?? p;
  return p;
}

describe("applyLoanEvent", () => {
  it("creates the projection and books the disbursement with its cash class", () => {
    const r = applyLoanEvent(null, LoanEvents.disbursed, disbursed())!;
    expect(r.positionChanged).toBe(true);
    expect(r.ledgerChange).toEqual({ kind: "book", entry: { id: "t-d", trade_date: "2026-01-15", transaction_class: "cash_outflow" } });
    expect(r.projection).toMatchObject({ version: 1, first_transaction_date: "2026-01-15", first_cash_flow_date: "2026-01-15" });
  });

  it("ignores an older or equal version's position but still learns its transaction", () => {
    const p = run([[LoanEvents.disbursed, disbursed(5)]])!;
    const late = booked(3, tx("t-fee", "fee", "2026-01-10"));
    late.state.principal_balance = "1.00";
    const r = applyLoanEvent(p, LoanEvents.transactionBooked, late)!;
    expect(r.positionChanged).toBe(false);
    expect(r.projection.state.principal_balance).toBe("10000.00");
    expect(r.projection.version).toBe(5);
    expect(r.ledgerChange?.kind).toBe("book");
    expect(r.projection).toMatchObject({ first_transaction_date: "2026-01-10", first_cash_flow_date: "2026-01-15" });
  });

  it("answers null for a pure duplicate (nothing to write)", () => {
    const p = run([[LoanEvents.disbursed, disbursed(1)]])!;
    expect(applyLoanEvent(p, LoanEvents.disbursed, disbursed(1))).toBeNull();
  });

  it("removes a reversed transaction for good, even if its book arrives later", () => {
    const pay = tx("t-p", "payment", "2026-02-15");
    const reversed = { ...base("L1", 3), transaction: { ...pay, status: "reversed" as const }, reversal: tx("t-r", "payment", "2026-02-20"), old_trade_date: null, new_trade_date: null, replayed_from: null };
    const p = run([[LoanEvents.disbursed, disbursed(1)], [LoanEvents.transactionReversed, reversed], [LoanEvents.transactionBooked, booked(2, pay)]])!;
    expect(p.ledger.map((e) => e.id)).toEqual(["t-d"]);
    expect(p.retired).toEqual(["t-p"]);
  });

  it("moves a rebooked transaction (new id rebooked_from the old) and reports both dates", () => {
    const pay = tx("t-p", "payment", "2026-02-15");
    const p = run([[LoanEvents.disbursed, disbursed(1)], [LoanEvents.transactionBooked, booked(2, pay)]])!;
    const moved = { ...base("L1", 3), transaction: tx("t-p2", "payment", "2026-01-05", { rebooked_from: "t-p" }), old_trade_date: "2026-02-15", new_trade_date: "2026-01-05", replayed_from: "2026-01-05" };
    const r = applyLoanEvent(p, LoanEvents.transactionRebooked, moved)!;
    expect(r.ledgerChange).toEqual({ kind: "rebook", old_trade_date: "2026-02-15", new_trade_date: "2026-01-05", transaction_class: "cash_inflow" });
    expect(r.projection.ledger.map((e) => [e.id, e.trade_date])).toEqual([["t-d", "2026-01-15"], ["t-p2", "2026-01-05"]]);
    expect(r.projection.first_cash_flow_date).toBe("2026-01-05");
    // The same rebook again changes nothing.
    expect(applyLoanEvent(r.projection, LoanEvents.transactionRebooked, moved)).toBeNull();
  });

  it("takes close-of-business positions only when newer", () => {
    const p = run([[LoanEvents.disbursed, disbursed(4)]])!;
    expect(applyPosition(p, { loan_id: "L1", version: 4, attributes: p.attributes, state: p.state })).toBeNull();
    const next = applyPosition(p, { loan_id: "L1", version: 6, attributes: p.attributes, state: { ...p.state, days_past_due: 12 } })!;
    expect(next.state.days_past_due).toBe(12);
    expect(next.ledger).toEqual(p.ledger);
  });
});
