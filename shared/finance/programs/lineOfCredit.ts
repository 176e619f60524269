/**
 * The line-of-credit LendingProgram (DESIGN §3 line of credit): the schedule is a projection of
 * the opening draw repaid by minimums; servicing is draws, statements and payments. Paying the
 * balance to zero leaves the line open.
 */
import { parseIsoDate } from "../dates";
import { lineOfCreditRows } from "../schedule/lineOfCredit";
import { toWireRows } from "../schedule/rows";
import { normalizeTerms } from "../schedule/terms";
import { openLoanState } from "../servicing/openLoan";
import { payoffOfWorking } from "../servicing/payoff";
import { loadState } from "../servicing/working";
import type { LendingProgram } from "./lendingProgram";
import { applyPaymentWithPolicy, checkProgramType } from "./lendingProgram";

export const lineOfCreditProgram: LendingProgram = {
  programType: "line_of_credit",
  generateSchedule(terms) {
    checkProgramType(terms, "line_of_credit");
    const t = normalizeTerms(terms);
    return toWireRows(lineOfCreditRows(t).rows, t.promos.some((p) => p.promo_type === "deferred_interest"));
  },
  openLoan(terms, options) {
    checkProgramType(terms, "line_of_credit");
    const t = normalizeTerms(terms);
    return openLoanState(t, [], options);
  },
  applyPayment(state, payment, allocationOrder) {
    return applyPaymentWithPolicy("line_of_credit", state, payment, allocationOrder, { remainder: "principal", closesOnPayoff: false });
  },
  calculatePayoff(state, date) {
    checkProgramType(state, "line_of_credit");
    return payoffOfWorking(loadState(state), parseIsoDate(date, "date"));
  },
};
