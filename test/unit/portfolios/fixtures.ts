/** Loan events as the loans service publishes them (shared/contracts/loans.ts), for tests. */
import type { LoanAttributes, LoanPosition, LoanTransaction, TransactionType } from "../../../shared/contracts/loans";
import { cashClassOf } from "../../../shared/contracts/loans";

export function attributes(over: Partial<LoanAttributes> = {}): LoanAttributes {
  return {
    loan_id: "L1",
    external_id: null,
    product_id: "p-auto",
    program_id: "prog-1",
    program_type: "installment",
    interest_rate_type: "fixed",
    origination_date: "2026-01-15",
    vintage: "2026-01",
    principal: "10000.00",
    annual_rate: "0.0899",
    term_months: 36,
    maturity_date: "2029-01-15",
    index_name: null,
    margin: null,
    region: "NY",
    credit_score: 720,
    currency: "USD",
    ...over,
  };
}

export function position(over: Partial<LoanPosition> = {}): LoanPosition {
  return {
    status: "active",
    principal_balance: "10000.00",
    interest_receivable: "0.00",
    fees_due: "0.00",
    deferred_interest: "0.00",
    credit_balance: "0.00",
    past_due_amount: "0.00",
    days_past_due: 0,
    bucket: "current",
    next_due_date: "2026-02-15",
    next_payment_amount: "318.00",
    total_disbursed: "10000.00",
    total_collected: "0.00",
    as_of: "2026-01-15",
    closed_through: null,
    portfolio_id: null,
    investor_id: null,
    ...over,
  };
}

export function tx(id: string, type: TransactionType, trade_date: string, over: Partial<LoanTransaction> = {}): LoanTransaction {
  return {
    id,
    loan_id: "L1",
    type,
    trade_date,
    amount: "100.00",
    components: { principal: "100.00", interest: "0.00", fees: "0.00", deferred_interest: "0.00", credit: "0.00" },
    status: "booked",
    cash_class: cashClassOf(type),
    reverses: null,
    rebooked_from: null,
    idempotency_key: null,
    booked_at: "2026-01-15T12:00:00.000Z",
    actor: null,
    ...over,
  };
}

export function base(loanId: string, version: number, attrs: Partial<LoanAttributes> = {}, state: Partial<LoanPosition> = {}) {
  return { event_id: `${loanId}:v${version}`, loan_id: loanId, version, occurred_at: "2026-01-15T12:00:00.000Z", attributes: attributes({ loan_id: loanId, ...attrs }), state: position(state), actor: null };
}
