/**
 * Issue 8 point 3, the other half of "side writes keyed by the mutation": a mutation's side
 * writes may be finished by anyone (its own request, a read that finds it pending, another
 * instance, the sweep), so a slow finisher of an OLDER mutation can land after a newer mutation
 * has finished. Inserts are harmless (same id, same content); the updates a replay makes to
 * earlier ledger entries (their new allocation) are not: a late one would put back an allocation
 * the newer replay had already replaced.
 *
 * Here the loans instance A books a backdated payment whose ledger update is held (a slow
 * database call, simulated by gating A's bulkWrite); instance B finishes A's mutation, books a
 * second backdated payment and finishes it; then A's held write goes through. The ledger must
 * still equal that of a twin loan that took the same two payments one after the other.
 */
import type { ServiceBroker } from "moleculer";
import { makeProduct, startLoanSystem, type LoanSystem } from "../../support/loans";
import { gatewayUrl, startNode, TEST_TOKENS as T } from "../../support/system";
import { figures, ledgerOf, loanOf, must, request } from "../../support/loan-infra/http";
import { gate } from "../../support/events/wait";

let sys: LoanSystem;
let second: ServiceBroker;
let base: string;

beforeAll(async () => {
  sys = await startLoanSystem("loans_sideorder");
  second = await startNode({ nodeID: "loans_sideorder-b", services: ["loans"], mongoUrl: sys.mongoUrl, natsUrl: sys.nats.url });
  base = gatewayUrl(sys.gw);
}, 90_000);
afterAll(async () => {
  await second?.stop();
  await sys?.stop();
});

const servicer = { user: { role: "servicer", token_id: "side-order-test" } };

it("a late side write of an older mutation never overwrites a newer one's", async () => {
  const { product_id } = await makeProduct(sys.api);
  const open = async () => {
    const loan = await must(request(base, "POST", "/api/v1/loans", { token: T.servicer, body: { product_id, principal: "24000.00", term_months: 24, annual_rate: "0.0900", first_payment_date: "2026-07-01" } }), 201);
    const disbursed = await must(request(base, "POST", `/api/v1/loans/${loan.id}/disburse`, { token: T.servicer, body: { date: "2026-06-01" } }));
    for (const [i, date] of ["2026-07-01", "2026-08-01"].entries()) {
      await must(request(base, "POST", `/api/v1/loans/${loan.id}/payments`, { token: T.servicer, body: { amount: disbursed.schedule[i].payment, date, idempotency_key: `p${i}` } }), 201);
    }
    return loan.id as string;
  };
  const [loanId, twinId] = [await open(), await open()];
  const m1 = { amount: "300.00", date: "2026-07-10", idempotency_key: "m1" };
  const m2 = { amount: "200.00", date: "2026-07-20", idempotency_key: "m2" };

  // The twin: both backdated payments, one after the other, on one instance.
  for (const m of [m1, m2]) await sys.core.call("loans.pay", { id: twinId, ...m }, { meta: servicer });

  // Instance A: hold the ledger update of m1's replay until B is done.
  const a: any = sys.core.getLocalService("loans");
  const model = a.models.loan_transactions;
  const original = model.bulkWrite;
  const reached = gate();
  const release = gate();
  model.bulkWrite = async function (this: unknown, ...args: unknown[]) {
    model.bulkWrite = original;
    reached.open();
    await release.promise;
    return original.apply(model, args);
  };
  try {
    const first = sys.core.call("loans.pay", { id: loanId, ...m1 }, { meta: servicer });
    await reached.promise;
    // Instance B finds m1 pending, finishes it, then books and finishes m2.
    await second.call("loans.pay", { id: loanId, ...m2 }, { meta: servicer, nodeID: second.nodeID });
    release.open();
    await first;
  } finally {
    model.bulkWrite = original;
    release.open();
  }

  const strip = (l: any[]) => l.map((t) => [t.type, t.trade_date, t.amount, t.status, t.components]);
  const [ledger, twinLedger] = [await ledgerOf(base, loanId), await ledgerOf(base, twinId)];
  // The 2026-08-01 payment (seq 3) was reallocated by both replays; the newer allocation stands.
  expect(ledger[2].components).toEqual(twinLedger[2].components);
  expect(strip(ledger)).toEqual(strip(twinLedger));
  expect(figures((await loanOf(base, loanId)).position)).toEqual(figures((await loanOf(base, twinId)).position));
}, 120_000);
