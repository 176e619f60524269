import { programConfigErrors, programErrors, productErrors, promotionErrors, feeScheduleErrors } from "../../../shared/programs/rules";
import { effectiveProductConfig } from "../../../shared/programs/effective-config";

const fields = (errors: { field: string }[]) => errors.map((e) => e.field).sort();

describe("program rules", () => {
  const base = { program_type: "installment", payment_allocation_order: ["interest", "fees", "principal"] };
  it("accepts a complete fixed-rate program", () => {
    expect(programErrors(base)).toEqual([]);
  });
  it("requires the allocation order to be a permutation of the known components", () => {
    expect(fields(programErrors({ ...base, payment_allocation_order: ["interest", "principal"] }))).toEqual(["payment_allocation_order"]);
    expect(fields(programErrors({ ...base, payment_allocation_order: ["interest", "interest", "principal"] }))).toEqual(["payment_allocation_order"]);
  });
  it("keeps variable-rate fields together and floor ≤ ceiling", () => {
    expect(fields(programErrors({ ...base, margin: "0.02", floor: "0.08", ceiling: "0.05" }))).toEqual(["adjustment_frequency", "ceiling", "index_name"]);
    expect(programErrors({ ...base, index_name: "SOFR", margin: "0.02", adjustment_frequency: "monthly", floor: "0.03", ceiling: "0.03" })).toEqual([]);
  });
  it("rejects program_config keys of another program type", () => {
    expect(fields(programConfigErrors({ residual_percent: "0.2", interest_only_months: 6 }, "installment"))).toEqual(["program_config.residual_percent"]);
    expect(programConfigErrors({ credit_limit: "5000.00" }, "line_of_credit")).toEqual([]);
  });
});

describe("product rules", () => {
  const program = { program_type: "installment", index_name: "SOFR", floor: "0.03", ceiling: "0.25" };
  it("checks ranges, the rate against floor and ceiling, and config keys", () => {
    const errors = productErrors(
      { min_term_months: 60, max_term_months: 12, min_loan_amount: "5000.00", max_loan_amount: "1000.00", default_interest_rate: "0.30", interest_rate_type: "fixed", program_config: { credit_limit: "1.00" } },
      program,
    );
    expect(fields(errors)).toEqual(["default_interest_rate", "max_loan_amount", "max_term_months", "program_config.credit_limit"]);
  });
  it("needs an indexed program for variable or hybrid rates, and a fixed period for hybrid", () => {
    expect(fields(productErrors({ interest_rate_type: "hybrid" }, { program_type: "installment" }))).toEqual(["fixed_period_months", "interest_rate_type"]);
  });
});

describe("promotion and fee rules", () => {
  it("checks dates and the rate fields each promo type needs", () => {
    expect(fields(promotionErrors({ promo_type: "reduced_apr", start_date: "2026-05-01", end_date: "2026-04-01" }))).toEqual(["apr", "end_date"]);
    expect(fields(promotionErrors({ promo_type: "zero_interest", apr: "0.05", start_date: "2026-01-01", end_date: "2026-12-31" }))).toEqual(["apr"]);
    expect(fields(promotionErrors({ promo_type: "deferred_interest", start_date: "2026-01-01", end_date: "2026-12-31", min_payment_type: "fixed" }))).toEqual(["deferred_interest_rate", "min_payment_amount"]);
  });
  it("checks each fee of a schedule", () => {
    const errors = feeScheduleErrors({
      fees: [
        { fee_type: "late", calculation: "flat" },
        { fee_type: "late", calculation: "percent", percent: "0.05", min_amount: "30.00", max_amount: "10.00" },
      ],
    });
    expect(fields(errors)).toEqual(["fees[0].amount", "fees[1].fee_type", "fees[1].max_amount", "fees[1].percent_basis"]);
  });
});

describe("effectiveProductConfig", () => {
  it("overlays the product's program_config on the program's and reports whether loans may be made", () => {
    const program = { id: "p1", name: "LOC", is_active: false, program_type: "line_of_credit", day_count_convention: "actual_365", accrual_method: "simple", payment_allocation_order: ["fees", "interest", "principal"], program_config: { credit_limit: "5000.00", min_payment_percent: "0.02" }, version: 3 };
    const product = { id: "x1", name: "Gold", is_active: true, interest_rate_type: "fixed", default_interest_rate: "0.1999", min_term_months: 12, max_term_months: 60, min_loan_amount: "500.00", max_loan_amount: "10000.00", grace_period_days: 10, program_config: { credit_limit: "10000.00" }, version: 1 };
    const cfg = effectiveProductConfig(program, product, { fees: [{ fee_type: "late", calculation: "flat", amount: "25.00" }] });
    expect(cfg.program_config).toEqual({ credit_limit: "10000.00", min_payment_percent: "0.02" });
    expect(cfg.originations_allowed).toBe(false);
    expect(cfg.blocked_reasons).toEqual(["program p1 is inactive"]);
    expect(cfg.fees).toHaveLength(1);
    expect(cfg.variable_rate).toBeUndefined();
  });
});
