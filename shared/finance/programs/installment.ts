/** The installment LendingProgram: amortising loans (DESIGN §3 installment schedule). */
import { parseIsoDate } from "../dates";
import { installmentScheduleRows } from "../schedule/installment";
import { toWireRows } from "../schedule/rows";
import { normalizeTerms, type NormalizedTerms } from "../schedule/terms";
import { openLoanState } from "../servicing/openLoan";
import { payoffOfWorking } from "../servicing/payoff";
import { loadState } from "../servicing/working";
import type { LendingProgram } from "./lendingProgram";
import { applyPaymentWithPolicy, checkProgramType } from "./lendingProgram";

/** The schedule in wire form; deferred-interest columns only when such a promotion applies. */
function wireRows(t: NormalizedTerms) {
  return toWireRows(installmentScheduleRows(t).rows, t.promos.some((p) => p.promo_type === "deferred_interest"));
}

export const installmentProgram: LendingProgram = {
  programType: "installment",
  generateSchedule(terms) {
    checkProgramType(terms, "installment");
    return wireRows(normalizeTerms(terms));
  },
  openLoan(terms, options) {
    checkProgramType(terms, "installment");
    const t = normalizeTerms(terms);
    return openLoanState(t, wireRows(t), options);
  },
  applyPayment(state, payment, allocationOrder) {
    // DESIGN §3: the remainder after amounts due reduces principal; paying everything closes the loan
    return applyPaymentWithPolicy("installment", state, payment, allocationOrder, { remainder: "principal", closesOnPayoff: true });
  },
  calculatePayoff(state, date) {
    checkProgramType(state, "installment");
    return payoffOfWorking(loadState(state), parseIsoDate(date, "date"));
  },
};
