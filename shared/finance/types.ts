/**
 * Wire shapes of the finance engine (DESIGN §2: snake_case seed names, money and rates as decimal
 * strings, ISO dates). Inputs accept a decimal string or a Decimal; outputs are strings, money
 * with exactly two decimals.
 */
import type { AccrualMethodName } from "./accrual/types";
import type { IsoDate } from "./dates";
import type { DayCountConventionName } from "./daycount/types";
import type { DecimalInput } from "./decimal";

export type { AccrualMethodName, DayCountConventionName, DecimalInput, IsoDate };

export type ProgramType = "installment" | "lease" | "line_of_credit";
export type AllocationComponent = "interest" | "fees" | "principal";
export type PromoType = "deferred_interest" | "reduced_apr" | "zero_interest" | "skip_payment";
/** Minimum payment during a promotion (seed 003 min_payment_type); `percent_of_balance` takes a fraction. */
export type MinPaymentType = "none" | "interest_only" | "fixed" | "percent_of_balance";

export const DEFAULT_ALLOCATION_ORDER: readonly AllocationComponent[] = ["interest", "fees", "principal"];

/** A promotional program assigned to a loan (seed 003 Promotional Programs, a PromoRate). */
export interface Promotion {
  promo_type: PromoType;
  start_date: IsoDate;
  end_date: IsoDate;
  /** reduced_apr: the promotional annual rate. */
  apr?: DecimalInput | null;
  /** deferred_interest: the rate deferred interest accrues at (the loan's rate when absent). */
  deferred_interest_rate?: DecimalInput | null;
  /** Payment due on due dates inside the promotion; skip_payment defaults to `none`. */
  min_payment_type?: MinPaymentType | null;
  /** fixed: money; percent_of_balance: a fraction of the opening balance ("0.02"). */
  min_payment_amount?: DecimalInput | null;
}

/** What a schedule is generated from: the loan's terms, in wire field names. */
export interface LoanTerms {
  program_type: ProgramType;
  /** Amount financed; for a lease the capitalised cost; for a line of credit the opening draw. */
  principal: DecimalInput;
  annual_rate: DecimalInput;
  term_months: number;
  disbursement_date: IsoDate;
  first_payment_date: IsoDate;
  day_count_convention: DayCountConventionName;
  accrual_method: AccrualMethodName;
  interest_only_months?: number | null;
  /** Balloon: the level payment is computed over this many months (> term_months). */
  balloon_amortization_months?: number | null;
  /** Graduated: the payment steps up by this fraction ("0.075" = 7.5 %) every graduated_step_months. */
  graduated_step_percent?: DecimalInput | null;
  graduated_step_months?: number | null;
  /** Lease: residual value R at the end of the term. */
  residual_value?: DecimalInput | null;
  /** Lease: a stated buyout price; when set it is the buyout quote instead of the PV formula. */
  buyout_price?: DecimalInput | null;
  /** Line of credit. */
  credit_limit?: DecimalInput | null;
  /** Line of credit minimum payment: fraction of the balance (default "0.02") and floor (default "25.00"). */
  min_payment_percent?: DecimalInput | null;
  min_payment_floor?: DecimalInput | null;
  /** Line of credit: days from statement date to payment due date (default 25). */
  payment_due_days?: number | null;
  /** Line of credit: last day draws are allowed (end of the draw period), if any. */
  draw_end_date?: IsoDate | null;
  promotions?: Promotion[] | null;
}

/** One schedule row (DESIGN §3). `principal` is negative where the row amortises negatively. */
export interface ScheduleRow {
  number: number;
  due_date: IsoDate;
  payment: string;
  principal: string;
  interest: string;
  balance: string;
  /** Interest not covered by the payment and added to the balance (graduated, skip-payment, charge-back). */
  negative_amortization: string;
  /** The payment is the period's interest (interest-only months, interest-only minimum payments). */
  interest_only: boolean;
  /** Annual rate charged in the period (the promotional rate inside a promotion). */
  rate: string;
  /** Deferred-interest promotion: interest deferred in this period, and deferred interest charged back. */
  deferred_interest?: string;
  deferred_interest_charged?: string;
}

/** A billed amount still unpaid: an installment, a statement's minimum, or an assessed fee. */
export interface DueItem {
  due_date: IsoDate;
  number: number | null;
  kind: "installment" | "statement" | "fee";
  interest: string;
  fees: string;
  principal: string;
  fee_type?: string;
}

/** A scheduled installment not yet billed. */
export interface Installment {
  number: number;
  due_date: IsoDate;
  payment: string;
  /** Precomputed interest (rule of 78, lease rent); absent when interest accrues by day count. */
  interest?: string | null;
  interest_only?: boolean;
}

export interface PromotionState {
  promo_type: PromoType;
  start_date: IsoDate;
  end_date: IsoDate;
  apr: string | null;
  deferred_interest_rate: string | null;
  min_payment_type: MinPaymentType | null;
  min_payment_amount: string | null;
  /** Deferred interest accrued so far (deferred_interest promotions). */
  deferred_interest: string;
  /** pending until the end date passes; then charged_back (balance unpaid) or waived (paid in full). */
  resolution: "pending" | "charged_back" | "waived";
}

export type LoanStatus = "active" | "paid_off" | "bought_out" | "returned";
export type PaymentPlan = "level" | "graduated" | "rule_of_78" | "lease" | "revolving";

export interface LeaseState {
  residual_value: string;
  buyout_price: string | null;
  /** Periodic rate i of DESIGN §3's lease formula, used to discount the buyout quote. */
  periodic_rate: string;
  commencement_date: IsoDate;
  maturity_date: IsoDate;
}

export interface LineOfCreditState {
  credit_limit: string;
  min_payment_percent: string;
  min_payment_floor: string;
  payment_due_days: number;
  last_statement_date: IsoDate;
  /** Draws are refused after this date (end of the draw period), when set. */
  draw_end_date: IsoDate | null;
}

/**
 * A loan's servicing state: what the loans service stores on the loan document and passes back in
 * to every money operation. Interest is accrued (and rounded) once per span of constant balance
 * and rate: `accrued_interest` holds the rounded interest of spans already closed, up to
 * `accrued_through`; interest after that date is computed on demand.
 */
export interface LoanState {
  program_type: ProgramType;
  status: LoanStatus;
  payment_plan: PaymentPlan;
  annual_rate: string;
  day_count_convention: DayCountConventionName;
  accrual_method: AccrualMethodName;
  /** Outstanding principal, including billed principal not yet paid. */
  principal_balance: string;
  /** Accrued interest not yet billed, through `accrued_through`. */
  accrued_interest: string;
  accrued_through: IsoDate;
  /** Money received beyond what is owed, held for the borrower (DESIGN §3). */
  credit_balance: string;
  /** Rule of 78: part of the current period's precomputed charge already paid before it was billed. */
  prepaid_interest?: string | null;
  due: DueItem[];
  installments: Installment[];
  /** Start of the next installment's period (the previous due date, or disbursement). */
  previous_due_date: IsoDate;
  disbursement_date: IsoDate;
  promotions: PromotionState[];
  balloon_amortization_months: number | null;
  /** The program's payment_allocation_order, used when a credit balance meets a new bill. */
  payment_allocation_order?: AllocationComponent[] | null;
  lease: LeaseState | null;
  line_of_credit: LineOfCreditState | null;
}

export interface PaymentInput {
  amount: DecimalInput;
  date: IsoDate;
}

export interface AllocationLine {
  due_date: IsoDate;
  number: number | null;
  kind: DueItem["kind"] | "prepayment" | "payoff";
  interest: string;
  fees: string;
  principal: string;
}

/** How a payment was applied; interest + fees + principal + credit = amount, exactly. */
export interface Allocation {
  amount: string;
  interest: string;
  fees: string;
  principal: string;
  /** Part of `principal` that was not yet due (prepayment or payoff). */
  prepaid_principal: string;
  /** Overpayment held as a credit balance. */
  credit: string;
  lines: AllocationLine[];
  paid_off: boolean;
  /** Deferred promotional interest waived because the balance was paid in full inside the promotion. */
  deferred_interest_waived: string;
}

/** An installment billed while rolling the loan forward to a date. */
export interface BilledInstallment {
  number: number;
  due_date: IsoDate;
  interest: string;
  principal: string;
  /** Interest the payment did not cover, added to principal (negative amortisation). */
  capitalized_interest: string;
  credit_applied: string;
}

export interface PromotionEvent {
  promo_type: PromoType;
  end_date: IsoDate;
  resolution: "charged_back" | "waived";
  amount: string;
}

export interface PaymentResult {
  state: LoanState;
  allocation: Allocation;
  billed: BilledInstallment[];
  promotion_events: PromotionEvent[];
}

export interface PayoffQuote {
  date: IsoDate;
  principal: string;
  /** Interest accrued and unpaid through the date (billed and unbilled; rule of 78: all precomputed charges). */
  interest: string;
  fees: string;
  /** Deferred promotional interest included in `interest` because the date is after the promotion end. */
  deferred_interest: string;
  /** Deferred promotional interest not included: waived if the payoff is made by the promotion end. */
  deferred_interest_waivable: string;
  rule_of_78_rebate: string;
  credit_balance: string;
  /** principal + interest + fees − rebate − credit, never below zero. */
  total: string;
  /** Lease buyout parts (present only for leases). */
  remaining_payments_pv?: string;
  residual_pv?: string;
  stated_buyout_price?: string;
}
