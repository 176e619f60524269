/**
 * DESIGN §3 `compound_monthly`: interest = b · ((1 + r/12)^(12·yf) − 1); periodic rate r/12.
 * A regular 30/360 month has 12·yf = 1 exactly; odd periods and actual day counts give a
 * fractional exponent, computed to 34 digits.
 */
import { Decimal, ONE } from "../decimal";
import type { AccrualMethod, SpanAccruer } from "./types";

export const compoundMonthly: AccrualMethod = {
  name: "compound_monthly",
  precomputed: false,
  periodicRate: (annualRate) => annualRate.div(12),
  spanAccruer(annualRate, dc): SpanAccruer {
    if (annualRate.isZero()) return () => new Decimal(0);
    const growth = ONE.plus(annualRate.div(12));
    const factors = new Map<string, Decimal>();
    return (balance, start, end) => {
      const { numerator, denominator } = dc.yearFractionRatio(start, end);
      const key = numerator + "/" + denominator;
      let f = factors.get(key);
      if (f === undefined) {
        const months = 12 * numerator;
        // integer exponents use exact repeated squaring; only odd periods need exp/ln
        const exponent = months % denominator === 0 ? months / denominator : new Decimal(months).div(denominator);
        f = growth.pow(exponent).minus(ONE);
        factors.set(key, f);
      }
      return balance.times(f);
    };
  },
};
