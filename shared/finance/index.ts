/**
 * The finance engine (DESIGN §3–5): pure functions, no I/O. Services import from here only.
 *
 * Money and rates in: decimal strings or Decimals. Money out: strings with two decimals. Dates:
 * ISO strings. Every money rule names its DESIGN section in the module that implements it:
 *   day counts ............ daycount/      (§3 year fraction)
 *   accrual methods ....... accrual/       (§3 interest of a period, rule of 78)
 *   rounding .............. rounding.ts    (§3 cents, half-up)
 *   schedules ............. schedule/      (§3 installment, lease, line of credit)
 *   servicing ............. servicing/     (§3 allocation, payoff, delinquency, variable rate)
 *   programs .............. programs/      (seed 003 LendingProgramProtocol)
 *   XIRR .................. xirr.ts        (§4)
 *   portfolio ............. portfolio/     (§4 metrics, §5 first dates)
 */
import { lendingProgramFor } from "./programs";
import type { OpenLoanOptions } from "./servicing/openLoan";
import type { AllocationComponent, IsoDate, LoanState, LoanTerms, PaymentInput, PaymentResult, PayoffQuote, ScheduleRow } from "./types";

export * from "./types";
export { Decimal, toDecimal, toMoney, toRate } from "./decimal";
export { FinanceInputError, FinanceRuleError } from "./errors";
export { roundMoney, moneyString, ratioString } from "./rounding";
export { yearFraction, dayCountFor, DAY_COUNT_CONVENTIONS } from "./daycount";
export { accrualMethodFor, ACCRUAL_METHODS, ruleOf78FinanceCharge, ruleOf78PeriodInterest, ruleOf78Rebate, sumOfDigits } from "./accrual";
export { levelPayment, leasePayment } from "./annuity";
export { xirr, xirrNumber, type CashFlow } from "./xirr";
export { lendingProgramFor, installmentProgram, leaseProgram, lineOfCreditProgram, type LendingProgram } from "./programs";
export type { OpenLoanOptions } from "./servicing/openLoan";
export { normalizeAllocationOrder } from "./servicing/allocation";
export { assessFee, feeAmount, type FeeRuleInput, type FeeBases } from "./servicing/fees";
export {
  delinquencyBucket,
  delinquencyBucketNames,
  delinquencyStatus,
  isDelinquent,
  isPaymentLate,
  DEFAULT_BUCKET_BOUNDARIES,
  type DelinquencyStatus,
} from "./servicing/delinquency";
export {
  adjustmentFrequencyMonths,
  clampRate,
  nextResetDate,
  resetVariableRate,
  type AdjustmentFrequency,
  type RateModification,
  type RateResetInput,
  type RateResetResult,
} from "./servicing/variableRate";
export { projectRemainingSchedule } from "./servicing/projection";
export { accruedInterestBetween, dailyInterestAccrual, figuresOn, interestReceivable, stateOn, type FiguresOn, type InterestReceivable } from "./servicing/interestQueries";
export { availableCredit, drawOnLine, generateStatement, type DrawResult, type Statement } from "./servicing/lineOfCredit";
export { buyOutLease, leaseBuyoutQuote, returnLeaseAsset } from "./servicing/lease";
export { residualFromPercent } from "./servicing/leaseTerms";
export { refundCredit } from "./servicing/creditRefund";
export { accrualTrail, type AccrualTrail, type AccrualDay, type AccrualSpan } from "./servicing/accrualTrail";
export { replayLedger, type LedgerEvent, type ReplayStep } from "./servicing/replay";
export { moic, weightedAverageRate, snapshotMetrics, parseLoanMetric, SnapshotMetricsAccumulator, vintageOf, type LoanMetricInput, type ParsedLoanMetric, type PortfolioCashFlow, type SnapshotMetrics, type BucketMetrics } from "./portfolio/metrics";
export {
  firstDatesFromTransactions,
  onLoanAdded,
  onLoanRemoved,
  onTransactionBooked,
  onTransactionDeleted,
  onTransactionRebooked,
  type FirstDates,
  type FirstDatesUpdate,
  type LedgerTransaction,
  type TransactionClass,
} from "./portfolio/firstDates";

/** DESIGN §3 schedule of a loan, by its program_type. */
export function generateSchedule(terms: LoanTerms): ScheduleRow[] {
  return lendingProgramFor(terms?.program_type).generateSchedule(terms);
}

/** The servicing state of a loan at disbursement (carries the schedule's installments). */
export function openLoan(terms: LoanTerms, options?: OpenLoanOptions): LoanState {
  return lendingProgramFor(terms?.program_type).openLoan(terms, options);
}

/** DESIGN §3 payment allocation, by the loan's program_type. */
export function applyPayment(state: LoanState, payment: PaymentInput, allocationOrder?: readonly AllocationComponent[] | readonly string[] | null): PaymentResult {
  return lendingProgramFor(state?.program_type).applyPayment(state, payment, allocationOrder);
}

/** DESIGN §3 payoff quote on a date (a lease's buyout quote), by the loan's program_type. */
export function calculatePayoff(state: LoanState, date: IsoDate): PayoffQuote {
  return lendingProgramFor(state?.program_type).calculatePayoff(state, date);
}
