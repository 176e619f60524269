/** Request bodies and queries of the loans service, field by field (DESIGN.md §6, §7). */
import { LOAN_STATUSES } from "../../shared/contracts/loans";
import { paginationParams } from "../../shared/db/pagination";
import { dateWindowParams, int, isoDate, money, objectId, oneOf, rate, text } from "../../shared/validation/fields";
import { FEE_TYPES } from "../../shared/contracts/programs";

export const loanId = { id: objectId };
export const txId = { type: "string", pattern: "^[a-f0-9]{24}-\\d{1,9}$", messages: { stringPattern: "The '{field}' field must be a transaction id" } } as const;
const idempotencyKey = { type: "string", optional: true, min: 1, max: 200, pattern: "^[A-Za-z0-9_.:-]+$", messages: { stringPattern: "The '{field}' field may hold letters, digits and _ . : - only" } } as const;

export const createLoanParams = {
  $$strict: true,
  product_id: objectId,
  principal: money({ optional: true, positive: true }),
  term_months: int(1, 600),
  annual_rate: rate({ optional: true }),
  first_payment_date: isoDate({ optional: true }),
  external_id: { ...text(100, { optional: true }), pattern: "^[A-Za-z0-9][A-Za-z0-9_.:/-]*$" },
  borrower: {
    type: "object",
    optional: true,
    strict: true,
    props: {
      name: text(200, { optional: true }),
      email: { type: "email", optional: true, max: 254 },
      region: text(100, { optional: true }),
      credit_score: int(300, 850, { optional: true }),
    },
  },
  capitalized_cost: money({ optional: true, positive: true }),
  residual_value: money({ optional: true }),
  buyout_price: money({ optional: true }),
  credit_limit: money({ optional: true, positive: true }),
};

export const listLoansParams = {
  $$strict: true,
  status: oneOf(LOAN_STATUSES, { optional: true }),
  product_id: { ...objectId, optional: true },
  program_id: { ...objectId, optional: true },
  portfolio_id: text(100, { optional: true }),
  investor_id: text(100, { optional: true }),
  external_id: text(100, { optional: true }),
  ...paginationParams,
};

export const disburseParams = { $$strict: true, ...loanId, date: isoDate() };
export const paymentParams = { $$strict: true, ...loanId, amount: money({ positive: true }), date: isoDate(), idempotency_key: idempotencyKey };
export const feeParams = { $$strict: true, ...loanId, fee_type: oneOf(FEE_TYPES), amount: money({ optional: true, positive: true }), date: isoDate(), idempotency_key: idempotencyKey };
export const drawParams = { $$strict: true, ...loanId, amount: money({ positive: true }), date: isoDate(), idempotency_key: idempotencyKey };
export const statementParams = { $$strict: true, ...loanId, statement_date: isoDate(), due_date: isoDate({ optional: true }) };
export const buyoutParams = { $$strict: true, ...loanId, date: isoDate(), amount: money({ optional: true, positive: true }), idempotency_key: idempotencyKey };
export const assetReturnParams = { $$strict: true, ...loanId, date: isoDate(), return_fee: money({ optional: true }), idempotency_key: idempotencyKey };
export const creditRefundParams = { $$strict: true, ...loanId, date: isoDate(), amount: money({ optional: true, positive: true }), idempotency_key: idempotencyKey };
export const closeParams = { $$strict: true, ...loanId, date: isoDate({ optional: true }) };
export const rebookParams = { $$strict: true, ...loanId, tx: txId, trade_date: isoDate() };
export const returnPaymentParams = { $$strict: true, ...loanId, tx: txId, date: isoDate({ optional: true }) };
export const reverseParams = { $$strict: true, ...loanId, tx: txId };
export const promotionParams = { $$strict: true, ...loanId, promotion_id: objectId };
export const quoteParams = { $$strict: true, ...loanId, date: isoDate({ optional: true }) };
export const accrualParams = { $$strict: true, ...loanId, ...dateWindowParams };
export const ledgerListParams = { $$strict: true, ...loanId, ...paginationParams };
