/**
 * A loans system for tests: a gateway node and a node with programs, rates and loans, separate
 * brokers over a real nats-server, on the MongoDB wire server; plus helpers that set up programs
 * and products through the API and book loans the way a client does.
 */
import type { ServiceBroker, ServiceSchema } from "moleculer";
import { startNats, type RunningNats } from "./nats";
import { startTestMongo, uniqueDbUrl } from "./mongo";
import type { RunningMongo } from "../../shared/runtime/mongo-server";
import { apiClient, gatewayUrl, startNode, TEST_TOKENS as T, waitForRoutes } from "./system";

export interface LoanSystem {
  api: ReturnType<typeof apiClient>;
  gw: ServiceBroker;
  core: ServiceBroker;
  mongoUrl: string;
  nats: RunningNats;
  stop(): Promise<void>;
}

export async function startLoanSystem(name: string, opts: { extraServices?: ServiceSchema[] } = {}): Promise<LoanSystem> {
  const [nats, mongo] = await Promise.all([startNats({ jetstream: true }), startTestMongo()]);
  const mongoUrl = uniqueDbUrl(mongo.url, name);
  const core = await startNode({ nodeID: `${name}-core`, services: ["programs", "rates", "loans"], mongoUrl, natsUrl: nats.url, extraServices: opts.extraServices });
  const gw = await startNode({ nodeID: `${name}-gw`, services: ["gateway"], mongoUrl, natsUrl: nats.url });
  await gw.waitForServices(["programs", "rates", "loans"], 20_000);
  await waitForRoutes(gw, ["POST /api/v1/loans", "POST /api/v1/loans/:id/payments", "POST /api/v1/programs"]);
  return {
    api: apiClient(gatewayUrl(gw)),
    gw,
    core,
    mongoUrl,
    nats,
    async stop() {
      await gw.stop();
      await core.stop();
      await nats.stop();
      await (mongo as RunningMongo).stop();
    },
  };
}

type Api = LoanSystem["api"];

export async function ok<T = any>(p: Promise<{ status: number; body: any }>, status?: number): Promise<T> {
  const res = await p;
  if (res.status >= 400 || (status && res.status !== status)) throw new Error(`unexpected ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body as T;
}

let counter = 0;
/** A program + product (+ fee schedule) of the given shape; returns the product id. */
export async function makeProduct(api: Api, o: {
  program_type?: "installment" | "lease" | "line_of_credit";
  day_count_convention?: string;
  accrual_method?: string;
  payment_allocation_order?: string[];
  program_config?: Record<string, unknown>;
  product?: Record<string, unknown>;
  fees?: Record<string, unknown>[];
  variable?: { index_name: string; margin: string; floor?: string; ceiling?: string; adjustment_frequency: string };
} = {}): Promise<{ product_id: string; program_id: string }> {
  const n = ++counter;
  const type = o.program_type ?? "installment";
  const program = await ok(api("POST", "/api/v1/programs", {
    token: T.admin,
    body: {
      name: `P${n}-${type}-${Date.now()}`,
      program_type: type,
      day_count_convention: o.day_count_convention ?? "actual_365",
      accrual_method: o.accrual_method ?? "simple",
      payment_allocation_order: o.payment_allocation_order ?? ["interest", "fees", "principal"],
      ...(o.program_config ? { program_config: o.program_config } : {}),
      ...(o.variable ?? {}),
    },
  }));
  const product = await ok(api("POST", "/api/v1/products", {
    token: T.admin,
    body: {
      name: `Prod${n}-${Date.now()}`,
      program_id: program.id,
      interest_rate_type: o.variable ? "variable" : "fixed",
      default_interest_rate: "0.1200",
      min_term_months: 1,
      max_term_months: 360,
      min_loan_amount: "100.00",
      max_loan_amount: "1000000.00",
      grace_period_days: 10,
      ...(o.product ?? {}),
    },
  }));
  if (o.fees?.length) {
    await ok(api("POST", "/api/v1/fee-schedules", { token: T.admin, body: { name: `F${n}-${Date.now()}`, product_id: product.id, fees: o.fees } }));
  }
  return { product_id: product.id, program_id: program.id };
}

/** Creates and disburses a loan; returns the disbursed loan (with its schedule). */
export async function openLoan(api: Api, body: Record<string, unknown>, date: string): Promise<any> {
  const loan = await ok(api("POST", "/api/v1/loans", { token: T.servicer, body }), 201);
  return ok(api("POST", `/api/v1/loans/${loan.id}/disburse`, { token: T.servicer, body: { date } }));
}

export async function pay(api: Api, loanId: string, amount: string, date: string, key = `k-${++counter}-${Date.now()}`): Promise<any> {
  return ok(api("POST", `/api/v1/loans/${loanId}/payments`, { token: T.servicer, body: { amount, date, idempotency_key: key } }), 201);
}
