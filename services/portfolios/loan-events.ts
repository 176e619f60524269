/**
 * The thin consumer of the loans service's durable events (DESIGN.md §7): reads the loan's
 * projection, applies the pure `applyLoanEvent`, stores what it returns, then runs the portfolio
 * first-date step of any ledger change.
 *
 * Writes filter on `_id` alone (on the embedded server anything else scans 100,000 loans per
 * write). A concurrent writer (another instance handling the same loan) is caught by the write's
 * before-image: if its `prev` is not the one we computed from, we wrote over someone's result,
 * so we apply our event again on top of that before-image and write again. `applyLoanEvent` is
 * idempotent, so the loop converges on both events applied.
 *
 * The first-date step of a ledger change is queued on the loan's document in the same write
 * (`pending_dates`) and cleared after it ran, so a crash between the two writes is finished by
 * the redelivery (or the loan's next event), never lost.
 */
import type { Model } from "mongoose";
import { LoanEvents, type LoanCloseBatchEvent } from "../../shared/contracts/loans";
import type { DeliveredEvent } from "../../shared/events/bus";
import { criteriaDocument, criteriaView } from "../../shared/portfolios/criteria";
import { applyLoanEvent, applyPosition, closeBatchMessages, type LedgerChange, type LoanProjection } from "../../shared/portfolios/loan-projection";
import { applyDatesChange } from "./first-dates";

interface Models {
  portfolios: Model<any>;
  portfolio_loans: Model<any>;
  loan_claims: Model<any>;
}

type PendingDates = { key: string; portfolio_id: string; change: LedgerChange };

export function projectionOf(doc: any): LoanProjection | null {
  if (!doc) return null;
  return {
    loan_id: doc._id,
    version: doc.version,
    attributes: doc.attributes,
    state: doc.state,
    ledger: doc.ledger ?? [],
    retired: doc.retired ?? [],
    first_transaction_date: doc.first_transaction_date ?? null,
    first_cash_flow_date: doc.first_cash_flow_date ?? null,
  };
}

function projectionFields(p: LoanProjection) {
  return {
    version: p.version,
    attributes: p.attributes,
    state: p.state,
    ledger: p.ledger,
    retired: p.retired,
    first_transaction_date: p.first_transaction_date,
    first_cash_flow_date: p.first_cash_flow_date,
    m: criteriaDocument(criteriaView(p.attributes, p.state)),
  };
}

const MEMBERSHIP_DEFAULTS = { membership_end: null };

/**
 * Stores `compute(base)` over the document, retrying on top of the before-image until the write
 * lands on the base it was computed from. `compute` returns null when there is nothing to write.
 */
async function storeOver(loans: Model<any>, loanId: string, base: any, compute: (doc: any) => { fields: Record<string, unknown> } | null): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const next = compute(base);
    if (!next) return;
    const before: any = await loans.collection.findOneAndUpdate(
      { _id: loanId as any },
      { $set: { ...next.fields, prev: (base?.prev ?? 0) + 1 }, $setOnInsert: MEMBERSHIP_DEFAULTS },
      { upsert: true, returnDocument: "before" },
    );
    if ((before?.prev ?? null) === (base?.prev ?? null)) return;
    base = before;
  }
  throw new Error(`loan ${loanId}: projection kept changing under 50 attempts`);
}

/** Runs the queued first-date steps of one loan and clears them. */
async function flushPendingDates(models: Models, loanId: string): Promise<void> {
  const doc: any = await models.portfolio_loans.collection.findOne({ _id: loanId as any }, { projection: { pending_dates: 1 } });
  const pending: PendingDates[] = doc?.pending_dates ?? [];
  if (!pending.length) return;
  // Each step is idempotent given the ledger (a book is a min, a rebook/delete recomputes), so a
  // repeat after a crash changes nothing.
  const deps = { portfolios: models.portfolios, loans: models.portfolio_loans, claims: models.loan_claims };
  for (const p of pending) await applyDatesChange(deps, p.portfolio_id, { kind: "ledger", change: p.change });
  await models.portfolio_loans.collection.updateOne({ _id: loanId as any }, { $pull: { pending_dates: { key: { $in: pending.map((p) => p.key) } } } } as any);
}

export async function onLoanEvent(models: Models, event: DeliveredEvent): Promise<void> {
  if (event.subject === LoanEvents.closeBatch) return onCloseBatch(models, event.payload as LoanCloseBatchEvent);
  const payload = event.payload as { loan_id?: string };
  if (!payload?.loan_id) return;
  const loans = models.portfolio_loans;
  const doc: any = await loans.collection.findOne({ _id: payload.loan_id as any });
  // The portfolio holding the loan, whose first dates a ledger change moves.
  const claim: any = await models.loan_claims.collection.findOne({ _id: payload.loan_id as any }, { projection: { portfolio_id: 1 } });
  await storeOver(loans, payload.loan_id, doc, (base) => {
    const result = applyLoanEvent(projectionOf(base), event.subject, event.payload);
    if (!result) return null;
    const pending = [...(base?.pending_dates ?? [])];
    if (result.ledgerChange && claim) pending.push({ key: event.id, portfolio_id: claim.portfolio_id, change: result.ledgerChange });
    return { fields: { ...projectionFields(result.projection), pending_dates: pending } };
  });
  await flushPendingDates(models, payload.loan_id);
}

/**
 * A close-of-business chunk: each loan's position, newer versions only, one bulk write of the
 * position fields (the ledger and membership are not touched, so a transaction event handled
 * meanwhile keeps its ledger change).
 */
async function onCloseBatch(models: Models, batch: LoanCloseBatchEvent): Promise<void> {
  const loans = models.portfolio_loans.collection;
  const messages = closeBatchMessages(batch);
  if (!messages.length) return;
  const docs = await loans.find({ _id: { $in: messages.map((m) => m.loan_id) as any[] } }, { projection: { version: 1, attributes: 1, state: 1 } }).toArray();
  const byId = new Map(docs.map((d: any) => [d._id as string, d]));
  const ops: any[] = [];
  for (const msg of messages) {
    const doc: any = byId.get(msg.loan_id);
    const next = applyPosition(doc ? ({ ...EMPTY, loan_id: msg.loan_id, version: doc.version, attributes: doc.attributes, state: doc.state }) : null, msg);
    if (!next) continue;
    const position = { version: next.version, attributes: next.attributes, state: next.state, m: criteriaDocument(criteriaView(next.attributes, next.state)) };
    ops.push({
      updateOne: {
        filter: { _id: msg.loan_id },
        update: { $set: position, $inc: { prev: 1 }, $setOnInsert: { ...MEMBERSHIP_DEFAULTS, ledger: [], retired: [], first_transaction_date: null, first_cash_flow_date: null, pending_dates: [] } },
        upsert: true,
      },
    });
  }
  if (ops.length) await loans.bulkWrite(ops, { ordered: false });
}

const EMPTY = { ledger: [], retired: [], first_transaction_date: null, first_cash_flow_date: null };
