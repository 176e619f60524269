/**
 * Writes a portfolio's maintained first dates (seed 004) after a change, through the pure
 * shared/portfolios/portfolio-dates.ts. The write is guarded by the portfolio's `dates_rev` and
 * retried on a lost race, so concurrent changes (an event and a static add) both land.
 */
import type { Model } from "mongoose";
import type { FirstDates, LedgerTransaction } from "../../shared/finance/portfolio/firstDates";
import { datesWithLoansAdded, nextPortfolioDates, type PortfolioDatesChange } from "../../shared/portfolios/portfolio-dates";

interface Deps {
  portfolios: Model<any>;
  loans: Model<any>;
  claims: Model<any>;
}

/** Every booked transaction of the portfolio's current members (seed 004's "find new"). */
export async function memberLedgers(deps: Deps, portfolioId: string): Promise<LedgerTransaction[]> {
  const ids = (await deps.claims.find({ portfolio_id: portfolioId }, { _id: 1 }).lean()).map((c: any) => c._id);
  if (!ids.length) return [];
  const docs = await deps.loans.find({ _id: { $in: ids } }, { ledger: 1 }).lean();
  return docs.flatMap((d: any) => (d.ledger ?? []) as LedgerTransaction[]);
}

async function guardedDatesWrite(portfolios: Model<any>, portfolioId: string, next: (current: FirstDates) => Promise<FirstDates>, extra: Record<string, unknown> = {}): Promise<void> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const p: any = await portfolios.findById(portfolioId, { first_transaction_date: 1, first_cash_flow_date: 1, dates_rev: 1 }).lean();
    if (!p) return;
    const current = { first_transaction_date: p.first_transaction_date ?? null, first_cash_flow_date: p.first_cash_flow_date ?? null };
    const dates = await next(current);
    // The portfolios collection is small: a guard beside _id costs little here.
    const res = await portfolios.updateOne({ _id: portfolioId, dates_rev: p.dates_rev ?? 0 }, { $set: dates, $inc: { dates_rev: 1, ...extra } });
    if (res.matchedCount) return;
  }
  throw new Error(`portfolio ${portfolioId}: first dates kept changing under 20 attempts`);
}

export function applyDatesChange(deps: Deps, portfolioId: string, change: PortfolioDatesChange): Promise<void> {
  return guardedDatesWrite(deps.portfolios, portfolioId, (current) => nextPortfolioDates(current, change, () => memberLedgers(deps, portfolioId)));
}

/** Many loans joined (the daily auto-assign): one write per portfolio, no ledger read. */
export function applyLoansAdded(portfolios: Model<any>, portfolioId: string, loans: readonly FirstDates[]): Promise<void> {
  return guardedDatesWrite(portfolios, portfolioId, async (current) => datesWithLoansAdded(current, loans), { members_rev: 1 });
}
