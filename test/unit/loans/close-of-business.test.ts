/**
 * Issue 9 point 1 (the pure steps, each alone): shared/loans/close-of-business.ts — rate resets
 * clamped to floor and ceiling and caught up when missed, a line's statement on its date, one
 * late fee per installment, the status the figures imply, and charge-off at each program type's
 * threshold. Hand values throughout.
 */
import Decimal from "decimal.js";
import type { EffectiveProductConfig } from "../../../shared/contracts/programs";
import { openLoan, type LoanState, type LoanTerms } from "../../../shared/finance";
import {
  chargeOff, chargeOffDays, closeLoan, delinquency, lateFee, rateReset, statementDue, status, type CloseLoanInput, type CloseOutcome,
} from "../../../shared/loans/close-of-business";

const installmentTerms: LoanTerms = {
  program_type: "installment",
  principal: "12000.00",
  annual_rate: "0.05",
  term_months: 12,
  disbursement_date: "2025-01-01",
  first_payment_date: "2025-02-01",
  day_count_convention: "30_360",
  accrual_method: "simple",
};

function config(over: Partial<EffectiveProductConfig> = {}): EffectiveProductConfig {
  return {
    product_id: "p",
    product_name: "p",
    program_id: "g",
    program_name: "g",
    program_type: "installment",
    day_count_convention: "30_360",
    accrual_method: "simple",
    payment_allocation_order: ["interest", "fees", "principal"],
    interest_rate_type: "fixed",
    default_interest_rate: "0.05",
    min_term_months: 1,
    max_term_months: 360,
    min_loan_amount: "100.00",
    max_loan_amount: "1000000.00",
    grace_period_days: 10,
    program_config: {},
    fees: [],
    originations_allowed: true,
    blocked_reasons: [],
    program_version: 1,
    product_version: 1,
    ...over,
  };
}

function input(state: LoanState, cfg: EffectiveProductConfig, over: Partial<CloseLoanInput> = {}): CloseLoanInput {
  return { loan_id: "L1", status: "active", state, config: cfg, next_reset_date: null, next_statement_date: null, late_fees: [], principal_at_origination: "12000.00", ...over };
}

/** The outcome closeLoan starts from (nothing done yet). */
function fresh(i: CloseLoanInput): CloseOutcome {
  return {
    state: i.state, status: i.status, next_reset_date: i.next_reset_date, next_statement_date: i.next_statement_date, late_fees: [...i.late_fees],
    rate_changes: [], statements: [], fees: [], charge_off: null, days_past_due: 0, bucket: "current", status_reason: null,
  };
}

const variable = { index_name: "PRIME", margin: "0.0200", floor: "0.0450", ceiling: "0.0700", adjustment_frequency: "monthly" };

describe("rateReset", () => {
  const cfg = config({ interest_rate_type: "variable", variable_rate: variable });
  const state = openLoan(installmentTerms);

  it("clamps index + margin to the floor", () => {
    const i = input(state, cfg, { next_reset_date: "2025-02-01" });
    const out = fresh(i);
    rateReset(out, i, "2025-02-01", () => "0.0100");
    expect(out.rate_changes).toHaveLength(1);
    expect(out.rate_changes[0]).toMatchObject({ effective_date: "2025-02-01", old_rate: "0.05", new_rate: "0.045", index_value: "0.01" });
    expect(new Decimal(out.state.annual_rate).toFixed(4)).toBe("0.0450");
    expect(out.next_reset_date).toBe("2025-03-01");
  });

  it("clamps index + margin to the ceiling", () => {
    const i = input(state, cfg, { next_reset_date: "2025-02-01" });
    const out = fresh(i);
    rateReset(out, i, "2025-02-01", () => "0.0600");
    expect(out.rate_changes.map((m) => m.new_rate)).toEqual(["0.07"]);
  });

  it("inside the band the rate is index + margin; an unchanged rate records no modification", () => {
    const i = input(state, cfg, { next_reset_date: "2025-02-01" });
    const inside = fresh(i);
    rateReset(inside, i, "2025-02-01", () => "0.0400");
    expect(inside.rate_changes.map((m) => m.new_rate)).toEqual(["0.06"]);
    const same = fresh(i);
    rateReset(same, i, "2025-02-01", () => "0.0300"); // 0.03 + 0.02 = 0.05, the current rate
    expect(same.rate_changes).toEqual([]);
    expect(same.next_reset_date).toBe("2025-03-01");
  });

  it("catches up missed resets, each at its own date's index, oldest first", () => {
    const i = input(state, cfg, { next_reset_date: "2025-02-01" });
    const out = fresh(i);
    const asked: string[] = [];
    const index: Record<string, string> = { "2025-02-01": "0.0100", "2025-03-01": "0.0400", "2025-04-01": "0.0600" };
    rateReset(out, i, "2025-04-15", (name, on) => {
      asked.push(`${name}@${on}`);
      return index[on];
    });
    expect(asked).toEqual(["PRIME@2025-02-01", "PRIME@2025-03-01", "PRIME@2025-04-01"]);
    expect(out.rate_changes.map((m) => [m.effective_date, m.old_rate, m.new_rate])).toEqual([
      ["2025-02-01", "0.05", "0.045"],
      ["2025-03-01", "0.045", "0.06"],
      ["2025-04-01", "0.06", "0.07"],
    ]);
    expect(out.next_reset_date).toBe("2025-05-01");
  });

  it("does nothing before the reset date, without an index value, or on a fixed loan", () => {
    const before = input(state, cfg, { next_reset_date: "2025-02-01" });
    const o1 = fresh(before);
    rateReset(o1, before, "2025-01-31", () => "0.0100");
    expect(o1.rate_changes).toEqual([]);
    expect(o1.next_reset_date).toBe("2025-02-01");

    const o2 = fresh(before);
    rateReset(o2, before, "2025-02-01", () => null);
    expect(o2.rate_changes).toEqual([]);
    expect(o2.state).toBe(state);
    expect(o2.next_reset_date).toBe("2025-03-01");

    const fixed = input(state, config(), { next_reset_date: null });
    const o3 = fresh(fixed);
    rateReset(o3, fixed, "2025-06-01", () => "0.0100");
    expect(o3.rate_changes).toEqual([]);
  });
});

describe("statementDue", () => {
  const lineCfg = config({ program_type: "line_of_credit" });
  const line = openLoan({ ...installmentTerms, program_type: "line_of_credit", principal: "1000.00", annual_rate: "0.18", credit_limit: "5000.00", term_months: 12 });

  it("issues a line's statement on its statement date and moves the next date a month on", () => {
    const i = input(line, lineCfg, { next_statement_date: "2025-02-01" });
    const out = fresh(i);
    statementDue(out, i, "2025-02-01");
    expect(out.statements).toHaveLength(1);
    expect(out.statements[0]).toMatchObject({ statement_date: "2025-02-01" });
    expect(out.next_statement_date).toBe("2025-03-01");
  });

  it("issues nothing before the date, and nothing for an installment loan", () => {
    const i = input(line, lineCfg, { next_statement_date: "2025-02-01" });
    const early = fresh(i);
    statementDue(early, i, "2025-01-31");
    expect(early.statements).toEqual([]);
    expect(early.next_statement_date).toBe("2025-02-01");

    const inst = input(openLoan(installmentTerms), config(), { next_statement_date: "2025-02-01" });
    const o = fresh(inst);
    statementDue(o, inst, "2025-03-01");
    expect(o.statements).toEqual([]);
  });

  it("a statement already issued on the date is not issued again", () => {
    const i = input(line, lineCfg, { next_statement_date: "2025-02-01" });
    const first = fresh(i);
    statementDue(first, i, "2025-02-01");
    // the rerun sees the state after the first statement, with the date still pointing at it
    const again = input(first.state, lineCfg, { next_statement_date: "2025-02-01" });
    const second = fresh(again);
    statementDue(second, again, "2025-02-01");
    expect(second.statements).toEqual([]);
  });
});

describe("lateFee", () => {
  const cfg = config({ grace_period_days: 10, fees: [{ fee_type: "late", calculation: "flat", amount: "25.00" }] });
  const state = openLoan(installmentTerms);

  const lateOn = (i: CloseLoanInput, date: string) => {
    const out = fresh(i);
    const dq = delinquency(out, i, date);
    lateFee(out, i, date, dq.late_items);
    return out;
  };

  it("charges nothing within grace and one fee the day after grace", () => {
    const i = input(state, cfg);
    expect(lateOn(i, "2025-02-11").fees).toEqual([]); // 10 days past due: still in grace
    const out = lateOn(i, "2025-02-12");
    expect(out.fees).toEqual([{ fee_type: "late", amount: "25.00", for_installment: "1:2025-02-01" }]);
    expect(out.late_fees).toEqual(["1:2025-02-01"]);
    expect(out.days_past_due).toBe(11);
  });

  it("charges an installment once: a rerun or a later day with the fee recorded adds nothing", () => {
    const first = lateOn(input(state, cfg), "2025-02-12");
    const again = lateOn(input(first.state, cfg, { late_fees: first.late_fees }), "2025-02-12");
    expect(again.fees).toEqual([]);
    const later = lateOn(input(first.state, cfg, { late_fees: first.late_fees }), "2025-02-20");
    expect(later.fees).toEqual([]);
  });

  it("charges each missed installment its own fee", () => {
    const first = lateOn(input(state, cfg), "2025-02-12");
    const second = lateOn(input(first.state, cfg, { late_fees: first.late_fees }), "2025-03-12");
    expect(second.fees.map((f) => f.for_installment)).toEqual(["2:2025-03-01"]);
    expect(second.late_fees).toEqual(["1:2025-02-01", "2:2025-03-01"]);
    // a close that catches up both at once charges both, still once each
    const both = lateOn(input(state, cfg), "2025-03-12");
    expect(both.fees.map((f) => f.for_installment)).toEqual(["1:2025-02-01", "2:2025-03-01"]);
  });

  it("charges nothing without a late fee in the fee schedule", () => {
    expect(lateOn(input(state, config({ grace_period_days: 10 })), "2025-03-12").fees).toEqual([]);
  });
});

describe("status", () => {
  const state = openLoan(installmentTerms);
  const cfg = config({ grace_period_days: 10 });

  it("active → delinquent past grace, with the reason", () => {
    const i = input(state, cfg);
    const out = fresh(i);
    out.days_past_due = 11;
    status(out, i, "2025-02-12");
    expect(out.status).toBe("delinquent");
    expect(out.status_reason).toBe("11 days past due, beyond 10 days' grace");
  });

  it("stays active within grace; delinquent → active when cured", () => {
    const i = input(state, cfg);
    const inGrace = fresh(i);
    inGrace.days_past_due = 10;
    status(inGrace, i, "2025-02-11");
    expect(inGrace.status).toBe("active");
    expect(inGrace.status_reason).toBeNull();

    const d = input(state, cfg, { status: "delinquent" });
    const cured = fresh(d);
    cured.days_past_due = 0;
    status(cured, d, "2025-02-12");
    expect(cured.status).toBe("active");
    expect(cured.status_reason).toBe("cured");
  });
});

describe("chargeOff", () => {
  it("thresholds per program type, and the program's own charge_off_days", () => {
    expect(chargeOffDays(config({ program_type: "installment" }))).toBe(120);
    expect(chargeOffDays(config({ program_type: "lease" }))).toBe(120);
    expect(chargeOffDays(config({ program_type: "line_of_credit" }))).toBe(180);
    expect(chargeOffDays(config({ program_type: "installment", program_config: { charge_off_days: 90 } }))).toBe(90);
    expect(chargeOffDays(config({ program_type: "line_of_credit", program_config: { charge_off_days: "x" } }))).toBe(180);
  });

  const state = openLoan(installmentTerms);
  const at = (cfg: EffectiveProductConfig, dpd: number) => {
    const i = input(state, cfg, { status: "delinquent" });
    const out = fresh(i);
    out.status = "delinquent";
    out.days_past_due = dpd;
    chargeOff(out, i, "2025-06-01");
    return out;
  };

  it("an installment loan is charged off on day 120, not day 119", () => {
    expect(at(config(), 119).charge_off).toBeNull();
    const out = at(config(), 120);
    expect(out.status).toBe("charged_off");
    expect(out.status_reason).toBe("120 days past due: charge-off threshold 120 days");
    expect(out.charge_off!.components.principal).toBe("12000.00");
    const c = out.charge_off!.components;
    expect(out.charge_off!.amount).toBe(new Decimal(c.principal).plus(c.interest).plus(c.fees).toFixed(2));
  });

  it("a line of credit waits for day 180; a configured threshold wins", () => {
    const line = config({ program_type: "line_of_credit" });
    expect(at(line, 179).charge_off).toBeNull();
    expect(at(line, 180).status).toBe("charged_off");
    expect(at(config({ program_config: { charge_off_days: 90 } }), 90).status).toBe("charged_off");
    expect(at(config({ program_config: { charge_off_days: 90 } }), 89).status).toBe("delinquent");
  });
});

describe("closeLoan (the steps in order)", () => {
  it("a loan that is not open is left as it is", () => {
    const i = input(openLoan(installmentTerms), config(), { status: "charged_off" });
    const out = closeLoan(i, "2025-09-01", () => "0.01");
    expect(out).toMatchObject({ status: "charged_off", fees: [], rate_changes: [], charge_off: null });
  });

  it("unpaid for 120 days: a late fee per missed installment, then a charge-off on the threshold day, with the fees in it", () => {
    const cfg = config({ grace_period_days: 10, fees: [{ fee_type: "late", calculation: "flat", amount: "25.00" }] });
    const out = closeLoan(input(openLoan(installmentTerms), cfg), "2025-06-01", () => null);
    // installments due 02-01 … 05-01 are past grace on 06-01; 06-01 itself is not
    expect(out.fees.map((f) => f.for_installment)).toEqual(["1:2025-02-01", "2:2025-03-01", "3:2025-04-01", "4:2025-05-01"]);
    expect(out.days_past_due).toBe(120);
    expect(out.status).toBe("charged_off");
    expect(out.charge_off!.components.fees).toBe("100.00");
  });
});
