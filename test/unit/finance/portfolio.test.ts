/** DESIGN §4 portfolio metrics and §5 (seed 004) first transaction / first cash-flow dates. */
import fc from "fast-check";
import {
  firstDatesFromTransactions,
  moic,
  onLoanAdded,
  onLoanRemoved,
  onTransactionBooked,
  onTransactionDeleted,
  onTransactionRebooked,
  parseLoanMetric,
  snapshotMetrics,
  SnapshotMetricsAccumulator,
  toMoney,
  vintageOf,
  weightedAverageRate,
  type FirstDates,
  type LedgerTransaction,
  type TransactionClass,
} from "../../../shared/finance";
import { dayOfIso, isoOfDay } from "./arbitraries";

describe("metrics", () => {
  test("moic = collected / disbursed; null when nothing was disbursed", () => {
    expect(moic("1250.00", "1000.00")!.toString()).toBe("1.25");
    expect(moic("10.00", "0.00")).toBeNull();
  });
  test("weighted average rate = Σ(rate·balance)/Σ balance: (0.05·1000 + 0.10·3000)/4000 = 0.0875", () => {
    expect(weightedAverageRate([{ rate: "0.05", balance: "1000.00" }, { rate: "0.10", balance: "3000.00" }])!.toString()).toBe("0.0875");
    expect(weightedAverageRate([])).toBeNull();
  });
  test("vintage is the origination month", () => {
    expect(vintageOf("2026-03-17")).toBe("2026-03");
  });
  test("a snapshot: balances, receivable, delinquency after grace, buckets, totals to date, MOIC and IRR", () => {
    const m = snapshotMetrics({
      as_of: "2026-06-30",
      loans: [
        { principal_balance: "1000.00", interest_receivable: "5.00", annual_rate: "0.05", days_past_due: 0, grace_period_days: 10 },
        { principal_balance: "2000.00", interest_receivable: "10.50", annual_rate: "0.10", days_past_due: 8, grace_period_days: 10 }, // within grace
        { principal_balance: "3000.00", interest_receivable: "30.00", annual_rate: "0.12", days_past_due: 45, grace_period_days: 10 },
        { principal_balance: "0.00", interest_receivable: "0.00", annual_rate: "0.20", days_past_due: 130 },
      ],
      cash_flows: [
        { date: "2025-06-30", amount: "10000.00", kind: "disbursement" },
        { date: "2026-06-30", amount: "5500.00", kind: "collection" },
        { date: "2026-07-01", amount: "9999.00", kind: "collection" }, // after as_of: ignored
      ],
    });
    expect(m).toMatchObject({
      total_balance: "6000.00",
      interest_receivable: "45.50",
      delinquent_amount: "3000.00", // 45 days past due > 10 days grace; 8 days is within grace; the paid-off loan has no balance
      loan_count: 4,
      // (0.05·1000 + 0.10·2000 + 0.12·3000)/6000 = 610/6000 = 0.1016666…
      weighted_avg_rate: "0.1016666667",
      total_disbursed: "10000.00",
      total_collected: "5500.00",
      moic: "0.55",
      // −10000 then +5500 one year (365 days) later: x = 0.55 − 1 = −0.45
      irr: "-0.45",
    });
    expect(m.bucket_breakdown).toEqual({
      current: { count: 1, balance: "1000.00" },
      "1_29": { count: 1, balance: "2000.00" },
      "30_59": { count: 1, balance: "3000.00" },
      "60_89": { count: 0, balance: "0.00" },
      "90_119": { count: 0, balance: "0.00" },
      "120_plus": { count: 1, balance: "0.00" },
    });
  });
  test("a group accumulated in parts and merged equals snapshotMetrics of the whole", () => {
    const money = fc.integer({ min: 0, max: 5_000_000 }).map((c) => (c / 100).toFixed(2));
    const loan = fc.record({
      principal_balance: money,
      interest_receivable: money,
      annual_rate: fc.integer({ min: 0, max: 3000 }).map((r) => (r / 10000).toFixed(4)),
      days_past_due: fc.integer({ min: 0, max: 200 }),
      grace_period_days: fc.integer({ min: 0, max: 15 }),
    });
    const flow = fc.record({ date: fc.integer({ min: dayOfIso("2025-01-01"), max: dayOfIso("2026-12-31") }).map(isoOfDay), amount: money, kind: fc.constantFrom("disbursement" as const, "collection" as const) });
    fc.assert(
      fc.property(fc.array(fc.tuple(loan, fc.nat(3)), { maxLength: 30 }), fc.array(fc.tuple(flow, fc.nat(3)), { maxLength: 40 }), (loans, flows) => {
        const asOf = "2026-06-30";
        const whole = snapshotMetrics({ as_of: asOf, loans: loans.map(([l]) => l), cash_flows: flows.map(([f]) => f) });
        const parts = Array.from({ length: 4 }, () => new SnapshotMetricsAccumulator(asOf));
        for (const [l, k] of loans) parts[k].addLoan(parseLoanMetric(l));
        for (const [f, k] of flows) parts[k].addCashFlow(f.date, toMoney(f.amount, "amount"), f.kind);
        for (const p of parts.slice(1)) parts[0].merge(p);
        expect(parts[0].result()).toEqual(whole);
      }),
      { numRuns: 200 },
    );
    expect(() => new SnapshotMetricsAccumulator("2026-06-30").merge(new SnapshotMetricsAccumulator("2026-06-29"))).toThrow(/different dates/);
  });
  test("an empty portfolio has zero totals and null ratios", () => {
    expect(snapshotMetrics({ as_of: "2026-01-01", loans: [], cash_flows: [] })).toMatchObject({ loan_count: 0, total_balance: "0.00", weighted_avg_rate: null, moic: null, irr: null });
  });
});

describe("first transaction and first cash-flow dates (seed 004)", () => {
  const none: FirstDates = { first_transaction_date: null, first_cash_flow_date: null };
  test("book: the first booking sets both; an earlier non-cash one moves only the transaction date", () => {
    let d: FirstDates = onTransactionBooked(none, { trade_date: "2026-03-10", transaction_class: "cash_outflow" });
    expect(d).toMatchObject({ first_transaction_date: "2026-03-10", first_cash_flow_date: "2026-03-10" });
    d = onTransactionBooked(d, { trade_date: "2026-03-01", transaction_class: "other" });
    expect(d).toMatchObject({ first_transaction_date: "2026-03-01", first_cash_flow_date: "2026-03-10" });
    d = onTransactionBooked(d, { trade_date: "2026-04-01", transaction_class: "cash_inflow" });
    expect(d).toMatchObject({ first_transaction_date: "2026-03-01", first_cash_flow_date: "2026-03-10" });
  });
  test("rebook: earlier new date moves the first date; moving the first one later asks for a recompute", () => {
    const d: FirstDates = { first_transaction_date: "2026-03-01", first_cash_flow_date: "2026-03-10" };
    expect(onTransactionRebooked(d, { old_trade_date: "2026-03-10", new_trade_date: "2026-02-01", transaction_class: "cash_inflow" })).toMatchObject({
      first_transaction_date: "2026-02-01",
      first_cash_flow_date: "2026-02-01",
      recompute: { first_transaction_date: false, first_cash_flow_date: false },
    });
    expect(onTransactionRebooked(d, { old_trade_date: "2026-03-10", new_trade_date: "2026-05-01", transaction_class: "cash_inflow" }).recompute).toEqual({
      first_transaction_date: false,
      first_cash_flow_date: true,
    });
    // with the ledger after the rebook, the recompute is done here
    const ledger: LedgerTransaction[] = [
      { trade_date: "2026-03-01", transaction_class: "other" },
      { trade_date: "2026-05-01", transaction_class: "cash_inflow" },
      { trade_date: "2026-04-01", transaction_class: "cash_outflow" },
    ];
    expect(onTransactionRebooked(d, { old_trade_date: "2026-03-10", new_trade_date: "2026-05-01", transaction_class: "cash_inflow" }, ledger)).toMatchObject({
      first_transaction_date: "2026-03-01",
      first_cash_flow_date: "2026-04-01",
    });
  });
  test("delete: removing the first date asks for a recompute; the last one leaves null", () => {
    const d: FirstDates = { first_transaction_date: "2026-03-01", first_cash_flow_date: "2026-03-01" };
    expect(onTransactionDeleted(d, { trade_date: "2026-03-01", transaction_class: "cash_outflow" }, [])).toMatchObject({ first_transaction_date: null, first_cash_flow_date: null });
    expect(onTransactionDeleted(d, { trade_date: "2026-04-01", transaction_class: "cash_outflow" }).recompute).toEqual({ first_transaction_date: false, first_cash_flow_date: false });
  });
  test("membership: a loan joining brings its dates; one leaving with the first date asks for a recompute", () => {
    const d: FirstDates = { first_transaction_date: "2026-03-01", first_cash_flow_date: "2026-03-05" };
    expect(onLoanAdded(d, { first_transaction_date: "2026-01-01", first_cash_flow_date: null })).toMatchObject({ first_transaction_date: "2026-01-01", first_cash_flow_date: "2026-03-05" });
    expect(onLoanRemoved(d, { first_transaction_date: "2026-03-01", first_cash_flow_date: "2026-03-09" }).recompute).toEqual({ first_transaction_date: true, first_cash_flow_date: false });
  });

  test("property: maintained incrementally (recomputing only when asked) the dates always equal a full recompute", () => {
    type Op = { kind: "book" | "rebook" | "delete"; pick: number; day: number; cls: TransactionClass };
    const opArb: fc.Arbitrary<Op> = fc.record({
      kind: fc.constantFrom("book", "book", "rebook", "delete") as fc.Arbitrary<Op["kind"]>,
      pick: fc.nat(),
      day: fc.integer({ min: dayOfIso("2024-01-01"), max: dayOfIso("2024-03-31") }),
      cls: fc.constantFrom("cash_inflow", "cash_outflow", "other") as fc.Arbitrary<TransactionClass>,
    });
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60 }), (ops) => {
        const ledger: LedgerTransaction[] = [];
        let dates: FirstDates = none;
        for (const op of ops) {
          if (op.kind === "book" || ledger.length === 0) {
            const tx = { trade_date: isoOfDay(op.day), transaction_class: op.cls };
            ledger.push(tx);
            const u = onTransactionBooked(dates, tx);
            dates = { first_transaction_date: u.first_transaction_date, first_cash_flow_date: u.first_cash_flow_date };
          } else if (op.kind === "rebook") {
            const i = op.pick % ledger.length;
            const old = ledger[i];
            ledger[i] = { ...old, trade_date: isoOfDay(op.day) };
            const u = onTransactionRebooked(dates, { old_trade_date: old.trade_date, new_trade_date: ledger[i].trade_date, transaction_class: old.transaction_class });
            const fresh = firstDatesFromTransactions(ledger);
            dates = {
              first_transaction_date: u.recompute.first_transaction_date ? fresh.first_transaction_date : u.first_transaction_date,
              first_cash_flow_date: u.recompute.first_cash_flow_date ? fresh.first_cash_flow_date : u.first_cash_flow_date,
            };
          } else {
            const [tx] = ledger.splice(op.pick % ledger.length, 1);
            const u = onTransactionDeleted(dates, tx, ledger);
            dates = { first_transaction_date: u.first_transaction_date, first_cash_flow_date: u.first_cash_flow_date };
          }
          expect(dates).toEqual(firstDatesFromTransactions(ledger));
        }
      }),
      { numRuns: 500 },
    );
  });
});
