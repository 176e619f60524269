/**
 * The snapshots service's projection of one loan (DESIGN.md §10): its attributes and position
 * (the newest version wins), its cash flows (one entry per cash transaction, so a reversal or a
 * rebook finds what to remove or move) and its portfolio memberships with their dates.
 *
 * Pure: `apply*` take a projection and an event payload and return the next projection, leaving
 * the input alone. The service stores what they return, one document per loan keyed by loan id.
 */
import type { LoanAttributes, LoanEventBase, LoanPosition, LoanTransaction, LoanTransactionEvent, LoanDisbursedEvent, ReallocatedTransaction } from "../contracts/loans";
import { LoanEvents } from "../contracts/loans";
import type { PortfolioMembershipEvent } from "../contracts/portfolios";
import { PortfolioEvents } from "../contracts/portfolios";

/** One cash transaction: `amount` signed (out to the borrower negative, in from them positive). */
export interface CashFlowEntry {
  tx_id: string;
  date: string;
  amount: string;
  type: string;
  /**
   * Principal this collection paid ahead of schedule (LoanTransaction.prepaid_principal), for
   * tapes' cumulative prepayments. Absent on entries projected before the field existed.
   */
  prepaid_principal?: string;
  /** The loan version that last touched this entry: an older event about it is ignored. */
  v: number;
  /** Reversed, or moved by a rebook to another transaction. */
  gone: boolean;
}

/** A membership: in the portfolio from `from` (inclusive) to `to` (exclusive; null = still). */
export interface MembershipSpan {
  portfolio_id: string;
  from: string;
  to: string | null;
}

export interface ProjectedLoan {
  _id: string;
  /** 0 until the first loan event arrives (a membership may come first). */
  version: number;
  attributes: LoanAttributes | null;
  state: LoanPosition | null;
  flows: CashFlowEntry[];
  spans: MembershipSpan[];
}

export function emptyLoan(loanId: string): ProjectedLoan {
  return { _id: loanId, version: 0, attributes: null, state: null, flows: [], spans: [] };
}

/** DESIGN.md §7: a consumer applies a loan's state only when its version is newer. */
export function applyLoanState(p: ProjectedLoan, e: { version: number; attributes: LoanAttributes; state: LoanPosition }): ProjectedLoan {
  if (e.version <= p.version) return p;
  return { ...p, version: e.version, attributes: e.attributes, state: e.state };
}

/** Whether a transaction moves cash and counts as a cash flow (reversal entries do not). */
export function isCashFlow(tx: Pick<LoanTransaction, "cash_class" | "reverses">): boolean {
  return tx.cash_class !== null && tx.cash_class !== undefined && !tx.reverses;
}

/** Disbursements, draws and refunds negative, collections positive. */
export function signedAmount(tx: Pick<LoanTransaction, "cash_class" | "amount">): string {
  return tx.cash_class === "cash_outflow" ? negate(tx.amount) : tx.amount;
}

function negate(amount: string): string {
  if (amount.startsWith("-")) return amount.slice(1);
  return /^0*(\.0*)?$/.test(amount) ? amount : `-${amount}`;
}

/** Sets the entry of `txId` unless a newer event already touched it. */
function putFlow(flows: CashFlowEntry[], entry: CashFlowEntry): CashFlowEntry[] {
  const i = flows.findIndex((f) => f.tx_id === entry.tx_id);
  if (i < 0) return [...flows, entry];
  const cur = flows[i];
  if (cur.v > entry.v || (cur.v === entry.v && cur.gone)) return flows;
  const next = flows.slice();
  next[i] = entry;
  return next;
}

function bookedEntry(tx: LoanTransaction, v: number): CashFlowEntry {
  const entry: CashFlowEntry = { tx_id: tx.id, date: tx.trade_date, amount: signedAmount(tx), type: tx.type, v, gone: tx.status === "reversed" };
  if (tx.prepaid_principal !== undefined) entry.prepaid_principal = tx.prepaid_principal;
  return entry;
}

/** A replay's new split of the live entries it names (an entry gone or newer stays as it is). */
function reallocate(flows: CashFlowEntry[], changes: readonly ReallocatedTransaction[] | undefined, v: number): CashFlowEntry[] {
  let out = flows;
  for (const c of changes ?? []) {
    const cur = out.find((f) => f.tx_id === c.id);
    if (!cur || cur.gone || cur.v > v) continue;
    out = putFlow(out, { ...cur, prepaid_principal: c.prepaid_principal, v });
  }
  return out;
}

function goneEntry(tx: Pick<LoanTransaction, "id" | "trade_date" | "type">, v: number): CashFlowEntry {
  return { tx_id: tx.id, date: tx.trade_date, amount: "0", type: tx.type, v, gone: true };
}

/** Applies a loan.* event (not the close batch, whose entries go through applyLoanState). */
export function applyLoanEvent(p: ProjectedLoan, subject: string, e: LoanEventBase): ProjectedLoan {
  let flows = p.flows;
  const v = e.version;
  if (subject === LoanEvents.disbursed) {
    const tx = (e as LoanDisbursedEvent).disbursement;
    if (tx && isCashFlow(tx)) flows = putFlow(flows, bookedEntry(tx, v));
  } else if (subject === LoanEvents.transactionBooked) {
    const tx = (e as LoanTransactionEvent).transaction;
    if (tx && isCashFlow(tx)) flows = putFlow(flows, bookedEntry(tx, v));
  } else if (subject === LoanEvents.transactionReversed) {
    const tx = (e as LoanTransactionEvent).transaction;
    if (tx && isCashFlow(tx)) flows = putFlow(flows, goneEntry(tx, v));
  } else if (subject === LoanEvents.transactionRebooked) {
    // The event carries the moved transaction; the original (rebooked_from) is reversed.
    const tx = (e as LoanTransactionEvent).transaction;
    if (tx && isCashFlow(tx)) {
      if (tx.rebooked_from) flows = putFlow(flows, goneEntry({ id: tx.rebooked_from, trade_date: (e as LoanTransactionEvent).old_trade_date ?? tx.trade_date, type: tx.type }, v));
      flows = putFlow(flows, bookedEntry(tx, v));
    }
  }
  if (subject === LoanEvents.transactionBooked || subject === LoanEvents.transactionReversed || subject === LoanEvents.transactionRebooked) {
    flows = reallocate(flows, (e as LoanTransactionEvent).reallocated, v);
  }
  const next = flows === p.flows ? p : { ...p, flows };
  return e.attributes && e.state ? applyLoanState(next, e) : next;
}

/** Applies portfolio.loan.added / portfolio.loan.removed. */
export function applyMembership(p: ProjectedLoan, subject: string, e: PortfolioMembershipEvent): ProjectedLoan {
  if (subject === PortfolioEvents.loanAdded) {
    if (p.spans.some((s) => s.portfolio_id === e.portfolio_id && s.from === e.effective_date)) return p;
    return { ...p, spans: [...p.spans, { portfolio_id: e.portfolio_id, from: e.effective_date, to: null }] };
  }
  if (subject === PortfolioEvents.loanRemoved) {
    const i = p.spans.findIndex((s) => s.portfolio_id === e.portfolio_id && s.to === null && s.from <= e.effective_date);
    if (i < 0) return p;
    const spans = p.spans.slice();
    spans[i] = { ...spans[i], to: e.effective_date };
    return { ...p, spans };
  }
  return p;
}

/** The portfolio holding the loan on `date` (DESIGN.md §9 as-of membership), or null. */
export function portfolioOn(p: Pick<ProjectedLoan, "spans">, date: string): string | null {
  for (const s of p.spans) if (s.from <= date && (s.to === null || s.to > date)) return s.portfolio_id;
  return null;
}

/**
 * The business date a position is as of: its last transaction or close, whichever is later. The
 * projection keeps only the newest position, so a snapshot for an earlier date cannot be true.
 */
export function positionDate(s: Pick<LoanPosition, "as_of" | "closed_through"> | null): string | null {
  if (!s) return null;
  const closed = s.closed_through ?? "";
  return closed > (s.as_of ?? "") ? closed : (s.as_of ?? null);
}

/** The latest position date among `loans` (null when none has a position). */
export function positionsAsOf(loans: readonly Pick<ProjectedLoan, "state">[]): string | null {
  let latest: string | null = null;
  for (const l of loans) latest = laterDate(latest, positionDate(l.state));
  return latest;
}

export function laterDate(a: string | null, b: string | null): string | null {
  return a === null || (b !== null && b > a) ? b : a;
}

/**
 * What a loan with a position counts for in DESIGN.md §4 metrics and the groups it belongs to:
 * the service stores it beside the projection, so the daily job reads these few fields and never
 * parses a loan's whole attributes and position. Null until the loan has both.
 */
export interface LoanFigures {
  program_id: string;
  vintage: string;
  origination_date: string;
  annual_rate: string;
  /** Null for an event from before the attribute existed (the status decides then). */
  grace_period_days: number | null;
  principal_balance: string;
  interest_receivable: string;
  days_past_due: number;
  status: LoanPosition["status"];
  as_of: string;
  closed_through: string | null;
}

export function loanFigures(p: Pick<ProjectedLoan, "attributes" | "state">): LoanFigures | null {
  const a = p.attributes;
  const s = p.state;
  if (!a || !s) return null;
  return {
    program_id: a.program_id,
    vintage: a.vintage,
    origination_date: a.origination_date,
    annual_rate: a.annual_rate,
    grace_period_days: typeof a.grace_period_days === "number" ? a.grace_period_days : null,
    principal_balance: s.principal_balance,
    interest_receivable: s.interest_receivable,
    days_past_due: s.days_past_due,
    status: s.status,
    as_of: s.as_of,
    closed_through: s.closed_through ?? null,
  };
}

/** Whether a loan counts in its program's and vintage's metrics on `date`: disbursed by then. */
export function originatedBy(f: Pick<LoanFigures, "origination_date">, date: string): boolean {
  return !!f.origination_date && f.origination_date <= date;
}

/** The live cash flows dated on or before `date`, oldest first. */
export function flowsThrough(p: Pick<ProjectedLoan, "flows">, date: string): CashFlowEntry[] {
  return liveFlowsThrough(p.flows, date);
}

/** The row form of the live cash flows through `date` (what a snapshot row lists). */
export function rowFlows(flows: readonly CashFlowEntry[], date: string): RowFlow[] {
  return liveFlowsThrough(flows, date).map(rowFlow);
}

export interface RowFlow {
  tx_id: string;
  date: string;
  amount: string;
  type: string;
  prepaid_principal?: string;
}

/**
 * A cash flow as a row carries it. A collection carries its `prepaid_principal` ("0.00" too) once
 * the projection has it, so a tape tells "none prepaid" from "not known" (a flow projected from an
 * event older than the field, until a resync); money paid out carries none.
 */
function rowFlow(f: CashFlowEntry): RowFlow {
  const row: RowFlow = { tx_id: f.tx_id, date: f.date, amount: f.amount, type: f.type };
  if (f.prepaid_principal !== undefined && !f.amount.startsWith("-")) row.prepaid_principal = f.prepaid_principal;
  return row;
}

function liveFlowsThrough(flows: readonly CashFlowEntry[], date: string): CashFlowEntry[] {
  return flows.filter((f) => !f.gone && f.date <= date).sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : a.tx_id.localeCompare(b.tx_id)));
}

/**
 * What two projections must agree on (the resync test): version, attributes, position, live
 * flows and membership spans — not the bookkeeping of gone entries.
 */
export function canonicalLoan(p: ProjectedLoan) {
  return {
    _id: p._id,
    version: p.version,
    attributes: p.attributes,
    state: p.state,
    flows: flowsThrough(p, "9999-12-31").map((f) => ({ tx_id: f.tx_id, date: f.date, amount: f.amount, type: f.type, prepaid_principal: f.prepaid_principal ?? "0.00" })),
    spans: [...p.spans].sort((a, b) => (a.from + a.portfolio_id).localeCompare(b.from + b.portfolio_id)),
  };
}

/** A projection rebuilt from an export line (resync): the loan's answers, not its event history. */
export function loanFromExport(row: { loan_id: string; version: number; attributes: LoanAttributes; state: LoanPosition; transactions: LoanTransaction[] }, spans: MembershipSpan[]): ProjectedLoan {
  const flows = row.transactions.filter((t) => isCashFlow(t) && t.status === "booked").map((t) => bookedEntry(t, row.version));
  return { _id: row.loan_id, version: row.version, attributes: row.attributes, state: row.state, flows, spans };
}
