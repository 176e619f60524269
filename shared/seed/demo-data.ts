/**
 * Demo configuration a newcomer can look at (issue 4): programs of each type, products, fee
 * schedules, a promotion, and a year of SOFR (weekly) and Prime (at each change) history ending
 * on the given business date. Deterministic: the same date gives the same data.
 */
import { DateTime } from "luxon";

export const DEMO_PROGRAMS = [
  {
    name: "Consumer Installment",
    description: "Fixed-rate amortizing personal loans",
    program_type: "installment",
    day_count_convention: "actual_365",
    accrual_method: "simple",
    payment_allocation_order: ["fees", "interest", "principal"],
  },
  {
    name: "SOFR-Indexed Small Business",
    description: "Variable-rate term loans: SOFR + margin, reset quarterly",
    program_type: "installment",
    day_count_convention: "actual_360",
    accrual_method: "simple",
    payment_allocation_order: ["interest", "fees", "principal"],
    index_name: "SOFR",
    margin: "0.0350",
    floor: "0.0500",
    ceiling: "0.1800",
    adjustment_frequency: "quarterly",
  },
  {
    name: "Equipment Lease",
    description: "Closed-end equipment leases with residual and buyout",
    program_type: "lease",
    day_count_convention: "30_360",
    accrual_method: "compound_monthly",
    payment_allocation_order: ["fees", "interest", "principal"],
    program_config: { residual_percent: "0.10", buyout_type: "residual", return_fee: "250.00" },
  },
  {
    name: "Prime Revolving Line",
    description: "Revolving credit at Prime + margin",
    program_type: "line_of_credit",
    day_count_convention: "actual_365",
    accrual_method: "simple",
    payment_allocation_order: ["fees", "interest", "principal"],
    index_name: "Prime",
    margin: "0.0200",
    floor: "0.0600",
    ceiling: "0.2499",
    adjustment_frequency: "monthly",
    program_config: { credit_limit: "25000.00", min_payment_percent: "0.02", min_payment_floor: "35.00", statement_day: 25 },
  },
] as const;

export const DEMO_PRODUCTS = [
  { program: "Consumer Installment", name: "36-Month Fixed Personal Loan", interest_rate_type: "fixed", default_interest_rate: "0.1299", min_term_months: 12, max_term_months: 36, min_loan_amount: "1000.00", max_loan_amount: "35000.00", grace_period_days: 10 },
  { program: "Consumer Installment", name: "60-Month Graduated Personal Loan", interest_rate_type: "fixed", default_interest_rate: "0.1149", min_term_months: 36, max_term_months: 60, min_loan_amount: "5000.00", max_loan_amount: "50000.00", grace_period_days: 15, program_config: { graduated_step_percent: "0.05", graduated_step_months: 12 } },
  { program: "SOFR-Indexed Small Business", name: "SOFR + 350 Term Loan", interest_rate_type: "variable", default_interest_rate: "0.0780", min_term_months: 12, max_term_months: 84, min_loan_amount: "25000.00", max_loan_amount: "500000.00", grace_period_days: 5, program_config: { interest_only_months: 6 } },
  { program: "Equipment Lease", name: "48-Month Equipment Lease", interest_rate_type: "fixed", default_interest_rate: "0.0899", min_term_months: 24, max_term_months: 60, min_loan_amount: "10000.00", max_loan_amount: "250000.00", grace_period_days: 10 },
  { program: "Prime Revolving Line", name: "Business Line of Credit", interest_rate_type: "variable", default_interest_rate: "0.0950", min_term_months: 12, max_term_months: 60, min_loan_amount: "5000.00", max_loan_amount: "100000.00", grace_period_days: 10, program_config: { credit_limit: "50000.00" } },
] as const;

export const DEMO_FEE_SCHEDULES = [
  { product: "36-Month Fixed Personal Loan", name: "Personal standard", fees: [
    { fee_type: "origination", calculation: "percent", percent: "0.03", percent_basis: "principal", min_amount: "50.00", max_amount: "750.00" },
    { fee_type: "late", calculation: "percent", percent: "0.05", percent_basis: "past_due", min_amount: "15.00", max_amount: "40.00" },
    { fee_type: "nsf", calculation: "flat", amount: "25.00" },
  ] },
  { product: "SOFR + 350 Term Loan", name: "Small business standard", fees: [
    { fee_type: "origination", calculation: "percent", percent: "0.01", percent_basis: "principal", max_amount: "2500.00" },
    { fee_type: "late", calculation: "flat", amount: "75.00" },
    { fee_type: "prepayment", calculation: "percent", percent: "0.02", percent_basis: "balance" },
  ] },
  { product: "48-Month Equipment Lease", name: "Lease standard", fees: [
    { fee_type: "origination", calculation: "flat", amount: "395.00" },
    { fee_type: "late", calculation: "percent", percent: "0.10", percent_basis: "payment", max_amount: "150.00" },
    { fee_type: "return", calculation: "flat", amount: "250.00" },
  ] },
  { product: "Business Line of Credit", name: "Line standard", fees: [
    { fee_type: "annual", calculation: "flat", amount: "150.00" },
    { fee_type: "late", calculation: "flat", amount: "35.00" },
  ] },
] as const;

export function demoPromotion(today: string) {
  const start = DateTime.fromISO(today, { zone: "utc" }).startOf("month");
  return {
    program: "Consumer Installment",
    name: "12 Months Deferred Interest",
    description: "No interest if paid in full within 12 months; otherwise interest accrued at 24.99 % is charged back",
    promo_type: "deferred_interest",
    start_date: start.toISODate()!,
    end_date: start.plus({ months: 12 }).minus({ days: 1 }).toISODate()!,
    deferred_interest_rate: "0.2499",
    min_payment_type: "percent_of_balance",
    min_payment_amount: "0.03",
  };
}

/**
 * A year of index history ending on `today`: SOFR every Monday drifting down 25 bp a quarter with
 * a small weekly wobble; Prime at 3 % above the Fed target, stepping down at each quarter's cut.
 */
export function demoIndexRates(today: string): { index_name: string; rate: string; effective_date: string }[] {
  const end = DateTime.fromISO(today, { zone: "utc" });
  const start = end.minus({ years: 1 });
  const rates: { index_name: string; rate: string; effective_date: string }[] = [];
  const cutsBefore = (d: DateTime) => Math.floor(d.diff(start, "months").months / 3);
  let monday = start.plus({ days: (8 - start.weekday) % 7 });
  let week = 0;
  while (monday <= end) {
    const base = 4.33 - 0.25 * cutsBefore(monday);
    const wobble = [0, 1, -1, 2, 0, -2, 1][week % 7];
    rates.push({ index_name: "SOFR", rate: ((base + wobble / 100) / 100).toFixed(6), effective_date: monday.toISODate()! });
    monday = monday.plus({ weeks: 1 });
    week++;
  }
  for (let q = 0; q <= 4; q++) {
    const date = start.plus({ months: 3 * q });
    if (date > end) break;
    rates.push({ index_name: "Prime", rate: ((7.5 - 0.25 * q) / 100).toFixed(4), effective_date: date.toISODate()! });
  }
  return rates.sort((a, b) => a.effective_date.localeCompare(b.effective_date));
}
