/**
 * A loan's state while one money operation runs on it: the wire `LoanState` parsed into Decimals
 * and day numbers, mutated by the operation, then written back as a new `LoanState`. Nothing here
 * touches the caller's object. Installments stay in wire form and are parsed one at a time (a
 * 30-year loan carries 360 of them; an operation usually bills one).
 */
import { accrualMethodFor, type AccrualMethod } from "../accrual";
import { formatIsoDate, parseIsoDate, type CivilDate } from "../dates";
import { dayCountFor, type DayCount } from "../daycount";
import { Decimal, toDecimal, toMoney, toRate, ZERO } from "../decimal";
import { FinanceInputError } from "../errors";
import { interestCalculator, type InterestCalculator } from "../periodInterest";
import { parsePromotion, type ActivePromotion } from "../promotions";
import { moneyString } from "../rounding";
import {
  DEFAULT_ALLOCATION_ORDER,
  type AllocationComponent,
  type DueItem,
  type Installment,
  type LoanState,
  type PromotionState,
} from "../types";

export interface WorkingDue {
  date: CivilDate;
  number: number | null;
  kind: DueItem["kind"];
  interest: Decimal;
  fees: Decimal;
  principal: Decimal;
  fee_type?: string;
}

export interface WorkingPromo {
  active: ActivePromotion;
  wire: PromotionState;
  deferred: Decimal;
  resolution: PromotionState["resolution"];
}

export interface ParsedInstallment {
  wire: Installment;
  due: CivilDate;
  payment: Decimal;
  interest: Decimal | null;
}

export interface Working {
  readonly source: LoanState;
  status: LoanState["status"];
  rate: Decimal;
  readonly dc: DayCount;
  readonly method: AccrualMethod;
  principal: Decimal;
  accrued: Decimal;
  credit: Decimal;
  prepaidInterest: Decimal;
  anchor: CivilDate;
  due: WorkingDue[];
  installments: readonly Installment[];
  next: number;
  previousDue: CivilDate;
  promos: WorkingPromo[];
  allocationOrder: readonly AllocationComponent[];
  lastStatement: CivilDate | null;
  calcCache: InterestCalculator | null;
  parsedCache: ParsedInstallment | null;
}

export function loadState(state: LoanState): Working {
  if (!state || typeof state !== "object") throw new FinanceInputError("a loan state is required", "state");
  const promos = (state.promotions ?? []).map((p, i) => ({
    active: parsePromotion(p, i),
    wire: p,
    deferred: toMoney(p.deferred_interest ?? "0", `promotions[${i}].deferred_interest`),
    resolution: p.resolution ?? "pending",
  }));
  return {
    source: state,
    status: state.status,
    rate: toRate(state.annual_rate, "annual_rate"),
    dc: dayCountFor(state.day_count_convention),
    method: accrualMethodFor(state.accrual_method),
    principal: toMoney(state.principal_balance, "principal_balance"),
    accrued: toMoney(state.accrued_interest, "accrued_interest"),
    credit: toMoney(state.credit_balance ?? "0", "credit_balance"),
    prepaidInterest: toMoney(state.prepaid_interest ?? "0", "prepaid_interest"),
    anchor: parseIsoDate(state.accrued_through, "accrued_through"),
    due: (state.due ?? []).map((d, i) => ({
      date: parseIsoDate(d.due_date, `due[${i}].due_date`),
      number: d.number ?? null,
      kind: d.kind ?? "installment",
      interest: toMoney(d.interest, `due[${i}].interest`),
      fees: toMoney(d.fees, `due[${i}].fees`),
      principal: toMoney(d.principal, `due[${i}].principal`),
      ...(d.fee_type ? { fee_type: d.fee_type } : {}),
    })),
    installments: state.installments ?? [],
    next: 0,
    previousDue: parseIsoDate(state.previous_due_date ?? state.disbursement_date, "previous_due_date"),
    promos,
    allocationOrder: state.payment_allocation_order ?? DEFAULT_ALLOCATION_ORDER,
    lastStatement: state.line_of_credit ? parseIsoDate(state.line_of_credit.last_statement_date, "line_of_credit.last_statement_date") : null,
    calcCache: null,
    parsedCache: null,
  };
}

/** The interest calculator for the loan's current rate and promotions (rebuilt after a rate change). */
export function calculatorOf(w: Working): InterestCalculator {
  if (!w.calcCache) {
    w.calcCache = interestCalculator(
      w.method,
      w.dc,
      w.rate,
      w.promos.map((p) => p.active),
    );
  }
  return w.calcCache;
}

export function setRate(w: Working, rate: Decimal): void {
  w.rate = rate;
  w.calcCache = null;
}

/** The next unbilled installment, parsed, or null when none is left. */
export function nextInstallment(w: Working): ParsedInstallment | null {
  if (w.next >= w.installments.length) return null;
  const wire = w.installments[w.next];
  if (w.parsedCache && w.parsedCache.wire === wire) return w.parsedCache;
  const at = `installments[${w.next}]`;
  const parsed: ParsedInstallment = {
    wire,
    due: parseIsoDate(wire.due_date, `${at}.due_date`),
    payment: toMoney(wire.payment, `${at}.payment`),
    interest: wire.interest !== undefined && wire.interest !== null ? toDecimal(wire.interest, `${at}.interest`) : null,
  };
  w.parsedCache = parsed;
  return parsed;
}

export function isLastInstallment(w: Working): boolean {
  return w.next === w.installments.length - 1;
}

/**
 * Rule of 78: the precomputed charge of the current period once the period has begun (DESIGN §3:
 * the rebate covers only periods not yet begun), less what was already paid ahead of the bill.
 */
export function earnedPrecomputedInterest(w: Working, date: CivilDate): Decimal {
  if (!w.method.precomputed || w.source.payment_plan === "lease") return ZERO;
  const inst = nextInstallment(w);
  if (!inst || !inst.interest || date.n <= w.previousDue.n) return ZERO;
  return inst.interest.minus(w.prepaidInterest);
}

/** Principal not yet billed: outstanding principal less billed principal still unpaid. */
export function unbilledPrincipal(w: Working): Decimal {
  let billed = ZERO;
  for (const d of w.due) billed = billed.plus(d.principal);
  return w.principal.minus(billed);
}

/** Inserts a due item keeping the list oldest first (stable for equal dates). */
export function addDue(w: Working, item: WorkingDue): void {
  let at = w.due.length;
  while (at > 0 && w.due[at - 1].date.n > item.date.n) at--;
  w.due.splice(at, 0, item);
}

export function saveState(w: Working): LoanState {
  const s = w.source;
  const out: LoanState = {
    ...s,
    status: w.status,
    annual_rate: w.rate.toString(),
    principal_balance: moneyString(w.principal),
    accrued_interest: moneyString(w.accrued),
    accrued_through: formatIsoDate(w.anchor),
    credit_balance: moneyString(w.credit),
    prepaid_interest: moneyString(w.prepaidInterest),
    due: w.due.map((d) => ({
      due_date: formatIsoDate(d.date),
      number: d.number,
      kind: d.kind,
      interest: moneyString(d.interest),
      fees: moneyString(d.fees),
      principal: moneyString(d.principal),
      ...(d.fee_type ? { fee_type: d.fee_type } : {}),
    })),
    installments: w.next === 0 ? w.installments.slice() : w.installments.slice(w.next),
    previous_due_date: formatIsoDate(w.previousDue),
    promotions: w.promos.map((p) => ({ ...p.wire, deferred_interest: moneyString(p.deferred), resolution: p.resolution })),
  };
  if (s.line_of_credit && w.lastStatement) {
    out.line_of_credit = { ...s.line_of_credit, last_statement_date: formatIsoDate(w.lastStatement) };
  }
  return out;
}
