/**
 * Turns an operation's outcome into a MutationPlan: the loan fields to set (state, status,
 * position, totals), the status history, and the durable events with the loan's attributes,
 * position and new version (DESIGN.md §7). Every operation ends here, so every event carries the
 * same picture of the loan.
 */
import Decimal from "decimal.js";
import { LoanEvents, type LoanAttributes, type LoanEventBase, type LoanPosition, type LoanStatus } from "../../shared/contracts/loans";
import type { LoanState } from "../../shared/finance";
import { restatus } from "../../shared/loans/position";
import { impliedStatus } from "../../shared/loans/status";
import type { LedgerDoc, LoadedLoan, MutationPlan, SideWrites } from "./loan-store";
import { attributesOf, loanSummary, loanView, positionOf } from "./loan-views";

export interface OpContext {
  /** Today's business date in the business time zone. */
  today: string;
  now: string;
  actor: string | null;
}

export interface ChangeInput extends Omit<SideWrites, "events"> {
  kind: string;
  /** The new engine state (omit: unchanged). */
  state?: LoanState | null;
  /** An explicit status (omit: the status the state implies). */
  status?: LoanStatus;
  statusReason?: string;
  set?: Record<string, unknown>;
  schedule?: MutationPlan["schedule"];
  disbursed?: Decimal.Value;
  collected?: Decimal.Value;
  events: { subject: string; extra?: Record<string, unknown> }[];
  response: (after: AfterView) => unknown;
}

export function change(loaded: LoadedLoan, ctx: OpContext, c: ChangeInput): MutationPlan {
  const doc = loaded.doc;
  const loanId = String(doc._id);
  const version = doc.version + 1;
  const state = c.state !== undefined ? c.state : loaded.state;
  const totals = {
    total_disbursed: new Decimal(doc.total_disbursed).plus(c.disbursed ?? 0).toFixed(2),
    total_collected: new Decimal(doc.total_collected).plus(c.collected ?? 0).toFixed(2),
  };
  const draft = { ...doc, ...c.set, ...totals };
  let position = positionOf(draft, state, doc.status, ctx.today);
  const status = c.status ?? impliedStatus(doc.status, state, position.days_past_due, doc.config.grace_period_days);
  if (status !== doc.status) position = restatus(position, status) ?? positionOf(draft, state, status, ctx.today);
  const set: Record<string, unknown> = { ...c.set, ...totals, status, position };
  if (c.state !== undefined) {
    set.state = state;
    if (state) set.annual_rate = state.annual_rate;
  }
  // servicing-pitfalls 6: every bucket move is kept, whichever operation made it
  const fromBucket = doc.position?.bucket;
  if (fromBucket && fromBucket !== position.bucket) {
    set.bucket_history = [...(doc.bucket_history ?? []), { business_date: ctx.today, from: fromBucket, to: position.bucket, days_past_due: position.days_past_due, by: c.kind, version }];
  }
  const statusChanged = status !== doc.status;
  const reason = c.statusReason ?? c.kind;
  if (statusChanged) set.status_history = [...(doc.status_history ?? []), { from: doc.status, to: status, business_date: ctx.today, reason, at: ctx.now, actor: ctx.actor }];

  const after = { ...draft, ...set, version };
  const base: Omit<LoanEventBase, "event_id"> = {
    loan_id: loanId,
    version,
    occurred_at: ctx.now,
    attributes: attributesOf(after),
    state: position,
    actor: ctx.actor,
  };
  const list = [...c.events];
  if (statusChanged) list.push({ subject: LoanEvents.statusChanged, extra: { from: doc.status, to: status, business_date: ctx.today, reason } });
  // Every new version is published (a statement or a promotion names no event of its own), or a
  // consumer's projection would stop at the version before it.
  if (!list.length) list.push({ subject: LoanEvents.updated, extra: { change: c.kind } });
  const events = list.map((e, i) => {
    const id = `${loanId}:v${version}:${i}`;
    return { subject: e.subject, id, payload: { event_id: id, ...base, ...e.extra } };
  });
  const { kind, transactions, transactionUpdates, modifications, promotions, statements, schedule } = c;
  return {
    kind,
    set,
    schedule,
    transactions,
    transactionUpdates,
    modifications,
    promotions,
    statements,
    events,
    response: c.response(afterView(after, version, position, base.attributes)),
  };
}

/**
 * What an operation's answer is built from: the loan's API view or its summary, each computed only
 * when the answer reads it (a close of business answers attributes and position only, for every
 * loan of a chunk).
 */
export interface AfterView {
  readonly loan: Record<string, unknown>;
  readonly summary: Record<string, unknown>;
  version: number;
  position: LoanPosition;
  attributes: LoanAttributes;
}

function afterView(after: Record<string, unknown>, version: number, position: LoanPosition, attributes: LoanAttributes): AfterView {
  let view: Record<string, unknown> | undefined;
  return {
    get loan() {
      return (view ??= loanView(after));
    },
    get summary() {
      return loanSummary(after);
    },
    version,
    position,
    attributes,
  };
}

/** Next ledger sequence numbers: `seqs(loaded, 2)` → [n+1, n+2], and the loan field to set. */
export function nextSeqs(loaded: LoadedLoan, count: number): number[] {
  const start = (loaded.doc.ledger_seq ?? 0) + 1;
  return Array.from({ length: count }, (_, i) => start + i);
}

export function sumCash(docs: LedgerDoc[], cls: "cash_inflow" | "cash_outflow"): Decimal {
  return docs.filter((d) => d.cash_class === cls).reduce((s, d) => s.plus(d.amount), new Decimal(0));
}
