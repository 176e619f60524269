/**
 * Seed 004's first dates at the portfolio level: one table per branch of the seed's algorithm,
 * and a property that the maintained dates always equal a recomputation from the member loans'
 * ledgers, over random books, rebooks, deletes, adds and removes.
 */
import fc from "fast-check";
import { LoanEvents } from "../../../shared/contracts/loans";
import { firstDatesFromTransactions, type FirstDates } from "../../../shared/finance/portfolio/firstDates";
import { applyLoanEvent, type LedgerEntry, type LoanProjection } from "../../../shared/portfolios/loan-projection";
import { nextPortfolioDates, portfolioDatesStep, datesWithLoansAdded, type PortfolioDatesChange } from "../../../shared/portfolios/portfolio-dates";
import { base, tx } from "./fixtures";

const dates = (t: string | null, c: string | null): FirstDates => ({ first_transaction_date: t, first_cash_flow_date: c });
const cash = (d: string): LedgerEntry => ({ id: "x", trade_date: d, transaction_class: "cash_inflow" });
const other = (d: string): LedgerEntry => ({ id: "x", trade_date: d, transaction_class: "other" });
// The ledger the "find new" branches read: members' transactions after the change.
const LEDGER = [cash("2026-03-01"), other("2026-02-20")];

type Row = [string, FirstDates, PortfolioDatesChange, FirstDates];
async function check([, current, change, expected]: Row) {
  expect(await nextPortfolioDates(current, change, async () => LEDGER)).toEqual(expected);
}

describe("seed 004 step 2.1 — book", () => {
  it.each<Row>([
    ["cash, earlier than both: both move", dates("2026-02-01", "2026-02-01"), { kind: "ledger", change: { kind: "book", entry: cash("2026-01-10") } }, dates("2026-01-10", "2026-01-10")],
    ["cash, later than both: nothing moves", dates("2026-02-01", "2026-02-01"), { kind: "ledger", change: { kind: "book", entry: cash("2026-03-10") } }, dates("2026-02-01", "2026-02-01")],
    ["cash, between: only the cash-flow date moves", dates("2026-01-01", "2026-02-01"), { kind: "ledger", change: { kind: "book", entry: cash("2026-01-15") } }, dates("2026-01-01", "2026-01-15")],
    ["non-cash earlier: only the transaction date moves", dates("2026-02-01", "2026-02-01"), { kind: "ledger", change: { kind: "book", entry: other("2026-01-10") } }, dates("2026-01-10", "2026-02-01")],
    ["first ever transaction (dates null)", dates(null, null), { kind: "ledger", change: { kind: "book", entry: cash("2026-01-10") } }, dates("2026-01-10", "2026-01-10")],
    ["first non-cash leaves the cash-flow date null", dates(null, null), { kind: "ledger", change: { kind: "book", entry: other("2026-01-10") } }, dates("2026-01-10", null)],
  ])("%s", (...row) => check(row));
});

describe("seed 004 step 2.2 — rebook", () => {
  const rebook = (o: string, n: string, c: "cash_inflow" | "other" = "cash_inflow"): PortfolioDatesChange => ({ kind: "ledger", change: { kind: "rebook", old_trade_date: o, new_trade_date: n, transaction_class: c } });
  it.each<Row>([
    ["cash, new date earlier than both: both take it", dates("2026-02-01", "2026-02-01"), rebook("2026-02-15", "2026-01-05"), dates("2026-01-05", "2026-01-05")],
    ["cash, old date was both minimums and moved later: both found anew", dates("2026-02-01", "2026-02-01"), rebook("2026-02-01", "2026-04-01"), dates("2026-02-20", "2026-03-01")],
    ["cash, old date was neither: nothing moves", dates("2026-02-01", "2026-02-01"), rebook("2026-02-15", "2026-03-15"), dates("2026-02-01", "2026-02-01")],
    ["non-cash, old date was the transaction minimum: only it is found anew", dates("2026-02-01", "2026-02-10"), rebook("2026-02-01", "2026-04-01", "other"), dates("2026-02-20", "2026-02-10")],
    ["non-cash, new date earlier: only the transaction date takes it", dates("2026-02-01", "2026-02-10"), rebook("2026-03-01", "2026-01-01", "other"), dates("2026-01-01", "2026-02-10")],
  ])("%s", (...row) => check(row));
});

describe("seed 004 step 2.3 — delete", () => {
  const del = (d: string, c: "cash_inflow" | "other" = "cash_inflow"): PortfolioDatesChange => ({ kind: "ledger", change: { kind: "delete", entry: { id: "x", trade_date: d, transaction_class: c } } });
  it.each<Row>([
    ["cash on both minimums: both found anew", dates("2026-02-01", "2026-02-01"), del("2026-02-01"), dates("2026-02-20", "2026-03-01")],
    ["cash on neither: nothing moves", dates("2026-02-01", "2026-02-01"), del("2026-02-15"), dates("2026-02-01", "2026-02-01")],
    ["non-cash on the transaction minimum: only it is found anew", dates("2026-02-01", "2026-02-10"), del("2026-02-01", "other"), dates("2026-02-20", "2026-02-10")],
  ])("%s", (...row) => check(row));
});

describe("membership (DESIGN §5)", () => {
  it.each<Row>([
    ["a loan with earlier dates joins", dates("2026-02-01", "2026-02-01"), { kind: "loan_added", loan: dates("2026-01-01", "2026-01-02") }, dates("2026-01-01", "2026-01-02")],
    ["a loan with no transactions joins", dates("2026-02-01", "2026-02-01"), { kind: "loan_added", loan: dates(null, null) }, dates("2026-02-01", "2026-02-01")],
    ["the loan holding both minimums leaves: both found anew", dates("2026-02-01", "2026-02-01"), { kind: "loan_removed", loan: dates("2026-02-01", "2026-02-01") }, dates("2026-02-20", "2026-03-01")],
    ["a loan holding neither leaves: nothing moves", dates("2026-02-01", "2026-02-01"), { kind: "loan_removed", loan: dates("2026-05-01", "2026-05-01") }, dates("2026-02-01", "2026-02-01")],
  ])("%s", (...row) => check(row));

  it("reads the ledger only when the seed says find new", async () => {
    let reads = 0;
    await nextPortfolioDates(dates("2026-02-01", "2026-02-01"), { kind: "ledger", change: { kind: "book", entry: cash("2026-01-01") } }, async () => (reads++, LEDGER));
    expect(reads).toBe(0);
    expect(portfolioDatesStep(dates("2026-02-01", null), { kind: "loan_removed", loan: dates("2026-02-01", null) }).recompute).toEqual({ first_transaction_date: true, first_cash_flow_date: false });
  });

  it("folds many joining loans (the daily auto-assign)", () => {
    expect(datesWithLoansAdded(dates(null, null), [dates("2026-03-01", null), dates("2026-02-01", "2026-02-05"), dates(null, null)])).toEqual(dates("2026-02-01", "2026-02-05"));
  });
});

describe("maintained dates = recomputation from the member loans' ledgers (property)", () => {
  const LOANS = ["A", "B", "C"];
  const day = fc.integer({ min: 0, max: 60 }).map((n) => new Date(Date.UTC(2026, 0, 1 + n)).toISOString().slice(0, 10));
  const type = fc.constantFrom("disbursement", "payment", "fee", "fee_waiver", "recovery" as const);
  const op = fc.oneof(
    fc.record({ kind: fc.constant("book" as const), loan: fc.constantFrom(...LOANS), date: day, type }),
    fc.record({ kind: fc.constant("rebook" as const), loan: fc.constantFrom(...LOANS), pick: fc.nat(), date: day }),
    fc.record({ kind: fc.constant("delete" as const), loan: fc.constantFrom(...LOANS), pick: fc.nat() }),
    fc.record({ kind: fc.constant("add" as const), loan: fc.constantFrom(...LOANS) }),
    fc.record({ kind: fc.constant("remove" as const), loan: fc.constantFrom(...LOANS) }),
  );

  it("holds over random histories", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 40 }), async (ops) => {
        const loans = new Map<string, LoanProjection>();
        const members = new Set<string>();
        let portfolio: FirstDates = dates(null, null);
        let version = 0;
        let txn = 0;
        const memberLedger = async () => [...members].flatMap((id) => loans.get(id)?.ledger ?? []);
        for (const o of ops) {
          const current = loans.get(o.loan) ?? null;
          let event: [string, unknown] | null = null;
          if (o.kind === "book") event = [LoanEvents.transactionBooked, { ...base(o.loan, ++version), transaction: tx(`t${++txn}`, o.type, o.date), old_trade_date: null, new_trade_date: null, replayed_from: null }];
          if ((o.kind === "rebook" || o.kind === "delete") && current?.ledger.length) {
            const t = current.ledger[o.pick % current.ledger.length];
            const type = t.transaction_class === "cash_inflow" ? "payment" : t.transaction_class === "cash_outflow" ? "disbursement" : "fee";
            event = o.kind === "rebook"
              ? [LoanEvents.transactionRebooked, { ...base(o.loan, ++version), transaction: tx(`t${++txn}`, type, o.date, { rebooked_from: t.id }), old_trade_date: t.trade_date, new_trade_date: o.date, replayed_from: null }]
              : [LoanEvents.transactionReversed, { ...base(o.loan, ++version), transaction: tx(t.id, type, t.trade_date, { status: "reversed" }), old_trade_date: null, new_trade_date: null, replayed_from: null }];
          }
          if (event) {
            const r = applyLoanEvent(current, event[0], event[1]);
            if (r) {
              loans.set(o.loan, r.projection);
              if (r.ledgerChange && members.has(o.loan)) portfolio = await nextPortfolioDates(portfolio, { kind: "ledger", change: r.ledgerChange }, memberLedger);
            }
          }
          const loanDates = loans.get(o.loan) ?? dates(null, null);
          const own = { first_transaction_date: loanDates.first_transaction_date, first_cash_flow_date: loanDates.first_cash_flow_date };
          if (o.kind === "add" && !members.has(o.loan)) {
            members.add(o.loan);
            portfolio = await nextPortfolioDates(portfolio, { kind: "loan_added", loan: own }, memberLedger);
          }
          if (o.kind === "remove" && members.has(o.loan)) {
            members.delete(o.loan);
            portfolio = await nextPortfolioDates(portfolio, { kind: "loan_removed", loan: own }, memberLedger);
          }
          expect(portfolio).toEqual(firstDatesFromTransactions(await memberLedger()));
        }
      }),
      { numRuns: 300 },
    );
  });
});
