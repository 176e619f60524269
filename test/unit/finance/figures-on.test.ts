/**
 * figuresOn (one parse, one roll) gives exactly what stateOn, then interestReceivable and
 * delinquencyStatus on its result, give — on random loans of every program, convention, accrual
 * method, shape and promotion, after random payments, on random later dates (including the day of
 * the last activity, where rolling bills what falls due that day).
 */
import fc from "fast-check";
import { applyPayment, delinquencyStatus, figuresOn, interestReceivable, openLoan, stateOn, type LoanState } from "../../../shared/finance";
import { dayOfIso, isoOfDay, termsArb } from "./arbitraries";

const paymentsArb = fc.array(
  fc.record({
    gap: fc.integer({ min: 0, max: 70 }),
    amount: fc.integer({ min: 1, max: 600_000 }).map((c) => (c / 100).toFixed(2)),
  }),
  { maxLength: 8 },
);
const laterArb = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 900 }));
const graceArb = fc.constantFrom(0, 10, 15);
const bucketsArb = fc.constantFrom(undefined, [1, 30, 60, 90, 120], [1, 15, 45]);

test("figuresOn equals stateOn, interestReceivable and delinquencyStatus composed", () => {
  fc.assert(
    fc.property(termsArb({ maxTerm: 120 }), paymentsArb, laterArb, graceArb, bucketsArb, (t, payments, later, grace, buckets) => {
      let state: LoanState = openLoan(t);
      let day = dayOfIso(t.disbursement_date);
      for (const p of payments) {
        day += p.gap;
        try {
          state = applyPayment(state, { amount: p.amount, date: isoOfDay(day) }).state;
        } catch {
          break; // a payment the engine refuses (a closed loan): the state so far is the case
        }
      }
      const asOf = isoOfDay(Math.max(day, dayOfIso(state.accrued_through)) + later);
      const rolled = stateOn(state, asOf);
      const expected = {
        state: rolled,
        receivable: interestReceivable(rolled, asOf),
        delinquency: delinquencyStatus(rolled, asOf, grace, buckets),
      };
      expect(figuresOn(state, asOf, grace, buckets)).toEqual(expected);
    }),
    { numRuns: 1500 },
  );
});
