/**
 * Plays the demo loans (demo-loans.ts) through the loans service's own actions: create, disburse,
 * then each loan's servicing in date order up to today. Loans run side by side (each one's steps
 * in order). Idempotent: a loan whose external_id exists (409)
 * is skipped whole. A loan whose servicing the service refuses is reported, not fatal: the demo
 * data must never stop the system from starting.
 */
import Decimal from "decimal.js";
import type { ServiceBroker } from "moleculer";
import { DEMO_LOANS, daysAfter, daysBefore, statementDates, type DemoLoan } from "./demo-loans";
import type { SimulatedCalendar } from "./calendar";

export interface DemoLoanCounts {
  loans: number;
  loan_payments: number;
  /** draws, statements, fees, buyouts */
  loan_other_transactions: number;
  loans_skipped_existing: number;
  loan_errors: number;
}

interface Step {
  date: string;
  /** same-day order: draws, then payments, then statements */
  rank: number;
  run: () => Promise<void>;
}

/**
 * Seeds the demo loans; the products (by name) and the index histories must exist. With a
 * calendar, each action waits for its day (the demo book's day-by-day run, seed-demo-book.ts).
 */
export async function seedDemoLoans(broker: ServiceBroker, today: string, productIds: Record<string, string>, calendar?: SimulatedCalendar): Promise<DemoLoanCounts> {
  const counts: DemoLoanCounts = { loans: 0, loan_payments: 0, loan_other_transactions: 0, loans_skipped_existing: 0, loan_errors: 0 };
  const one = async (plan: DemoLoan) => {
    try {
      await seedOne(broker, today, plan, productIds[plan.product], counts, calendar);
    } catch (err: any) {
      counts.loan_errors++;
      broker.logger.warn(`demo loan ${plan.external_id} not fully seeded: ${err?.message ?? err}`);
    }
  };
  await Promise.all(DEMO_LOANS.map((plan) => (calendar ? calendar.run(() => one(plan)) : one(plan))));
  return counts;
}

async function seedOne(broker: ServiceBroker, today: string, plan: DemoLoan, productId: string, counts: DemoLoanCounts, calendar?: SimulatedCalendar): Promise<void> {
  const on = (date: string) => calendar?.at(date);
  let loan: any;
  try {
    loan = await broker.call("loans.createLoan", { product_id: productId, external_id: plan.external_id, ...plan.request });
  } catch (err: any) {
    if (err?.code !== 409) throw err;
    counts.loans_skipped_existing++;
    return;
  }
  counts.loans++;
  const id = loan.id as string;
  const opened = daysBefore(today, plan.disbursed_days_ago);
  await on(opened);
  const disbursed: any = await broker.call("loans.disburse", { id, date: opened });
  const key = (what: string) => `demo-${plan.external_id}-${what}`;
  const pay = async (amount: string, date: string, what: string) => {
    await on(date);
    await broker.call("loans.pay", { id, amount, date, idempotency_key: key(what) });
    counts.loan_payments++;
  };
  const other = async (action: string, params: Record<string, unknown>) => {
    await on(String(params.date ?? params.statement_date));
    const res = await broker.call(action, { id, ...params });
    counts.loan_other_transactions++;
    return res as any;
  };

  if (plan.line) {
    await serviceLine(plan, opened, today, { pay, other });
    return;
  }
  let paid = 0;
  for (const row of disbursed.schedule as { number: number; due_date: string; payment: string }[]) {
    if (row.due_date > today) break;
    if (plan.paid_off_after !== undefined && paid === plan.paid_off_after) {
      const date = daysBefore(row.due_date, 10);
      await on(date);
      const quote: any = await broker.call("loans.payoff", { id, date });
      await pay(quote.total, date, "payoff");
      return;
    }
    if (plan.bought_out_after !== undefined && paid === plan.bought_out_after) {
      await other("loans.buyout", { date: daysBefore(row.due_date, 10), idempotency_key: key("buyout") });
      return;
    }
    if (plan.missed?.includes(row.number)) {
      // After the longest grace period of the demo products.
      const feeDate = daysAfter(row.due_date, 16);
      // Run day by day, the close of business assesses the late fee itself (from the fee schedule).
      if (plan.late_fees && feeDate <= today && !calendar) await other("loans.assessFee", { fee_type: "late", date: feeDate, idempotency_key: key(`late-${row.number}`) });
      continue;
    }
    await pay(row.payment, row.due_date, `p${row.number}`);
    paid++;
  }
}

/** A line of credit: its draws, a statement each statement day, and the payment each statement asks for by its due date. */
async function serviceLine(
  plan: DemoLoan,
  opened: string,
  today: string,
  act: { pay: (amount: string, date: string, what: string) => Promise<void>; other: (action: string, params: Record<string, unknown>) => Promise<any> },
): Promise<void> {
  const line = plan.line!;
  const steps: Step[] = [];
  line.draws.forEach((d, i) => {
    const date = daysAfter(opened, d.after_days);
    if (date <= today) steps.push({ date, rank: 0, run: () => act.other("loans.draw", { amount: d.amount, date, idempotency_key: `demo-${plan.external_id}-draw${i + 1}` }) });
  });
  for (const date of statementDates(opened, today, line.statement_day)) {
    steps.push({
      date,
      rank: 2,
      run: async () => {
        const { statement } = await act.other("loans.statement", { statement_date: date });
        const due = statement.minimum_payment_due as string;
        const amount = line.pay === "minimum" ? due : line.pay;
        if (new Decimal(due).gt(0) && statement.due_date <= today) {
          steps.push({ date: statement.due_date, rank: 1, run: () => act.pay(amount, statement.due_date, `stmt-${date}`) });
        }
      },
    });
  }
  // In date order; a statement adds its payment to the steps still to run.
  for (;;) {
    steps.sort((a, b) => a.date.localeCompare(b.date) || a.rank - b.rank);
    const next = steps.shift();
    if (!next) return;
    await next.run();
  }
}
