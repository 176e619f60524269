/**
 * The lease LendingProgram (DESIGN §3 lease): rent in arrears, buyout quote as its payoff, asset
 * return or buyout to close. Money paid beyond the rent due is prepaid rent, held as credit and
 * applied to the next rents as they fall due (a lease's rent is fixed: there is no principal to
 * prepay).
 */
import { leaseRows } from "../schedule/lease";
import { toWireRows } from "../schedule/rows";
import { normalizeTerms } from "../schedule/terms";
import { leaseBuyoutQuote } from "../servicing/lease";
import { openLoanState } from "../servicing/openLoan";
import type { LendingProgram } from "./lendingProgram";
import { applyPaymentWithPolicy, checkProgramType } from "./lendingProgram";

export const leaseProgram: LendingProgram = {
  programType: "lease",
  generateSchedule(terms) {
    checkProgramType(terms, "lease");
    return toWireRows(leaseRows(normalizeTerms(terms)), false);
  },
  openLoan(terms, options) {
    checkProgramType(terms, "lease");
    const t = normalizeTerms(terms);
    return openLoanState(t, toWireRows(leaseRows(t), false), options);
  },
  applyPayment(state, payment, allocationOrder) {
    return applyPaymentWithPolicy("lease", state, payment, allocationOrder, { remainder: "credit", closesOnPayoff: false });
  },
  calculatePayoff(state, date) {
    checkProgramType(state, "lease");
    return leaseBuyoutQuote(state, date);
  },
};
