/** The pure origination and status rules of the loans service (DESIGN.md §7). */
import type { EffectiveProductConfig } from "../../../shared/contracts/programs";
import { openLoan } from "../../../shared/finance";
import { loanTermsAt, oneMonthAfter, originationErrors, partitionOf, PARTITIONS, variableRateAt } from "../../../shared/loans/origination";
import { ALLOWED, canDo, impliedStatus } from "../../../shared/loans/status";
import { loanPosition, restatus } from "../../../shared/loans/position";
import type { LoanStatus } from "../../../shared/contracts/loans";

const cfg = (over: Partial<EffectiveProductConfig> = {}): EffectiveProductConfig => ({
  product_id: "p", product_name: "P", program_id: "g", program_name: "G", program_type: "installment",
  day_count_convention: "actual_365", accrual_method: "simple", payment_allocation_order: ["interest", "fees", "principal"],
  interest_rate_type: "fixed", default_interest_rate: "0.12", min_term_months: 12, max_term_months: 60,
  min_loan_amount: "1000.00", max_loan_amount: "50000.00", grace_period_days: 10, program_config: {}, fees: [],
  originations_allowed: true, blocked_reasons: [], program_version: 1, product_version: 1, ...over,
});

describe("originationErrors", () => {
  it("names each field outside the product's ranges", () => {
    const errs = originationErrors({ product_id: "p", principal: "999.99", term_months: 61 }, cfg());
    expect(errs.map((e) => e.field).sort()).toEqual(["principal", "term_months"]);
    expect(originationErrors({ product_id: "p", principal: "1000.00", term_months: 12 }, cfg())).toEqual([]);
    expect(originationErrors({ product_id: "p", principal: "50000.00", term_months: 60 }, cfg())).toEqual([]);
  });
  it("asks each program type for its own amount and refuses the others'", () => {
    expect(originationErrors({ product_id: "p", term_months: 12 }, cfg()).map((e) => e.field)).toEqual(["principal"]);
    const lease = cfg({ program_type: "lease" });
    expect(originationErrors({ product_id: "p", principal: "5000.00", term_months: 12 }, lease).map((e) => e.field).sort()).toEqual(["capitalized_cost", "principal"]);
    expect(originationErrors({ product_id: "p", capitalized_cost: "5000.00", residual_value: "6000.00", term_months: 12 }, lease).map((e) => e.field)).toEqual(["residual_value"]);
    const line = cfg({ program_type: "line_of_credit", program_config: { credit_limit: "10000.00" } });
    expect(originationErrors({ product_id: "p", term_months: 12 }, line)).toEqual([]); // the program's limit
  });
  it("refuses a stated rate on a variable product (it is priced from its index)", () => {
    const v = cfg({ interest_rate_type: "variable", variable_rate: { index_name: "SOFR", margin: "0.02", adjustment_frequency: "monthly" } });
    expect(originationErrors({ product_id: "p", principal: "5000.00", term_months: 12, annual_rate: "0.05" }, v).map((e) => e.field)).toEqual(["annual_rate"]);
  });
});

describe("pricing and terms", () => {
  it("clamps index + margin to floor and ceiling", () => {
    const v = cfg({ variable_rate: { index_name: "SOFR", margin: "0.0200", floor: "0.0450", ceiling: "0.0900", adjustment_frequency: "monthly" } });
    expect(variableRateAt("0.0100", v)).toBe("0.045");
    expect(variableRateAt("0.0500", v)).toBe("0.07");
    expect(variableRateAt("0.0800", v)).toBe("0.09");
  });
  it("copies the program config into the terms and defaults the first payment to a month after disbursement", () => {
    const t = loanTermsAt({ program_type: "installment", cfg: cfg({ program_config: { interest_only_months: 3 } }), req: { product_id: "p", principal: "12000.00", term_months: 12 }, annual_rate: "0.12", disbursement_date: "2026-01-31", promotions: [] });
    expect(t).toMatchObject({ principal: "12000.00", interest_only_months: 3, first_payment_date: "2026-02-28" });
    expect(oneMonthAfter("2024-01-31")).toBe("2024-02-29");
    const lease = loanTermsAt({ program_type: "lease", cfg: cfg({ program_type: "lease", program_config: { residual_percent: "0.2" } }), req: { product_id: "p", capitalized_cost: "10000.00", term_months: 24 }, annual_rate: "0.08", disbursement_date: "2026-01-01", promotions: [] });
    expect(lease).toMatchObject({ principal: "10000.00", residual_value: "2000.00" });
  });
  it("spreads loans over the partitions, deterministically", () => {
    const ids = Array.from({ length: 6400 }, (_, i) => i.toString(16).padStart(24, "0"));
    const counts = new Array(PARTITIONS).fill(0);
    for (const id of ids) counts[partitionOf(id)]++;
    expect(Math.min(...counts)).toBeGreaterThan(50);
    expect(partitionOf(ids[7])).toBe(partitionOf(ids[7]));
  });
});

describe("status rules", () => {
  it("allows each operation only from its statuses", () => {
    expect(canDo("disburse", "pending")).toBe(true);
    expect(canDo("disburse", "active")).toBe(false);
    expect(canDo("payment", "pending")).toBe(false);
    expect(canDo("payment", "cancelled")).toBe(false);
    expect(canDo("payment", "charged_off")).toBe(true);
    expect(canDo("draw", "closed")).toBe(false);
    for (const list of Object.values(ALLOWED)) expect(list).not.toContain("cancelled");
  });
  it("derives delinquent after grace, active when cured, paid off, closed; never leaves charge-off", () => {
    const state = openLoan({ program_type: "installment", principal: "1000.00", annual_rate: "0.1", term_months: 6, disbursement_date: "2026-01-01", first_payment_date: "2026-02-01", day_count_convention: "actual_365", accrual_method: "simple" });
    expect(impliedStatus("active", state, 10, 10)).toBe("active");
    expect(impliedStatus("active", state, 11, 10)).toBe("delinquent");
    expect(impliedStatus("delinquent", state, 0, 10)).toBe("active");
    expect(impliedStatus("active", { ...state, status: "paid_off" }, 0, 10)).toBe("paid_off");
    expect(impliedStatus("paid_off", state, 0, 10)).toBe("active"); // a reversal reopened it
    expect(impliedStatus("active", { ...state, status: "bought_out" }, 0, 10)).toBe("closed");
    expect(impliedStatus("charged_off", state, 0, 10)).toBe("charged_off");
    expect(impliedStatus("pending", null, 0, 10)).toBe("pending");
  });
});

describe("loanPosition", () => {
  const state = openLoan({ program_type: "installment", principal: "12000.00", annual_rate: "0.12", term_months: 12, disbursement_date: "2026-01-01", first_payment_date: "2026-02-01", day_count_convention: "actual_365", accrual_method: "simple" });
  const base = { status: "active" as const, state, grace_period_days: 10, total_disbursed: "12000.00", total_collected: "0.00", closed_through: null, portfolio_id: null, investor_id: null };
  it("is current on the due date and one day past due the day after", () => {
    expect(loanPosition({ ...base, as_of: "2026-02-01" })).toMatchObject({ days_past_due: 0, bucket: "current", past_due_amount: "0.00", next_due_date: "2026-03-01" });
    const after = loanPosition({ ...base, as_of: "2026-02-02" });
    expect(after).toMatchObject({ days_past_due: 1, bucket: "1_29" });
    // installment 1 = 1066.19 (level payment of 12,000.00 at 1 % a month over 12)
    expect(after.past_due_amount).toBe("1066.19");
  });
  it("carries interest receivable to the date: 31 days on 12,000.00 at 12 % = 122.30", () => {
    expect(loanPosition({ ...base, as_of: "2026-02-01" }).interest_receivable).toBe("122.30");
  });
  it("shows nothing owed for a pending loan", () => {
    expect(loanPosition({ ...base, status: "pending", state: null, as_of: "2026-02-01" })).toMatchObject({ principal_balance: "0.00", days_past_due: 0, bucket: "current" });
  });
  it("restatus gives what loanPosition gives under the new status, or null where the figures differ", () => {
    const statuses: LoanStatus[] = ["pending", "active", "delinquent", "charged_off", "paid_off", "closed", "cancelled"];
    let reused = 0;
    for (const from of statuses) {
      for (const to of statuses) {
        const before = loanPosition({ ...base, status: from, as_of: "2026-04-15" });
        const again = restatus(before, to);
        const fresh = loanPosition({ ...base, status: to, as_of: "2026-04-15" });
        if (again) {
          reused++;
          expect(again).toEqual(fresh);
        } else {
          expect([from, to].some((s) => ["pending", "cancelled", "charged_off"].includes(s))).toBe(true);
        }
      }
    }
    expect(reused).toBe(16); // active, delinquent, paid_off, closed among themselves
    // a charge-off stops the roll: 2½ months past due with the roll, none without it
    expect(loanPosition({ ...base, status: "charged_off", as_of: "2026-04-15" }).past_due_amount).not.toEqual(loanPosition({ ...base, as_of: "2026-04-15" }).past_due_amount);
  });
});
