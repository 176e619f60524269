/**
 * What the probes (bench/probes) start: some of the services in this process on a fresh Java wire
 * server, without HTTP, and the installment product they originate on.
 */
import { ServiceBroker } from "moleculer";
import { brokerOptions } from "../../moleculer.config";
import { readConfig } from "../../shared/config";
import { SERVICE_SCHEMAS } from "../../services";
import { startJavaWireServer } from "../../shared/runtime/mongo-server";

export interface ProbeServices {
  /** The services' database URL. */
  url: string;
  call: (action: string, params: Record<string, unknown>) => Promise<any>;
  stop: () => Promise<void>;
}

export async function startProbeServices(db: string, names: readonly (keyof typeof SERVICE_SCHEMAS)[]): Promise<ProbeServices> {
  const mongo = await startJavaWireServer();
  const url = `${mongo.url}${db}`;
  const broker = new ServiceBroker({ ...brokerOptions({ ...readConfig({}), logLevel: "warn" }, { mongoUrl: url }), nodeID: db.replace(/_/g, "-"), skipProcessEventRegistration: true });
  for (const name of names) broker.createService({ mixins: [SERVICE_SCHEMAS[name]] } as any);
  await broker.start();
  return {
    url,
    call: (action, params) => broker.call(action, params, { timeout: 60_000 }) as Promise<any>,
    stop: async () => {
      await broker.stop();
      await mongo.stop();
    },
  };
}

/** A fixed-rate installment product (12 %, simple interest, actual/365, 10 days' grace). */
export async function probeProduct(call: ProbeServices["call"]): Promise<string> {
  const program = await call("programs.createProgram", { name: `Probe ${Date.now()}`, program_type: "installment", day_count_convention: "actual_365", accrual_method: "simple", payment_allocation_order: ["interest", "fees", "principal"] });
  const product = await call("programs.createProduct", { name: `Probe product ${Date.now()}`, program_id: program.id, interest_rate_type: "fixed", default_interest_rate: "0.1200", min_term_months: 1, max_term_months: 360, min_loan_amount: "100.00", max_loan_amount: "1000000.00", grace_period_days: 10 });
  return product.id;
}
