/**
 * DESIGN §3 `compound_daily`: interest = b · ((1 + r/B)^d − 1), d the period's days (30/360 days
 * under 30_360, actual days otherwise), B = 360 for actual_360 and 30_360, 365 otherwise.
 * Periodic rate for the level payment: i = (1 + r/B)^(B/12) − 1.
 */
import { Decimal, ONE } from "../decimal";
import type { DayCount } from "../daycount";
import type { AccrualMethod, SpanAccruer } from "./types";

function dailyGrowth(annualRate: Decimal, dc: DayCount): Decimal {
  return ONE.plus(annualRate.div(dc.compoundingBasis));
}

export const compoundDaily: AccrualMethod = {
  name: "compound_daily",
  precomputed: false,
  periodicRate(annualRate, dc) {
    if (annualRate.isZero()) return new Decimal(0);
    return dailyGrowth(annualRate, dc).pow(new Decimal(dc.compoundingBasis).div(12)).minus(ONE);
  },
  spanAccruer(annualRate, dc): SpanAccruer {
    if (annualRate.isZero()) return () => new Decimal(0);
    const growth = dailyGrowth(annualRate, dc);
    const factors = new Map<number, Decimal>();
    return (balance, start, end) => {
      const d = dc.days(start, end);
      let f = factors.get(d);
      if (f === undefined) {
        f = growth.pow(d).minus(ONE);
        factors.set(d, f);
      }
      return balance.times(f);
    };
  },
};
