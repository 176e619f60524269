/**
 * The servicing state of a loan at disbursement: principal outstanding, nothing accrued, the
 * schedule's installments waiting to be billed. The loans service stores it on the loan and
 * passes it to every money operation after.
 */
import { formatIsoDate, parseIsoDate } from "../dates";
import { FinanceInputError } from "../errors";
import { promotionStateOf } from "../promotions";
import { moneyString } from "../rounding";
import type { NormalizedTerms } from "../schedule/terms";
import type { AllocationComponent, Installment, LoanState, PaymentPlan, ScheduleRow } from "../types";
import { normalizeAllocationOrder } from "./allocation";

export interface OpenLoanOptions {
  payment_allocation_order?: readonly string[] | null;
}

function paymentPlanOf(t: NormalizedTerms): PaymentPlan {
  if (t.programType === "lease") return "lease";
  if (t.programType === "line_of_credit") return "revolving";
  if (t.method.precomputed) return "rule_of_78";
  return t.graduatedStep !== null ? "graduated" : "level";
}

export function openLoanState(t: NormalizedTerms, rows: readonly ScheduleRow[], options: OpenLoanOptions = {}): LoanState {
  const plan = paymentPlanOf(t);
  const precomputed = plan === "rule_of_78" || plan === "lease";
  const installments: Installment[] =
    plan === "revolving"
      ? []
      : rows.map((r) => {
          const inst: Installment = { number: r.number, due_date: r.due_date, payment: r.payment };
          if (precomputed) inst.interest = r.interest;
          if (r.interest_only) inst.interest_only = true;
          return inst;
        });
  const disbursement = formatIsoDate(t.disbursement);
  const order: AllocationComponent[] = normalizeAllocationOrder(options.payment_allocation_order);
  const state: LoanState = {
    program_type: t.programType,
    status: "active",
    payment_plan: plan,
    annual_rate: t.rate.toString(),
    day_count_convention: t.dc.name,
    accrual_method: t.method.name,
    principal_balance: moneyString(t.principal),
    accrued_interest: "0.00",
    accrued_through: disbursement,
    credit_balance: "0.00",
    prepaid_interest: "0.00",
    due: [],
    installments,
    previous_due_date: disbursement,
    disbursement_date: disbursement,
    promotions: (t.raw.promotions ?? []).map(promotionStateOf),
    balloon_amortization_months: t.balloonMonths,
    payment_allocation_order: order,
    lease: null,
    line_of_credit: null,
  };
  if (plan === "lease") {
    state.lease = {
      residual_value: moneyString(t.residual),
      buyout_price: t.buyoutPrice ? moneyString(t.buyoutPrice) : null,
      periodic_rate: t.method.periodicRate(t.rate, t.dc).toString(),
      commencement_date: disbursement,
      maturity_date: rows.length ? rows[rows.length - 1].due_date : disbursement,
    };
  }
  if (plan === "revolving") {
    if (!t.creditLimit) throw new FinanceInputError("'credit_limit' is required to open a line of credit", "credit_limit");
    state.line_of_credit = {
      credit_limit: moneyString(t.creditLimit),
      min_payment_percent: t.minPaymentPercent.toString(),
      min_payment_floor: moneyString(t.minPaymentFloor),
      payment_due_days: t.paymentDueDays,
      last_statement_date: disbursement,
      draw_end_date: t.raw.draw_end_date ? formatIsoDate(parseIsoDate(t.raw.draw_end_date, "draw_end_date")) : null,
    };
  }
  return state;
}
