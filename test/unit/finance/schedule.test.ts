/**
 * DESIGN §3 schedules with hand-checked rows. Working beside each value; "r(x)" is rounding to
 * cents half-up.
 */
import DecimalJs from "decimal.js";
import { generateSchedule, FinanceInputError, type LoanTerms, type ScheduleRow } from "../../../shared/finance";
import { REFERENCE_TERMS } from "./arbitraries";

const D = DecimalJs.clone({ precision: 34, rounding: DecimalJs.ROUND_HALF_UP });
const sum = (rows: ScheduleRow[], k: keyof ScheduleRow) => rows.reduce((s, r) => s.plus(r[k] as string), new D(0)).toFixed(2);

const base: LoanTerms = REFERENCE_TERMS;

describe("level payment (simple, 30/360)", () => {
  const rows = generateSchedule(base);
  test("payment = r(10000 × 0.01 / (1 − 1.01^−12)) = r(888.4878…) = 888.49", () => {
    expect(rows).toHaveLength(12);
    expect(rows.slice(0, 11).every((r) => r.payment === "888.49")).toBe(true);
  });
  test("row 1: interest 10000 × 0.12 × 30/360 = 100.00; principal 788.49; balance 9211.51", () => {
    expect(rows[0]).toMatchObject({ number: 1, due_date: "2026-02-01", payment: "888.49", interest: "100.00", principal: "788.49", balance: "9211.51", negative_amortization: "0.00" });
  });
  test("row 2: interest r(9211.51 × 0.01) = r(92.1151) = 92.12; principal 796.37; balance 8415.14", () => {
    expect(rows[1]).toMatchObject({ interest: "92.12", principal: "796.37", balance: "8415.14" });
  });
  test("last row pays balance + interest: 879.67 + r(8.7967) = 888.47, ending at 0.00", () => {
    expect(rows[11]).toMatchObject({ due_date: "2027-01-01", payment: "888.47", interest: "8.80", principal: "879.67", balance: "0.00" });
  });
  test("Σ principal = 10000.00; Σ interest = 11 × 888.49 + 888.47 − 10000 = 661.86", () => {
    expect(sum(rows, "principal")).toBe("10000.00");
    expect(sum(rows, "interest")).toBe("661.86");
  });
});

describe("odd first period accrues its real days", () => {
  test("30/360, disbursed Jan 15, first due Mar 1: 30·2 + (1 − 15) = 46 days → 10000 × 0.12 × 46/360 = 153.333… → 153.33", () => {
    const rows = generateSchedule({ ...base, disbursement_date: "2026-01-15", first_payment_date: "2026-03-01" });
    expect(rows[0]).toMatchObject({ payment: "888.49", interest: "153.33", principal: "735.16", balance: "9264.84" });
  });
  test("actual/365, disbursed Jan 15, first due Mar 1: 16 + 28 + 1 = 45 days → 10000 × 0.12 × 45/365 = 147.945… → 147.95", () => {
    const rows = generateSchedule({ ...base, day_count_convention: "actual_365", disbursement_date: "2026-01-15", first_payment_date: "2026-03-01" });
    expect(rows[0].interest).toBe("147.95");
  });
  test("a short first period of 10 days on actual/360: 10000 × 0.12 × 10/360 = 33.333… → 33.33", () => {
    const rows = generateSchedule({ ...base, day_count_convention: "actual_360", disbursement_date: "2026-01-22", first_payment_date: "2026-02-01" });
    expect(rows[0].interest).toBe("33.33");
    expect(rows[rows.length - 1].balance).toBe("0.00");
  });
});

describe("31st-of-month and end-of-February due dates", () => {
  // 12,000.00 at 6 %, 3 months, 30/360, disbursed Dec 31, first due Jan 31.
  // payment = r(12000 × 0.005 / (1 − 1.005^−3)) = r(4040.066…) = 4040.07
  const rows = generateSchedule({ ...base, principal: "12000.00", annual_rate: "0.06", term_months: 3, disbursement_date: "2025-12-31", first_payment_date: "2026-01-31" });
  test("due dates keep the 31st, clamped to Feb 28 and back to Mar 31", () => {
    expect(rows.map((r) => r.due_date)).toEqual(["2026-01-31", "2026-02-28", "2026-03-31"]);
  });
  test("Dec 31 → Jan 31 is 30 days (D1 31→30, D2 31→30): 12000 × 0.06 × 30/360 = 60.00", () => {
    expect(rows[0]).toMatchObject({ payment: "4040.07", interest: "60.00", principal: "3980.07", balance: "8019.93" });
  });
  test("Jan 31 → Feb 28 is 28 days (D1 31→30: 30 + 28 − 30): 8019.93 × 0.06 × 28/360 = 37.426… → 37.43", () => {
    expect(rows[1]).toMatchObject({ interest: "37.43", principal: "4002.64", balance: "4017.29" });
  });
  test("Feb 28 → Mar 31 is 30 days (Feb end: D1→30, then D2 31→30): 4017.29 × 0.005 = 20.086… → 20.09; last pays 4037.38", () => {
    expect(rows[2]).toMatchObject({ interest: "20.09", payment: "4037.38", principal: "4017.29", balance: "0.00" });
  });
  test("a 31st anchor keeps the 29th of February in a leap year", () => {
    const leap = generateSchedule({ ...base, term_months: 4, disbursement_date: "2027-12-31", first_payment_date: "2028-01-31" });
    expect(leap.map((r) => r.due_date)).toEqual(["2028-01-31", "2028-02-29", "2028-03-31", "2028-04-30"]);
  });
});

describe("leap years", () => {
  test("actual/365 counts Feb 2028 as 29 days: 10000 × 0.12 × 29/365 = 95.342… → 95.34", () => {
    const rows = generateSchedule({ ...base, day_count_convention: "actual_365", disbursement_date: "2028-02-01", first_payment_date: "2028-03-01" });
    expect(rows[0].interest).toBe("95.34");
  });
  test("actual/actual ISDA counts Feb 2028 as 29/366: 10000 × 0.12 × 29/366 = 95.081… → 95.08", () => {
    const rows = generateSchedule({ ...base, day_count_convention: "actual_actual", disbursement_date: "2028-02-01", first_payment_date: "2028-03-01" });
    expect(rows[0].interest).toBe("95.08");
  });
  test("actual/actual across a year end: Dec 15 2027 → Jan 15 2028: 10000 × 0.12 × (17/365 + 14/366) = 101.79…", () => {
    // 17/365 = 0.046575342, 14/366 = 0.038251366; sum 0.084826708 × 1200 = 101.792 → 101.79
    const rows = generateSchedule({ ...base, day_count_convention: "actual_actual", disbursement_date: "2027-12-15", first_payment_date: "2028-01-15" });
    expect(rows[0].interest).toBe("101.79");
  });
});

describe("zero rate and one period", () => {
  test("zero rate: payment = r(1000/3) = 333.33; the last pays 333.34; no interest", () => {
    const rows = generateSchedule({ ...base, principal: "1000.00", annual_rate: "0", term_months: 3 });
    expect(rows.map((r) => [r.payment, r.interest, r.balance])).toEqual([
      ["333.33", "0.00", "666.67"],
      ["333.33", "0.00", "333.34"],
      ["333.34", "0.00", "0.00"],
    ]);
  });
  test("one period: payment = r(5000 × 0.005 / (1 − 1.005^−1)) = 5025.00 = 5000 + 25.00 interest", () => {
    const rows = generateSchedule({ ...base, principal: "5000.00", annual_rate: "0.06", term_months: 1 });
    expect(rows).toEqual([expect.objectContaining({ number: 1, payment: "5025.00", interest: "25.00", principal: "5000.00", balance: "0.00" })]);
  });
  test("a tiny loan whose rounded payment would overpay stops at 0.00 early", () => {
    // payment = r(0.10 / 12) = 0.01 → ten rows pay the ten cents
    const rows = generateSchedule({ ...base, principal: "0.10", annual_rate: "0", term_months: 12 });
    expect(rows).toHaveLength(10);
    expect(rows[9].balance).toBe("0.00");
  });
});

describe("interest-only months and balloon", () => {
  test("3 interest-only months then level over the remaining 9: payment r(10000 × 0.01/(1 − 1.01^−9)) = r(1167.403…) = 1167.40", () => {
    const rows = generateSchedule({ ...base, interest_only_months: 3 });
    expect(rows.slice(0, 3).map((r) => [r.payment, r.principal, r.balance, r.interest_only])).toEqual([
      ["100.00", "0.00", "10000.00", true],
      ["100.00", "0.00", "10000.00", true],
      ["100.00", "0.00", "10000.00", true],
    ]);
    expect(rows[3]).toMatchObject({ payment: "1167.40", interest: "100.00", principal: "1067.40", interest_only: false });
    expect(rows[11].balance).toBe("0.00");
  });
  test("balloon: 12 payments computed over 36 months; payment r(10000 × 0.01/(1 − 1.01^−36)) = 332.14; row 12 pays the rest", () => {
    const rows = generateSchedule({ ...base, balloon_amortization_months: 36 });
    expect(rows[0].payment).toBe("332.14");
    const last = rows[11];
    expect(new D(last.payment).gt(6000)).toBe(true);
    expect(new D(last.payment).toFixed(2)).toBe(new D(rows[10].balance).plus(last.interest).toFixed(2));
    expect(last.balance).toBe("0.00");
  });
  test("interest-only then balloon: amortised over A − m = 33 months: r(10000 × 0.01/(1 − 1.01^−33)) = 357.27", () => {
    const rows = generateSchedule({ ...base, interest_only_months: 3, balloon_amortization_months: 36 });
    expect(rows[3].payment).toBe("357.27");
    expect(rows[11]).toMatchObject({ payment: "7947.02", balance: "0.00" });
  });
});

describe("graduated: stepped payments, solved first payment, negative amortisation", () => {
  // 100,000.00 at 9 %, 120 months, 30/360, +20 % every 12 months. Interest of row 1 is
  // 100000 × 0.09 × 30/360 = 750.00; the textbook first payment P / Σ 1.2^⌊j/12⌋·1.0075^−(j+1)
  // is about 556, below it.
  const N = 120;
  const STEP = "1.2";
  const terms: LoanTerms = { ...base, principal: "100000.00", annual_rate: "0.09", term_months: N, graduated_step_percent: "0.20", graduated_step_months: 12 };
  const rows = generateSchedule(terms);
  const p1 = new D(rows[0].payment);
  test("row 1 pays less than its 750.00 interest: the shortfall is added to the balance and shown", () => {
    expect(rows[0].interest).toBe("750.00");
    expect(p1.lt(750)).toBe(true);
    expect(rows[0].negative_amortization).toBe(new D(750).minus(p1).toFixed(2));
    expect(rows[0].principal).toBe(p1.minus(750).toFixed(2));
    expect(rows[0].balance).toBe(new D(100000).plus(750).minus(p1).toFixed(2));
  });
  test("payments step by 20 % every 12 months, each rounded: r(p1 × 1.2^s)", () => {
    expect(p1.gt(540) && p1.lt(570)).toBe(true);
    for (let k = 0; k < N - 1; k++) {
      const expected = p1.times(new D(STEP).pow(Math.floor(k / 12))).toDecimalPlaces(2, D.ROUND_HALF_UP).toFixed(2);
      expect(rows[k].payment).toBe(expected);
    }
  });
  test("the final balance is 0.00 and Σ principal = principal despite negative principal rows", () => {
    expect(rows[N - 1].balance).toBe("0.00");
    expect(sum(rows, "principal")).toBe("100000.00");
    expect(rows.filter((r) => r.negative_amortization !== "0.00").length).toBeGreaterThan(12);
  });
  test("p1 is the cent that brings the last payment closest to its stepped amount (checked by an independent 30/360 simulation)", () => {
    // independent: regular 30/360 months, interest r(b × 0.0075), stepped payments r(p1·1.2^s)
    const gap = (first: DecimalJs) => {
      let b = new D(100000);
      for (let k = 0; k < N - 1; k++) {
        const pay = first.times(new D(STEP).pow(Math.floor(k / 12))).toDecimalPlaces(2, D.ROUND_HALF_UP);
        b = b.minus(pay.minus(b.times("0.0075").toDecimalPlaces(2, D.ROUND_HALF_UP)));
      }
      const last = b.plus(b.times("0.0075").toDecimalPlaces(2, D.ROUND_HALF_UP));
      return last.minus(first.times(new D(STEP).pow(Math.floor((N - 1) / 12))).toDecimalPlaces(2, D.ROUND_HALF_UP)).abs();
    };
    expect(gap(p1).lte(gap(p1.plus("0.01")))).toBe(true);
    expect(gap(p1).lte(gap(p1.minus("0.01")))).toBe(true);
    // here one cent of p1 moves the last payment by about 4.20, so 2872.64 against the stepped
    // 2871.06 (a gap of 1.58) is as close as whole cents allow
    expect(rows[N - 1].payment).toBe("2872.64");
    expect(rows[N - 2].payment).toBe("2871.06");
  });
});

describe("rule of 78 schedule", () => {
  // 1,000.00 at 12 %, 12 months: payment 88.85, F = 66.20, interest_k = r(66.20 × (13 − k)/78)
  const rows = generateSchedule({ ...base, principal: "1000.00", accrual_method: "rule_of_78" });
  test("row 1 interest r(66.20 × 12/78) = 10.18, row 6 r(66.20 × 7/78) = 5.94, row 12 r(66.20/78) = 0.85", () => {
    expect(rows[0]).toMatchObject({ payment: "88.85", interest: "10.18", principal: "78.67" });
    expect(rows[5].interest).toBe("5.94");
    expect(rows[11].interest).toBe("0.85");
    expect(rows[11].balance).toBe("0.00");
  });
  test("front-loaded: more interest early than the actuarial schedule (10.18 > 10.00)", () => {
    const actuarial = generateSchedule({ ...base, principal: "1000.00" });
    expect(actuarial[0].interest).toBe("10.00");
  });
});

describe("lease: payment in arrears with residual", () => {
  // C = 10,000.00, R = 4,000.00, i = 1 %, n = 12:
  // rent = r((10000 − 4000/1.01^12) × 0.01 / (1 − 1.01^−12)) = r(6450.20… × 0.088849) = 573.09
  const rows = generateSchedule({ ...base, program_type: "lease", residual_value: "4000.00" });
  test("rent 573.09; row 1 interest r(10000 × 0.01) = 100.00; the balance ends at the residual exactly", () => {
    expect(rows[0]).toMatchObject({ payment: "573.09", interest: "100.00", principal: "473.09", balance: "9526.91" });
    expect(rows[11].balance).toBe("4000.00");
    expect(sum(rows, "principal")).toBe("6000.00");
  });
  test("zero residual reduces to the level payment; zero rate to (C − R)/n", () => {
    expect(generateSchedule({ ...base, program_type: "lease" })[0].payment).toBe("888.49");
    expect(generateSchedule({ ...base, program_type: "lease", annual_rate: "0", residual_value: "4000.00" })[0].payment).toBe("500.00");
  });
});

describe("line of credit projection", () => {
  test("minimum = interest + max(2 % of balance, 25.00): 100.00 + 200.00; the last month pays in full", () => {
    const rows = generateSchedule({ ...base, program_type: "line_of_credit", credit_limit: "20000.00" });
    expect(rows[0]).toMatchObject({ payment: "300.00", interest: "100.00", principal: "200.00", balance: "9800.00" });
    expect(rows[11].balance).toBe("0.00");
  });
  test("the floor binds on a small balance and the minimum is capped at the balance", () => {
    const rows = generateSchedule({ ...base, program_type: "line_of_credit", principal: "500.00", credit_limit: "1000.00", min_payment_floor: "300.00", term_months: 3 });
    // row 1: 2 % of 500 = 10 < floor 300 → 300 principal + r(500 × 0.01) = 5.00 interest
    expect(rows[0]).toMatchObject({ principal: "300.00", interest: "5.00", balance: "200.00" });
    // row 2: floor 300 > balance 200 → capped at 200; the balance reaches 0.00 and the projection ends
    expect(rows[1]).toMatchObject({ principal: "200.00", interest: "2.00", balance: "0.00" });
    expect(rows).toHaveLength(2);
  });
});

describe("promotions", () => {
  test("deferred interest: nothing charged inside; charged back in the first row after the end when unpaid", () => {
    const rows = generateSchedule({
      ...base,
      promotions: [{ promo_type: "deferred_interest", start_date: "2026-01-01", end_date: "2026-07-01", deferred_interest_rate: "0.24", min_payment_type: "fixed", min_payment_amount: "500.00" }],
    });
    // rows 1–6 pay 500.00 of principal; deferred per row = r(b × 0.24 × 30/360) = 2 % of b: 200, 190, …, 150
    expect(rows.slice(0, 6).map((r) => [r.payment, r.interest, r.deferred_interest])).toEqual([
      ["500.00", "0.00", "200.00"],
      ["500.00", "0.00", "190.00"],
      ["500.00", "0.00", "180.00"],
      ["500.00", "0.00", "170.00"],
      ["500.00", "0.00", "160.00"],
      ["500.00", "0.00", "150.00"],
    ]);
    // row 7: balance 7000 still owed at Jul 1 → charge back 200+…+150 = 1050.00, plus r(7000 × 0.01) = 70.00
    // and re-amortise 7000 + 1050 over 6 months at 1 %: r(8050 × 0.01/(1 − 1.01^−6)) = 1389.01
    expect(rows[6]).toMatchObject({ deferred_interest_charged: "1050.00", interest: "1120.00", payment: "1389.01" });
    expect(rows[11].balance).toBe("0.00");
    expect(sum(rows, "principal")).toBe("10000.00");
  });
  test("deferred interest paid in full inside the promotion is never charged", () => {
    const rows = generateSchedule({
      ...base,
      term_months: 6,
      promotions: [{ promo_type: "deferred_interest", start_date: "2026-01-01", end_date: "2026-12-31", deferred_interest_rate: "0.24" }],
    });
    expect(rows.every((r) => r.interest === "0.00" && r.deferred_interest_charged === "0.00")).toBe(true);
    // level at the charged rate 0 %: r(10000/6) = 1666.67
    expect(rows[0].payment).toBe("1666.67");
  });
  test("zero interest for 3 months, then re-amortised at the contract rate over the remaining 9", () => {
    const rows = generateSchedule({ ...base, promotions: [{ promo_type: "zero_interest", start_date: "2026-01-01", end_date: "2026-04-01" }] });
    // inside: r(10000/12) = 833.33 of principal; after: r(7500.01 × 0.01/(1 − 1.01^−9)) = r(875.5533…) = 875.55
    expect(rows.slice(0, 3).map((r) => [r.payment, r.interest])).toEqual([["833.33", "0.00"], ["833.33", "0.00"], ["833.33", "0.00"]]);
    expect(rows[3]).toMatchObject({ interest: "75.00", rate: "0.12" });
    expect(rows[3].payment).toBe("875.55");
  });
  test("reduced APR charges the promotional rate: 6 % → row 1 interest 10000 × 0.06/12 = 50.00", () => {
    const rows = generateSchedule({ ...base, promotions: [{ promo_type: "reduced_apr", apr: "0.06", start_date: "2026-01-01", end_date: "2026-04-01" }] });
    expect(rows[0]).toMatchObject({ interest: "50.00", rate: "0.06" });
  });
  test("a promotion ending mid-period splits that period: Jan 1–16 at 0 %, Jan 16–Feb 1 at 12 %: 10000 × 0.12 × 15/360 = 50.00", () => {
    const rows = generateSchedule({ ...base, promotions: [{ promo_type: "zero_interest", start_date: "2026-01-01", end_date: "2026-01-16" }] });
    expect(rows[0].interest).toBe("50.00");
  });
  test("skip payment: nothing due inside, the interest capitalises (negative amortisation), then re-amortised", () => {
    const rows = generateSchedule({ ...base, promotions: [{ promo_type: "skip_payment", start_date: "2026-01-01", end_date: "2026-03-01" }] });
    expect(rows.slice(0, 2).map((r) => [r.payment, r.interest, r.negative_amortization, r.balance])).toEqual([
      ["0.00", "100.00", "100.00", "10100.00"],
      ["0.00", "101.00", "101.00", "10201.00"],
    ]);
    // r(10201 × 0.01 / (1 − 1.01^−10)) = 1077.04
    expect(rows[2].payment).toBe("1077.04");
  });
  test("skip payment with an interest-only minimum, and a percent-of-balance minimum", () => {
    const io = generateSchedule({ ...base, promotions: [{ promo_type: "skip_payment", start_date: "2026-01-01", end_date: "2026-03-01", min_payment_type: "interest_only" }] });
    expect(io[0]).toMatchObject({ payment: "100.00", interest_only: true, balance: "10000.00" });
    const pct = generateSchedule({ ...base, promotions: [{ promo_type: "skip_payment", start_date: "2026-01-01", end_date: "2026-03-01", min_payment_type: "percent_of_balance", min_payment_amount: "0.015" }] });
    // r(10000 × 0.015) = 150.00 against 100.00 interest
    expect(pct[0]).toMatchObject({ payment: "150.00", principal: "50.00" });
  });
});

describe("terms are checked", () => {
  const bad = (t: Partial<LoanTerms>, field: RegExp) => expect(() => generateSchedule({ ...base, ...t } as LoanTerms)).toThrow(field);
  test("dates, amounts, enumerations, combinations", () => {
    bad({ first_payment_date: "2026-01-01" }, /first_payment_date/);
    bad({ principal: "100.001" }, /at most 2 decimals/);
    bad({ principal: 100 as unknown as string }, /decimal string/);
    bad({ annual_rate: "-0.01" }, /must not be negative/);
    bad({ term_months: 0 }, /term_months/);
    bad({ accrual_method: "daily" as never }, /accrual_method/);
    bad({ program_type: "mortgage" as never }, /program_type/);
    bad({ accrual_method: "rule_of_78", interest_only_months: 2 }, /rule_of_78/);
    bad({ balloon_amortization_months: 12 }, /balloon_amortization_months/);
    bad({ graduated_step_percent: "0.05" }, /graduated/);
    bad({ residual_value: "100.00" }, /leases only/);
    bad({ program_type: "lease", residual_value: "20000.00" }, /residual_value/);
    bad({ promotions: [{ promo_type: "reduced_apr", start_date: "2026-01-01", end_date: "2026-02-01" }] }, /apr/);
    expect(() => generateSchedule({ ...base, term_months: 0 })).toThrow(FinanceInputError);
  });
});
