/**
 * How a stored loan looks to the outside: its attributes (what other services filter on), its
 * position after a change, the API representation, and ledger entries on the wire.
 */
import type { EffectiveProductConfig } from "../../shared/contracts/programs";
import { cashClassOf, type LoanAttributes, type LoanPosition, type LoanStatus, type LoanTransaction, type TransactionType } from "../../shared/contracts/loans";
import type { Allocation, LoanState } from "../../shared/finance";
import { loanPosition } from "../../shared/loans/position";
import type { LedgerDoc } from "./loan-store";

export function attributesOf(doc: any): LoanAttributes {
  const cfg = doc.config as EffectiveProductConfig;
  const req = doc.request ?? {};
  const disbursed = !!doc.disbursement_date;
  return {
    loan_id: String(doc._id),
    external_id: doc.external_id ?? null,
    product_id: doc.product_id,
    program_id: doc.program_id,
    program_type: doc.program_type,
    interest_rate_type: cfg.interest_rate_type,
    origination_date: disbursed ? doc.origination_date : "",
    vintage: disbursed ? String(doc.origination_date).slice(0, 7) : "",
    principal: req.principal ?? req.capitalized_cost ?? req.credit_limit ?? (cfg.program_config?.credit_limit as string) ?? "0.00",
    annual_rate: rateInForce(doc),
    term_months: req.term_months,
    maturity_date: doc.maturity_date ?? null,
    index_name: cfg.variable_rate?.index_name ?? null,
    margin: cfg.variable_rate?.margin ?? null,
    region: doc.borrower?.region ?? null,
    credit_score: doc.borrower?.credit_score ?? null,
    currency: "USD",
    grace_period_days: cfg.grace_period_days ?? 0,
  };
}

export function positionOf(doc: any, state: LoanState | null, status: LoanStatus, asOf: string): LoanPosition {
  return loanPosition({
    status,
    state,
    as_of: asOf,
    grace_period_days: (doc.config as EffectiveProductConfig).grace_period_days,
    total_disbursed: doc.total_disbursed,
    total_collected: doc.total_collected,
    closed_through: doc.closed_through ?? null,
    portfolio_id: doc.portfolio_id ?? null,
    investor_id: doc.investor_id ?? null,
  });
}

/** The rate the loan bears now: its state's (variable rates reset there), else the one it was originated at. */
function rateInForce(doc: any): string {
  return doc.state?.annual_rate ?? doc.annual_rate;
}

/**
 * The loan as an answer that books, reverses or rebooks a transaction carries it: what the
 * transaction changed — status, version, rate and position (balances, past due, next due) — not
 * the whole loan (its copied configuration, borrower and histories are GET /loans/:id). Such an
 * answer is kept twice, in the loan's pending mutation and in the idempotency record (30 days),
 * and a book takes thousands a minute: a payment's idempotency record was 3.1 KB with the whole
 * loan, 1.9 KB with this.
 */
export function loanSummary(doc: any): Record<string, unknown> {
  return {
    id: String(doc._id),
    external_id: doc.external_id ?? null,
    status: doc.status,
    version: doc.version,
    annual_rate: rateInForce(doc) ?? null,
    position: doc.position,
  };
}

/** GET /loans/:id — the loan with its attributes, copied configuration and position. */
export function loanView(doc: any): Record<string, unknown> {
  const attrs = attributesOf(doc);
  const req = doc.request ?? {};
  return {
    id: String(doc._id),
    ...attrs,
    loan_id: undefined,
    status: doc.status,
    product_name: doc.config?.product_name,
    program_name: doc.config?.program_name,
    principal: req.principal ?? null,
    capitalized_cost: req.capitalized_cost ?? null,
    residual_value: doc.terms?.residual_value ?? req.residual_value ?? null,
    buyout_price: doc.terms?.buyout_price ?? req.buyout_price ?? null,
    credit_limit: doc.program_type === "line_of_credit" ? attrs.principal : null,
    first_payment_date: doc.terms?.first_payment_date ?? req.first_payment_date ?? null,
    disbursement_date: doc.disbursement_date ?? null,
    index_value: doc.index_value ?? null,
    borrower: doc.borrower ?? null,
    day_count_convention: doc.config?.day_count_convention,
    accrual_method: doc.config?.accrual_method,
    payment_allocation_order: doc.config?.payment_allocation_order,
    grace_period_days: doc.config?.grace_period_days,
    position: doc.position,
    promotions: doc.promotions ?? [],
    status_history: doc.status_history ?? [],
    portfolio_id: doc.portfolio_id ?? null,
    investor_id: doc.investor_id ?? null,
    version: doc.version,
    created_at: doc.created_at instanceof Date ? doc.created_at.toISOString() : doc.created_at,
  };
}

/**
 * Every bucket move of a loan, oldest first: those its single-loan writes kept on the document and
 * those the close of business kept in loan_bucket_moves (`moves`: the records `<loan>:b1` up to its
 * `bucket_seq`, in any order), merged by business date and the version that made each.
 */
export function bucketHistoryOf(doc: any, moves: { seq: number; record: Record<string, unknown> }[]): Record<string, unknown>[] {
  const seq = doc.bucket_seq ?? 0;
  const side = moves.filter((m) => m.seq <= seq).sort((a, b) => a.seq - b.seq).map((m) => m.record);
  const key = (e: Record<string, unknown>) => `${e.business_date}|${String(Number(e.version ?? 0)).padStart(12, "0")}`;
  return [...(doc.bucket_history ?? []), ...side].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

export const ZERO_COMPONENTS = { principal: "0.00", interest: "0.00", fees: "0.00", deferred_interest: "0.00", credit: "0.00" };

export function componentsOf(a: Allocation): LoanTransaction["components"] {
  return { principal: a.principal, interest: a.interest, fees: a.fees, deferred_interest: "0.00", credit: a.credit };
}

/** The principal an allocation paid ahead of schedule (the engine's figure); "0.00" without one. */
export function prepaidPrincipalOf(allocation: unknown): string {
  const prepaid = (allocation as { prepaid_principal?: unknown } | null)?.prepaid_principal;
  return typeof prepaid === "string" ? prepaid : "0.00";
}

export function ledgerDoc(loanId: string, seq: number, f: {
  type: TransactionType;
  trade_date: string;
  amount: string;
  components?: Partial<LoanTransaction["components"]>;
  allocation?: unknown;
  reverses?: string | null;
  rebooked_from?: string | null;
  idempotency_key?: string | null;
  fee_type?: string | null;
  booked_at: string;
  actor: string | null;
}): LedgerDoc {
  return {
    _id: `${loanId}-${seq}`,
    loan_id: loanId,
    seq,
    type: f.type,
    trade_date: f.trade_date,
    amount: f.amount,
    components: { ...ZERO_COMPONENTS, ...(f.components ?? {}) },
    status: "booked",
    cash_class: cashClassOf(f.type),
    reverses: f.reverses ?? null,
    reversed_by: null,
    rebooked_from: f.rebooked_from ?? null,
    idempotency_key: f.idempotency_key ?? null,
    allocation: f.allocation ?? null,
    fee_type: f.fee_type ?? null,
    booked_at: f.booked_at,
    actor: f.actor,
  };
}

/** A ledger entry as it travels (DESIGN.md §7). */
export function transactionView(d: LedgerDoc): LoanTransaction & { allocation: unknown; fee_type: string | null; reversed_by: string | null } {
  return {
    id: d._id,
    loan_id: d.loan_id,
    type: d.type as TransactionType,
    trade_date: d.trade_date,
    amount: d.amount,
    components: d.components as unknown as LoanTransaction["components"],
    prepaid_principal: prepaidPrincipalOf(d.allocation),
    status: d.status,
    cash_class: d.cash_class as LoanTransaction["cash_class"],
    reverses: d.reverses,
    reversed_by: d.reversed_by ?? null,
    rebooked_from: d.rebooked_from,
    idempotency_key: d.idempotency_key,
    fee_type: d.fee_type ?? null,
    allocation: d.allocation ?? null,
    booked_at: d.booked_at,
    actor: d.actor,
  };
}
