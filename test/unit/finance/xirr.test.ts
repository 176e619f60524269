/**
 * DESIGN §4 XIRR: Σ amount_j / (1+x)^((date_j − date_0)/365) = 0. Roots are checked exactly: the
 * NPV, computed here in 40-digit decimals, changes sign between root − 1e-9 and root + 1e-9.
 */
import DecimalJs from "decimal.js";
import fc from "fast-check";
import { FinanceInputError, xirr } from "../../../shared/finance";
import { dayOfIso, isoOfDay } from "./arbitraries";

const D = DecimalJs.clone({ precision: 40 });
type Flow = { date: string; amount: string };

/** NPV at x, flows summed per day first (same root, far fewer powers). */
function npv(flows: Flow[], x: DecimalJs): DecimalJs {
  const byDay = new Map<number, DecimalJs>();
  for (const f of flows) {
    const d = dayOfIso(f.date);
    byDay.set(d, (byDay.get(d) ?? new D(0)).plus(f.amount));
  }
  const d0 = Math.min(...byDay.keys());
  let sum = new D(0);
  for (const [d, a] of byDay) sum = sum.plus(a.div(x.plus(1).pow(new D(d - d0).div(365))));
  return sum;
}

function expectRootWithin(flows: Flow[], root: DecimalJs | null, h = "1e-9"): void {
  expect(root).not.toBeNull();
  const x = new D(root!.toString());
  const lo = npv(flows, x.minus(h));
  const hi = npv(flows, x.plus(h));
  expect(lo.isZero() || hi.isZero() || lo.isNegative() !== hi.isNegative()).toBe(true);
}

describe("xirr", () => {
  test("one year of 10 % over a leap year: 1.1^(365/366) − 1 = 0.0997135859…", () => {
    const flows = [{ date: "2020-01-01", amount: "-1000" }, { date: "2021-01-01", amount: "1100" }];
    const x = xirr(flows)!;
    expect(Math.abs(x.toNumber() - (Math.pow(1.1, 365 / 366) - 1))).toBeLessThan(1e-12);
    expectRootWithin(flows, x);
  });

  test("ordinary flows: within 1e-9 of the root", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: dayOfIso("2010-01-01"), max: dayOfIso("2030-01-01") }),
        fc.array(fc.record({ gap: fc.integer({ min: 1, max: 120 }), cents: fc.integer({ min: 1, max: 50_000_00 }) }), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1_000_00, max: 1_000_000_00 }),
        (start, returns, invest) => {
          let day = start;
          const flows: Flow[] = [{ date: isoOfDay(day), amount: (-invest / 100).toFixed(2) }];
          for (const r of returns) flows.push({ date: isoOfDay((day += r.gap)), amount: (r.cents / 100).toFixed(2) });
          const x = xirr(flows);
          if (x !== null && x.abs().lte(10)) expectRootWithin(flows, x);
        },
      ),
      { numRuns: 200 },
    );
  });

  test("hundreds of thousands of flows: 300,000 (10,000 loans × 30 payments)", () => {
    const flows: Flow[] = [];
    const base = dayOfIso("2015-01-01");
    for (let loan = 0; loan < 10_000; loan++) {
      const start = base + (loan % 200);
      flows.push({ date: isoOfDay(start), amount: "-1000.00" });
      for (let k = 1; k < 30; k++) flows.push({ date: isoOfDay(start + 30 * k), amount: "37.50" });
    }
    expect(flows).toHaveLength(300_000);
    // Speed is the bench's job (npm run bench -- finance); a timed assertion fails on a busy machine.
    const x = xirr(flows);
    expectRootWithin(flows, x);
    expect(x!.toNumber()).toBeGreaterThan(0.05);
  });

  test("very negative rates: 1,000 out, 0.01 back a year later → 0.00001 − 1 = −0.99999", () => {
    const flows = [{ date: "2025-01-01", amount: "-1000.00" }, { date: "2026-01-01", amount: "0.01" }];
    const x = xirr(flows)!;
    expect(Math.abs(x.toNumber() - (1e-5 - 1))).toBeLessThan(1e-12);
    expectRootWithin(flows, x, "1e-12");
  });

  test("a root within 1e-16 of −100 % is still above −100 % (found by fast-check)", () => {
    // +0.29 then −0.04 nineteen days later: (1+x)^(19/365) = 0.04/0.29 → x = 7.25^(−365/19) − 1 ≈ −1 + 3e-17,
    // which a double rounds to −1
    const x = xirr([{ date: "1990-01-01", amount: "0.29" }, { date: "1990-01-20", amount: "-0.04" }])!;
    expect(x.gt(-1)).toBe(true);
    expect(x.plus(1).toNumber() / Math.pow(7.25, -365 / 19)).toBeCloseTo(1, 9);
  });

  test("very high rates: 1.00 out, 1,000,000.00 back a year later → 999,999", () => {
    const flows = [{ date: "2025-01-01", amount: "-1.00" }, { date: "2026-01-01", amount: "1000000.00" }];
    expect(Math.abs(xirr(flows)!.toNumber() / 999999 - 1)).toBeLessThan(1e-12);
    // a 3 % gain in one day: 1.03^365 − 1 ≈ 48,482.7
    const day = xirr([{ date: "2025-01-01", amount: "-100" }, { date: "2025-01-02", amount: "103" }])!;
    expect(Math.abs(day.toNumber() / (Math.pow(1.03, 365) - 1) - 1)).toBeLessThan(1e-10);
  });

  test("no root → null: one sign only, a single date, nothing, or an NPV that never crosses zero", () => {
    expect(xirr([])).toBeNull();
    expect(xirr([{ date: "2025-01-01", amount: "100" }, { date: "2026-01-01", amount: "50" }])).toBeNull();
    expect(xirr([{ date: "2025-01-01", amount: "-100" }, { date: "2026-01-01", amount: "-50" }])).toBeNull();
    expect(xirr([{ date: "2025-01-01", amount: "-100" }, { date: "2025-01-01", amount: "150" }])).toBeNull();
    expect(xirr([{ date: "2025-01-01", amount: "-100" }, { date: "2026-01-01", amount: "0" }])).toBeNull();
    // 100 − 50v + 100v² > 0 for every v = (1+x)^−1 > 0: no real root
    expect(xirr([{ date: "2024-01-01", amount: "100" }, { date: "2025-01-01", amount: "-50" }, { date: "2026-01-01", amount: "100" }])).toBeNull();
  });

  test("two sign changes: a root is returned and it is one", () => {
    // −100, +230, −132 yearly: roots 10 % and 20 % (v = 1/1.1, 1/1.2)
    const flows = [{ date: "2021-01-01", amount: "-100" }, { date: "2022-01-01", amount: "230" }, { date: "2023-01-01", amount: "-132" }];
    const x = xirr(flows)!;
    expect([0.1, 0.2].some((r) => Math.abs(x.toNumber() - r) < 1e-3)).toBe(true);
  });

  test("never throws or hangs on valid input: random amounts and dates", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            day: fc.integer({ min: dayOfIso("1990-01-01"), max: dayOfIso("2100-01-01") }),
            amount: fc.oneof(fc.integer({ min: -1_000_000_000_00, max: 1_000_000_000_00 }), fc.integer({ min: -5, max: 5 })),
          }),
          { maxLength: 50 },
        ),
        (raw) => {
          const flows = raw.map((r) => ({ date: isoOfDay(r.day), amount: (r.amount / 100).toFixed(2) }));
          const x = xirr(flows);
          if (x !== null) expect(x.isFinite() && x.gt(-1)).toBe(true);
        },
      ),
      { numRuns: 1000 },
    );
  });

  test("malformed input is refused, not guessed", () => {
    expect(() => xirr([{ date: "2025-13-01", amount: "1" }])).toThrow(FinanceInputError);
    expect(() => xirr([{ date: "2025-01-01", amount: "1e" }])).toThrow(FinanceInputError);
  });
});
