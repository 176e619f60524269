/**
 * DESIGN §3 accrual methods: the interest of one span, hand-computed, and the rounding step
 * (cents, half-up, once per span).
 */
import { accruedInterestBetween, roundMoney, Decimal, ruleOf78FinanceCharge, ruleOf78PeriodInterest, ruleOf78Rebate, levelPayment } from "../../../shared/finance";
import type { AccrualMethodName, DayCountConventionName } from "../../../shared/finance";

const accrue = (balance: string, rate: string, start: string, end: string, day_count_convention: DayCountConventionName, accrual_method: AccrualMethodName) =>
  accruedInterestBetween({ balance, annual_rate: rate, start, end, day_count_convention, accrual_method });

describe("roundMoney: cents, half-up", () => {
  test.each([
    ["0.005", "0.01"],
    ["0.015", "0.02"],
    ["2.345", "2.35"],
    ["2.3449999", "2.34"],
    ["-2.345", "-2.35"],
    ["100", "100"],
  ])("%s → %s", (x, y) => expect(roundMoney(new Decimal(x)).toString()).toBe(y));
});

describe("simple: b · r · yf", () => {
  test("10,000.00 at 12 % for a 30/360 month: 10000 × 0.12 × 30/360 = 100.00", () => {
    expect(accrue("10000.00", "0.12", "2026-01-01", "2026-02-01", "30_360", "simple")).toBe("100.00");
  });
  test("1,000.00 at 5 % for 31 actual days /365: 1000 × 0.05 × 31/365 = 4.24657… → 4.25", () => {
    expect(accrue("1000.00", "0.05", "2026-01-01", "2026-02-01", "actual_365", "simple")).toBe("4.25");
  });
  test("an exact half cent rounds up: 1000 × 0.009 × 1/360 = 0.025 → 0.03 (banker's rounding would give 0.02)", () => {
    expect(accrue("1000.00", "0.009", "2026-01-01", "2026-01-02", "actual_360", "simple")).toBe("0.03");
  });
  test("actual/360 charges more than actual/365 for the same days: 100,000 × 0.06 × 31/360 = 516.666… → 516.67", () => {
    expect(accrue("100000.00", "0.06", "2026-01-01", "2026-02-01", "actual_360", "simple")).toBe("516.67");
  });
  test("ISDA across a year end: 10,000 × 0.10 × (17/365 + 14/366) = 84.8267… → 84.83", () => {
    expect(accrue("10000.00", "0.10", "2023-12-15", "2024-01-15", "actual_actual", "simple")).toBe("84.83");
  });
  test("zero rate, zero balance and an empty span accrue nothing", () => {
    expect(accrue("10000.00", "0", "2026-01-01", "2026-12-31", "actual_365", "simple")).toBe("0.00");
    expect(accrue("0.00", "0.1", "2026-01-01", "2026-12-31", "actual_365", "simple")).toBe("0.00");
    expect(accrue("10000.00", "0.1", "2026-01-01", "2026-01-01", "actual_365", "simple")).toBe("0.00");
  });
});

describe("compound_daily: b · ((1 + r/B)^d − 1)", () => {
  test("100,000 at 3.65 % actual/365 over 31 days: (1.0001^31 − 1) × 100000 = 310.4654… → 310.47", () => {
    expect(accrue("100000.00", "0.0365", "2026-01-01", "2026-02-01", "actual_365", "compound_daily")).toBe("310.47");
  });
  test("B = 360 and 30/360 days under 30_360: 10,000 × ((1 + 0.06/360)^30 − 1) = 50.1210… → 50.12", () => {
    expect(accrue("10000.00", "0.06", "2026-03-01", "2026-04-01", "30_360", "compound_daily")).toBe("50.12");
  });
  test("d counts 30/360 days, not actual: Jan 31 → Mar 1 is 29 actual days but 30·2 + (1 − 30) = 31 days; 10,000 × ((1+0.06/360)^31 − 1) = 51.7960… → 51.80", () => {
    expect(accrue("10000.00", "0.06", "2026-01-31", "2026-03-01", "30_360", "compound_daily")).toBe("51.80");
    // the same dates on actual/360: 29 days → 10,000 × ((1+0.06/360)^29 − 1) = 48.4462… → 48.45
    expect(accrue("10000.00", "0.06", "2026-01-31", "2026-03-01", "actual_360", "compound_daily")).toBe("48.45");
  });
  test("compounding beats simple over a year: 10,000 at 10 % actual/365, 365 days: (1+0.1/365)^365 − 1 = 0.105155… → 1051.56", () => {
    expect(accrue("10000.00", "0.10", "2025-01-01", "2026-01-01", "actual_365", "compound_daily")).toBe("1051.56");
  });
});

describe("compound_monthly: b · ((1 + r/12)^(12·yf) − 1)", () => {
  test("a regular 30/360 month is one compounding period: 10,000 × 0.01 = 100.00", () => {
    expect(accrue("10000.00", "0.12", "2026-01-01", "2026-02-01", "30_360", "compound_monthly")).toBe("100.00");
  });
  test("an odd 46-day 30/360 period: 12·46/360 = 1.5333 periods, 10,000 × (1.01^1.5333 − 1) = 153.7415… → 153.74", () => {
    expect(accrue("10000.00", "0.12", "2026-01-15", "2026-03-01", "30_360", "compound_monthly")).toBe("153.74");
  });
  test("a year of 12 months: 10,000 × (1.01^12 − 1) = 1268.2503 → 1268.25", () => {
    expect(accrue("10000.00", "0.12", "2026-01-01", "2027-01-01", "30_360", "compound_monthly")).toBe("1268.25");
  });
});

describe("rule_of_78: sum-of-digits shares of the finance charge", () => {
  // 12 months, 1,000.00 at 12 %: payment = round(1000 × 0.01 / (1 − 1.01^−12)) = 88.85;
  // F = 12 × 88.85 − 1000 = 66.20; the digits sum to 12·13/2 = 78.
  const payment = levelPayment(new Decimal("1000.00"), new Decimal("0.01"), 12);
  const F = ruleOf78FinanceCharge(new Decimal("1000.00"), payment, 12);
  test("payment 88.85, F = 66.20", () => {
    expect(payment.toFixed(2)).toBe("88.85");
    expect(F.toFixed(2)).toBe("66.20");
  });
  test("period 1 earns 12/78 of F = 10.1846… → 10.18; period 12 earns 1/78 = 0.8487… → 0.85", () => {
    expect(ruleOf78PeriodInterest(F, 12, 1).toFixed(2)).toBe("10.18");
    expect(ruleOf78PeriodInterest(F, 12, 12).toFixed(2)).toBe("0.85");
  });
  test("rebate with 8 periods unexpired: F × (8·9/2)/78 = 66.20 × 36/78 = 30.5538… → 30.55", () => {
    expect(ruleOf78Rebate(F, 12, 8).toFixed(2)).toBe("30.55");
  });
  test("day accrual outside the term is simple", () => {
    expect(accrue("10000.00", "0.12", "2026-01-01", "2026-02-01", "30_360", "rule_of_78")).toBe("100.00");
  });
});
