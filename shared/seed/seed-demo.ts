/**
 * Loads the demo data through the services' own actions (so it is validated and the averages are
 * computed like any other input). Idempotent: what already exists (409) is looked up, not doubled.
 * First the configuration and the index histories, then the demo loans (demo-loans.ts) when the
 * loans service is reachable; the embedded start runs the two steps on either side of its
 * start-up line (bin/start.ts).
 */
import type { ServiceBroker } from "moleculer";
import { DEMO_FEE_SCHEDULES, DEMO_PRODUCTS, DEMO_PROGRAMS, demoIndexRates, demoPromotion } from "./demo-data";
import { seedDemoLoans, type DemoLoanCounts } from "./seed-demo-loans";

export interface ConfigReport {
  programs: number;
  products: number;
  fee_schedules: number;
  promotions: number;
  index_rates: number;
  skipped_existing: number;
}

export type SeedReport = ConfigReport & DemoLoanCounts;

/** Everything, in order: the configuration, then the demo loans when the loans service is reachable. */
export async function seedDemoData(broker: ServiceBroker, today: string): Promise<SeedReport> {
  const { report, productIds } = await seedDemoConfig(broker, today);
  const loans: DemoLoanCounts = hasService(broker, "loans")
    ? await seedDemoLoans(broker, today, productIds)
    : { loans: 0, loan_payments: 0, loan_other_transactions: 0, loans_skipped_existing: 0, loan_errors: 0 };
  return { ...report, ...loans };
}

/** Programs, products, fee schedules, the promotion and the index histories; the product ids by name. */
export async function seedDemoConfig(broker: ServiceBroker, today: string): Promise<{ report: ConfigReport; productIds: Record<string, string> }> {
  const report: ConfigReport = { programs: 0, products: 0, fee_schedules: 0, promotions: 0, index_rates: 0, skipped_existing: 0 };
  const call = async (action: string, params: Record<string, unknown>, counter: keyof ConfigReport) => {
    try {
      // A copy: the validator fills defaults into the params it is given, and the demo data is reused.
      const res: any = await broker.call(action, structuredClone(params));
      report[counter]++;
      return res;
    } catch (err: any) {
      if (err?.code !== 409) throw err;
      report.skipped_existing++;
      return undefined;
    }
  };
  const byName = async (action: string, name: string) => {
    const page: any = await broker.call(action, { limit: 500 });
    return page.items.find((i: any) => i.name === name);
  };

  const programIds: Record<string, string> = {};
  for (const program of DEMO_PROGRAMS) {
    const created = (await call("programs.createProgram", program as any, "programs")) ?? (await byName("programs.listPrograms", program.name));
    programIds[program.name] = created.id;
  }
  const productIds: Record<string, string> = {};
  for (const { program, ...product } of DEMO_PRODUCTS) {
    const created = (await call("programs.createProduct", { ...product, program_id: programIds[program] }, "products")) ?? (await byName("programs.listProducts", product.name));
    productIds[product.name] = created.id;
  }
  for (const { product, ...schedule } of DEMO_FEE_SCHEDULES) {
    await call("programs.createFeeSchedule", { ...schedule, fees: schedule.fees.map((f) => ({ ...f })), product_id: productIds[product] }, "fee_schedules");
  }
  const { program, ...promotion } = demoPromotion(today);
  await call("programs.createPromotion", { ...promotion, program_id: programIds[program] }, "promotions");

  // One index after the other would be twice as slow: each index's history in date order (each
  // rate's averages read the ones before), the indexes side by side.
  const rates = demoIndexRates(today);
  await Promise.all(
    [...new Set(rates.map((r) => r.index_name))].map(async (index) => {
      for (const rate of rates.filter((r) => r.index_name === index)) await call("rates.createIndexRate", { ...rate, source: "demo seed" }, "index_rates");
    }),
  );
  return { report, productIds };
}

export function hasService(broker: ServiceBroker, name: string): boolean {
  return broker.registry.getServiceList({ onlyAvailable: true, skipInternal: true }).some((s: any) => s.name === name);
}
