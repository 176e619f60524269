import Decimal from "decimal.js";
import fc from "fast-check";
import { splitPriceByBalance } from "../../../shared/portfolios/price-split";

const cents = (s: string) => Number(s.replace(".", ""));

describe("splitPriceByBalance", () => {
  it("splits by balance, the leftover cent to the largest remainder", () => {
    const parts = splitPriceByBalance("100.00", [
      { loan_id: "a", balance: "1.00" },
      { loan_id: "b", balance: "1.00" },
      { loan_id: "c", balance: "1.00" },
    ]);
    // 33.333… each: one cent left over, to the first of three equal remainders.
    expect(parts.map((p) => p.purchase_price)).toEqual(["33.34", "33.33", "33.33"]);
  });

  it("refuses a price that is not whole cents, and zero balances", () => {
    expect(() => splitPriceByBalance("1.005", [{ loan_id: "a", balance: "1" }])).toThrow(/cents/);
    expect(() => splitPriceByBalance("1.00", [{ loan_id: "a", balance: "0.00" }])).toThrow(/positive/);
  });

  it("sums exactly to the price and keeps every part within a cent of its exact share (property)", () => {
    const balance = fc.integer({ min: 1, max: 5_000_000_00 }).map((c) => new Decimal(c).div(100).toFixed(2));
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000_000_000_00 }), fc.array(balance, { minLength: 1, maxLength: 60 }), (priceCents, balances) => {
        const price = new Decimal(priceCents).div(100).toFixed(2);
        const loans = balances.map((b, i) => ({ loan_id: `L${i}`, balance: b }));
        const parts = splitPriceByBalance(price, loans);
        expect(parts.map((p) => p.loan_id)).toEqual(loans.map((l) => l.loan_id));
        expect(parts.reduce((s, p) => s + cents(p.purchase_price), 0)).toBe(priceCents);
        const total = balances.reduce((s, b) => s.plus(b), new Decimal(0));
        parts.forEach((p, i) => {
          const exact = new Decimal(priceCents).times(balances[i]).div(total);
          expect(exact.minus(cents(p.purchase_price)).abs().lt(1)).toBe(true);
          expect(p.purchase_price).toMatch(/^\d+\.\d{2}$/);
        });
      }),
      { numRuns: 400 },
    );
  });
});
