import { FIELDS_BY_CODE, TAPE_FIELDS, catalogueView, esmaAccountStatus, type TapeLoan } from "../../../shared/tapes/catalogue";
import { LAYOUTS, LAYOUT_COLUMNS, cellValue, tapeColumns } from "../../../shared/tapes/layouts";
import { MoneySum, reconcile, TotalsAccumulator } from "../../../shared/tapes/reconcile";
import type { LoanPosition } from "../../../shared/contracts/loans";

const ctx = { business_date: "2026-06-30", portfolio_id: "64b000000000000000000001" };

function loan(program_type: "installment" | "lease" | "line_of_credit", over: Partial<LoanPosition> = {}, cash = true): TapeLoan {
  return {
    loan_id: `loan-${program_type}`,
    version: 7,
    attributes: {
      loan_id: `loan-${program_type}`, external_id: null, product_id: "p", program_id: "g", program_type, interest_rate_type: "variable",
      origination_date: "2026-01-15", vintage: "2026-01", principal: "10000.00", annual_rate: "0.0725", term_months: 24,
      maturity_date: program_type === "line_of_credit" ? null : "2028-01-15", index_name: "SOFR", margin: "0.0300", region: "US-NY", credit_score: 712, currency: "USD",
    },
    state: {
      status: "active", principal_balance: "8123.45", interest_receivable: "12.34", fees_due: "0.00", deferred_interest: "0.00", credit_balance: "0.00",
      past_due_amount: "0.00", days_past_due: 0, bucket: "current", next_due_date: "2026-07-15", next_payment_amount: "448.79",
      total_disbursed: "10000.00", total_collected: "2692.74", as_of: "2026-06-30", closed_through: "2026-06-30", portfolio_id: ctx.portfolio_id, investor_id: null,
      ...over,
    },
    cash_flows: cash
      ? [
          { date: "2026-01-15", amount: "-10000.00", type: "disbursement" },
          { date: "2026-02-15", amount: "448.79", type: "payment" },
          { date: "2026-03-15", amount: "448.79", type: "payment" },
        ]
      : undefined,
  };
}

describe("tape field catalogue", () => {
  it("has at least 40 fields, unique codes, each with label, type, description", () => {
    expect(TAPE_FIELDS.length).toBeGreaterThanOrEqual(40);
    expect(new Set(TAPE_FIELDS.map((f) => f.code)).size).toBe(TAPE_FIELDS.length);
    for (const f of catalogueView()) {
      expect(f.label.length).toBeGreaterThan(0);
      expect(f.description.length).toBeGreaterThan(10);
      expect(["string", "money", "rate", "date", "integer"]).toContain(f.type);
    }
  });

  it.each(["installment", "lease", "line_of_credit"] as const)("every field resolves on a %s loan, with and without cash flows, to a value of its type", (type) => {
    for (const withCash of [true, false]) {
      const l = loan(type, {}, withCash);
      for (const f of TAPE_FIELDS) {
        const v = f.value(l, ctx);
        expect(v === null || typeof v === "string" || typeof v === "number").toBe(true);
        if (v === null) continue;
        if (f.type === "money") expect(String(v)).toMatch(/^-?\d+\.\d{2}$/);
        if (f.type === "date") expect(String(v)).toMatch(/^\d{4}-\d{2}-\d{2}$/);
        if (f.type === "integer") expect(Number.isInteger(Number(v))).toBe(true);
        if (f.type === "rate") expect(String(v)).toMatch(/^\d+(\.\d+)?$/);
      }
    }
  });

  it("maps the ESMA and Reg AB II codes the reference names", () => {
    expect(FIELDS_BY_CODE.get("current_principal_balance")).toMatchObject({ esma: "CMRL28", reg_ab: "reportingPeriodActualEndBalanceAmount" });
    expect(FIELDS_BY_CODE.get("days_past_due")).toMatchObject({ esma: "CMRL54" });
    expect(FIELDS_BY_CODE.get("cumulative_recoveries")).toMatchObject({ esma: "CMRL60", reg_ab: "recoveredAmount" });
  });

  it("reads a line of credit's limit as credit_limit, not original principal; payment history from the inflows", () => {
    const l = loan("line_of_credit");
    expect(FIELDS_BY_CODE.get("original_principal")!.value(l, ctx)).toBeNull();
    expect(FIELDS_BY_CODE.get("credit_limit")!.value(l, ctx)).toBe("10000.00");
    expect(FIELDS_BY_CODE.get("payment_history")!.value(l, ctx)).toBe("2026-02-15:448.79;2026-03-15:448.79");
    expect(FIELDS_BY_CODE.get("last_payment_amount")!.value(l, ctx)).toBe("448.79");
    expect(FIELDS_BY_CODE.get("remaining_term_months")!.value(loan("installment"), ctx)).toBe(19);
  });

  it("cumulative prepayments sum the prepaid principal of collections; unknown without the figure (ND2); a line of credit has none (ND5)", () => {
    const l = loan("installment");
    l.cash_flows = [
      { date: "2026-01-15", amount: "-10000.00", type: "disbursement" },
      // 448.79 due + 551.21 curtailment; then a payment with nothing prepaid; then a payoff
      { date: "2026-02-15", amount: "1000.00", type: "payment", prepaid_principal: "551.21" },
      { date: "2026-03-15", amount: "448.79", type: "payment", prepaid_principal: "0.00" },
      { date: "2026-04-15", amount: "8000.00", type: "payment", prepaid_principal: "7480.04" },
    ];
    // 551.21 + 7,480.04 = 8,031.25
    expect(FIELDS_BY_CODE.get("cumulative_prepayments")!.value(l, ctx)).toBe("8031.25");
    // the fixture's payments carry no figure, as rows of a snapshot taken before it was kept
    expect(FIELDS_BY_CODE.get("cumulative_prepayments")!.value(loan("lease"), ctx)).toBeNull();
    const lease = loan("lease");
    lease.cash_flows = lease.cash_flows!.map((f) => (f.type === "payment" ? { ...f, prepaid_principal: "0.00" } : f));
    expect(FIELDS_BY_CODE.get("cumulative_prepayments")!.value(lease, ctx)).toBe("0.00");
    const loc = loan("line_of_credit");
    loc.cash_flows = [{ date: "2026-02-15", amount: "900.00", type: "payment", prepaid_principal: "900.00" }];
    expect(FIELDS_BY_CODE.get("cumulative_prepayments")!.value(loc, ctx)).toBeNull();
    const cmrl50 = tapeColumns({ layout: "esma_annex_vi" }).find((c) => c.header === "CMRL50")!;
    expect(cellValue(cmrl50, l, ctx)).toBe("8031.25");
    expect(cellValue(cmrl50, loc, ctx)).toBe("ND5");
    expect(cellValue(cmrl50, loan("installment"), ctx)).toBe("ND2");
  });

  it("ESMA account status follows status and arrears", () => {
    expect(esmaAccountStatus(loan("installment").state)).toBe("PERF");
    expect(esmaAccountStatus(loan("installment", { status: "delinquent", days_past_due: 31 }).state)).toBe("ARRE");
    expect(esmaAccountStatus(loan("installment", { status: "charged_off" }).state)).toBe("DFLT");
    expect(esmaAccountStatus(loan("installment", { status: "paid_off" }).state)).toBe("RDMD");
  });
});

describe("tape layouts", () => {
  it.each(LAYOUTS)("%s names only catalogue fields", (layout) => {
    for (const c of LAYOUT_COLUMNS[layout]) if (c.field) expect(FIELDS_BY_CODE.has(c.field)).toBe(true);
  });

  it("ESMA writes ND codes where a value does not apply, and rates as percentages", () => {
    const cols = tapeColumns({ layout: "esma_annex_vi" });
    const byHeader = new Map(cols.map((c) => [c.header, c]));
    const loc = loan("line_of_credit", {}, false);
    expect(cellValue(byHeader.get("CMRL27")!, loc, ctx)).toBe("ND5");
    expect(cellValue(byHeader.get("CMRL29")!, loc, ctx)).toBe("10000.00");
    expect(cellValue(byHeader.get("CMRL4")!, loc, ctx)).toBe("ND2");
    expect(cellValue(byHeader.get("CMRL60")!, loc, ctx)).toBe("ND2");
    expect(cellValue(byHeader.get("CMRL37")!, loc, ctx)).toBe("7.25");
    expect(cellValue(byHeader.get("CMRL6")!, loc, ctx)).toBe("2026-06-30");
  });

  it("a config without fields or layout gets the default columns; required_fields keep their order", () => {
    expect(tapeColumns({}).length).toBeGreaterThan(5);
    expect(tapeColumns({ required_fields: ["status", "loan_id"] }).map((c) => c.header)).toEqual(["status", "loan_id"]);
  });
});

describe("tape reconciliation", () => {
  it("sums balances exactly and names both figures on a mismatch", () => {
    const acc = new TotalsAccumulator();
    for (let i = 0; i < 10; i++) acc.add(loan("installment", { principal_balance: "0.10" }));
    const totals = acc.result();
    expect(totals.total_balance).toBe("1.00");
    expect(reconcile(totals, { loan_count: 10, total_balance: "1.00" }).ok).toBe(true);
    const bad = reconcile(totals, { loan_count: 11, total_balance: "1.01" });
    expect(bad.ok).toBe(false);
    expect(bad.message).toContain("tape 10 loans, balance 1.00");
    expect(bad.message).toContain("snapshot 11 loans, balance 1.01");
  });

  it("adds money strings exactly: two-decimal ones as cents, any other through decimal.js", () => {
    const sum = new MoneySum();
    // 0.10 + 0.20 − 0.05 + 1234567890123.45 + 0.005 + 12 + 0.001 = 1234567890135.706 → 1234567890135.71
    for (const v of ["0.10", "0.20", "-0.05", "1234567890123.45", "0.005", "12", "1e-3", "", null]) sum.add(v);
    expect(sum.toFixed2()).toBe("1234567890135.71");
    expect(new MoneySum().toFixed2()).toBe("0.00");
  });
});
