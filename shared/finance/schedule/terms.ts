/** Reads and checks a loan's terms once, so the generators work on parsed, valid values. */
import { accrualMethodFor, type AccrualMethod } from "../accrual";
import { parseIsoDate, type CivilDate } from "../dates";
import { dayCountFor, type DayCount } from "../daycount";
import { Decimal, toMoney, toRate } from "../decimal";
import { FinanceInputError } from "../errors";
import { parsePromotions, type ActivePromotion } from "../promotions";
import type { LoanTerms, ProgramType } from "../types";

export interface NormalizedTerms {
  programType: ProgramType;
  principal: Decimal;
  rate: Decimal;
  n: number;
  disbursement: CivilDate;
  firstPayment: CivilDate;
  dc: DayCount;
  method: AccrualMethod;
  interestOnlyMonths: number;
  balloonMonths: number | null;
  graduatedStep: Decimal | null;
  graduatedStepMonths: number | null;
  residual: Decimal;
  buyoutPrice: Decimal | null;
  creditLimit: Decimal | null;
  minPaymentPercent: Decimal;
  minPaymentFloor: Decimal;
  paymentDueDays: number;
  promos: ActivePromotion[];
  raw: LoanTerms;
}

const PROGRAM_TYPES: ProgramType[] = ["installment", "lease", "line_of_credit"];
const has = <T>(v: T | null | undefined): v is T => v !== undefined && v !== null && (v as unknown) !== "";

function integer(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new FinanceInputError(`'${field}' must be an integer from ${min} to ${max}`, field, value);
  }
  return value;
}

export function normalizeTerms(t: LoanTerms): NormalizedTerms {
  if (!t || typeof t !== "object") throw new FinanceInputError("terms are required", "terms");
  if (!PROGRAM_TYPES.includes(t.program_type)) throw new FinanceInputError(`unknown program_type '${t.program_type}'`, "program_type", t.program_type);
  const n = integer(t.term_months, "term_months", 1, 1200);
  const disbursement = parseIsoDate(t.disbursement_date, "disbursement_date");
  const firstPayment = parseIsoDate(t.first_payment_date, "first_payment_date");
  if (firstPayment.n <= disbursement.n) {
    throw new FinanceInputError("'first_payment_date' must be after 'disbursement_date'", "first_payment_date", t.first_payment_date);
  }
  const principal = toMoney(t.principal, "principal");
  if (t.program_type !== "line_of_credit" && principal.isZero()) throw new FinanceInputError("'principal' must be greater than 0", "principal", t.principal);
  const interestOnlyMonths = has(t.interest_only_months) ? integer(t.interest_only_months, "interest_only_months", 0, n - 1) : 0;
  const balloonMonths = has(t.balloon_amortization_months) ? integer(t.balloon_amortization_months, "balloon_amortization_months", n + 1, 1200) : null;
  if (balloonMonths !== null && balloonMonths - interestOnlyMonths < 1) {
    throw new FinanceInputError("'balloon_amortization_months' leaves no amortising period", "balloon_amortization_months");
  }
  const graduatedStep = has(t.graduated_step_percent) ? toRate(t.graduated_step_percent, "graduated_step_percent") : null;
  const graduatedStepMonths = has(t.graduated_step_months) ? integer(t.graduated_step_months, "graduated_step_months", 1, 1200) : null;
  if ((graduatedStep === null) !== (graduatedStepMonths === null)) {
    throw new FinanceInputError("graduated schedules need both 'graduated_step_percent' and 'graduated_step_months'", graduatedStep === null ? "graduated_step_percent" : "graduated_step_months");
  }
  const residual = has(t.residual_value) ? toMoney(t.residual_value, "residual_value") : new Decimal(0);
  if (residual.gt(principal)) throw new FinanceInputError("'residual_value' may not exceed the capitalised cost", "residual_value", t.residual_value);
  const terms: NormalizedTerms = {
    programType: t.program_type,
    principal,
    rate: toRate(t.annual_rate, "annual_rate"),
    n,
    disbursement,
    firstPayment,
    dc: dayCountFor(t.day_count_convention),
    method: accrualMethodFor(t.accrual_method),
    interestOnlyMonths,
    balloonMonths,
    graduatedStep,
    graduatedStepMonths,
    residual,
    buyoutPrice: has(t.buyout_price) ? toMoney(t.buyout_price, "buyout_price") : null,
    creditLimit: has(t.credit_limit) ? toMoney(t.credit_limit, "credit_limit") : null,
    minPaymentPercent: has(t.min_payment_percent) ? toRate(t.min_payment_percent, "min_payment_percent") : new Decimal("0.02"),
    minPaymentFloor: has(t.min_payment_floor) ? toMoney(t.min_payment_floor, "min_payment_floor") : new Decimal("25.00"),
    paymentDueDays: has(t.payment_due_days) ? integer(t.payment_due_days, "payment_due_days", 0, 60) : 25,
    promos: parsePromotions(t.promotions),
    raw: t,
  };
  checkCombinations(terms);
  return terms;
}

/** Combinations whose numbers DESIGN §3 does not define are refused rather than guessed. */
function checkCombinations(t: NormalizedTerms): void {
  const refuse = (field: string, why: string) => {
    throw new FinanceInputError(why, field);
  };
  const shaped = t.interestOnlyMonths > 0 || t.balloonMonths !== null || t.graduatedStep !== null;
  if (t.programType !== "installment") {
    if (shaped) refuse("program_type", "interest-only, balloon and graduated schedules apply to installment loans only");
  }
  if (t.programType === "lease" && t.promos.length > 0) refuse("promotions", "promotions do not apply to leases");
  if (t.programType !== "lease" && (t.residual.gt(0) || t.buyoutPrice !== null)) refuse("residual_value", "'residual_value' and 'buyout_price' apply to leases only");
  if (t.method.precomputed && t.programType === "installment") {
    if (shaped) refuse("accrual_method", "rule_of_78 applies to level-payment schedules only (no interest-only, balloon or graduated)");
    if (t.promos.length > 0) refuse("promotions", "promotions do not apply to rule_of_78 loans (their interest is precomputed)");
  }
  if (t.programType === "line_of_credit" && t.method.precomputed) refuse("accrual_method", "rule_of_78 does not apply to a line of credit");
  if (t.graduatedStep !== null && t.balloonMonths !== null) refuse("balloon_amortization_months", "a schedule is either graduated or balloon, not both");
  if (t.graduatedStep !== null && t.promos.length > 0) refuse("promotions", "promotions do not apply to graduated schedules");
  if (t.creditLimit !== null && t.principal.gt(t.creditLimit)) refuse("principal", "the opening draw exceeds 'credit_limit'");
}
