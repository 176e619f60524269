/**
 * Issue 8 point 3 — consistency without transactions (DESIGN.md §1). The loans service (with
 * programs and rates) runs as a real child process (bin/start.ts) over a real nats-server with
 * JetStream and the MongoDB wire server; the gateway and a durable event consumer run in this
 * process. The child is started with FAILPOINTS=loans.after-loan-write, which SIGKILLs it right
 * after a mutation's one version-guarded loan write and before any of its side writes.
 *
 * 1. A payment dies there. The database shows the loan written (version + 1, `pending` set) and
 *    nothing else: no ledger entry, no idempotency record, no outbox event.
 * 2. The client's retry with the same key, on another loans instance while the node is still
 *    down, finishes it (a read that finds the mutation pending completes its side writes first)
 *    and answers with the transaction planned before the crash. A restart then finds nothing
 *    left; a backdated payment (a replay that reallocates a later payment) dies the same way.
 * 3. After a restart without failpoints, the retry through the gateway gets 201 with the same
 *    transaction; the ledger holds it once; its `loan.transaction.booked` is in the stream once
 *    and reaches a durable consumer once.
 * 4. The backdated payment, never retried, was booked by the restart alone (ledger entry, later
 *    payment reallocated, event published once), and the loan equals a twin that never crashed.
 * 5. The requests in flight at the kills failed at the client (the gateway's call times out: 504).
 */
import type { ServiceBroker } from "moleculer";
import mongoose, { type Connection } from "mongoose";
import { connect, type NatsConnection } from "nats";
import { startNats, type RunningNats } from "../../support/nats";
import { startTestMongo, uniqueDbUrl, type RunningMongo } from "../../support/mongo";
import { startSystemProcess, type StartedProcess } from "../../support/processes";
import { eventually, gatewayUrl, startNode, TEST_TOKENS as T, waitForRoutes } from "../../support/system";
import { makeProduct } from "../../support/loans";
import { apiClient } from "../../support/http";
import { bookedWatcher } from "../../support/loan-infra/booked-watcher";
import { pendingOf } from "../../../services/loans/loan-store";
import { canonical, figures, ledgerOf, loanOf, must, request, type RawResponse } from "../../support/loan-infra/http";
import { durableName } from "../../../shared/events/subjects";
import { keepPublishedOutboxRecords } from "../../support/events/keep-published";

keepPublishedOutboxRecords();

const NODE_ID = "loans-crash-node";
const FAILPOINT = "loans.after-loan-write";
const WATCHER = "crashwatch";

let nats: RunningNats;
let mongo: RunningMongo;
let mongoUrl: string;
let gw: ServiceBroker;
let base: string;
let db: Connection;
let nc: NatsConnection;
let loansNode: StartedProcess | undefined;
/** A second loans instance in this process, on the same database, off the gateway's network. */
let other: ServiceBroker;
const children: StartedProcess[] = [];
/** The requests in flight when a node was killed; the gateway answers them when its call times out. */
const inFlight: Promise<RawResponse>[] = [];

/** Starts the loans node (programs, rates, loans); always the same node id, as a restarted pod. */
async function startLoansNode(failpoints = ""): Promise<StartedProcess> {
  if (loansNode && loansNode.child.exitCode === null && loansNode.child.signalCode === null) throw new Error("the previous loans node still runs: one node with this id at a time");
  const env: Record<string, string> = { TRANSPORTER: nats.url, MONGO_URL: mongoUrl, SERVICES: "programs,rates,loans", SEED_DEMO: "false", NODE_ID };
  if (failpoints) env.FAILPOINTS = failpoints;
  const p = await startSystemProcess(env, 90_000);
  children.push(p);
  loansNode = p;
  // The gateway routes to the node once it has its INFO (a restart under the same id replaces it).
  await eventually(() => gw.registry.getActionEndpoints("loans.pay")?.hasAvailable(), 30_000);
  await waitForRoutes(gw, ["POST /api/v1/loans/:id/payments"], 30_000);
  return p;
}

/** Sends the request that must kill `node`, and waits for the death (failing fast if it answers instead). */
async function killedBy(node: StartedProcess, req: Promise<RawResponse>): Promise<void> {
  inFlight.push(req);
  const first = await Promise.race([exitOf(node).then((exit) => ({ exit })), req.then((response) => ({ response }))]);
  if ("response" in first) throw new Error(`the node answered instead of dying at ${FAILPOINT}: ${first.response.status} ${first.response.text}`);
  expect(first.exit).toEqual({ code: null, signal: "SIGKILL" });
}

function exitOf(p: StartedProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return Promise.resolve({ code: p.child.exitCode, signal: p.child.signalCode });
  return new Promise((done) => p.child.once("exit", (code, signal) => done({ code, signal })));
}

beforeAll(async () => {
  [nats, mongo] = await Promise.all([startNats({ jetstream: true }), startTestMongo()]);
  mongoUrl = uniqueDbUrl(mongo.url, "loans_crash");
  gw = await startNode({ nodeID: "loans-crash-gw", services: ["gateway"], mongoUrl, natsUrl: nats.url, extraServices: [bookedWatcher(WATCHER)] });
  base = gatewayUrl(gw);
  db = await mongoose.createConnection(mongoUrl).asPromise();
  nc = await connect({ servers: nats.url });
  // No transporter, so the gateway never routes to it (the dying request must reach the child);
  // its durable events still go to the same JetStream (JETSTREAM_URL, read when it starts). Its
  // start-up sweep runs now, before any crash, and its periodic one not within the test.
  const saved = process.env.JETSTREAM_URL;
  process.env.JETSTREAM_URL = nats.url;
  try {
    other = await startNode({ nodeID: "loans-crash-other", services: ["loans"], mongoUrl, settings: { loans: { sweepIntervalMs: 3_600_000 } } });
  } finally {
    if (saved === undefined) delete process.env.JETSTREAM_URL;
    else process.env.JETSTREAM_URL = saved;
  }
}, 120_000);

afterAll(async () => {
  for (const c of children) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill("SIGKILL");
  await nc?.close();
  await other?.stop();
  await db?.close();
  // The calls to the killed node timed out, but Moleculer's tracker never forgets a remote call
  // whose reply never came: without this the stop waits out its 15 s shutdown timeout.
  if (gw) (gw as any)._trackedContexts.length = 0;
  await gw?.stop();
  await nats?.stop();
  await mongo?.stop();
});

const loansColl = () => db.collection("loans");
const oid = (id: string) => new mongoose.Types.ObjectId(id);

/** Everything the loans service stores about one mutation, read straight from its collections. */
async function storedState(loanId: string, txId: string, key: string) {
  const [loan, tx, idem, events] = await Promise.all([
    loansColl().findOne({ _id: oid(loanId) }),
    db.collection("loan_transactions").findOne({ _id: txId as any }),
    db.collection("loan_idempotency").findOne({ _id: `${loanId}:${key}` as any }),
    db.collection("loans_outbox").find({ subject: "loan.transaction.booked", "payload.transaction.id": txId }).toArray(),
  ]);
  return { loan: loan as any, tx: tx as any, idem: idem as any, events };
}

/** The `loan.transaction.booked` messages for `txId` in the JetStream stream itself. */
async function streamCopies(txId: string): Promise<number> {
  const jsm = await nc.jetstreamManager();
  const info = await jsm.streams.info("EVENTS");
  let n = 0;
  for (let seq = info.state.first_seq; info.state.messages && seq <= info.state.last_seq; seq++) {
    const m = await jsm.streams.getMessage("EVENTS", { seq });
    const e = JSON.parse(new TextDecoder().decode(m.data));
    if (e.subject === "loan.transaction.booked" && e.payload?.transaction?.id === txId) n++;
  }
  return n;
}

/** Waits until the watcher's durable consumer has nothing pending, then counts what it saw for `txId`. */
async function watcherSaw(txId: string): Promise<{ records: number; eventIds: string[] }> {
  const jsm = await nc.jetstreamManager();
  const durable = durableName(WATCHER, "loan.transaction.booked");
  await eventually(async () => {
    const ci = await jsm.consumers.info("EVENTS", durable);
    return ci.num_pending === 0 && ci.num_ack_pending === 0 && ci.delivered.stream_seq > 0;
  }, 30_000);
  const seen = await db.collection(`${WATCHER}_seen`).find({ transaction_id: txId }).toArray();
  return { records: seen.length, eventIds: [...new Set(seen.map((s: any) => s.event_id as string))] };
}

const DISBURSED = "2026-06-01";
const TERMS = { principal: "24000.00", term_months: 24, annual_rate: "0.0900", first_payment_date: "2026-07-01" };
let productId: string;
const loans: Record<"retry" | "sweep" | "twin", any> = {} as any;

async function openLoan(): Promise<any> {
  const loan = await must(request(base, "POST", "/api/v1/loans", { token: T.servicer, body: { product_id: productId, ...TERMS } }), 201);
  return must(request(base, "POST", `/api/v1/loans/${loan.id}/disburse`, { token: T.servicer, body: { date: DISBURSED } }));
}
const pay = (loanId: string, amount: string, date: string, key: string) =>
  request(base, "POST", `/api/v1/loans/${loanId}/payments`, { token: T.servicer, body: { amount, date, idempotency_key: key } });

it("sets up: a product and three loans with two monthly payments each, on a node without failpoints", async () => {
  await startLoansNode();
  ({ product_id: productId } = await makeProduct(apiClient(base)));
  for (const name of ["retry", "sweep", "twin"] as const) {
    const loan = await openLoan();
    await must(pay(loan.id, loan.schedule[0].payment, "2026-07-01", `${name}-1`), 201);
    await must(pay(loan.id, loan.schedule[1].payment, "2026-08-01", `${name}-2`), 201);
    loans[name] = loan;
  }
  expect(await loansNode!.stop()).toBe(0);
}, 180_000);

describe("mutations killed between the loan write and their side writes", () => {
  const RETRY_KEY = "crash-retry-1";
  const SWEEP_KEY = "crash-sweep-1";
  let plannedRetry: any;
  let plannedSweep: any;

  it("a payment dies there: the loan is written with its pending mutation, nothing else is", async () => {
    const node = await startLoansNode(FAILPOINT);
    const loanId = loans.retry.id;
    const before: any = await loansColl().findOne({ _id: oid(loanId) });
    await killedBy(node, pay(loanId, "1000.00", "2026-08-10", RETRY_KEY));

    const after: any = await loansColl().findOne({ _id: oid(loanId) });
    expect(after.version).toBe(before.version + 1);
    const planned = pendingOf(after.pending);
    expect(planned).toMatchObject({ id: `${loanId}:v${before.version + 1}`, kind: "payment", idempotency: { key: RETRY_KEY } });
    plannedRetry = (planned.response as any).transaction;
    expect(plannedRetry).toMatchObject({ id: `${loanId}-4`, type: "payment", amount: "1000.00", trade_date: "2026-08-10", idempotency_key: RETRY_KEY });
    const s = await storedState(loanId, plannedRetry.id, RETRY_KEY);
    expect(s.tx).toBeNull();
    expect(s.idem).toBeNull();
    expect(s.events).toEqual([]);
    expect(await streamCopies(plannedRetry.id)).toBe(0);
  }, 120_000);

  it("the client's retry on another loans instance, with the node still down, finishes it: the planned transaction, once", async () => {
    const retried: any = await other.call("loans.pay", { id: loans.retry.id, amount: "1000.00", date: "2026-08-10", idempotency_key: RETRY_KEY }, { meta: { user: { role: "servicer", token_id: "crash-test" } } });
    expect(retried.transaction).toEqual(plannedRetry);
    // The retry was answered once the side writes were done; its clear of `pending` follows.
    const done = await eventually(async () => {
      const st = await storedState(loans.retry.id, plannedRetry.id, RETRY_KEY);
      return st.loan.pending === null && st;
    });
    expect(done.loan.pending).toBeNull();
    expect(done.tx).toMatchObject({ _id: plannedRetry.id, status: "booked", amount: "1000.00" });
    expect(done.idem).not.toBeNull();
    expect(done.events).toHaveLength(1);
    expect((await db.collection("loan_transactions").find({ loan_id: loans.retry.id, idempotency_key: RETRY_KEY }).toArray()).map((t: any) => t._id)).toEqual([plannedRetry.id]);
  }, 60_000);

  it("a restart (still armed) finds nothing left to finish; a backdated payment then dies the same way", async () => {
    // Still armed: the failpoint sits in the loan write, which the sweep never makes.
    const node = await startLoansNode(FAILPOINT);
    expect(node.output()).not.toMatch(/loan mutation\(s\) a stop left half done/);
    const loanId = loans.sweep.id;
    await killedBy(node, pay(loanId, "500.00", "2026-07-15", SWEEP_KEY));
    const dead: any = await loansColl().findOne({ _id: oid(loanId) });
    const planned = pendingOf(dead.pending);
    plannedSweep = (planned.response as any).transaction;
    expect(plannedSweep).toMatchObject({ type: "payment", trade_date: "2026-07-15", amount: "500.00" });
    // A replay: the 2026-08-01 payment's allocation moves, as a side write of this mutation.
    expect(planned.transactionUpdates!.map((u: any) => u._id)).toContain(`${loanId}-3`);
    const untouched: any = await db.collection("loan_transactions").findOne({ _id: `${loanId}-3` as any });
    expect(untouched.reallocated_at ?? null).toBeNull();
    const s = await storedState(loanId, plannedSweep.id, SWEEP_KEY);
    expect([s.tx, s.idem, s.events.length]).toEqual([null, null, 0]);
  }, 120_000);

  it("after a restart without failpoints, the retry with the same key: the planned transaction, in the ledger once, published once", async () => {
    await startLoansNode();
    const loanId = loans.retry.id;
    const version = (await loansColl().findOne({ _id: oid(loanId) }))!.version;

    const retry = await pay(loanId, "1000.00", "2026-08-10", RETRY_KEY);
    expect(retry.status).toBe(201);
    expect(retry.body.transaction).toEqual(plannedRetry);
    const again = await pay(loanId, "1000.00", "2026-08-10", RETRY_KEY);
    expect(canonical(again.body)).toBe(canonical(retry.body));

    const ledger = await ledgerOf(base, loanId);
    expect(ledger.map((t) => t.type)).toEqual(["disbursement", "payment", "payment", "payment"]);
    expect(ledger.filter((t) => t.idempotency_key === RETRY_KEY).map((t) => t.id)).toEqual([plannedRetry.id]);
    expect((await loanOf(base, loanId)).version).toBe(version);

    expect(await eventually(() => streamCopies(plannedRetry.id).then((n) => n > 0 && n), 30_000)).toBe(1);
    expect(await watcherSaw(plannedRetry.id)).toEqual({ records: 1, eventIds: [`${loanId}:v${version}:0`] });
  }, 120_000);

  it("the backdated payment, never retried, was booked by the restart alone, and the loan equals a twin that never crashed", async () => {
    expect(loansNode!.output()).toMatch(/finished 1 loan mutation\(s\) a stop left half done/);
    const loanId = loans.sweep.id;
    // Straight from the database first: no API request on this loan has run since the crash.
    const s = await storedState(loanId, plannedSweep.id, SWEEP_KEY);
    expect(s.loan.pending).toBeNull();
    expect(s.tx).toMatchObject({ _id: plannedSweep.id, trade_date: "2026-07-15", amount: "500.00", status: "booked" });
    expect(s.idem).not.toBeNull();
    expect(s.events).toHaveLength(1);
    const moved: any = await db.collection("loan_transactions").findOne({ _id: `${loanId}-3` as any });
    expect(moved.reallocated_at).toEqual(expect.any(String));

    const ledger = await ledgerOf(base, loanId);
    expect(ledger.filter((t) => t.idempotency_key === SWEEP_KEY).map((t) => t.id)).toEqual([plannedSweep.id]);
    expect(await eventually(() => streamCopies(plannedSweep.id).then((n) => n > 0 && n), 30_000)).toBe(1);
    expect(await watcherSaw(plannedSweep.id)).toEqual({ records: 1, eventIds: [`${loanId}:v${s.loan.version}:0`] });

    // The twin that never crashed takes the same backdated payment: both loans end the same.
    expect((await pay(loans.twin.id, "500.00", "2026-07-15", "twin-backdated")).status).toBe(201);
    const strip = (l: any[]) => l.map((t) => [t.type, t.trade_date, t.amount, t.components, t.status]);
    expect(strip(ledger)).toEqual(strip(await ledgerOf(base, loans.twin.id)));
    expect(figures((await loanOf(base, loanId)).position)).toEqual(figures((await loanOf(base, loans.twin.id)).position));
  }, 120_000);

  it("every request in flight at a kill failed at the client (a 5xx, never a success)", async () => {
    const answers = await Promise.all(inFlight);
    expect(answers).toHaveLength(2);
    for (const a of answers) expect(a.status === 0 || a.status >= 500).toBe(true);
    expect(await loansNode!.stop()).toBe(0);
  }, 60_000);
});
