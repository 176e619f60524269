/**
 * DESIGN.md §7 loan statuses: which operation a status allows (anything else is 409), and the
 * status a loan's figures imply after a money operation (delinquent past grace, cured back to
 * active, paid off, reopened when a reversal brings money owed back).
 */
import type { LoanStatus } from "../contracts/loans";
import { isDelinquent, type LoanState } from "../finance";

export type LoanOperation =
  | "disburse" | "cancel" | "payment" | "fee" | "draw" | "statement" | "buyout" | "asset_return"
  | "reverse" | "rebook" | "return_payment" | "credit_refund" | "close" | "promotion" | "rate_reset";

const OPEN: LoanStatus[] = ["active", "delinquent"];
export const ALLOWED: Record<LoanOperation, readonly LoanStatus[]> = {
  disburse: ["pending"],
  cancel: ["pending"],
  payment: [...OPEN, "charged_off"],
  fee: OPEN,
  draw: OPEN,
  statement: OPEN,
  buyout: OPEN,
  asset_return: OPEN,
  reverse: [...OPEN, "paid_off", "charged_off"],
  rebook: [...OPEN, "paid_off"],
  return_payment: [...OPEN, "paid_off", "charged_off"],
  credit_refund: [...OPEN, "paid_off", "closed"],
  close: OPEN,
  promotion: ["pending", ...OPEN],
  rate_reset: OPEN,
};

export function canDo(op: LoanOperation, status: LoanStatus): boolean {
  return ALLOWED[op].includes(status);
}

/** The status the loan's state implies on `daysPastDue` (charge-off is a close-of-business decision). */
export function impliedStatus(current: LoanStatus, state: LoanState | null, daysPastDue: number, graceDays: number): LoanStatus {
  if (current === "pending" || current === "cancelled" || current === "charged_off" || !state) return current;
  if (state.status === "paid_off") return "paid_off";
  if (state.status === "bought_out" || state.status === "returned") return "closed";
  if (current === "closed") return "closed";
  return isDelinquent(daysPastDue, graceDays) ? "delinquent" : "active";
}
