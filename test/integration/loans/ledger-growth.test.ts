/**
 * Issue 8 point 11, the property behind "the rate does not fall as the ledger grows", shown
 * without a clock: a payment on a loan with 120 payments behind it does exactly the MongoDB
 * operations of a payment on a loan with 2 — the same collections, the same commands, the same
 * number — and never reads the ledger (loan_transactions is only written). The loan's hot
 * document does not grow with its payments either, so each read and write of it costs the same.
 * The bench measures the rate; this pins the mechanism that keeps it flat, noise-free, in CI.
 */
import mongoose, { type Connection } from "mongoose";
import { makeProduct, openLoan, pay, startLoanSystem, type LoanSystem } from "../../support/loans";
import { waitFor } from "../../support/events/wait";

let sys: LoanSystem;
let conn: Connection;
let productId: string;

beforeAll(async () => {
  sys = await startLoanSystem("loans_ledger_growth");
  conn = await mongoose.createConnection(sys.mongoUrl).asPromise();
  ({ product_id: productId } = await makeProduct(sys.api));
}, 90_000);
afterAll(async () => {
  mongoose.set("debug", false);
  await conn?.close();
  await sys?.stop();
});

const DISBURSED = "2015-01-01";
const open = () => openLoan(sys.api, { product_id: productId, principal: "250000.00", term_months: 360, annual_rate: "0.0600", first_payment_date: "2015-02-01" }, DISBURSED);

/** Pays the loan's installments first..last (1-based), one after another, on their due dates. */
async function payInstallments(loan: any, first: number, last: number): Promise<void> {
  for (let n = first; n <= last; n++) {
    const row = loan.schedule[n - 1];
    await pay(sys.api, loan.id, row.payment, row.due_date, `${loan.id}-${n}`);
  }
}

const loanBytes = async (id: string) => mongoose.mongo.BSON.calculateObjectSize((await conn.db!.collection("loans").findOne({ _id: new mongoose.Types.ObjectId(id) }))!);
const outboxEmpty = async () => (await conn.db!.collection("loans_outbox").countDocuments({})) === 0;

/**
 * The operations (collection.command, sorted) of the loans service while it books one payment
 * and its outbox relay publishes and deletes the payment's events. The services run in this
 * process, so mongoose's debug hook sees every command of their models and collections.
 */
async function operationsOfOnePayment(loan: any, n: number): Promise<string[]> {
  await waitFor(outboxEmpty, "the outbox drained before the measured payment");
  const ops: string[] = [];
  mongoose.set("debug", (collection: string, method: string) => {
    ops.push(`${collection}.${method}`);
  });
  try {
    await payInstallments(loan, n, n);
    await waitFor(outboxEmpty, "the payment's events published and their outbox records deleted");
  } finally {
    mongoose.set("debug", false);
  }
  return ops.sort();
}

it("a payment does the same MongoDB operations after 120 payments as after 2, and never reads the ledger", async () => {
  const short = await open();
  const long = await open();
  await payInstallments(short, 1, 2);
  await payInstallments(long, 1, 120);
  const bytesAfterTwo = await loanBytes(short.id);
  const bytesAfter120 = await loanBytes(long.id);

  const onShort = await operationsOfOnePayment(short, 3);
  const onLong = await operationsOfOnePayment(long, 121);

  expect(onShort.length).toBeGreaterThan(0);
  expect(onLong).toEqual(onShort);
  // The ledger is appended to, never read: no find, count or aggregate on loan_transactions.
  expect(onLong.filter((op) => op.startsWith("loan_transactions.") && !/insert/i.test(op))).toEqual([]);
  // The hot document after 120 payments is the size of the one after 2 (figures change, nothing accumulates).
  expect(Math.abs(bytesAfter120 - bytesAfterTwo)).toBeLessThanOrEqual(64);
}, 120_000);
