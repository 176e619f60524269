/**
 * A portfolio's first_transaction_date / first_cash_flow_date (seed 004, DESIGN.md §5), kept up
 * to date from its member loans' ledger changes and from membership changes, through the seed's
 * algorithm in shared/finance/portfolio/firstDates.ts. Where the seed says "find new", the
 * caller supplies the member loans' ledgers after the change (`members`, read lazily: only a
 * removed minimum costs a read).
 */
import {
  firstDatesFromTransactions,
  onLoanAdded,
  onLoanRemoved,
  onTransactionBooked,
  onTransactionDeleted,
  onTransactionRebooked,
  type FirstDates,
  type FirstDatesUpdate,
  type LedgerTransaction,
} from "../finance/portfolio/firstDates";
import type { LedgerChange } from "./loan-projection";

export type PortfolioDatesChange =
  | { kind: "ledger"; change: LedgerChange }
  | { kind: "loan_added"; loan: FirstDates }
  | { kind: "loan_removed"; loan: FirstDates };

/** Step one: the seed's algorithm, which may ask for a recomputation. */
export function portfolioDatesStep(current: FirstDates, change: PortfolioDatesChange): FirstDatesUpdate {
  if (change.kind === "loan_added") return onLoanAdded(current, change.loan);
  if (change.kind === "loan_removed") return onLoanRemoved(current, change.loan);
  const c = change.change;
  if (c.kind === "book") return onTransactionBooked(current, c.entry);
  if (c.kind === "delete") return onTransactionDeleted(current, c.entry);
  return onTransactionRebooked(current, { old_trade_date: c.old_trade_date, new_trade_date: c.new_trade_date, transaction_class: c.transaction_class });
}

/** Both steps: the new dates, reading the members' ledgers only when the seed says "find new". */
export async function nextPortfolioDates(
  current: FirstDates,
  change: PortfolioDatesChange,
  members: () => Promise<readonly LedgerTransaction[]>,
): Promise<FirstDates> {
  const step = portfolioDatesStep(current, change);
  if (!step.recompute.first_transaction_date && !step.recompute.first_cash_flow_date) {
    return { first_transaction_date: step.first_transaction_date, first_cash_flow_date: step.first_cash_flow_date };
  }
  const fresh = firstDatesFromTransactions(await members());
  return {
    first_transaction_date: step.recompute.first_transaction_date ? fresh.first_transaction_date : step.first_transaction_date,
    first_cash_flow_date: step.recompute.first_cash_flow_date ? fresh.first_cash_flow_date : step.first_cash_flow_date,
  };
}

/** Several loans joining at once (the daily auto-assign): folded without any read. */
export function datesWithLoansAdded(current: FirstDates, loans: readonly FirstDates[]): FirstDates {
  let out: FirstDates = current;
  for (const loan of loans) {
    const u = onLoanAdded(out, loan);
    out = { first_transaction_date: u.first_transaction_date, first_cash_flow_date: u.first_cash_flow_date };
  }
  return out;
}
