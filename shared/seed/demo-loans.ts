/**
 * Demo loans (issue 8, point 12): a few loans of every demo product, disbursed at various dates
 * over the past year and serviced up to today, so a newcomer sees servicing at work — scheduled
 * payments, missed ones with late fees (delinquency), an early payoff, a lease bought out, lines
 * of credit with draws, monthly statements and minimum payments. Each loan is a script the seed
 * plays through the loans service's own actions (shared/seed/seed-demo-loans.ts); amounts and due
 * dates come from the schedule the service answers with, so nothing here re-computes money.
 * Deterministic: the same business date gives the same loans and the same servicing.
 */
import { DateTime } from "luxon";

export interface DemoLoan {
  /** Unique per loan: a second seed run finds the loan by it (409) and skips it. */
  external_id: string;
  product: string;
  /** The create request's loan fields (product_id is added by the seed). */
  request: Record<string, unknown>;
  /** Disbursed this many days before today. */
  disbursed_days_ago: number;
  /** Installments (by number) the borrower does not pay. */
  missed?: number[];
  /** A late fee from the product's fee schedule after each missed installment's grace period. */
  late_fees?: boolean;
  /** After this many paid installments: the payoff quote is paid in full, 10 days before the next due date. */
  paid_off_after?: number;
  /** After this many paid installments: the lessee buys the asset at the buyout quote. */
  bought_out_after?: number;
  /** A line of credit: draws (days after opening, amount), a statement on each statement day, and payments. */
  line?: { draws: { after_days: number; amount: string }[]; statement_day: number; pay: "minimum" | string };
}

const borrower = (name: string, region: string, credit_score: number) => ({ name, email: `${name.toLowerCase().replace(/[^a-z]+/g, ".")}@example.com`, region, credit_score });

export const DEMO_LOANS: DemoLoan[] = [
  // 36-Month Fixed Personal Loan (fee schedule: origination, late, nsf)
  { external_id: "DEMO-PL-0001", product: "36-Month Fixed Personal Loan", request: { principal: "12000.00", term_months: 36, borrower: borrower("Ada Byron", "Northeast", 742) }, disbursed_days_ago: 340 },
  { external_id: "DEMO-PL-0002", product: "36-Month Fixed Personal Loan", request: { principal: "8500.00", term_months: 24, borrower: borrower("Grace Hopper", "Southeast", 681) }, disbursed_days_ago: 280, missed: [3], late_fees: true },
  { external_id: "DEMO-PL-0003", product: "36-Month Fixed Personal Loan", request: { principal: "5000.00", term_months: 12, borrower: borrower("Alan Turing", "Midwest", 768) }, disbursed_days_ago: 300, paid_off_after: 4 },
  { external_id: "DEMO-PL-0004", product: "36-Month Fixed Personal Loan", request: { principal: "20000.00", term_months: 36, borrower: borrower("Katherine Johnson", "South", 715) }, disbursed_days_ago: 70 },
  { external_id: "DEMO-PL-0005", product: "36-Month Fixed Personal Loan", request: { principal: "3000.00", term_months: 12, borrower: borrower("Edsger Dijkstra", "West", 623) }, disbursed_days_ago: 190, missed: [4, 5], late_fees: true },
  // 60-Month Graduated Personal Loan (payments step up 5 % a year)
  { external_id: "DEMO-GR-0001", product: "60-Month Graduated Personal Loan", request: { principal: "25000.00", term_months: 60, borrower: borrower("Barbara Liskov", "Northeast", 790) }, disbursed_days_ago: 360 },
  { external_id: "DEMO-GR-0002", product: "60-Month Graduated Personal Loan", request: { principal: "40000.00", term_months: 48, borrower: borrower("Donald Knuth", "West", 805) }, disbursed_days_ago: 215 },
  { external_id: "DEMO-GR-0003", product: "60-Month Graduated Personal Loan", request: { principal: "15000.00", term_months: 36, borrower: borrower("Frances Allen", "Midwest", 702) }, disbursed_days_ago: 125, missed: [2] },
  // SOFR + 350 Term Loan (variable, six months interest-only)
  { external_id: "DEMO-SB-0001", product: "SOFR + 350 Term Loan", request: { principal: "150000.00", term_months: 60, borrower: borrower("Hopper Tools LLC", "Southeast", 720) }, disbursed_days_ago: 305 },
  { external_id: "DEMO-SB-0002", product: "SOFR + 350 Term Loan", request: { principal: "75000.00", term_months: 36, borrower: borrower("Lovelace Bakery Inc", "Northeast", 698) }, disbursed_days_ago: 150 },
  { external_id: "DEMO-SB-0003", product: "SOFR + 350 Term Loan", request: { principal: "300000.00", term_months: 84, borrower: borrower("Babbage Machine Works", "Midwest", 755) }, disbursed_days_ago: 245, missed: [5], late_fees: true },
  // 48-Month Equipment Lease (residual 10 %, buyout at residual)
  { external_id: "DEMO-LS-0001", product: "48-Month Equipment Lease", request: { capitalized_cost: "60000.00", term_months: 48, borrower: borrower("Shannon Logistics", "South", 733) }, disbursed_days_ago: 330 },
  { external_id: "DEMO-LS-0002", product: "48-Month Equipment Lease", request: { capitalized_cost: "35000.00", term_months: 24, borrower: borrower("Noyce Print Shop", "West", 711) }, disbursed_days_ago: 270, bought_out_after: 6 },
  { external_id: "DEMO-LS-0003", product: "48-Month Equipment Lease", request: { capitalized_cost: "120000.00", term_months: 60, borrower: borrower("Kilby Farms", "Midwest", 688) }, disbursed_days_ago: 95 },
  // Business Line of Credit (Prime + 2 %, statements on the 25th, 2 % minimum with a floor)
  { external_id: "DEMO-LC-0001", product: "Business Line of Credit", request: { credit_limit: "50000.00", term_months: 24, borrower: borrower("Hamming Codes Co", "Northeast", 760) }, disbursed_days_ago: 320, line: { draws: [{ after_days: 3, amount: "15000.00" }, { after_days: 120, amount: "8000.00" }], statement_day: 25, pay: "minimum" } },
  { external_id: "DEMO-LC-0002", product: "Business Line of Credit", request: { credit_limit: "25000.00", term_months: 12, borrower: borrower("Wozniak Repairs", "West", 705) }, disbursed_days_ago: 180, line: { draws: [{ after_days: 10, amount: "10000.00" }, { after_days: 95, amount: "2500.00" }], statement_day: 25, pay: "1000.00" } },
  { external_id: "DEMO-LC-0003", product: "Business Line of Credit", request: { credit_limit: "30000.00", term_months: 36, borrower: borrower("Berners Media", "South", 731) }, disbursed_days_ago: 65, line: { draws: [{ after_days: 5, amount: "6000.00" }], statement_day: 25, pay: "minimum" } },
];

export function daysBefore(today: string, days: number): string {
  return DateTime.fromISO(today, { zone: "utc" }).minus({ days }).toISODate()!;
}

export function daysAfter(date: string, days: number): string {
  return DateTime.fromISO(date, { zone: "utc" }).plus({ days }).toISODate()!;
}

/** The statement dates of a line opened on `opened`: each `day` of a month after the opening, up to today. */
export function statementDates(opened: string, today: string, day: number): string[] {
  const out: string[] = [];
  let d = DateTime.fromISO(opened, { zone: "utc" }).set({ day: 1 });
  const end = DateTime.fromISO(today, { zone: "utc" });
  for (;;) {
    const s = d.set({ day: Math.min(day, d.daysInMonth!) });
    if (s > end) break;
    if (s.toISODate()! > opened) out.push(s.toISODate()!);
    d = d.plus({ months: 1 });
  }
  return out;
}
