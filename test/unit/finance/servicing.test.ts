/**
 * DESIGN §3 servicing, hand-checked: payment allocation, payoff, rule-of-78 rebate, promotions,
 * variable-rate reset, line of credit, lease buyout and return, delinquency. "r(x)" is rounding
 * to cents half-up; 30/360 months are 30 days.
 */
import DecimalJs from "decimal.js";
import {
  applyPayment,
  assessFee,
  buyOutLease,
  calculatePayoff,
  delinquencyBucket,
  delinquencyBucketNames,
  delinquencyStatus,
  drawOnLine,
  FinanceRuleError,
  generateSchedule,
  generateStatement,
  interestReceivable,
  dailyInterestAccrual,
  isPaymentLate,
  openLoan,
  projectRemainingSchedule,
  replayLedger,
  resetVariableRate,
  returnLeaseAsset,
  clampRate,
  nextResetDate,
  feeAmount,
  residualFromPercent,
  type Allocation,
  type LoanState,
  type LoanTerms,
} from "../../../shared/finance";
import { REFERENCE_TERMS } from "./arbitraries";

const D = DecimalJs.clone({ precision: 34 });
const ORDER = ["interest", "fees", "principal"];

const base: LoanTerms = REFERENCE_TERMS;

/** interest + fees + principal + credit = amount, exactly */
function expectBalanced(a: Allocation): void {
  expect(new D(a.interest).plus(a.fees).plus(a.principal).plus(a.credit).toFixed(2)).toBe(a.amount);
}

function pay(state: LoanState, amount: string, date: string, order: string[] = ORDER) {
  const r = applyPayment(state, { amount, date }, order);
  expectBalanced(r.allocation);
  return r;
}

describe("payments on installment loans", () => {
  const rows = generateSchedule(base);
  test("a payment on its due date settles exactly the scheduled interest and principal", () => {
    const r = pay(openLoan(base), "888.49", "2026-02-01");
    expect(r.allocation).toMatchObject({ interest: "100.00", principal: "788.49", fees: "0.00", credit: "0.00", paid_off: false });
    expect(r.state.principal_balance).toBe(rows[0].balance);
  });

  test("a late payment: interest keeps accruing on the unpaid principal and is billed with the next installment", () => {
    const late = pay(openLoan(base), "888.49", "2026-02-11");
    // installment 1 billed Feb 1: 100.00 + 788.49; then Feb 1 → Feb 11 on 10,000: r(10000 × 0.12 × 10/360) = 33.33
    expect(late.allocation).toMatchObject({ interest: "100.00", principal: "788.49" });
    expect(late.state.accrued_interest).toBe("33.33");
    // installment 2 on Mar 1: 33.33 + Feb 11 → Mar 1 (30·1 + 1 − 11 = 20 days) on 9,211.51:
    // r(9211.51 × 0.12 × 20/360) = 61.41 → interest 94.74, principal 888.49 − 94.74 = 793.75
    const next = pay(late.state, "888.49", "2026-03-01");
    expect(next.allocation).toMatchObject({ interest: "94.74", principal: "793.75" });
  });

  test("a payment beyond the payoff pays everything and holds the rest as credit", () => {
    // payoff on Jan 15: 10,000 + r(10000 × 0.12 × 14/360) = 10,000 + 46.67
    const r = pay(openLoan(base), "20000.00", "2026-01-15");
    expect(r.allocation).toMatchObject({ interest: "46.67", principal: "10000.00", prepaid_principal: "10000.00", credit: "9953.33", paid_off: true });
    expect(r.state).toMatchObject({ status: "paid_off", principal_balance: "0.00", credit_balance: "9953.33", installments: [] });
    // nothing more accrues or falls due
    expect(calculatePayoff(r.state, "2027-06-01")).toMatchObject({ total: "0.00", interest: "0.00", credit_balance: "9953.33" });
    // and a later payment on a closed loan is held as credit too
    expect(pay(r.state, "10.00", "2026-03-01").allocation.credit).toBe("10.00");
  });

  test("past due first, oldest first, component by component in the allocation order; the rest prepays principal", () => {
    let s = openLoan(base);
    // nothing paid in February; a 25.00 late fee on Feb 20 (interest Feb 1 → 20 closes at r(10000 × 0.12 × 19/360) = 63.33)
    s = assessFee(s, { amount: "25.00", date: "2026-02-20", fee_type: "late" }).state;
    // installment 2 on Mar 1: 63.33 + r(10000 × 0.12 × 11/360) = 36.67 → 100.00 interest, 788.49 principal;
    // Mar 1 → Mar 5 accrues r(10000 × 0.12 × 4/360) = 13.33, not yet due.
    const r = pay(s, "1000.00", "2026-03-05", ["fees", "interest", "principal"]);
    expect(r.allocation.lines.map((l) => [l.due_date, l.kind, l.fees, l.interest, l.principal])).toEqual([
      ["2026-02-01", "installment", "0.00", "100.00", "788.49"],
      ["2026-02-20", "fee", "25.00", "0.00", "0.00"],
      ["2026-03-01", "installment", "0.00", "86.51", "0.00"],
    ]);
    expect(r.allocation).toMatchObject({ interest: "186.51", fees: "25.00", principal: "788.49", credit: "0.00" });
    expect(r.state.due).toEqual([{ due_date: "2026-03-01", number: 2, kind: "installment", interest: "13.49", fees: "0.00", principal: "788.49" }]);
    expect(r.state.accrued_interest).toBe("13.33");
    // with principal first, the same money goes differently inside each item
    const p = pay(s, "1000.00", "2026-03-05", ["principal", "interest", "fees"]);
    expect(p.allocation.lines[2]).toMatchObject({ principal: "86.51", interest: "0.00" });
  });

  test("money beyond the amounts due prepays principal (DESIGN §3), and the term shortens", () => {
    const r = pay(openLoan(base), "2888.49", "2026-02-01");
    expect(r.allocation).toMatchObject({ interest: "100.00", principal: "2788.49", prepaid_principal: "2000.00", credit: "0.00" });
    expect(r.state.principal_balance).toBe("7211.51");
    const remaining = projectRemainingSchedule(r.state);
    expect(remaining[0]).toMatchObject({ number: 2, payment: "888.49", interest: "72.12" });
    expect(remaining[remaining.length - 1].balance).toBe("0.00");
    expect(remaining.length).toBeLessThan(11);
  });

  test("payoff today, then no further interest", () => {
    const first = pay(openLoan(base), "888.49", "2026-02-01").state;
    // Feb 1 → Feb 16 = 15 days on 9,211.51: r(9211.51 × 0.12 × 15/360) = 46.06
    const quote = calculatePayoff(first, "2026-02-16");
    expect(quote).toMatchObject({ principal: "9211.51", interest: "46.06", fees: "0.00", rule_of_78_rebate: "0.00", total: "9257.57" });
    const r = pay(first, quote.total, "2026-02-16");
    expect(r.allocation).toMatchObject({ paid_off: true, credit: "0.00", interest: "46.06", principal: "9211.51" });
    expect(interestReceivable(r.state, "2026-12-31").total).toBe("0.00");
    expect(calculatePayoff(r.state, "2026-12-31").total).toBe("0.00");
  });

  test("a payment dated before the loan's last activity is refused: replay the ledger instead", () => {
    const s = pay(openLoan(base), "888.49", "2026-02-01").state;
    expect(() => applyPayment(s, { amount: "1.00", date: "2026-01-20" }, ORDER)).toThrow(FinanceRuleError);
    const replayed = replayLedger(openLoan(base), [
      { type: "payment", date: "2026-02-01", amount: "888.49" },
      { type: "payment", date: "2026-01-20", amount: "1.00" },
    ]);
    expect(replayed.steps.map((s) => s.event.date)).toEqual(["2026-01-20", "2026-02-01"]);
  });

  test("bad payments are refused", () => {
    const s = openLoan(base);
    expect(() => applyPayment(s, { amount: "0.00", date: "2026-02-01" }, ORDER)).toThrow(/greater than 0/);
    expect(() => applyPayment(s, { amount: "1.001", date: "2026-02-01" }, ORDER)).toThrow(/2 decimals/);
    expect(() => applyPayment(s, { amount: "1.00", date: "2026-02-01" }, ["interest", "penalties"])).toThrow(/allocation component/);
  });
});

describe("rule of 78: early payoff rebates the unearned charges", () => {
  // 1,000.00 at 12 %, 12 months: payment 88.85, F = 66.20; charges r(66.20 × (13 − k)/78):
  // 10.18 9.34 8.49 7.64 6.79 5.94 5.09 4.24 3.39 2.55 1.70 0.85
  const terms: LoanTerms = { ...base, principal: "1000.00", accrual_method: "rule_of_78" };
  let s = openLoan(terms);
  for (const date of ["2026-02-01", "2026-03-01", "2026-04-01"]) s = pay(s, "88.85", date).state;
  test("after 3 payments principal is 1000 − (78.67 + 79.51 + 80.36) = 761.46", () => {
    expect(s.principal_balance).toBe("761.46");
  });
  test("payoff inside period 4: the 9 remaining charges (38.19) less the rebate of periods 5–12 = 66.20 × 36/78 = 30.55", () => {
    const q = calculatePayoff(s, "2026-04-15");
    expect(q).toMatchObject({ principal: "761.46", interest: "38.19", rule_of_78_rebate: "30.55", total: "769.10" });
    const r = pay(s, q.total, "2026-04-15");
    expect(r.allocation).toMatchObject({ paid_off: true, interest: "7.64", principal: "761.46", credit: "0.00" });
  });
  test("payoff on the due date of payment 3 (period 4 not begun) rebates all remaining charges", () => {
    expect(calculatePayoff(s, "2026-04-01")).toMatchObject({ rule_of_78_rebate: "38.19", total: "761.46" });
  });
});

describe("deferred interest promotion", () => {
  const terms: LoanTerms = {
    ...base,
    promotions: [{ promo_type: "deferred_interest", start_date: "2026-01-01", end_date: "2026-07-01", deferred_interest_rate: "0.24", min_payment_type: "fixed", min_payment_amount: "500.00" }],
  };
  let s = openLoan(terms);
  for (const date of ["2026-02-01", "2026-03-01", "2026-04-01", "2026-05-01", "2026-06-01", "2026-07-01"]) s = pay(s, "500.00", date).state;
  test("inside the promotion no interest is charged; deferred interest accrues aside: 200 + 190 + … + 150 = 1050.00", () => {
    expect(s.principal_balance).toBe("7000.00");
    expect(s.promotions[0]).toMatchObject({ deferred_interest: "1050.00", resolution: "pending" });
  });
  test("a payoff by the end date excludes it (and waives it)", () => {
    const q = calculatePayoff(s, "2026-07-01");
    expect(q).toMatchObject({ total: "7000.00", deferred_interest: "0.00", deferred_interest_waivable: "1050.00" });
    const r = pay(s, "7000.00", "2026-07-01");
    expect(r.allocation).toMatchObject({ paid_off: true, deferred_interest_waived: "1050.00" });
  });
  test("after the end with the balance unpaid it is charged back: payoff includes it", () => {
    // Jul 1 → Jul 11 on 7,000 at 12 %: r(7000 × 0.12 × 10/360) = 23.33
    const q = calculatePayoff(s, "2026-07-11");
    expect(q).toMatchObject({ deferred_interest: "1050.00", interest: "1073.33", total: "8073.33" });
    const r = pay(s, "1389.01", "2026-08-01");
    expect(r.promotion_events).toEqual([{ promo_type: "deferred_interest", end_date: "2026-07-01", resolution: "charged_back", amount: "1050.00" }]);
    // billed with installment 7: 1050.00 + r(7000 × 0.01) = 1120.00 interest — the schedule's row 7
    expect(r.allocation).toMatchObject({ interest: "1120.00", principal: "269.01" });
  });
});

describe("variable rate reset", () => {
  let s = openLoan(base);
  for (const date of ["2026-02-01", "2026-03-01", "2026-04-01"]) s = pay(s, "888.49", date).state;
  test("clamp(index + margin, floor, ceiling)", () => {
    expect(clampRate("0.08", "0.09", "0.15").toString()).toBe("0.09");
    expect(clampRate("0.23", "0.09", "0.15").toString()).toBe("0.15");
    expect(clampRate("0.11", null, null).toString()).toBe("0.11");
    expect(nextResetDate("2026-01-31", "quarterly")).toBe("2026-04-30");
  });
  test("index 5 % + margin 3 % = 8 % clamped to the 9 % floor; the remaining 7,610.80 re-amortised over 9 months", () => {
    const r = resetVariableRate(s, { reset_date: "2026-04-01", index_rate: "0.05", margin: "0.03", floor: "0.09", ceiling: "0.15", index_name: "SOFR", actor: "scheduler" });
    // r(7610.80 × 0.0075 / (1 − 1.0075^−9)) = 877.67
    expect(r.modification).toMatchObject({ old_rate: "0.12", new_rate: "0.09", index_value: "0.05", margin: "0.03", old_payment: "888.49", new_payment: "877.67", remaining_balance: "7610.80", remaining_periods: 9, effective_date: "2026-04-01", index_name: "SOFR" });
    expect(r.schedule[0]).toMatchObject({ number: 4, payment: "877.67", interest: "57.08" }); // r(7610.80 × 0.0075) = 57.08
    expect(r.schedule[r.schedule.length - 1].balance).toBe("0.00");
    const next = pay(r.state, "877.67", "2026-05-01");
    expect(next.allocation).toMatchObject({ interest: "57.08", principal: "820.59" });
  });
  test("no change → no modification", () => {
    expect(resetVariableRate(s, { reset_date: "2026-04-01", index_rate: "0.09", margin: "0.03" }).modification).toBeNull();
  });
});

describe("line of credit", () => {
  const terms: LoanTerms = { ...base, program_type: "line_of_credit", principal: "1000.00", annual_rate: "0.20", day_count_convention: "actual_365", credit_limit: "5000.00" };
  test("draws within the limit; a draw above it is refused", () => {
    const s = openLoan(terms);
    const d = drawOnLine(s, { amount: "500.00", date: "2026-01-11" });
    expect(d).toMatchObject({ principal_balance: "1500.00", available_credit: "3500.00" });
    expect(() => drawOnLine(d.state, { amount: "3500.01", date: "2026-01-12" })).toThrow(/available credit/);
  });
  test("statement: daily accrual closed at each draw, minimum max(2 %, 25.00)", () => {
    let s = drawOnLine(openLoan(terms), { amount: "500.00", date: "2026-01-11" }).state;
    const st = generateStatement(s, { statement_date: "2026-01-31" });
    // Jan 1 → 11 on 1,000: r(1000 × 0.2 × 10/365) = 5.48; Jan 11 → 31 on 1,500: r(1500 × 0.2 × 20/365) = 16.44
    // minimum principal max(r(1500 × 0.02) = 30.00, 25.00) = 30.00; due 25 days later
    expect(st.statement).toMatchObject({ interest: "21.92", minimum_principal: "30.00", minimum_payment_due: "51.92", due_date: "2026-02-25", statement_balance: "1521.92" });
    s = st.state;
    const r = pay(s, "51.92", "2026-02-20");
    expect(r.allocation).toMatchObject({ interest: "21.92", principal: "30.00" });
    expect(r.state.principal_balance).toBe("1470.00");
  });
  test("paying the line to zero keeps it open", () => {
    const s = openLoan(terms);
    const r = pay(s, "2000.00", "2026-01-11");
    expect(r.allocation).toMatchObject({ principal: "1000.00", interest: "5.48", credit: "994.52", paid_off: false });
    expect(r.state.status).toBe("active");
    // the credit balance meets the next draw first
    expect(drawOnLine(r.state, { amount: "1000.00", date: "2026-01-12" })).toMatchObject({ from_credit: "994.52", principal_balance: "5.48" });
  });
});

describe("lease", () => {
  const terms: LoanTerms = { ...base, program_type: "lease", residual_value: "4000.00" };
  let s = openLoan(terms);
  for (const d of ["2026-02-01", "2026-03-01", "2026-04-01", "2026-05-01", "2026-06-01", "2026-07-01"]) s = pay(s, "573.09", d).state;
  test("buyout on a due date: PV at 1 % of the 6 remaining rents (3321.36) + residual 4000/1.01^6 (3768.18) = the lease balance 7089.54", () => {
    expect(s.principal_balance).toBe("7089.54");
    expect(calculatePayoff(s, "2026-07-01")).toMatchObject({ remaining_payments_pv: "3321.36", residual_pv: "3768.18", total: "7089.54" });
  });
  test("mid-period the discounting uses the unexpired fraction: Jul 16 → Aug 1 is 16 of 31 days", () => {
    // rents at t = 16/31, 1 + 16/31, …: 3337.39; residual 4000 / 1.01^(5 + 16/31) = 3786.37
    expect(calculatePayoff(s, "2026-07-16")).toMatchObject({ remaining_payments_pv: "3337.39", residual_pv: "3786.37", total: "7123.76" });
  });
  test("a stated buyout price replaces the present values", () => {
    const t = openLoan({ ...terms, buyout_price: "5000.00" });
    expect(calculatePayoff(t, "2026-01-01")).toMatchObject({ stated_buyout_price: "5000.00", total: "5000.00" });
  });
  test("money beyond the rent due is prepaid rent, applied to the next rent", () => {
    const r = pay(s, "1000.00", "2026-07-05");
    expect(r.allocation.credit).toBe("1000.00");
    const next = pay(r.state, "146.18", "2026-08-01");
    // rent 573.09 of which 426.91 came from the credit; the new 146.18 pays the rest
    expect(next.billed[0].credit_applied).toBe("573.09");
    expect(next.allocation.credit).toBe("146.18");
  });
  test("buying out closes the lease; the allocation sums to the amount", () => {
    const r = buyOutLease(s, { amount: "7100.00", date: "2026-07-01" });
    expect(r.state.status).toBe("bought_out");
    expectBalanced(r.allocation);
    expect(r.allocation).toMatchObject({ principal: "7089.54", credit: "10.46" });
    expect(() => buyOutLease(s, { amount: "7000.00", date: "2026-07-01" })).toThrow(/does not cover/);
  });
  test("returning the asset closes the lease; unpaid rent and the return fee stay owed", () => {
    const r = returnLeaseAsset(s, { date: "2026-08-10", return_fee: "250.00" });
    // rent 7 (Aug 1) is unpaid: 573.09, plus the 250.00 fee
    expect(r).toMatchObject({ outstanding: "823.09" });
    expect(r.state.status).toBe("returned");
    expect(residualFromPercent("10000.00", "0.4")).toBe("4000.00");
  });
});

describe("delinquency", () => {
  test("buckets current, 1_29, 30_59, 60_89, 90_119, 120_plus; configurable", () => {
    expect([0, 1, 29, 30, 59, 60, 89, 90, 119, 120, 400].map((d) => delinquencyBucket(d))).toEqual([
      "current", "1_29", "1_29", "30_59", "30_59", "60_89", "60_89", "90_119", "90_119", "120_plus", "120_plus",
    ]);
    expect(delinquencyBucketNames([1, 15, 45])).toEqual(["current", "1_14", "15_44", "45_plus"]);
    expect(delinquencyBucket(20, [1, 15, 45])).toBe("15_44");
    expect(() => delinquencyBucket(1, [30, 10])).toThrow();
  });
  test("days past due from the oldest unpaid due date; late after the grace period", () => {
    const s = openLoan(base);
    expect(delinquencyStatus(s, "2026-02-01", 10)).toMatchObject({ days_past_due: 0, bucket: "current" });
    const st = delinquencyStatus(s, "2026-03-15", 10);
    expect(st).toMatchObject({ days_past_due: 42, oldest_unpaid_due_date: "2026-02-01", bucket: "30_59" });
    expect(st.late_items.map((i) => i.number)).toEqual([1, 2]);
    expect(isPaymentLate("2026-02-01", "2026-02-11", 10)).toBe(false);
    expect(isPaymentLate("2026-02-01", "2026-02-12", 10)).toBe(true);
  });
  test("fees by rule: flat, percent of a basis with min and max", () => {
    expect(feeAmount({ fee_type: "late", calculation: "flat", amount: "25.00" }).toFixed(2)).toBe("25.00");
    expect(feeAmount({ fee_type: "late", calculation: "percent", percent: "0.05", percent_basis: "payment", max_amount: "40.00" }, { payment: "888.49" }).toFixed(2)).toBe("40.00");
    expect(feeAmount({ fee_type: "late", calculation: "percent", percent: "0.05", percent_basis: "payment", min_amount: "15.00" }, { payment: "100.00" }).toFixed(2)).toBe("15.00");
  });
  test("daily accrual postings add up to what servicing closes", () => {
    const s = openLoan(base);
    let total = new D(0);
    for (let day = 2; day <= 31; day++) total = total.plus(dailyInterestAccrual(s, `2026-01-${String(day).padStart(2, "0")}`));
    // Jan 1 → Jan 31: 30/360 days = 30 → r(10000 × 0.12 × 30/360) = 100.00 at the end of the span
    expect(total.toFixed(2)).toBe(interestReceivable(s, "2026-01-31").total);
  });
});
