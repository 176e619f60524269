/**
 * Probe behind services/loans/stored-loan.ts: what the embedded wire server spends on a loan's
 * payment-shaped rounds (a version-guarded update carrying state, position and a pending
 * mutation, the clear of `pending`, a read back) when the loan's nested, never-queried parts are
 * stored nested versus as JSON text. The loan is a real one: originated, disbursed and paid
 * through the services in this process, then copied 10,000 times into a fresh server per mode.
 * Prints the Java server's CPU per round and the wall time, alternating the modes (the machine's
 * speed drifts: compare neighbours).
 *
 * Run: scripts/node --import tsx bench/probes/loan-text-fields.ts   (PROBE_ROUNDS=20000, PROBE_MODES=nested,text,nested,text)
 */
import { DateTime } from "luxon";
import { MongoClient, ObjectId } from "mongodb";
import { startJavaWireServer } from "../../shared/runtime/mongo-server";
import { businessToday } from "../../shared/runtime/business-date";
import { decodeLoan, encodeLoanFields } from "../../services/loans/stored-loan";
import { cpuBetween, cpuSnapshot } from "../lib/cpu";
import { probeProduct, startProbeServices } from "../lib/probe-services";

const LOANS = 10_000;
const ROUNDS = Number(process.env.PROBE_ROUNDS ?? 20_000);
const MODES = (process.env.PROBE_MODES ?? "nested,text,nested,text").split(",");

/** A real loan document (decoded: nested), made by the services. */
async function realLoan(): Promise<Record<string, any>> {
  const probe = await startProbeServices("probe_text_fields", ["programs", "rates", "loans"]);
  try {
    const { call, url } = probe;
    const productId = await probeProduct(call);
    const today = businessToday(process.env.BUSINESS_TZ ?? "America/New_York");
    const created = await call("loans.createLoan", { product_id: productId, principal: "12500.00", term_months: 36 });
    const disbursed = await call("loans.disburse", { id: created.id, date: DateTime.fromISO(today, { zone: "utc" }).minus({ months: 5 }).toISODate() });
    for (const [i, row] of disbursed.schedule.slice(0, 3).entries()) await call("loans.pay", { id: created.id, amount: row.payment, date: row.due_date, idempotency_key: `probe-${i}` });
    const client = await MongoClient.connect(url);
    const doc = await client.db().collection("loans").findOne({ _id: new ObjectId(created.id) });
    await client.close();
    return decodeLoan(doc!);
  } finally {
    await probe.stop();
  }
}

async function rounds(base: Record<string, any>, mode: string): Promise<void> {
  const server = await startJavaWireServer();
  const client = await MongoClient.connect(server.url, { maxPoolSize: 20 });
  try {
    const loans = client.db("probe").collection("loans");
    await loans.createIndex({ _id: 1, version: 1 }, { unique: true });
    const stored = (fields: Record<string, unknown>) => (mode === "text" ? encodeLoanFields(fields) : fields);
    const ids = Array.from({ length: LOANS }, () => new ObjectId());
    for (let i = 0; i < LOANS; i += 1000) await loans.insertMany(ids.slice(i, i + 1000).map((_id) => stored({ ...base, _id, version: 1, pending: null })));
    const version = new Map(ids.map((id) => [id.toHexString(), 1]));
    const pending = { id: "p", version: 0, kind: "payment", body: "x".repeat(5800) };
    const run = async (count: number) => {
      let next = 0;
      await Promise.all(Array.from({ length: 10 }, async () => {
        for (;;) {
          const batch = Array.from({ length: 25 }, () => next++).filter((n) => n < count).map((n) => ids[n % LOANS]);
          if (!batch.length) return;
          const v = batch.map((id) => version.get(id.toHexString())!);
          batch.forEach((id, i) => version.set(id.toHexString(), v[i] + 1));
          await loans.bulkWrite(batch.map((_id, i) => ({ updateOne: { filter: { _id, version: v[i] }, update: { $set: stored({ state: base.state, position: base.position, total_collected: "1.00", pending: { ...pending, version: v[i] + 1 }, version: v[i] + 1 }) } } })), { ordered: false });
          await loans.bulkWrite(batch.map((_id, i) => ({ updateOne: { filter: { _id, version: v[i] + 1 }, update: { $set: { pending: null } } } })), { ordered: false });
          (await loans.find({ _id: { $in: batch } }).toArray()).forEach(decodeLoan);
        }
      }));
    };
    await run(ROUNDS / 2); // the JIT of both sides warms up
    const c0 = cpuSnapshot();
    const t0 = performance.now();
    await run(ROUNDS);
    const seconds = (performance.now() - t0) / 1000;
    const java = Object.entries(cpuBetween(c0, cpuSnapshot())).find(([k]) => k.startsWith("java"))?.[1] ?? NaN;
    console.log(`${mode.padEnd(6)}: ${ROUNDS} update + clear + read rounds in ${seconds.toFixed(2)} s; wire server CPU ${((java * 1000) / ROUNDS).toFixed(3)} ms per round`);
  } finally {
    await client.close();
    await server.stop();
  }
}

async function main(): Promise<void> {
  const base = await realLoan();
  for (const mode of MODES) await rounds(base, mode);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
