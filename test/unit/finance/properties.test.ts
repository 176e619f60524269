/**
 * Properties on thousands of random loans (fast-check): every program, convention, accrual
 * method, shape and promotion the generators in arbitraries.ts produce.
 */
import DecimalJs from "decimal.js";
import fc from "fast-check";
import {
  applyPayment,
  calculatePayoff,
  generateSchedule,
  interestReceivable,
  openLoan,
  type Allocation,
  type BilledInstallment,
  type LoanState,
  type LoanTerms,
  type ScheduleRow,
} from "../../../shared/finance";
import { dayOfIso, isoOfDay, termsArb } from "./arbitraries";

const D = DecimalJs.clone({ precision: 40 });
const ORDER = ["interest", "fees", "principal"];
const endBalance = (t: LoanTerms) => (t.program_type === "lease" ? new D(t.residual_value ?? "0") : new D(0));

const MONEY = /^-?\d+\.\d{2}$/;
/** A two-decimal string as integer cents (exact in a double far beyond any amount here). */
const cents = (s: string) => (s.startsWith("-") ? -1 : 1) * Number(s.replace("-", "").replace(".", ""));

/**
 * Every violation of the schedule invariants, as text: one expect per loan keeps thousands of
 * loans fast. Sums are checked in integer cents, independently of decimal.js.
 */
function scheduleViolations(t: LoanTerms, rows: ScheduleRow[]): string[] {
  const bad: string[] = [];
  const end = cents(endBalance(t).toFixed(2));
  if (rows.length === 0 || rows.length > t.term_months) bad.push(`row count ${rows.length}`);
  // DESIGN §3: the final balance is exactly 0.00 (a lease ends at its residual)
  if (rows.length && cents(rows[rows.length - 1].balance) !== end) bad.push(`final balance ${rows[rows.length - 1].balance}`);
  let balance = cents(new D(t.principal).toFixed(2));
  let sumPrincipal = 0;
  let prevDue = t.disbursement_date;
  for (const r of rows) {
    for (const k of ["payment", "principal", "interest", "balance", "negative_amortization"] as const) if (!MONEY.test(r[k])) bad.push(`row ${r.number} ${k} ${r[k]}`);
    const principal = cents(r.principal);
    if (principal + cents(r.interest) !== cents(r.payment)) bad.push(`row ${r.number}: principal + interest ≠ payment`);
    balance -= principal;
    if (cents(r.balance) !== balance) bad.push(`row ${r.number}: balance does not chain`);
    if (balance < 0 || cents(r.payment) < 0) bad.push(`row ${r.number}: negative balance or payment`);
    if (r.due_date <= prevDue) bad.push(`row ${r.number}: due date not after the previous`);
    prevDue = r.due_date;
    sumPrincipal += principal;
  }
  // Σ principal = principal (negative-amortisation rows count negative)
  if (sumPrincipal !== cents(new D(t.principal).toFixed(2)) - end) bad.push(`Σ principal ${sumPrincipal}`);
  return bad;
}

/** Violations of "interest + fees + principal + credit = amount, exactly", none negative. */
function allocationViolations(a: Allocation, label: string): string[] {
  const bad: string[] = [];
  if (new D(a.interest).plus(a.fees).plus(a.principal).plus(a.credit).toFixed(2) !== a.amount) bad.push(`${label}: allocation does not sum to ${a.amount}`);
  for (const k of ["interest", "fees", "principal", "credit", "prepaid_principal"] as const) if (a[k].startsWith("-")) bad.push(`${label}: negative ${k}`);
  return bad;
}

describe("schedules", () => {
  test("end at exactly 0.00 (a lease at its residual), Σ principal = principal, rows chain", () => {
    fc.assert(
      fc.property(termsArb({ maxTerm: 480 }), (t) => expect(scheduleViolations(t, generateSchedule(t))).toEqual([])),
      { numRuns: 1200 },
    );
  });
});

describe("servicing", () => {
  test("applying the scheduled payments on their due dates reproduces the schedule", () => {
    fc.assert(
      fc.property(termsArb({ maxTerm: 48, programs: ["installment", "installment", "lease"] }), (t) => {
        const rows = generateSchedule(t);
        let state = openLoan(t);
        const billed: BilledInstallment[] = [];
        const bad: string[] = [];
        for (const row of rows) {
          if (row.payment === "0.00") continue; // nothing to pay; the row is billed with the next payment
          const r = applyPayment(state, { amount: row.payment, date: row.due_date }, ORDER);
          bad.push(...allocationViolations(r.allocation, `row ${row.number}`));
          billed.push(...r.billed);
          // the payment settles exactly what was billed: nothing held as credit or prepaid, nothing left due
          if (r.allocation.credit !== "0.00" || r.allocation.prepaid_principal !== "0.00") bad.push(`row ${row.number}: credit or prepayment`);
          if (r.state.principal_balance !== row.balance) bad.push(`row ${row.number}: balance ${r.state.principal_balance} ≠ ${row.balance}`);
          if (r.state.due.length !== 0) bad.push(`row ${row.number}: amounts left due`);
          state = r.state;
        }
        if (billed.length !== rows.length) bad.push(`billed ${billed.length} of ${rows.length} rows`);
        billed.forEach((b, k) => {
          const row = rows[k];
          if (!row) return;
          // interest billed + capitalised = the row's interest; principal billed − capitalised = the row's principal
          if (b.number !== row.number) bad.push(`billed #${b.number} for row ${row.number}`);
          if (new D(b.interest).plus(b.capitalized_interest).toFixed(2) !== row.interest) bad.push(`row ${row.number}: interest ${b.interest}+${b.capitalized_interest} ≠ ${row.interest}`);
          if (new D(b.principal).minus(b.capitalized_interest).toFixed(2) !== row.principal) bad.push(`row ${row.number}: principal ${b.principal} ≠ ${row.principal}`);
        });
        if (state.status !== (t.program_type === "lease" ? "active" : "paid_off")) bad.push(`status ${state.status}`);
        expect(bad).toEqual([]);
      }),
      { numRuns: 600 },
    );
  });

  const paymentsArb = fc.array(
    fc.record({
      gap: fc.integer({ min: 0, max: 70 }),
      amount: fc.oneof(fc.integer({ min: 1, max: 500_000 }), fc.integer({ min: 1, max: 2_000_000_000 })).map((c) => (c / 100).toFixed(2)),
      order: fc.constantFrom(["interest", "fees", "principal"], ["fees", "interest", "principal"], ["principal", "interest", "fees"]),
    }),
    { minLength: 1, maxLength: 12 },
  );

  test("every allocation sums exactly to its payment; balances never go negative", () => {
    fc.assert(
      fc.property(termsArb({ maxTerm: 120 }), paymentsArb, (t, payments) => {
        let state: LoanState = openLoan(t);
        let day = dayOfIso(t.disbursement_date);
        const bad: string[] = [];
        for (const [i, p] of payments.entries()) {
          day += p.gap;
          const r = applyPayment(state, { amount: p.amount, date: isoOfDay(day) }, p.order);
          bad.push(...allocationViolations(r.allocation, `payment ${i}`));
          const lines = r.allocation.lines.reduce((s, l) => s.plus(l.interest).plus(l.fees).plus(l.principal), new D(0));
          if (lines.plus(r.allocation.credit).toFixed(2) !== p.amount) bad.push(`payment ${i}: lines + credit ≠ amount`);
          for (const k of ["principal_balance", "accrued_interest", "credit_balance"] as const) if (r.state[k].startsWith("-")) bad.push(`payment ${i}: negative ${k}`);
          state = r.state;
        }
        expect(bad).toEqual([]);
      }),
      { numRuns: 600 },
    );
  });

  test("payoff today, then no further interest", () => {
    fc.assert(
      fc.property(termsArb({ maxTerm: 120, programs: ["installment", "line_of_credit"] }), paymentsArb, fc.integer({ min: 0, max: 4000 }), (t, payments, extra) => {
        let state = openLoan(t);
        let day = dayOfIso(t.disbursement_date);
        for (const p of payments.slice(0, 3)) {
          day += p.gap;
          state = applyPayment(state, { amount: p.amount, date: isoOfDay(day) }, p.order).state;
        }
        const date = isoOfDay(day + (extra % 400));
        const quote = calculatePayoff(state, date);
        const parts = new D(quote.principal).plus(quote.interest).plus(quote.fees).minus(quote.rule_of_78_rebate).minus(quote.credit_balance);
        expect(quote.total).toBe((parts.isNegative() ? new D(0) : parts).toFixed(2));
        if (quote.total === "0.00") return;
        const r = applyPayment(state, { amount: quote.total, date }, ORDER);
        const later = isoOfDay(dayOfIso(date) + 1 + extra);
        expect({
          violations: allocationViolations(r.allocation, "payoff"),
          credit: r.allocation.credit,
          principal: r.state.principal_balance,
          closed: t.program_type === "installment" ? r.state.status === "paid_off" : true,
          receivableLater: interestReceivable(r.state, later).total,
          payoffLater: calculatePayoff(r.state, later).total,
        }).toEqual({ violations: [], credit: "0.00", principal: "0.00", closed: true, receivableLater: "0.00", payoffLater: "0.00" });
      }),
      { numRuns: 600 },
    );
  });
});
