/**
 * The thin consumer of the loans service's durable events (DESIGN.md §7): reads the loan's
 * projection, applies the pure `applyLoanEvent`, stores what it returns (guarded by the
 * projection's `prev`, retried on a lost race), then runs the portfolio first-date step of any
 * ledger change. The step is queued on the loan's document in the same write (`pending_dates`),
 * so a crash between the two writes is finished by the redelivery, never lost.
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
}

type PendingDates = { portfolio_id: string; change: LedgerChange };

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

/** Stores a projection over `doc` (null = new loan); false when someone else wrote first. */
async function store(loans: Model<any>, doc: any, p: LoanProjection, pending: PendingDates[]): Promise<boolean> {
  if (!doc) {
    try {
      await loans.collection.insertOne({
        _id: p.loan_id as any, ...projectionFields(p), prev: 1,
        portfolio_id: null, investor_id: null, memberships: [], mrev: 0, pending_dates: pending,
      });
      return true;
    } catch (err) {
      if ((err as { code?: number }).code === 11000) return false;
      throw err;
    }
  }
  const res = await loans.collection.updateOne(
    { _id: p.loan_id as any, prev: doc.prev ?? 0 },
    { $set: { ...projectionFields(p), pending_dates: [...(doc.pending_dates ?? []), ...pending] }, $inc: { prev: 1 } },
  );
  return res.matchedCount === 1;
}

/** Runs the queued first-date steps of one loan and clears them. */
async function flushPendingDates(models: Models, loanId: string): Promise<void> {
  const doc: any = await models.portfolio_loans.collection.findOne({ _id: loanId as any }, { projection: { pending_dates: 1, prev: 1 } });
  const pending: PendingDates[] = doc?.pending_dates ?? [];
  if (!pending.length) return;
  // Each step is idempotent given the ledger (a book is a min, a rebook/delete recomputes), so a
  // repeat after a crash changes nothing.
  for (const p of pending) await applyDatesChange(models.portfolios, models.portfolio_loans, p.portfolio_id, { kind: "ledger", change: p.change });
  await models.portfolio_loans.collection.updateOne({ _id: loanId as any, prev: doc.prev }, { $set: { pending_dates: [] } });
}

export async function onLoanEvent(models: Models, event: DeliveredEvent): Promise<void> {
  if (event.subject === LoanEvents.closeBatch) return onCloseBatch(models, event.payload as LoanCloseBatchEvent);
  const payload = event.payload as { loan_id?: string };
  if (!payload?.loan_id) return;
  const loans = models.portfolio_loans;
  for (let attempt = 0; ; attempt++) {
    const doc: any = await loans.collection.findOne({ _id: payload.loan_id as any });
    const result = applyLoanEvent(projectionOf(doc), event.subject, event.payload);
    if (!result) break;
    const pending = result.ledgerChange && doc?.portfolio_id ? [{ portfolio_id: doc.portfolio_id, change: result.ledgerChange }] : [];
    if (await store(loans, doc, result.projection, pending)) break;
    if (attempt > 20) throw new Error(`loan ${payload.loan_id}: projection kept changing under 20 attempts`);
  }
  await flushPendingDates(models, payload.loan_id);
}

/** A close-of-business chunk: each loan's position, newer versions only, one bulk write. */
async function onCloseBatch(models: Models, batch: LoanCloseBatchEvent): Promise<void> {
  const loans = models.portfolio_loans.collection;
  const messages = closeBatchMessages(batch);
  for (let round = 0; round < 5 && messages.length; round++) {
    const docs = await loans.find({ _id: { $in: messages.map((m) => m.loan_id) as any[] } }).toArray();
    const byId = new Map(docs.map((d: any) => [d._id as string, d]));
    const ops: any[] = [];
    for (const msg of messages) {
      const doc: any = byId.get(msg.loan_id);
      const next = applyPosition(projectionOf(doc), msg);
      if (!next) continue;
      ops.push(
        doc
          ? { updateOne: { filter: { _id: msg.loan_id, prev: doc.prev ?? 0 }, update: { $set: projectionFields(next), $inc: { prev: 1 } } } }
          : { updateOne: { filter: { _id: msg.loan_id }, update: { $setOnInsert: { ...projectionFields(next), prev: 1, portfolio_id: null, investor_id: null, memberships: [], mrev: 0, pending_dates: [] } }, upsert: true } },
      );
    }
    if (!ops.length) return;
    const res = await loans.bulkWrite(ops, { ordered: false });
    if (res.matchedCount + res.upsertedCount >= ops.length) return;
    // Some loans changed under us (an event for one of them): re-read and re-apply just those next round.
  }
}
