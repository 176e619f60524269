/**
 * The loan-tape field catalogue (DESIGN.md §11, issue 12 point 2): every loan-level field a tape
 * config may name, with its label, type, description and the ESMA Annex VI (CMRL) / Reg AB II
 * (Schedule AL) codes it maps to (../shared/reference/tape-standards.md). Pure: each field reads
 * a member loan as the snapshot of the tape's date saw it (`snapshots.portfolioLoans`).
 *
 * A value of `null` means "does not apply to this loan / not held": a plain tape leaves the cell
 * empty, a standard layout writes the field's ND code there (shared/tapes/layouts.ts).
 */
import Decimal from "decimal.js";
import type { LoanAttributes, LoanPosition } from "../contracts/loans";

/** A member loan as `snapshots.portfolioLoans` returns it. */
export interface TapeLoan {
  loan_id: string;
  version: number;
  attributes: LoanAttributes;
  state: LoanPosition;
  cash_flows?: TapeCashFlow[];
}
export interface TapeCashFlow {
  date: string;
  /** Decimal string; the sign is ignored, the type says the direction. */
  amount: string;
  type: string;
  /**
   * The part of a collection that paid principal ahead of schedule (a curtailment or a payoff):
   * the loans engine's allocation, carried by the ledger entry. Absent when none (or when the
   * snapshot predates the field).
   */
  prepaid_principal?: string;
}
export interface TapeContext {
  business_date: string;
  portfolio_id: string;
}

/** string: text; money: decimal string, 2 places; rate: decimal fraction ("0.0725"); date: ISO; integer. */
export type FieldType = "string" | "money" | "rate" | "date" | "integer";
export type FieldValue = string | number | null;

export interface TapeField {
  code: string;
  label: string;
  type: FieldType;
  group: "identity" | "product" | "dates" | "balances" | "rate" | "payments" | "delinquency" | "status" | "borrower" | "history";
  description: string;
  esma?: string;
  reg_ab?: string;
  value(loan: TapeLoan, ctx: TapeContext): FieldValue;
  /** When the value is null, the ESMA "no data" code for this loan, if it is not the column's. */
  ndCode?(loan: TapeLoan): string | null;
}

const INFLOW = new Set(["payment", "recovery", "buyout", "cash_inflow", "collection"]);
const OUTFLOW = new Set(["disbursement", "draw", "credit_refund", "cash_outflow"]);

const CENTS = /^-?\d+\.\d{2}$/;
/** Money as a 2-decimal string; wire money already is one, and 100,000-loan tapes read it a million times. */
const money = (v: Decimal.Value | null | undefined): string | null =>
  v == null || v === "" ? null : typeof v === "string" && CENTS.test(v) ? v : new Decimal(v).toFixed(2);
/** |amount| as a 2-decimal string: a sign dropped from wire money, decimal.js for anything else. */
const absMoney = (v: string): string => (CENTS.test(v) ? (v.startsWith("-") ? v.slice(1) : v) : new Decimal(v).abs().toFixed(2));
const ZERO_CENTS = /^-?0+\.00$/;
/** Σ|amount|; most loans have one such flow or none, which need no arithmetic. */
function sumMoney(values: readonly string[]): string {
  const nonZero = values.filter((v) => !ZERO_CENTS.test(v));
  if (nonZero.length === 0) return "0.00";
  if (nonZero.length === 1) return absMoney(nonZero[0]);
  return nonZero.reduce((s, v) => s.plus(new Decimal(v).abs()), new Decimal(0)).toFixed(2);
}
const flows = (l: TapeLoan) => l.cash_flows ?? [];
const sumOf = (l: TapeLoan, pick: (type: string) => boolean) => sumMoney(flows(l).filter((f) => pick(f.type)).map((f) => f.amount));
/** A loan's inflows oldest first, computed once per loan (five history fields read them). */
const inflowCache = new WeakMap<TapeLoan, TapeCashFlow[]>();
const inflows = (l: TapeLoan): TapeCashFlow[] => {
  let out = inflowCache.get(l);
  if (!out) {
    out = flows(l).filter((f) => INFLOW.has(f.type)).sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
    inflowCache.set(l, out);
  }
  return out;
};
const isLoc = (l: TapeLoan) => l.attributes.program_type === "line_of_credit";
/** Whole months from `from` to `to` (a part month counts as one), 0 when `to` has passed. */
export function monthsBetween(from: string, to: string): number {
  const [fy, fm, fd] = from.split("-").map(Number);
  const [ty, tm, td] = to.split("-").map(Number);
  const months = (ty - fy) * 12 + (tm - fm) + (td > fd ? 1 : 0);
  return Math.max(0, months);
}

/** ESMA CMRL55 account status from the loan status and delinquency. */
export function esmaAccountStatus(state: LoanPosition): string {
  switch (state.status) {
    case "active":
      return state.days_past_due > 0 ? "ARRE" : "PERF";
    case "delinquent":
      return "ARRE";
    case "charged_off":
      return "DFLT";
    case "paid_off":
    case "closed":
      return "RDMD";
    default:
      return "OTHR";
  }
}

/** Reg AB II zeroBalanceCode: 1 prepaid or matured, 4 charged off; null while a balance is outstanding. */
export function zeroBalanceCode(state: LoanPosition): string | null {
  if (state.status === "paid_off" || state.status === "closed") return "1";
  if (state.status === "charged_off") return "4";
  return null;
}

/** Collections the loans engine allocates, and so splits into principal due and prepaid. */
const ALLOCATED = new Set(["payment", "buyout"]);

/**
 * CMRL50: the sum of the prepaid principal of the loan's live collections through the cut-off
 * date (a reversed payment's flow is gone, a rebooked one moved). The loans engine decides what
 * was prepaid: principal beyond the amounts billed and due when the payment was applied. Unknown
 * (null, ESMA ND2) when a collection carries no figure: a snapshot older than the figure.
 */
export function cumulativePrepayments(l: TapeLoan): string | null {
  if (isLoc(l) || !l.cash_flows) return null;
  const prepaid: string[] = [];
  for (const f of l.cash_flows) {
    if (!ALLOCATED.has(f.type)) continue;
    if (f.prepaid_principal === undefined) return null;
    prepaid.push(f.prepaid_principal);
  }
  return sumMoney(prepaid);
}

/** CMRL32: level-payment installments amortise the French way; leases and lines do not fit a code. */
function amortisationType(l: TapeLoan): string {
  return l.attributes.program_type === "installment" ? "FRXX" : "OTHR";
}

export const TAPE_FIELDS: readonly TapeField[] = [
  // ── identity ──
  { code: "loan_id", label: "Loan ID", type: "string", group: "identity", description: "The servicer's loan identifier.", esma: "CMRL2", reg_ab: "assetNumber", value: (l) => l.loan_id },
  { code: "external_id", label: "External ID", type: "string", group: "identity", description: "The lender's own identifier of the loan, when given.", esma: "CMRL3", value: (l) => l.attributes.external_id ?? null },
  { code: "portfolio_id", label: "Portfolio ID", type: "string", group: "identity", description: "The portfolio the tape reports (the pool).", esma: "CMRL1", value: (_l, c) => c.portfolio_id },
  { code: "investor_id", label: "Investor ID", type: "string", group: "identity", description: "The investor that bought the loan, once the portfolio is sold.", value: (l) => l.state.investor_id ?? null },
  { code: "loan_version", label: "Loan version", type: "integer", group: "identity", description: "The loan's version the snapshot saw (changes with every booked change).", value: (l) => l.version },
  { code: "data_cut_off_date", label: "Data cut-off date", type: "date", group: "dates", description: "The business date the tape reports (its snapshot's date).", esma: "CMRL6", reg_ab: "reportingPeriodEndingDate", value: (_l, c) => c.business_date },
  // ── product and program ──
  { code: "product_id", label: "Product ID", type: "string", group: "product", description: "The loan product the loan was originated from.", value: (l) => l.attributes.product_id },
  { code: "program_id", label: "Program ID", type: "string", group: "product", description: "The lending program of the product.", value: (l) => l.attributes.program_id },
  { code: "program_type", label: "Program type", type: "string", group: "product", description: "installment, lease or line_of_credit.", value: (l) => l.attributes.program_type },
  { code: "interest_rate_type", label: "Interest rate type", type: "string", group: "rate", description: "fixed, variable or hybrid.", reg_ab: "originalInterestRateTypeCode", value: (l) => l.attributes.interest_rate_type },
  { code: "amortisation_type", label: "Amortisation type", type: "string", group: "product", description: "ESMA amortisation code: FRXX (level payment) for installments, OTHR otherwise.", esma: "CMRL32", value: amortisationType },
  { code: "payment_frequency", label: "Payment frequency", type: "string", group: "payments", description: "Scheduled principal and interest frequency: monthly (MNTH).", esma: "CMRL34", value: () => "MNTH" },
  { code: "currency", label: "Currency", type: "string", group: "product", description: "ISO 4217 currency of the loan.", esma: "CMRL26", value: (l) => l.attributes.currency || "USD" },
  // ── dates ──
  { code: "origination_date", label: "Origination date", type: "date", group: "dates", description: "The disbursement date.", esma: "CMRL21", reg_ab: "originationDate", value: (l) => l.attributes.origination_date || null },
  { code: "vintage", label: "Vintage", type: "string", group: "dates", description: "Origination month, YYYY-MM.", value: (l) => l.attributes.vintage || null },
  { code: "maturity_date", label: "Maturity date", type: "date", group: "dates", description: "The last scheduled due date (none for a revolving line).", esma: "CMRL22", reg_ab: "loanMaturityDate", value: (l) => l.attributes.maturity_date ?? null },
  { code: "original_term_months", label: "Original term (months)", type: "integer", group: "dates", description: "The contractual term in months.", esma: "CMRL23", reg_ab: "originalLoanTerm", value: (l) => l.attributes.term_months },
  { code: "remaining_term_months", label: "Remaining term (months)", type: "integer", group: "dates", description: "Whole months from the cut-off date to maturity (0 once matured).", value: (l, c) => (l.attributes.maturity_date ? monthsBetween(c.business_date, l.attributes.maturity_date) : null) },
  { code: "closed_through", label: "Closed through", type: "date", group: "dates", description: "The business date the loan's close of business has run through.", value: (l) => l.state.closed_through ?? null },
  // ── balances ──
  { code: "original_principal", label: "Original principal", type: "money", group: "balances", description: "Original principal (installment) or capitalised cost (lease); none for a line of credit.", esma: "CMRL27", reg_ab: "originalLoanAmount", value: (l) => (isLoc(l) ? null : money(l.attributes.principal)) },
  { code: "credit_limit", label: "Credit limit", type: "money", group: "balances", description: "The credit limit of a line of credit.", esma: "CMRL29", value: (l) => (isLoc(l) ? money(l.attributes.principal) : null) },
  { code: "current_principal_balance", label: "Current principal balance", type: "money", group: "balances", description: "Principal balance at the cut-off date (the snapshot's balance).", esma: "CMRL28", reg_ab: "reportingPeriodActualEndBalanceAmount", value: (l) => money(l.state.principal_balance) },
  { code: "interest_receivable", label: "Interest receivable", type: "money", group: "balances", description: "Interest accrued and unpaid, billed or not.", value: (l) => money(l.state.interest_receivable) },
  { code: "fees_due", label: "Fees due", type: "money", group: "balances", description: "Fees assessed and unpaid.", value: (l) => money(l.state.fees_due) },
  { code: "deferred_interest", label: "Deferred interest", type: "money", group: "balances", description: "Interest deferred by a promotion, not yet due.", value: (l) => money(l.state.deferred_interest) },
  { code: "credit_balance", label: "Credit balance", type: "money", group: "balances", description: "Overpayment held for the borrower.", value: (l) => money(l.state.credit_balance) },
  { code: "total_disbursed", label: "Total disbursed", type: "money", group: "balances", description: "All cash paid out to the borrower (disbursements and draws).", value: (l) => money(l.state.total_disbursed) },
  { code: "total_collected", label: "Total collected", type: "money", group: "balances", description: "All cash received from the borrower.", reg_ab: "totalActualAmountPaid", value: (l) => money(l.state.total_collected) },
  { code: "cumulative_principal_repaid", label: "Cumulative principal repaid", type: "money", group: "balances", description: "Original principal less the current balance (installments and leases).", value: (l) => (isLoc(l) ? null : money(Decimal.max(0, new Decimal(l.attributes.principal).minus(l.state.principal_balance)))) },
  { code: "cumulative_prepayments", label: "Cumulative prepayments", type: "money", group: "balances", description: "Principal repaid ahead of schedule since origination: what collections paid beyond the principal billed and due (curtailments, payoffs, lease buyouts), net of reversed payments; none for a revolving line, which has no schedule to prepay.", esma: "CMRL50", value: cumulativePrepayments, ndCode: (l) => (isLoc(l) ? "ND5" : "ND2") },
  { code: "cumulative_recoveries", label: "Cumulative recoveries", type: "money", group: "balances", description: "Cash recovered after charge-off.", esma: "CMRL60", reg_ab: "recoveredAmount", value: (l) => (l.cash_flows ? money(sumOf(l, (t) => t === "recovery")) : null) },
  { code: "charged_off_amount", label: "Charged-off principal", type: "money", group: "balances", description: "Principal written off at charge-off.", esma: "CMRL57", reg_ab: "chargedoffPrincipalAmount", value: (l) => (l.state.status === "charged_off" && flows(l).some((f) => f.type === "charge_off") ? money(sumOf(l, (t) => t === "charge_off")) : null) },
  // ── rate ──
  { code: "current_interest_rate", label: "Current interest rate", type: "rate", group: "rate", description: "The annual rate in force (decimal fraction, 0.0725 = 7.25 %).", esma: "CMRL37", value: (l) => l.attributes.annual_rate },
  { code: "index_name", label: "Interest rate index", type: "string", group: "rate", description: "The index a variable rate follows (SOFR, Prime…).", esma: "CMRL38", value: (l) => l.attributes.index_name ?? null },
  { code: "margin", label: "Margin over index", type: "rate", group: "rate", description: "The margin added to the index of a variable rate.", esma: "CMRL40", value: (l) => l.attributes.margin ?? null },
  // ── payments due ──
  { code: "next_due_date", label: "Next due date", type: "date", group: "payments", description: "The next scheduled due date.", value: (l) => l.state.next_due_date ?? null },
  { code: "payment_due", label: "Payment due", type: "money", group: "payments", description: "The next scheduled payment amount.", esma: "CMRL36", value: (l) => money(l.state.next_payment_amount) },
  // ── delinquency ──
  { code: "arrears_balance", label: "Arrears balance", type: "money", group: "delinquency", description: "Billed and unpaid principal, interest and fees.", esma: "CMRL53", value: (l) => money(l.state.past_due_amount) },
  { code: "days_past_due", label: "Days past due", type: "integer", group: "delinquency", description: "Business date less the oldest unpaid due date.", esma: "CMRL54", reg_ab: "currentDelinquencyStatus", value: (l) => l.state.days_past_due },
  { code: "delinquency_bucket", label: "Delinquency bucket", type: "string", group: "delinquency", description: "current, 1_29, 30_59, 60_89, 90_119 or 120_plus.", value: (l) => l.state.bucket },
  // ── status ──
  { code: "status", label: "Loan status", type: "string", group: "status", description: "pending, active, delinquent, charged_off, paid_off, closed or cancelled.", value: (l) => l.state.status },
  { code: "account_status", label: "Account status (ESMA)", type: "string", group: "status", description: "ESMA account status: PERF, ARRE, DFLT, RDMD or OTHR.", esma: "CMRL55", value: (l) => esmaAccountStatus(l.state) },
  { code: "zero_balance_code", label: "Zero balance code", type: "string", group: "status", description: "Reg AB II: 1 prepaid or matured, 4 charged off; empty while outstanding.", reg_ab: "zeroBalanceCode", value: (l) => zeroBalanceCode(l.state) },
  // ── borrower ──
  { code: "borrower_region", label: "Borrower region", type: "string", group: "borrower", description: "The borrower's region as given at origination.", esma: "CMRL10", reg_ab: "obligorGeographicLocation", value: (l) => l.attributes.region ?? null },
  { code: "credit_score", label: "Credit score", type: "integer", group: "borrower", description: "The borrower's credit score at origination.", reg_ab: "obligorCreditScore", value: (l) => l.attributes.credit_score ?? null },
  // ── payment history ──
  { code: "payment_count", label: "Payments received", type: "integer", group: "history", description: "Number of cash inflows (payments, recoveries, buyouts) through the cut-off date.", value: (l) => (l.cash_flows ? inflows(l).length : null) },
  { code: "last_payment_date", label: "Last payment date", type: "date", group: "history", description: "Date of the latest cash inflow.", value: (l) => inflows(l).at(-1)?.date ?? null },
  { code: "last_payment_amount", label: "Last payment amount", type: "money", group: "history", description: "Amount of the latest cash inflow.", value: (l) => (inflows(l).at(-1)?.amount ? absMoney(inflows(l).at(-1)!.amount) : null) },
  { code: "cash_disbursed_flows", label: "Disbursed (cash flows)", type: "money", group: "history", description: "Sum of the outgoing cash flows the snapshot holds.", value: (l) => (l.cash_flows ? money(sumOf(l, (t) => OUTFLOW.has(t))) : null) },
  { code: "payment_history", label: "Payment history (last 12)", type: "string", group: "history", description: "The last twelve cash inflows as date:amount, oldest first (full history on the XLSX Payments sheet).", value: (l) => (l.cash_flows ? inflows(l).slice(-12).map((f) => `${f.date}:${absMoney(f.amount)}`).join(";") : null) },
];

export const FIELDS_BY_CODE: ReadonlyMap<string, TapeField> = new Map(TAPE_FIELDS.map((f) => [f.code, f]));

/** The catalogue as `GET /tape-fields` answers it. */
export function catalogueView() {
  return TAPE_FIELDS.map(({ code, label, type, group, description, esma, reg_ab }) => ({ code, label, type, group, description, esma: esma ?? null, reg_ab: reg_ab ?? null }));
}

/** The default columns of a config that names neither fields nor a layout. */
export const DEFAULT_FIELDS = [
  "loan_id", "external_id", "program_type", "origination_date", "maturity_date", "original_principal", "current_principal_balance",
  "current_interest_rate", "payment_due", "days_past_due", "delinquency_bucket", "status",
];
