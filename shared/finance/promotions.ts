/**
 * Promotions on a loan (seed 003 Promotional Programs; DESIGN §3 payoff rule for deferred
 * interest). A promotion changes the rate charged on the days from start_date to end_date, and
 * the payment due on due dates in (start_date, end_date]:
 * - reduced_apr: interest at `apr`;
 * - zero_interest: no interest;
 * - deferred_interest: no interest charged; interest accrues aside at deferred_interest_rate and
 *   is charged back when the balance is not paid in full by end_date, waived when it is;
 * - skip_payment: interest at the loan's rate, payments per the minimum payment rule (none by default).
 * Outside a minimum payment rule, a rate-changing promotion re-amortises the balance at its rate
 * (like any rate change, DESIGN §3 variable rate).
 */
import { parseIsoDate, type CivilDate } from "./dates";
import { Decimal, toMoney, toRate, ZERO } from "./decimal";
import { FinanceInputError } from "./errors";
import { roundMoney } from "./rounding";
import type { MinPaymentType, Promotion, PromotionState, PromoType } from "./types";

const PROMO_TYPES: PromoType[] = ["deferred_interest", "reduced_apr", "zero_interest", "skip_payment"];
const MIN_PAYMENT_TYPES: MinPaymentType[] = ["none", "interest_only", "fixed", "percent_of_balance"];

export interface ActivePromotion {
  readonly index: number;
  readonly promo_type: PromoType;
  readonly start: CivilDate;
  readonly end: CivilDate;
  readonly apr: Decimal | null;
  readonly deferredRate: Decimal | null;
  readonly minPaymentType: MinPaymentType | null;
  readonly minPaymentAmount: Decimal | null;
}

const present = <T>(v: T | null | undefined): v is T => v !== undefined && v !== null && (v as unknown) !== "";

export function parsePromotion(p: Promotion | PromotionState, index: number): ActivePromotion {
  const at = `promotions[${index}]`;
  if (!PROMO_TYPES.includes(p.promo_type)) throw new FinanceInputError(`unknown promo_type '${p.promo_type}'`, `${at}.promo_type`, p.promo_type);
  const start = parseIsoDate(p.start_date, `${at}.start_date`);
  const end = parseIsoDate(p.end_date, `${at}.end_date`);
  if (end.n < start.n) throw new FinanceInputError(`'${at}.end_date' is before its start_date`, `${at}.end_date`, p.end_date);
  const minType = present(p.min_payment_type) ? p.min_payment_type : p.promo_type === "skip_payment" ? "none" : null;
  if (minType !== null && !MIN_PAYMENT_TYPES.includes(minType)) {
    throw new FinanceInputError(`unknown min_payment_type '${minType}'`, `${at}.min_payment_type`, minType);
  }
  let minAmount: Decimal | null = null;
  if (minType === "fixed") {
    if (!present(p.min_payment_amount)) throw new FinanceInputError(`'${at}.min_payment_amount' is required for fixed`, `${at}.min_payment_amount`);
    minAmount = toMoney(p.min_payment_amount, `${at}.min_payment_amount`);
  } else if (minType === "percent_of_balance") {
    if (!present(p.min_payment_amount)) throw new FinanceInputError(`'${at}.min_payment_amount' is required for percent_of_balance`, `${at}.min_payment_amount`);
    minAmount = toRate(p.min_payment_amount, `${at}.min_payment_amount`);
  }
  if (p.promo_type === "reduced_apr" && !present(p.apr)) throw new FinanceInputError(`'${at}.apr' is required for reduced_apr`, `${at}.apr`);
  return {
    index,
    promo_type: p.promo_type,
    start,
    end,
    apr: present(p.apr) ? toRate(p.apr, `${at}.apr`) : null,
    deferredRate: present(p.deferred_interest_rate) ? toRate(p.deferred_interest_rate, `${at}.deferred_interest_rate`) : null,
    minPaymentType: minType,
    minPaymentAmount: minAmount,
  };
}

/** Parses and checks a loan's promotions: they may not overlap (one rate per day). */
export function parsePromotions(list: readonly (Promotion | PromotionState)[] | null | undefined): ActivePromotion[] {
  const parsed = (list ?? []).map(parsePromotion).sort((a, b) => a.start.n - b.start.n);
  for (let k = 1; k < parsed.length; k++) {
    if (parsed[k].start.n < parsed[k - 1].end.n) {
      throw new FinanceInputError("promotions on one loan may not overlap", `promotions[${parsed[k].index}].start_date`);
    }
  }
  return parsed;
}

/** The annual rate charged inside the promotion. */
export function chargedRateOf(promo: ActivePromotion | null, contractRate: Decimal): Decimal {
  if (!promo) return contractRate;
  switch (promo.promo_type) {
    case "reduced_apr":
      return promo.apr ?? contractRate;
    case "zero_interest":
    case "deferred_interest":
      return ZERO;
    case "skip_payment":
      return contractRate;
  }
}

/** The rate deferred interest accrues at, or null when the promotion defers nothing. */
export function deferredRateOf(promo: ActivePromotion | null, contractRate: Decimal): Decimal | null {
  if (!promo || promo.promo_type !== "deferred_interest") return null;
  return promo.deferredRate ?? contractRate;
}

/** The promotion governing the payment due on `due`: start < due ≤ end. */
export function promotionForDueDate(promos: readonly ActivePromotion[], due: CivilDate): ActivePromotion | null {
  for (const p of promos) if (p.start.n < due.n && due.n <= p.end.n) return p;
  return null;
}

/** The promotion covering the whole span [start, end), if any (spans are split at promotion dates). */
export function promotionCovering(promos: readonly ActivePromotion[], start: CivilDate, end: CivilDate): ActivePromotion | null {
  for (const p of promos) if (p.start.n <= start.n && end.n <= p.end.n) return p;
  return null;
}

/**
 * Minimum payment inside a promotion (seed 003 min_payment_type / min_payment_amount), capped at
 * what would pay the loan off (opening balance + the period's interest).
 */
export function promotionalMinimumPayment(promo: ActivePromotion, openingBalance: Decimal, interest: Decimal): Decimal {
  const payoff = openingBalance.plus(interest);
  let amount: Decimal;
  switch (promo.minPaymentType) {
    case "interest_only":
      amount = interest;
      break;
    case "fixed":
      amount = promo.minPaymentAmount!;
      break;
    case "percent_of_balance":
      amount = roundMoney(openingBalance.times(promo.minPaymentAmount!));
      break;
    default:
      amount = ZERO;
  }
  return amount.lte(payoff) ? amount : payoff;
}

export function promotionStateOf(p: Promotion): PromotionState {
  const a = parsePromotion(p, 0);
  return {
    promo_type: a.promo_type,
    start_date: p.start_date,
    end_date: p.end_date,
    apr: a.apr ? a.apr.toString() : null,
    deferred_interest_rate: a.deferredRate ? a.deferredRate.toString() : null,
    min_payment_type: a.minPaymentType,
    min_payment_amount: a.minPaymentAmount ? a.minPaymentAmount.toString() : null,
    deferred_interest: "0.00",
    resolution: "pending",
  };
}
