/**
 * Issue 8 points 3 and 11: a payment is answered once its side writes (ledger entry, outbox
 * events, idempotency record) are written, before `pending` is cleared from the loan — the clear
 * is bookkeeping, off the answer's path. What must still hold while a clear is held back:
 *   - the answer's transaction, its outbox event and its idempotency record are all stored;
 *   - the loan's next payment in this process waits for the clear (it never finds its own
 *     predecessor pending and writes its side writes a second time);
 *   - a read of the loan that finds the mutation pending waits for this process's finish instead
 *     of writing the side writes again;
 *   - `pending` is stored as its id, version and kind with the rest as one JSON string, and reads
 *     back as the mutation it was.
 */
import mongoose, { type Connection } from "mongoose";
import { makeProduct, startLoanSystem, type LoanSystem } from "../../support/loans";
import { gatewayUrl, TEST_TOKENS as T } from "../../support/system";
import { ledgerOf, must, request } from "../../support/loan-infra/http";
import { gate, waitFor } from "../../support/events/wait";
import { pendingOf, storedPending, type PendingMutation } from "../../../services/loans/loan-store";
import { keepPublishedOutboxRecords } from "../../support/events/keep-published";

keepPublishedOutboxRecords();

let sys: LoanSystem;
let base: string;
let conn: Connection;

beforeAll(async () => {
  sys = await startLoanSystem("loans_answer_first");
  base = gatewayUrl(sys.gw);
  conn = await mongoose.createConnection(sys.mongoUrl).asPromise();
}, 90_000);
afterAll(async () => {
  await conn?.close();
  await sys?.stop();
});

const servicer = { user: { role: "servicer", token_id: "answer-first-test" } };

it("stores a pending mutation as id, version, kind and one JSON string, and reads either shape back", () => {
  const p: PendingMutation = {
    id: "l1:v7",
    version: 7,
    kind: "payment",
    response: { transaction: { id: "l1-3", amount: "10.00" }, loan: { id: "l1", borrower: null } },
    idempotency: { key: "k", hash: "h" },
    transactions: [],
    events: [{ subject: "loan.transaction.booked", id: "l1:v7:0", payload: { amount: "10.00" } }],
  };
  const stored = storedPending(p);
  expect(Object.keys(stored).sort()).toEqual(["body", "id", "kind", "version"]);
  expect(typeof stored.body).toBe("string");
  expect(pendingOf(stored)).toEqual(p);
  // Without an answer, and with nothing but an answer.
  const bare: PendingMutation = { id: "l1:v8", version: 8, kind: "close", response: undefined, events: [] };
  expect(pendingOf(storedPending(bare))).toEqual({ id: "l1:v8", version: 8, kind: "close", events: [] });
  const onlyAnswer = { id: "l1:v9", version: 9, kind: "x", response: { a: "1.00" } } as unknown as PendingMutation;
  expect(pendingOf(storedPending(onlyAnswer))).toEqual(onlyAnswer);
  // A record written before bodies were strings reads back as it is.
  expect(pendingOf(p)).toBe(p);
});

it("answers before the clear; the next payment and a read of the loan wait for it, writing nothing twice", async () => {
  const { product_id } = await makeProduct(sys.api);
  const loan = await must(request(base, "POST", "/api/v1/loans", { token: T.servicer, body: { product_id, principal: "12000.00", term_months: 12, annual_rate: "0.1200", first_payment_date: "2026-07-01" } }), 201);
  await must(request(base, "POST", `/api/v1/loans/${loan.id}/disburse`, { token: T.servicer, body: { date: "2026-06-01" } }));

  const svc: any = sys.core.getLocalService("loans");
  const store = svc.store;
  const originalClear = store.clearPending;
  const reached = gate();
  const release = gate();
  let held = 0;
  store.clearPending = async function (this: unknown, items: unknown[]) {
    held++;
    reached.open();
    await release.promise;
    return originalClear.call(store, items);
  };
  const originalFinish = store.finish;
  const finishes: string[] = [];
  store.finish = function (this: unknown, loanId: string, p: PendingMutation) {
    finishes.push(p.id);
    return originalFinish.call(store, loanId, p);
  };
  const originalAttempt = store.attempt;
  let attempts = 0;
  store.attempt = function (this: unknown, ...args: unknown[]) {
    attempts++;
    return originalAttempt.apply(store, args);
  };
  // Counts ledger inserts from here on: each payment's entry must be inserted exactly once.
  const txCollection = svc.models.loan_transactions.collection;
  const originalInsert = txCollection.insertMany;
  const inserted: string[] = [];
  txCollection.insertMany = function (this: unknown, docs: any[], ...rest: unknown[]) {
    inserted.push(...docs.map((d) => d._id));
    return originalInsert.call(txCollection, docs, ...rest);
  };
  try {
    const first: any = await sys.core.call("loans.pay", { id: loan.id, amount: "500.00", date: "2026-06-15", idempotency_key: "first" }, { meta: servicer });
    await reached.promise;
    attempts = 0;
    // Answered while the clear is held: everything else of the mutation is stored.
    const db = conn.db!;
    const doc: any = await db.collection("loans").findOne({ _id: new mongoose.Types.ObjectId(loan.id) });
    expect(doc.pending).toMatchObject({ id: `${loan.id}:v${doc.version}`, kind: "payment" });
    expect(typeof doc.pending.body).toBe("string");
    expect(pendingOf(doc.pending).response).toEqual(first);
    expect(await db.collection("loan_transactions").findOne({ _id: first.transaction.id })).toMatchObject({ amount: "500.00", status: "booked" });
    expect(await db.collection("loan_idempotency").findOne({ _id: `${loan.id}:first` as any })).toMatchObject({ response_json: JSON.stringify(first) });
    expect(await db.collection("loans_outbox").countDocuments({ _id: { $in: [`${loan.id}:v${doc.version}:0`] } as any })).toBe(1);

    let secondDone = false;
    let readDone = false;
    const second = (sys.core.call("loans.pay", { id: loan.id, amount: "250.00", date: "2026-06-20", idempotency_key: "second" }, { meta: servicer }) as Promise<any>).then((r) => {
      secondDone = true;
      return r;
    });
    const read = (sys.core.call("loans.getLoan", { id: loan.id }, { meta: servicer }) as Promise<any>).then((r) => {
      readDone = true;
      return r;
    });
    // The read found the mutation pending and joined this process's finish of it; the second
    // payment has not begun (its first attempt waits for the clear).
    await waitFor(() => finishes.includes(doc.pending.id), "the read to find the mutation pending");
    expect(attempts).toBe(0);
    expect(secondDone).toBe(false);
    expect(readDone).toBe(false);
    expect(readDone).toBe(false);
    expect(held).toBe(1);

    release.open();
    const [paid, viewed] = await Promise.all([second, read]);
    expect(attempts).toBe(1);
    expect(viewed.version).toBeGreaterThanOrEqual(doc.version);
    expect(paid.transaction.amount).toBe("250.00");
    expect(inserted).toEqual([first.transaction.id, paid.transaction.id]);
  } finally {
    store.clearPending = originalClear;
    store.finish = originalFinish;
    store.attempt = originalAttempt;
    txCollection.insertMany = originalInsert;
    release.open();
  }
  const payments = (await ledgerOf(base, loan.id)).filter((t) => t.type === "payment");
  expect(payments.map((t) => t.amount)).toEqual(["500.00", "250.00"]);
}, 120_000);
