/** fast-check generators of valid loan terms for the property tests. */
import fc from "fast-check";
import type { LoanTerms, Promotion } from "../../../shared/finance";

const pad = (x: number) => String(x).padStart(2, "0");
/** ISO date of a day number (days since 1970-01-01), computed by the JS Date in UTC: independent of the engine. */
export function isoOfDay(n: number): string {
  const d = new Date(n * 86400000);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}
export function dayOfIso(iso: string): number {
  return Math.round(Date.parse(iso + "T00:00:00Z") / 86400000);
}

const cents = (min: number, max: number) => fc.integer({ min, max }).map((c) => (c / 100).toFixed(2));
const rate = fc.oneof(
  { weight: 1, arbitrary: fc.constant("0") },
  { weight: 9, arbitrary: fc.integer({ min: 1, max: 36000 }).map((bp) => (bp / 100000).toFixed(5)) },
);
const convention = fc.constantFrom("actual_360", "actual_365", "30_360", "actual_actual") as fc.Arbitrary<LoanTerms["day_count_convention"]>;
const dayMin = dayOfIso("2000-01-01");
const dayMax = dayOfIso("2045-12-31");

export interface TermsOptions {
  maxTerm: number;
  programs?: LoanTerms["program_type"][];
  shapes?: boolean;
  promotions?: boolean;
}

export function termsArb(opts: TermsOptions): fc.Arbitrary<LoanTerms> {
  return fc
    .record({
      program_type: fc.constantFrom(...(opts.programs ?? ["installment", "installment", "installment", "lease", "line_of_credit"])),
      principal: cents(100, 200_000_000),
      annual_rate: rate,
      term_months: fc.integer({ min: 1, max: opts.maxTerm }),
      disbursement: fc.integer({ min: dayMin, max: dayMax }),
      firstGap: fc.integer({ min: 1, max: 75 }),
      monthEndAnchor: fc.boolean(),
      day_count_convention: convention,
      accrual_method: fc.constantFrom("simple", "simple", "compound_daily", "compound_monthly", "rule_of_78") as fc.Arbitrary<LoanTerms["accrual_method"]>,
      shape: fc.constantFrom("level", "level", "io", "balloon", "io_balloon", "graduated"),
      io: fc.integer({ min: 1, max: 24 }),
      balloonExtra: fc.integer({ min: 1, max: 240 }),
      step: fc.integer({ min: 0, max: 1500 }).map((bp) => (bp / 10000).toFixed(4)),
      stepMonths: fc.integer({ min: 1, max: 24 }),
      residualPct: fc.integer({ min: 0, max: 80 }),
      promo: fc.option(
        fc.record({
          promo_type: fc.constantFrom("deferred_interest", "reduced_apr", "zero_interest", "skip_payment") as fc.Arbitrary<Promotion["promo_type"]>,
          startOffset: fc.integer({ min: 0, max: 90 }),
          length: fc.integer({ min: 1, max: 400 }),
          apr: fc.integer({ min: 0, max: 1000 }).map((bp) => (bp / 10000).toFixed(4)),
          min: fc.constantFrom(null, "none", "interest_only", "fixed", "percent_of_balance") as fc.Arbitrary<Promotion["min_payment_type"]>,
          minFixed: cents(0, 500_000),
          minPct: fc.integer({ min: 0, max: 500 }).map((bp) => (bp / 10000).toFixed(4)),
        }),
        { freq: 3 },
      ),
    })
    .map((g) => {
      let first = g.disbursement + g.firstGap;
      if (g.monthEndAnchor) {
        // move the first due date to its month's last day (exercises 31st and February clamping)
        const d = new Date(first * 86400000);
        first = Math.round(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0) / 86400000);
        if (first <= g.disbursement) first = g.disbursement + 1;
      }
      const t: LoanTerms = {
        program_type: g.program_type,
        principal: g.principal,
        annual_rate: g.annual_rate,
        term_months: g.term_months,
        disbursement_date: isoOfDay(g.disbursement),
        first_payment_date: isoOfDay(first),
        day_count_convention: g.day_count_convention,
        accrual_method: g.accrual_method,
      };
      if (t.program_type === "line_of_credit") {
        if (t.accrual_method === "rule_of_78") t.accrual_method = "simple";
        t.credit_limit = t.principal;
      }
      if (t.program_type === "lease") {
        t.residual_value = (Math.floor(Math.round(Number(t.principal) * 100) * g.residualPct / 100) / 100).toFixed(2);
      }
      const installment = t.program_type === "installment";
      const precomputed = t.accrual_method === "rule_of_78";
      if (installment && opts.shapes !== false && !precomputed) {
        const io = Math.min(g.io, t.term_months - 1);
        if ((g.shape === "io" || g.shape === "io_balloon") && io > 0) t.interest_only_months = io;
        if (g.shape === "balloon" || g.shape === "io_balloon") t.balloon_amortization_months = t.term_months + g.balloonExtra;
        if (g.shape === "graduated" && t.term_months <= 240) {
          t.graduated_step_percent = g.step;
          t.graduated_step_months = g.stepMonths;
        }
      }
      const promoAllowed = opts.promotions !== false && t.program_type !== "lease" && !precomputed && !t.graduated_step_percent;
      if (g.promo && promoAllowed) {
        const start = g.disbursement + g.promo.startOffset;
        const p: Promotion = { promo_type: g.promo.promo_type, start_date: isoOfDay(start), end_date: isoOfDay(start + g.promo.length) };
        if (p.promo_type === "reduced_apr") p.apr = g.promo.apr;
        if (p.promo_type === "deferred_interest") p.deferred_interest_rate = g.promo.apr;
        if (g.promo.min) {
          p.min_payment_type = g.promo.min;
          if (g.promo.min === "fixed") p.min_payment_amount = g.promo.minFixed;
          if (g.promo.min === "percent_of_balance") p.min_payment_amount = g.promo.minPct;
        }
        t.promotions = [p];
      }
      return t;
    });
}

/** The reference loan of the hand-checked tests: 10,000.00 at 12 % over 12 months, 30/360, simple. */
export const REFERENCE_TERMS: LoanTerms = {
  program_type: "installment",
  principal: "10000.00",
  annual_rate: "0.12",
  term_months: 12,
  disbursement_date: "2026-01-01",
  first_payment_date: "2026-02-01",
  day_count_convention: "30_360",
  accrual_method: "simple",
};
