/**
 * The amortisation loop of DESIGN §3 shared by installment loans (level, interest-only, balloon,
 * graduated, promotions) and the line-of-credit projection. Each row:
 *   interest  = the period's interest on the opening balance (periodInterest.ts);
 *   payment   = by the row's rule (below); the last row pays balance + interest;
 *   principal = payment − interest (negative when the payment does not cover the interest:
 *               negative amortisation, shown per row); balance = opening balance − principal.
 * Payment rules, first match wins: last row; a promotion's minimum payment rule; interest-only
 * months; the line-of-credit minimum; the graduated step; otherwise the level payment, recomputed
 * (re-amortised over the remaining amortisation periods) whenever the rate regime changes.
 * No payment is larger than the balance plus interest, and a schedule whose balance reaches 0.00
 * early ends there.
 */
import type { AccrualMethod } from "../accrual";
import { levelPayment } from "../annuity";
import type { CivilDate } from "../dates";
import type { DayCount } from "../daycount";
import { Decimal, ZERO } from "../decimal";
import type { InterestCalculator } from "../periodInterest";
import { chargedRateOf, promotionalMinimumPayment, promotionForDueDate, type ActivePromotion } from "../promotions";
import { roundMoney } from "../rounding";
import { interestCalculator } from "../periodInterest";
import { monthlyDueDates } from "./dueDates";
import { scheduleRow, type RawRow } from "./rows";
import type { NormalizedTerms } from "./terms";

/**
 * The amortization of a loan's own terms: monthly dues from first_payment_date, interest by its
 * day count, accrual method and promotions. Schedules vary only the fields in `overrides`.
 */
export function amortizationInputFor(t: NormalizedTerms, overrides: Partial<AmortizationInput> = {}): AmortizationInput {
  return {
    principal: t.principal,
    start: t.disbursement,
    dues: monthlyDueDates(t.firstPayment, t.n),
    firstNumber: 1,
    interest: interestCalculator(t.method, t.dc, t.rate, t.promos),
    method: t.method,
    dc: t.dc,
    contractRate: t.rate,
    promos: t.promos,
    interestOnlyRows: 0,
    amortizationPeriods: t.n,
    ...overrides,
  };
}

export interface AmortizationInput {
  principal: Decimal;
  start: CivilDate;
  dues: readonly CivilDate[];
  firstNumber: number;
  interest: InterestCalculator;
  method: AccrualMethod;
  dc: DayCount;
  contractRate: Decimal;
  promos: readonly ActivePromotion[];
  /** Rows (counted from the first) that pay interest only. */
  interestOnlyRows: number;
  /** Periods the level payment amortises over, counted from the first row (n, or A for a balloon). */
  amortizationPeriods: number;
  /** Graduated: the stepped payment of row k (1-based), already rounded. */
  graduatedPayment?: (row: number) => Decimal;
  /** Line of credit: minimum principal of a statement on the opening balance. */
  revolvingMinimum?: (openingBalance: Decimal) => Decimal;
  /**
   * Installments already set (projection of a loan in servicing): row k pays this, or its interest
   * when flagged interest-only. Takes precedence over every rule but the last row's.
   */
  fixedPayment?: (row: number) => { payment: Decimal; interestOnly: boolean };
  /** Interest accrued before `start` and not yet billed, charged with the first row. */
  carriedInterest?: Decimal;
  /** Deferred interest accrued before `start`, by promotion index. */
  deferredSoFar?: ReadonlyMap<number, Decimal>;
}

export interface AmortizationResult {
  rows: RawRow[];
  /** Deferred interest of promotions never charged back (paid in full before their end). */
  waivedDeferred: Decimal;
}

export function amortize(input: AmortizationInput): AmortizationResult {
  const { dues, promos, contractRate, method, dc } = input;
  const n = dues.length;
  const rows: RawRow[] = [];
  const deferredByPromo = new Map<number, Decimal>(input.deferredSoFar ?? []);
  const resolved = new Set<number>();
  const hasPromos = promos.length > 0;
  let balance = input.principal;
  let prev = input.start;
  let level: Decimal | null = null;
  let regime = -2;
  let carried = input.carriedInterest ?? ZERO;

  for (let k = 1; k <= n; k++) {
    const due = dues[k - 1];
    const isLast = k === n;
    const span = input.interest(balance, prev, due);
    let interest = carried.isZero() ? span.charged : span.charged.plus(carried);
    carried = ZERO;
    let chargedBack: Decimal | null = null;
    let promo: ActivePromotion | null = null;
    if (hasPromos) {
      if (span.deferredPromo) {
        const i = span.deferredPromo.index;
        deferredByPromo.set(i, (deferredByPromo.get(i) ?? ZERO).plus(span.deferred));
      }
      // DESIGN §3 / seed 003: deferred interest is charged back when the balance is not paid in
      // full by the promotion's end (the opening balance of the first row due after the end).
      for (const p of promos) {
        if (p.promo_type !== "deferred_interest" || resolved.has(p.index) || due.n <= p.end.n) continue;
        resolved.add(p.index);
        const total = deferredByPromo.get(p.index) ?? ZERO;
        if (balance.gt(0) && total.gt(0)) {
          chargedBack = (chargedBack ?? ZERO).plus(total);
          interest = interest.plus(total);
        }
      }
      promo = promotionForDueDate(promos, due);
    }
    const thisRegime = promo ? promo.index : -1;
    let payment: Decimal;
    let interestOnly = false;
    if (isLast) {
      payment = balance.plus(interest);
    } else if (input.fixedPayment) {
      const fixed = input.fixedPayment(k);
      interestOnly = fixed.interestOnly;
      payment = interestOnly ? interest : fixed.payment;
    } else if (promo && promo.minPaymentType) {
      payment = promotionalMinimumPayment(promo, balance, interest);
      interestOnly = promo.minPaymentType === "interest_only";
    } else if (k <= input.interestOnlyRows) {
      payment = interest;
      interestOnly = true;
    } else if (input.revolvingMinimum) {
      payment = interest.plus(input.revolvingMinimum(balance));
    } else if (input.graduatedPayment) {
      payment = input.graduatedPayment(k);
    } else {
      if (level === null || thisRegime !== regime || chargedBack !== null || k === input.interestOnlyRows + 1) {
        // DESIGN §3: level payment over the remaining amortisation periods at the regime's rate
        const rate = chargedRateOf(promo, contractRate);
        const remaining = Math.max(1, input.amortizationPeriods - (k - 1));
        level = levelPayment(chargedBack ? balance.plus(chargedBack) : balance, method.periodicRate(rate, dc), remaining);
      }
      payment = level;
    }
    regime = thisRegime;
    let principal = payment.minus(interest);
    if (principal.gt(balance)) {
      // never more than balance + interest: the schedule ends at exactly 0.00
      principal = balance;
      payment = balance.plus(interest);
    }
    balance = isLast ? ZERO : balance.minus(principal);
    rows.push(
      scheduleRow({
        number: input.firstNumber + k - 1,
        due,
        payment,
        principal,
        interest,
        balance,
        interestOnly,
        rate: hasPromos ? chargedRateOf(promo, contractRate) : contractRate,
        deferred: hasPromos ? span.deferred : null,
        deferredCharged: chargedBack,
      }),
    );
    prev = due;
    if (balance.isZero()) break;
  }
  let waivedDeferred = ZERO;
  for (const [i, total] of deferredByPromo) if (!resolved.has(i)) waivedDeferred = waivedDeferred.plus(total);
  return { rows, waivedDeferred };
}

/** DESIGN §3 line of credit minimum: max(percent of balance, floor), capped at the balance. */
export function revolvingMinimum(percent: Decimal, floor: Decimal): (balance: Decimal) => Decimal {
  return (balance) => {
    const byPercent = roundMoney(balance.times(percent));
    const minimum = byPercent.gte(floor) ? byPercent : floor;
    return minimum.lte(balance) ? minimum : balance;
  };
}
