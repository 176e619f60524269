/**
 * Loads the demo data through the services' own actions (so it is validated and the averages are
 * computed like any other input). Idempotent: what already exists (409) is looked up, not doubled.
 */
import type { ServiceBroker } from "moleculer";
import { DEMO_FEE_SCHEDULES, DEMO_PRODUCTS, DEMO_PROGRAMS, demoIndexRates, demoPromotion } from "./demo-data";

export interface SeedReport {
  programs: number;
  products: number;
  fee_schedules: number;
  promotions: number;
  index_rates: number;
  skipped_existing: number;
}

export async function seedDemoData(broker: ServiceBroker, today: string): Promise<SeedReport> {
  const report: SeedReport = { programs: 0, products: 0, fee_schedules: 0, promotions: 0, index_rates: 0, skipped_existing: 0 };
  const call = async (action: string, params: Record<string, unknown>, counter: keyof SeedReport) => {
    try {
      const res: any = await broker.call(action, params);
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

  for (const rate of demoIndexRates(today)) await call("rates.createIndexRate", { ...rate, source: "demo seed" }, "index_rates");
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
  return report;
}
