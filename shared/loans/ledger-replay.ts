/**
 * DESIGN.md §7 rebook / return / delete and backdated payments: the loan is rebuilt from its
 * opening state by replaying every transaction still booked, oldest trade date first (the
 * engine's replayLedger), so every later allocation and accrual follows the change
 * (servicing-pitfalls 1, 2, 4, 5). Pure: ledger entries in, state and new allocations out.
 */
import { FinanceRuleError, replayLedger, type Allocation, type LedgerEvent, type LoanState, type PaymentResult, type RateResetInput } from "../finance";

/** The ledger fields a replay reads. */
export interface ReplayEntry {
  _id: string;
  seq: number;
  type: string;
  trade_date: string;
  amount: string;
  status: "booked" | "reversed";
  reverses: string | null;
  fee_type: string | null;
  components?: Record<string, string>;
  /** The allocation booked with a payment (the replay compares its prepaid principal). */
  allocation?: unknown;
}

export interface ReplayInput {
  opening: LoanState;
  ledger: readonly ReplayEntry[];
  statements?: readonly { statement_date: string; due_date?: string | null }[];
  rateResets?: readonly (RateResetInput & { reset_date: string })[];
  allocationOrder?: readonly string[] | null;
}

/** Transaction types a replay can re-apply; the others end or suspend servicing. */
const REPLAYABLE = new Set(["payment", "fee", "draw", "credit_refund"]);
const SKIPPED = new Set(["disbursement"]);

export interface ReplayOutcome {
  state: LoanState;
  /** The new allocation of each payment, by ledger id. */
  allocations: Map<string, Allocation>;
}

/** The ledger as engine events, oldest first; same day: rate resets, statements, then booking order (DESIGN.md §8). */
export function ledgerEventsOf(input: Omit<ReplayInput, "opening" | "allocationOrder">): LedgerEvent[] {
  const events: (LedgerEvent & { rank: number; seq: number })[] = [];
  for (const r of input.rateResets ?? []) events.push({ ...r, type: "rate_reset", date: r.reset_date, rank: 0, seq: 0 });
  for (const s of input.statements ?? []) events.push({ type: "statement", date: s.statement_date, due_date: s.due_date ?? null, rank: 1, seq: 0 });
  for (const t of input.ledger) {
    if (t.status !== "booked" || t.reverses) continue;
    if (SKIPPED.has(t.type)) continue;
    if (!REPLAYABLE.has(t.type)) {
      throw new FinanceRuleError(`a ${t.type} on ${t.trade_date} cannot be replayed: the ledger before it is final`, "not_replayable", { transaction_id: t._id, type: t.type });
    }
    const base = { date: t.trade_date, amount: t.amount, id: t._id, rank: 2, seq: t.seq };
    if (t.type === "fee") events.push({ ...base, type: "fee", fee_type: t.fee_type ?? "fee" });
    else events.push({ ...base, type: t.type as "payment" | "draw" | "credit_refund" });
  }
  events.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : a.rank - b.rank || a.seq - b.seq));
  return events.map(({ rank: _r, seq: _s, ...e }) => e as LedgerEvent);
}

/** Rebuilds the loan from its opening state and the ledger. */
export function replayFromLedger(input: ReplayInput): ReplayOutcome {
  const { state, steps } = replayLedger(input.opening, ledgerEventsOf(input), input.allocationOrder);
  const allocations = new Map<string, Allocation>();
  for (const step of steps) {
    if (step.event.type === "payment" && step.event.id) allocations.set(step.event.id, (step.result as PaymentResult).allocation);
  }
  return { state, allocations };
}

/** Components of a payment's allocation as the ledger keeps them. */
export function allocationComponents(a: Allocation): Record<string, string> {
  return { principal: a.principal, interest: a.interest, fees: a.fees, deferred_interest: "0.00", credit: a.credit };
}

/** What a replay changed: each payment whose allocation is not what the ledger says. */
export function replayChanges(ledger: readonly ReplayEntry[], allocations: Map<string, Allocation>, skip: ReadonlySet<string> = new Set()) {
  const out: { transaction_id: string; trade_date: string; before: Record<string, string>; after: Record<string, string>; allocation: Allocation }[] = [];
  for (const t of ledger) {
    const a = allocations.get(t._id);
    if (!a || skip.has(t._id)) continue;
    const after = allocationComponents(a);
    const before = t.components ?? {};
    // The split between principal due and principal prepaid can move with the same components.
    const prepaidBefore = (t.allocation as { prepaid_principal?: string } | null | undefined)?.prepaid_principal;
    const prepaidMoved = prepaidBefore !== undefined && prepaidBefore !== a.prepaid_principal;
    if (prepaidMoved || Object.keys(after).some((k) => before[k] !== after[k])) out.push({ transaction_id: t._id, trade_date: t.trade_date, before, after, allocation: a });
  }
  return out;
}
