/**
 * Seed 004 / DESIGN §5: a portfolio's first_transaction_date (earliest trade date of any booked
 * transaction of its loans) and first_cash_flow_date (earliest among cash inflows and outflows:
 * payments and disbursements), maintained on book, rebook and delete exactly as the seed's
 * algorithm says. Where the algorithm says "find new", these pure functions cannot see the ledger:
 * they return the current value with a `recompute` flag, and the caller runs
 * `firstDatesFromTransactions` over the remaining ledger (or passes it in as `ledger`).
 */
import { parseIsoDate, type IsoDate } from "../dates";
import { FinanceInputError } from "../errors";

/** Seed 004 base transaction class. */
export type TransactionClass = "cash_inflow" | "cash_outflow" | "other";

export interface FirstDates {
  first_transaction_date: IsoDate | null;
  first_cash_flow_date: IsoDate | null;
}

export interface LedgerTransaction {
  trade_date: IsoDate;
  transaction_class: TransactionClass;
}

export interface FirstDatesUpdate extends FirstDates {
  /** Which dates must be found anew from the ledger (seed 004 "find new ..."). */
  recompute: { first_transaction_date: boolean; first_cash_flow_date: boolean };
}

const CLASSES: TransactionClass[] = ["cash_inflow", "cash_outflow", "other"];

function isCash(c: TransactionClass): boolean {
  if (!CLASSES.includes(c)) throw new FinanceInputError(`unknown transaction_class '${c}'`, "transaction_class", c);
  return c === "cash_inflow" || c === "cash_outflow";
}

function day(d: IsoDate, field: string): number {
  return parseIsoDate(d, field).n;
}

/** `date < current`, where an unset (null) current date is later than every date. */
function before(date: IsoDate, current: IsoDate | null): boolean {
  return current === null || day(date, "trade_date") < day(current, "current");
}

function same(date: IsoDate, current: IsoDate | null): boolean {
  return current !== null && day(date, "trade_date") === day(current, "current");
}

function finish(update: FirstDatesUpdate, ledger: readonly LedgerTransaction[] | undefined): FirstDatesUpdate {
  if (!ledger || (!update.recompute.first_transaction_date && !update.recompute.first_cash_flow_date)) return update;
  const fresh = firstDatesFromTransactions(ledger);
  return {
    first_transaction_date: update.recompute.first_transaction_date ? fresh.first_transaction_date : update.first_transaction_date,
    first_cash_flow_date: update.recompute.first_cash_flow_date ? fresh.first_cash_flow_date : update.first_cash_flow_date,
    recompute: { first_transaction_date: false, first_cash_flow_date: false },
  };
}

/** Seed 004 "find new": the dates from a whole ledger. */
export function firstDatesFromTransactions(ledger: readonly LedgerTransaction[]): FirstDates {
  let txDay = Infinity;
  let cashDay = Infinity;
  let first_transaction_date: IsoDate | null = null;
  let first_cash_flow_date: IsoDate | null = null;
  for (let i = 0; i < ledger.length; i++) {
    const t = ledger[i];
    const n = day(t.trade_date, `ledger[${i}].trade_date`);
    if (n < txDay) {
      txDay = n;
      first_transaction_date = t.trade_date;
    }
    if (isCash(t.transaction_class) && n < cashDay) {
      cashDay = n;
      first_cash_flow_date = t.trade_date;
    }
  }
  return { first_transaction_date, first_cash_flow_date };
}

/** Seed 004 step 2.1, Book. */
export function onTransactionBooked(current: FirstDates, tx: LedgerTransaction): FirstDatesUpdate {
  const out: FirstDatesUpdate = { ...current, recompute: { first_transaction_date: false, first_cash_flow_date: false } };
  if (isCash(tx.transaction_class) && before(tx.trade_date, current.first_cash_flow_date)) out.first_cash_flow_date = tx.trade_date;
  if (before(tx.trade_date, current.first_transaction_date)) out.first_transaction_date = tx.trade_date;
  return out;
}

/**
 * Seed 004 step 2.2, Rebook: a new trade date before the first date becomes it; otherwise, if the
 * old trade date was the first date, the first date must be found anew. `ledger`, when given, is
 * the ledger after the rebook.
 */
export function onTransactionRebooked(
  current: FirstDates,
  tx: { old_trade_date: IsoDate; new_trade_date: IsoDate; transaction_class: TransactionClass },
  ledger?: readonly LedgerTransaction[],
): FirstDatesUpdate {
  const out: FirstDatesUpdate = { ...current, recompute: { first_transaction_date: false, first_cash_flow_date: false } };
  if (isCash(tx.transaction_class)) {
    if (before(tx.new_trade_date, current.first_cash_flow_date)) out.first_cash_flow_date = tx.new_trade_date;
    else if (same(tx.old_trade_date, current.first_cash_flow_date)) out.recompute.first_cash_flow_date = true;
  }
  if (before(tx.new_trade_date, current.first_transaction_date)) out.first_transaction_date = tx.new_trade_date;
  else if (same(tx.old_trade_date, current.first_transaction_date)) out.recompute.first_transaction_date = true;
  return finish(out, ledger);
}

/** Seed 004 step 2.3, Delete. `ledger`, when given, is the ledger after the deletion. */
export function onTransactionDeleted(current: FirstDates, tx: LedgerTransaction, ledger?: readonly LedgerTransaction[]): FirstDatesUpdate {
  const out: FirstDatesUpdate = { ...current, recompute: { first_transaction_date: false, first_cash_flow_date: false } };
  if (isCash(tx.transaction_class) && same(tx.trade_date, current.first_cash_flow_date)) out.recompute.first_cash_flow_date = true;
  if (same(tx.trade_date, current.first_transaction_date)) out.recompute.first_transaction_date = true;
  return finish(out, ledger);
}

/** DESIGN §5 membership: a loan joining a portfolio books its first dates into the portfolio's. */
export function onLoanAdded(current: FirstDates, loan: FirstDates): FirstDatesUpdate {
  const out: FirstDatesUpdate = { ...current, recompute: { first_transaction_date: false, first_cash_flow_date: false } };
  if (loan.first_cash_flow_date && before(loan.first_cash_flow_date, current.first_cash_flow_date)) out.first_cash_flow_date = loan.first_cash_flow_date;
  if (loan.first_transaction_date && before(loan.first_transaction_date, current.first_transaction_date)) out.first_transaction_date = loan.first_transaction_date;
  return out;
}

/** DESIGN §5 membership: a loan leaving holding a first date means the date must be found anew. */
export function onLoanRemoved(current: FirstDates, loan: FirstDates, ledger?: readonly LedgerTransaction[]): FirstDatesUpdate {
  const out: FirstDatesUpdate = { ...current, recompute: { first_transaction_date: false, first_cash_flow_date: false } };
  if (loan.first_cash_flow_date && same(loan.first_cash_flow_date, current.first_cash_flow_date)) out.recompute.first_cash_flow_date = true;
  if (loan.first_transaction_date && same(loan.first_transaction_date, current.first_transaction_date)) out.recompute.first_transaction_date = true;
  return finish(out, ledger);
}
