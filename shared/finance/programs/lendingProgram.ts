/**
 * Seed 003 LendingProgramProtocol: each program type is backed by an implementation providing
 * generate_schedule, apply_payment and calculate_payoff. Here: `LendingProgram`, one per
 * program_type, selected by `lendingProgramFor`.
 */
import { parseIsoDate } from "../dates";
import { toMoney } from "../decimal";
import { FinanceInputError, FinanceRuleError } from "../errors";
import { normalizeAllocationOrder } from "../servicing/allocation";
import { applyPaymentToWorking, type RemainderPolicy } from "../servicing/payment";
import { loadState, saveState } from "../servicing/working";
import type { OpenLoanOptions } from "../servicing/openLoan";
import type { IsoDate, LoanState, LoanTerms, PaymentInput, PaymentResult, PayoffQuote, ProgramType, ScheduleRow } from "../types";

export interface LendingProgram {
  readonly programType: ProgramType;
  /** Creates the amortisation schedule on disbursement (seed 003 generate_schedule). */
  generateSchedule(terms: LoanTerms): ScheduleRow[];
  /** The servicing state at disbursement, with the schedule's installments to bill. */
  openLoan(terms: LoanTerms, options?: OpenLoanOptions): LoanState;
  /** Allocates a payment across fees, interest and principal (seed 003 apply_payment). */
  applyPayment(state: LoanState, payment: PaymentInput, allocationOrder?: readonly string[] | null): PaymentResult;
  /** Computes the total payoff amount and its parts (seed 003 calculate_payoff). */
  calculatePayoff(state: LoanState, date: IsoDate): PayoffQuote;
}

export function checkProgramType(state: LoanState | LoanTerms, expected: ProgramType): void {
  if (!state || state.program_type !== expected) {
    throw new FinanceRuleError(`the ${expected} program cannot service a ${state?.program_type ?? "missing"} loan`, "program_type", { program_type: state?.program_type });
  }
}

/** apply_payment shared by the programs; they differ only in what a remainder does. */
export function applyPaymentWithPolicy(
  expected: ProgramType,
  state: LoanState,
  payment: PaymentInput,
  allocationOrder: readonly string[] | null | undefined,
  policy: RemainderPolicy,
): PaymentResult {
  checkProgramType(state, expected);
  if (!payment || typeof payment !== "object") throw new FinanceInputError("a payment { amount, date } is required", "payment");
  const amount = toMoney(payment.amount, "amount");
  if (amount.isZero()) throw new FinanceInputError("'amount' must be greater than 0", "amount", payment.amount);
  const date = parseIsoDate(payment.date, "date");
  const order = normalizeAllocationOrder(allocationOrder ?? state.payment_allocation_order);
  const w = loadState(state);
  const { allocation, log } = applyPaymentToWorking(w, amount, date, order, policy);
  return { state: saveState(w), allocation, billed: log.billed, promotion_events: log.promotions };
}
