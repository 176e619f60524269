/**
 * The demo book (issue 9 point 9): the demo loans (demo-loans.ts) serviced day by day over the
 * past year the way production runs — each business day's disbursements and payments, then that
 * day's close of business (accrual, delinquency, late fees, statements, rate resets, charge-offs)
 * and auto-assignment into the demo portfolios — so a newcomer's book has real delinquency
 * history, bucket moves and late fees made by the close rather than by a script.
 *
 * The embedded start runs it after reporting itself up, with the scheduler's clock held until it
 * is done: the clock's catch-up then finds the recent dates closed instead of racing the demo.
 */
import type { ServiceBroker } from "moleculer";
import { SimulatedCalendar } from "./calendar";
import { DEMO_LOANS, daysBefore } from "./demo-loans";
import { seedDemoLoans, type DemoLoanCounts } from "./seed-demo-loans";

export const DEMO_PORTFOLIOS = [
  { name: "Demo consumer installment book", user_code: "demo:consumer", public_name: "Consumer pool", priority: 10, criteria: { all: [{ field: "program_type", op: "eq", value: "installment" }] } },
  { name: "Demo equipment leases", user_code: "demo:leases", public_name: "Lease pool", priority: 20, criteria: { all: [{ field: "program_type", op: "eq", value: "lease" }] } },
];

export interface DemoBookReport extends DemoLoanCounts {
  days_closed: number;
  portfolios: number;
}

const nextDay = (iso: string) => new Date(Date.parse(`${iso}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);

export async function seedDemoBook(broker: ServiceBroker, today: string, productIds: Record<string, string>, onProgress?: (msg: string) => void): Promise<DemoBookReport> {
  const has = (service: string) => broker.registry.getServiceList({ onlyAvailable: true }).some((s: { name: string }) => s.name === service);
  let portfolios = 0;
  if (has("portfolios")) {
    for (const p of DEMO_PORTFOLIOS) {
      try {
        await broker.call("portfolios.createPortfolio", structuredClone(p));
        portfolios++;
      } catch (err: any) {
        if (err?.code !== 409) throw err;
      }
    }
  }
  const calendar = new SimulatedCalendar();
  const loans = seedDemoLoans(broker, today, productIds, calendar);
  const first = daysBefore(today, Math.max(...DEMO_LOANS.map((l) => l.disbursed_days_ago)));
  let days = 0;
  for (let day = first; day < today; day = nextDay(day)) {
    await calendar.advanceTo(day);
    await broker.call("loans.closeOfBusiness", { business_date: day });
    if (portfolios || has("portfolios")) await broker.call("portfolios.autoAssign", { business_date: day });
    days++;
    if (onProgress && day.endsWith("-01")) onProgress(`demo book: closed through ${day}`);
  }
  await calendar.advanceTo(today);
  return { ...(await loans), days_closed: days, portfolios };
}
