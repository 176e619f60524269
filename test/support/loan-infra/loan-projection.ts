/**
 * A consumer's projection of loans from the durable `loan.*` events (DESIGN.md §7, issue 8
 * point 10), as another service would keep it: one record per loan with its attributes and
 * position, replaced only by a NEWER version of the loan. Pure: the consumer process
 * (projection-consumer.ts) stores what `applyLoanEvent` returns.
 */
import type { LoanAttributes, LoanCloseBatchEvent, LoanEventBase, LoanPosition } from "../../../shared/contracts/loans";
import { LoanEvents } from "../../../shared/contracts/loans";

export interface ProjectedLoan {
  _id: string;
  version: number;
  attributes: LoanAttributes;
  state: LoanPosition;
  /** The event that produced this version (for diagnosis). */
  event_id: string;
  subject: string;
}

/** The loan pictures an event carries: one for a loan event, one per loan for a close batch. */
export function loanPicturesOf(subject: string, payload: unknown): Pick<ProjectedLoan, "_id" | "version" | "attributes" | "state">[] {
  if (subject === LoanEvents.closeBatch) {
    return (payload as LoanCloseBatchEvent).loans.map((l) => ({ _id: l.loan_id, version: l.version, attributes: l.attributes, state: l.state }));
  }
  const e = payload as LoanEventBase;
  if (!e?.loan_id || typeof e.version !== "number" || !e.state) return [];
  return [{ _id: e.loan_id, version: e.version, attributes: e.attributes, state: e.state }];
}

/**
 * The projection after `picture`, or null when it changes nothing: a version older than (or the
 * same as) the one held is ignored — events of one version carry the same picture, and a
 * redelivered or reordered older event must not undo a newer one.
 */
export function applyLoanEvent(held: ProjectedLoan | null, picture: Pick<ProjectedLoan, "_id" | "version" | "attributes" | "state">, event: { id: string; subject: string }): ProjectedLoan | null {
  if (held && held.version >= picture.version) return null;
  return { ...picture, event_id: event.id, subject: event.subject };
}
