/** Read-only interest figures for servicing jobs and snapshots (DESIGN §3 accrual, §4 interest_receivable). */
import { accrualMethodFor } from "../accrual";
import { addDays, formatIsoDate, parseIsoDate, type CivilDate } from "../dates";
import { dayCountFor } from "../daycount";
import { Decimal, toMoney, toRate, ZERO, type DecimalInput } from "../decimal";
import { spanInterest } from "../periodInterest";
import { moneyString } from "../rounding";
import type { AccrualMethodName, DayCountConventionName, IsoDate, LoanState } from "../types";
import { emptyLog, rollForward } from "./rollForward";
import { delinquencyOf, type DelinquencyStatus } from "./delinquency";
import { earnedPrecomputedInterest, loadState, saveState, type Working } from "./working";

/**
 * DESIGN §3 interest on a constant balance between two dates by day count and accrual method,
 * rounded once to cents (rule_of_78 has no day accrual: it accrues simple here).
 */
export function accruedInterestBetween(input: {
  balance: DecimalInput;
  annual_rate: DecimalInput;
  start: IsoDate;
  end: IsoDate;
  day_count_convention: DayCountConventionName;
  accrual_method: AccrualMethodName;
}): string {
  return moneyString(
    spanInterest(
      accrualMethodFor(input.accrual_method),
      dayCountFor(input.day_count_convention),
      toRate(input.annual_rate, "annual_rate"),
      toMoney(input.balance, "balance"),
      parseIsoDate(input.start, "start"),
      parseIsoDate(input.end, "end"),
    ),
  );
}

export interface InterestReceivable {
  date: IsoDate;
  /** Billed and unpaid interest. */
  billed: string;
  /** Accrued through the date, not yet billed (rule of 78: the begun period's charge). */
  unbilled: string;
  /** billed + unbilled: DESIGN §4 interest_receivable. */
  total: string;
  /** Deferred promotional interest accrued and not yet resolved (not receivable until charged back). */
  deferred_pending: string;
}

/** Interest receivable of a loan on a date (the state is rolled on a copy). */
export function interestReceivable(state: LoanState, date: IsoDate): InterestReceivable {
  const d = parseIsoDate(date, "date");
  const w = loadState(state);
  rollForward(w, d, emptyLog());
  return receivableOf(w, d);
}

/** interestReceivable of a working state already rolled to the date (read only). */
function receivableOf(w: Working, d: CivilDate): InterestReceivable {
  let billed = ZERO;
  for (const item of w.due) billed = billed.plus(item.interest);
  const unbilled = w.accrued.plus(earnedPrecomputedInterest(w, d));
  let deferred = ZERO;
  for (const p of w.promos) if (p.resolution === "pending") deferred = deferred.plus(p.deferred);
  return {
    date: formatIsoDate(d),
    billed: moneyString(billed),
    unbilled: moneyString(unbilled),
    total: moneyString(billed.plus(unbilled)),
    deferred_pending: moneyString(deferred),
  };
}

/**
 * The interest a daily accrual job posts for `date`: receivable(date) − receivable(date − 1).
 * Summed over days it equals what servicing closes at each balance change, because both come
 * from the same spans (a daily job must not close spans itself, or the cents would drift).
 */
export function dailyInterestAccrual(state: LoanState, date: IsoDate): string {
  const today = interestReceivable(state, date);
  const prevDate = formatIsoDate(addDays(parseIsoDate(date, "date"), -1));
  const anchor = parseIsoDate(state.accrued_through, "accrued_through");
  const yesterday = parseIsoDate(prevDate).n >= anchor.n ? interestReceivable(state, prevDate).total : null;
  if (yesterday === null) return today.unbilled;
  return moneyString(new Decimal(today.total).minus(yesterday));
}

/**
 * The state as it stands on `date`: interest accrued and installments billed through the date
 * (a copy; the loan's stored state is not changed). For read models that need several figures
 * of one date without rolling the loan once per figure.
 */
export function stateOn(state: LoanState, date: IsoDate): LoanState {
  const d = parseIsoDate(date, "date");
  const w = loadState(state);
  if (d.n > w.anchor.n) rollForward(w, d, emptyLog());
  return saveState(w);
}

export interface FiguresOn {
  /** stateOn(state, date). */
  state: LoanState;
  /** interestReceivable(stateOn(state, date), date). */
  receivable: InterestReceivable;
  /** delinquencyStatus(stateOn(state, date), date, gracePeriodDays, boundaries). */
  delinquency: DelinquencyStatus;
}

/**
 * The three figures a loan's position is made of, from ONE parsed copy of the state rolled once
 * — each exactly what the function it names gives (property-tested): the loans service computes
 * a position on every write, and parsing the state three times was most of a payment's CPU.
 * The date must not be before the state's last activity (a state is never rolled backwards).
 */
export function figuresOn(state: LoanState, date: IsoDate, gracePeriodDays = 0, boundaries?: readonly number[]): FiguresOn {
  const d = parseIsoDate(date, "date");
  const w = loadState(state);
  if (d.n > w.anchor.n) rollForward(w, d, emptyLog());
  const rolled = saveState(w);
  // What interestReceivable and delinquencyStatus each do first to the rolled state: nothing once
  // it is rolled to the date, kept so the figures are theirs whatever state comes in.
  rollForward(w, d, emptyLog());
  return { state: rolled, receivable: receivableOf(w, d), delinquency: delinquencyOf(w, d, gracePeriodDays, boundaries) };
}
