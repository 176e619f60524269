/**
 * Interest of a span of constant balance (DESIGN §3 "interest of period k on opening balance b"),
 * shared by schedule generation and servicing so both produce the same cents: a payment made on
 * its due date leaves exactly the scheduled interest.
 *
 * Rounding: one round to cents per span of constant balance and rate. Without promotions a span
 * is a whole period (the DESIGN formula verbatim); a promotion that starts or ends inside a
 * period splits it at that date, and each part is rounded on its own.
 */
import type { AccrualMethod, SpanAccruer } from "./accrual";
import type { CivilDate } from "./dates";
import type { DayCount } from "./daycount";
import { Decimal, ZERO } from "./decimal";
import { chargedRateOf, deferredRateOf, promotionCovering, type ActivePromotion } from "./promotions";
import { roundMoney } from "./rounding";

export interface SpanInterest {
  /** Interest charged, in cents. */
  charged: Decimal;
  /** Interest deferred by a deferred_interest promotion, in cents, and that promotion. */
  deferred: Decimal;
  deferredPromo: ActivePromotion | null;
}

export type InterestCalculator = (balance: Decimal, start: CivilDate, end: CivilDate) => SpanInterest;

/** Builds the interest calculator of one loan: its method, day count, contract rate and promotions. */
export function interestCalculator(
  method: AccrualMethod,
  dc: DayCount,
  contractRate: Decimal,
  promos: readonly ActivePromotion[],
): InterestCalculator {
  const accruers = new Map<string, SpanAccruer>();
  const accruerAt = (rate: Decimal): SpanAccruer => {
    const key = rate.toString();
    let a = accruers.get(key);
    if (!a) {
      a = method.spanAccruer(rate, dc);
      accruers.set(key, a);
    }
    return a;
  };
  const contract = accruerAt(contractRate);

  if (promos.length === 0) {
    return (balance, start, end) => ({
      charged: end.n > start.n && !balance.isZero() ? roundMoney(contract(balance, start, end)) : ZERO,
      deferred: ZERO,
      deferredPromo: null,
    });
  }

  return (balance, start, end) => {
    let charged = ZERO;
    let deferred = ZERO;
    let deferredPromo: ActivePromotion | null = null;
    if (end.n <= start.n || balance.isZero()) return { charged, deferred, deferredPromo };
    for (const [s, e] of splitAtPromotionDates(promos, start, end)) {
      const promo = promotionCovering(promos, s, e);
      const rate = chargedRateOf(promo, contractRate);
      if (!rate.isZero()) charged = charged.plus(roundMoney(accruerAt(rate)(balance, s, e)));
      const dRate = deferredRateOf(promo, contractRate);
      if (dRate && !dRate.isZero()) {
        deferred = deferred.plus(roundMoney(accruerAt(dRate)(balance, s, e)));
        deferredPromo = promo;
      }
    }
    return { charged, deferred, deferredPromo };
  };
}

/** [start, end) cut at every promotion start and end date strictly inside it. */
export function splitAtPromotionDates(promos: readonly ActivePromotion[], start: CivilDate, end: CivilDate): [CivilDate, CivilDate][] {
  const cuts: CivilDate[] = [];
  for (const p of promos) {
    for (const d of [p.start, p.end]) if (d.n > start.n && d.n < end.n) cuts.push(d);
  }
  if (cuts.length === 0) return [[start, end]];
  cuts.sort((a, b) => a.n - b.n);
  const out: [CivilDate, CivilDate][] = [];
  let from = start;
  for (const c of cuts) {
    if (c.n === from.n) continue;
    out.push([from, c]);
    from = c;
  }
  out.push([from, end]);
  return out;
}

/** The interest a lone calculation needs: `accruedInterestBetween` of the public API. */
export function spanInterest(method: AccrualMethod, dc: DayCount, rate: Decimal, balance: Decimal, start: CivilDate, end: CivilDate): Decimal {
  if (end.n <= start.n || balance.isZero() || rate.isZero()) return new Decimal(0);
  return roundMoney(method.spanAccruer(rate, dc)(balance, start, end));
}
