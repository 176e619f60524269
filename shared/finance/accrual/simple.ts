/** DESIGN §3 `simple`: interest = b · r · yf(start, end); periodic rate r/12. */
import { Decimal } from "../decimal";
import type { DayCount } from "../daycount";
import type { AccrualMethod, SpanAccruer } from "./types";

export function simpleSpanAccruer(annualRate: Decimal, dc: DayCount): SpanAccruer {
  if (annualRate.isZero()) return () => new Decimal(0);
  // r · numerator is exact (integer times a finite decimal), so memoising it loses nothing.
  const rateTimesDays = new Map<number, Decimal>();
  return (balance, start, end) => {
    const { numerator, denominator } = dc.yearFractionRatio(start, end);
    let rn = rateTimesDays.get(numerator);
    if (rn === undefined) {
      rn = annualRate.times(numerator);
      rateTimesDays.set(numerator, rn);
    }
    return balance.times(rn).div(denominator);
  };
}

export const simple: AccrualMethod = {
  name: "simple",
  precomputed: false,
  periodicRate: (annualRate) => annualRate.div(12),
  spanAccruer: simpleSpanAccruer,
};
