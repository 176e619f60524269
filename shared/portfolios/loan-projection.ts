/**
 * The portfolios service's own picture of a loan (DESIGN.md §1: batch work runs on a projection
 * fed by events, never a call per loan), built by one pure `applyLoanEvent(state, event)`:
 *
 * - attributes and position are taken only from an event newer than the version held, so a late
 *   or redelivered event never winds a loan back;
 * - the ledger (booked transactions' trade dates and cash classes, for seed 004's first dates) is
 *   kept by transaction id, whatever the event's version: a book adds an id once, a reversal
 *   removes it for good (a late book of a reversed id stays out), a rebook moves it. So the
 *   ledger converges on the loans service's whatever order the events arrive in.
 *
 * The result says which ledger change happened (if any), which the service turns into the
 * portfolio's first-date maintenance (portfolio-dates.ts).
 */
import {
  LoanEvents,
  type CashClass,
  type LoanAttributes,
  type LoanCloseBatchEvent,
  type LoanPosition,
  type LoanTransaction,
  type LoanTransactionEvent,
} from "../contracts/loans";
import { firstDatesFromTransactions, type FirstDates, type TransactionClass } from "../finance/portfolio/firstDates";

export interface LedgerEntry {
  id: string;
  trade_date: string;
  transaction_class: TransactionClass;
}

export interface LoanProjection extends FirstDates {
  loan_id: string;
  /** The loan version whose attributes and state are held. */
  version: number;
  attributes: LoanAttributes;
  state: LoanPosition;
  /** Booked (not reversed) transactions. */
  ledger: LedgerEntry[];
  /** Ids reversed or rebooked away: never re-added by a late event. */
  retired: string[];
}

/** What happened to the ledger, in seed 004's words. */
export type LedgerChange =
  | { kind: "book"; entry: LedgerEntry }
  | { kind: "rebook"; old_trade_date: string; new_trade_date: string; transaction_class: TransactionClass }
  | { kind: "delete"; entry: LedgerEntry };

export interface ApplyResult {
  projection: LoanProjection;
  /** Attributes/state/version moved forward. */
  positionChanged: boolean;
  ledgerChange: LedgerChange | null;
}

export function transactionClass(cash: CashClass | undefined | null): TransactionClass {
  return cash === "cash_inflow" || cash === "cash_outflow" ? cash : "other";
}

function entryOf(tx: LoanTransaction, tradeDate = tx.trade_date): LedgerEntry {
  return { id: tx.id, trade_date: tradeDate, transaction_class: transactionClass(tx.cash_class) };
}

/** A loan position message: every loan event, or one loan of a close-of-business batch. */
export interface PositionMessage {
  loan_id: string;
  version: number;
  attributes: LoanAttributes;
  state: LoanPosition;
}

function withPosition(current: LoanProjection | null, msg: PositionMessage): { projection: LoanProjection; changed: boolean } {
  if (current && msg.version <= current.version) return { projection: current, changed: false };
  const base: LoanProjection = current ?? {
    loan_id: msg.loan_id,
    version: 0,
    attributes: msg.attributes,
    state: msg.state,
    ledger: [],
    retired: [],
    first_transaction_date: null,
    first_cash_flow_date: null,
  };
  return { projection: { ...base, version: msg.version, attributes: msg.attributes, state: msg.state }, changed: true };
}

function book(p: LoanProjection, entry: LedgerEntry): { projection: LoanProjection; change: LedgerChange | null } {
  if (p.retired.includes(entry.id) || p.ledger.some((e) => e.id === entry.id)) return { projection: p, change: null };
  return { projection: withLedger(p, [...p.ledger, entry], p.retired), change: { kind: "book", entry } };
}

function remove(p: LoanProjection, id: string): { projection: LoanProjection; change: LedgerChange | null } {
  const entry = p.ledger.find((e) => e.id === id);
  const retired = p.retired.includes(id) ? p.retired : [...p.retired, id];
  if (!entry) return { projection: { ...p, retired }, change: null };
  return { projection: withLedger(p, p.ledger.filter((e) => e.id !== id), retired), change: { kind: "delete", entry } };
}

function rebook(p: LoanProjection, tx: LoanTransaction, oldDate: string | null, newDate: string): { projection: LoanProjection; change: LedgerChange | null } {
  const oldId = tx.rebooked_from ?? tx.id;
  const old = p.ledger.find((e) => e.id === oldId);
  const entry = entryOf(tx, newDate);
  if (!old) return book(p, entry); // the original never reached us (or is already moved): just book the new date
  if (oldId === tx.id && old.trade_date === newDate) return { projection: p, change: null };
  const ledger = [...p.ledger.filter((e) => e.id !== oldId && e.id !== tx.id), entry];
  const retired = oldId !== tx.id && !p.retired.includes(oldId) ? [...p.retired, oldId] : p.retired;
  return {
    projection: withLedger(p, ledger, retired),
    change: { kind: "rebook", old_trade_date: oldDate ?? old.trade_date, new_trade_date: newDate, transaction_class: entry.transaction_class },
  };
}

function withLedger(p: LoanProjection, ledger: LedgerEntry[], retired: string[]): LoanProjection {
  return { ...p, ledger, retired, ...firstDatesFromTransactions(ledger) };
}

/**
 * Applies one loan event to the projection (null = never heard of the loan). Returns null when
 * the event changes nothing (stale and no ledger news), so the caller writes nothing.
 */
export function applyLoanEvent(current: LoanProjection | null, subject: string, payload: unknown): ApplyResult | null {
  if (subject === LoanEvents.closeBatch) throw new Error("applyLoanEvent: split a close batch with closeBatchMessages first");
  const event = payload as LoanTransactionEvent;
  const { projection: positioned, changed } = withPosition(current, event);
  let step: { projection: LoanProjection; change: LedgerChange | null } = { projection: positioned, change: null };
  if (subject === LoanEvents.disbursed) {
    const disbursement = (payload as { disbursement?: LoanTransaction }).disbursement;
    if (disbursement) step = book(positioned, entryOf(disbursement));
  } else if (subject === LoanEvents.transactionBooked && event.transaction) {
    if (event.transaction.status !== "reversed") step = book(positioned, entryOf(event.transaction));
  } else if (subject === LoanEvents.transactionReversed && event.transaction) {
    step = remove(positioned, event.transaction.id);
  } else if (subject === LoanEvents.transactionRebooked && event.transaction) {
    step = rebook(positioned, event.transaction, event.old_trade_date, event.new_trade_date ?? event.transaction.trade_date);
  }
  if (!changed && !step.change && step.projection === positioned) return null;
  return { projection: step.projection, positionChanged: changed, ledgerChange: step.change };
}

/** A close-of-business batch as one position message per loan. */
export function closeBatchMessages(batch: LoanCloseBatchEvent): PositionMessage[] {
  return batch.loans.map((l) => ({ loan_id: l.loan_id, version: l.version, attributes: l.attributes, state: l.state }));
}

/** One position message (a batch entry): null when stale. */
export function applyPosition(current: LoanProjection | null, msg: PositionMessage): LoanProjection | null {
  const { projection, changed } = withPosition(current, msg);
  return changed ? projection : null;
}
