/**
 * Issue 9 points 2, 3 and 7: the close of business over a book of a few hundred loans (current,
 * late, past the charge-off threshold, variable with resets, within grace, paid off), the same
 * book in three databases:
 *   A  closed uninterrupted (the reference), with one `loan.close.batch` per chunk;
 *   B  closed by a loans process SIGKILLed after its third chunk write, restarted, closed again;
 *   C  closed by two loans processes over nats-server, one SIGKILLed mid-close: the other takes
 *      its unit once the lease expires and finishes it.
 * B and C must end with every loan identical to A — state, position, ledger, modifications,
 * schedule — and every loan in exactly one batch event.
 */
import { MongoClient, type Db } from "mongodb";
import type { ServiceBroker } from "moleculer";
import { startNats, type RunningNats } from "../../support/nats";
import { startTestMongo, uniqueDbUrl } from "../../support/mongo";
import type { RunningMongo } from "../../../shared/runtime/mongo-server";
import { startNode } from "../../support/system";
import { eventually } from "../../support/http";
import { startSystemProcess, type StartedProcess } from "../../support/processes";
import { BOOK_CLOSE_DATE as D, bookTemplates, closeBatches, cloneTemplates, copyDatabase, snapshotBook } from "../../support/loan-book";
import { keepPublishedOutboxRecords } from "../../support/events/keep-published";

keepPublishedOutboxRecords();

const UNITS = 4;
const CHUNK = 10;
// Long enough that a live instance on a loaded machine renews before it runs out.
const LEASE_MS = 20_000;
const BOOK = 240;

let nats: RunningNats;
let mongo: RunningMongo;
let mongoClient: MongoClient;
let ref: ServiceBroker;
let client: ServiceBroker;
const urls: Record<"A" | "B" | "C", string> = { A: "", B: "", C: "" };
const dbs = {} as Record<"A" | "B" | "C", Db>;
const children: StartedProcess[] = [];
let openBefore: { id: string; partition: number }[];
let reference: Map<string, any>;
let referenceBatches: Awaited<ReturnType<typeof closeBatches>>;
let referenceEvents: string[];

const dbName = (url: string) => new URL(url).pathname.slice(1);

beforeAll(async () => {
  [nats, mongo] = await Promise.all([startNats({ jetstream: true }), startTestMongo()]);
  for (const k of ["A", "B", "C"] as const) urls[k] = uniqueDbUrl(mongo.url, `cob_crash_${k}`);
  mongoClient = await MongoClient.connect(mongo.url);
  for (const k of ["A", "B", "C"] as const) dbs[k] = mongoClient.db(dbName(urls[k]));
  // The reference: programs, rates and loans in this process, on the in-process bus.
  ref = await startNode({ nodeID: "cob-ref", services: ["programs", "rates", "loans"], mongoUrl: urls.A, settings: { loans: { close: { units: UNITS, chunkSize: CHUNK, leaseMs: LEASE_MS, concurrency: 2 } } } });
  const templates = await bookTemplates((action, params) => ref.call(action, params));
  await cloneTemplates(dbs.A, templates, BOOK - templates.length);
  const open = await dbs.A.collection("loans").find({ status: { $in: ["active", "delinquent"] } }, { projection: { partition: 1 } }).toArray();
  openBefore = open.map((d) => ({ id: d._id.toHexString(), partition: d.partition }));
  await copyDatabase(dbs.A, dbs.B);
  await copyDatabase(dbs.A, dbs.C);
  client = await startNode({ nodeID: "cob-client", services: [], mongoUrl: urls.A, natsUrl: nats.url });
}, 300_000);

afterAll(async () => {
  for (const c of children) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill("SIGKILL");
  await client?.stop();
  await ref?.stop();
  await mongoClient?.close();
  await nats?.stop();
  await mongo?.stop();
});

function startLoans(db: "B" | "C", nodeId: string, extra: Record<string, string> = {}) {
  return startSystemProcess({
    SERVICES: "programs,rates,loans",
    TRANSPORTER: nats.url,
    MONGO_URL: urls[db],
    NODE_ID: nodeId,
    SEED_DEMO: "false",
    LOANS_CLOSE_UNITS: String(UNITS),
    LOANS_CLOSE_CHUNK: String(CHUNK),
    LOANS_CLOSE_LEASE_MS: String(LEASE_MS),
    // One unit at a time, so "killed after its n-th chunk write" leaves exactly one unit behind;
    // the reference A closes with the default (two at a time) and B and C must still equal it.
    LOANS_CLOSE_CONCURRENCY: "1",
    ...extra,
  }, 240_000).then((p) => {
    children.push(p);
    return p;
  });
}

const reachable = (nodeId: string) =>
  eventually(() => (client.registry.getServiceList({ onlyAvailable: true }) as any[]).some((s) => s.name === "loans" && s.nodeID === nodeId) || undefined, 60_000);

const killed = (p: StartedProcess) =>
  new Promise<string | null>((resolve) => {
    if (p.child.exitCode !== null || p.child.signalCode !== null) return resolve(p.child.signalCode);
    p.child.once("exit", (_code, signal) => resolve(signal));
  });

const closeOn = (nodeID: string) => client.call("loans.closeOfBusiness", { business_date: D }, { nodeID, timeout: 600_000 }) as Promise<any>;

/** Loan ids whose snapshot differs from the reference (with the first difference, for the failure message). */
function differences(book: Map<string, any>): { ids: string[]; first?: { id: string; got: any; want: any } } {
  const ids: string[] = [];
  let first: { id: string; got: any; want: any } | undefined;
  for (const [id, want] of reference) {
    const got = book.get(id);
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      ids.push(id);
      first ??= { id, got, want };
    }
  }
  return { ids, first };
}

/** The ids of the per-loan events in the outbox (fees booked, rates changed, statuses moved): one per change. */
async function loanEventIds(db: Db): Promise<string[]> {
  const docs = await db.collection("loans_outbox").find({}, { projection: { subject: 1 } }).toArray();
  return docs.filter((d: any) => d.subject !== "loan.close.batch").map((d) => String(d._id)).sort();
}

/** Every open loan in exactly one batch event of D, with the same version and state as the reference's. */
function expectCoverage(batches: Awaited<ReturnType<typeof closeBatches>>) {
  const seen = new Map<string, number>();
  for (const b of batches) for (const l of b.loans) seen.set(l.loan_id, (seen.get(l.loan_id) ?? 0) + 1);
  expect([...seen.keys()].sort()).toEqual(openBefore.map((l) => l.id).sort());
  expect([...seen.values()].filter((n) => n !== 1)).toEqual([]);
  const refStates = new Map(referenceBatches.flatMap((b) => b.loans.map((l) => [l.loan_id, JSON.stringify({ v: l.version, s: l.state })] as const)));
  const differing = batches.flatMap((b) => b.loans).filter((l) => refStates.get(l.loan_id) !== JSON.stringify({ v: l.version, s: l.state }));
  expect(differing.map((l) => l.loan_id)).toEqual([]);
}

it("A, uninterrupted: every open loan closed once, one batch event per chunk of each unit", async () => {
  const r: any = await ref.call("loans.closeOfBusiness", { business_date: D }, { timeout: 600_000 });
  expect(r.counts.loans).toBe(openBefore.length);
  expect(r.counts.errors).toBe(0);
  reference = await snapshotBook(dbs.A);
  referenceBatches = await closeBatches(dbs.A, D);
  referenceEvents = await loanEventIds(dbs.A);

  // The book has what a close must handle: late fees, charge-offs, rate resets, delinquency.
  const loans = [...reference.values()].map((s) => s.loan);
  const byStatus = (st: string) => loans.filter((l) => l.status === st).length;
  expect(byStatus("charged_off")).toBeGreaterThan(0);
  expect(byStatus("delinquent")).toBeGreaterThan(0);
  expect(byStatus("active")).toBeGreaterThan(0);
  expect(byStatus("paid_off")).toBeGreaterThan(0);
  expect(r.counts.late_fees).toBeGreaterThan(0);
  expect(r.counts.rate_changes).toBeGreaterThan(0);
  expect(r.counts.charged_off).toBe(byStatus("charged_off"));
  for (const s of reference.values()) {
    expect(s.pending).toBeNull();
    if (openBefore.some((o) => o.id === s.loan._id)) expect(s.loan.closed_through).toBe(D);
  }

  // Point 7: per unit, ceil(open loans / chunk size) batch events, each at most a chunk.
  for (let unit = 0; unit < UNITS; unit++) {
    const inUnit = openBefore.filter((l) => l.partition % UNITS === unit).length;
    const events = referenceBatches.filter((b) => b.unit === unit);
    expect(events).toHaveLength(Math.ceil(inUnit / CHUNK));
    expect(events.map((e) => e.chunk).sort((a, b) => a - b)).toEqual(events.map((_, i) => i + 1));
    for (const e of events) expect(e.loans.length).toBeLessThanOrEqual(CHUNK);
  }
  expectCoverage(referenceBatches);
}, 300_000);

let second: StartedProcess | undefined;
// B's instance must be gone before C starts: C's instances broadcast their close to every loans node.
afterEach(async () => {
  if (second && second.child.exitCode === null && second.child.signalCode === null) await second.stop();
});

it("B: SIGKILLed after its third chunk write, restarted and closed again, ends identical to A", async () => {
  const first = await startLoans("B", "cob-b1", { FAILPOINTS: "loans.close.after-chunk-write@3" });
  await reachable("cob-b1");
  const died = killed(first);
  const call = closeOn("cob-b1").catch((err) => err);
  expect(await died).toBe("SIGKILL");
  await call;

  // Mid-close: three chunks written, the third neither announced nor its side writes done.
  const closedMid = await dbs.B.collection("loans").countDocuments({ closed_through: D });
  expect(closedMid).toBe(3 * CHUNK);
  // The third chunk is recorded but not counted on its unit, and its batch event was never written.
  const units = await dbs.B.collection("loan_close_units").find({}).toArray();
  const chunks = await dbs.B.collection("loan_close_chunks").find({}).toArray();
  const uncounted = chunks.filter((c) => c.chunk > (units.find((u) => u.unit === c.unit)?.chunks ?? 0));
  expect(chunks).toHaveLength(3);
  expect(uncounted).toHaveLength(1);
  expect(await dbs.B.collection("loans_outbox").countDocuments({ _id: `close:${uncounted[0]._id}` as any })).toBe(0);
  expect(await dbs.B.collection("loan_close_runs").findOne({ _id: D as any })).toMatchObject({ status: "started" });

  second = await startLoans("B", "cob-b2");
  await reachable("cob-b2");
  const r = await closeOn("cob-b2");
  expect(r.counts.errors).toBe(0);

  const book = await snapshotBook(dbs.B);
  const diff = differences(book);
  if (diff.first) expect(diff.first.got).toEqual(diff.first.want);
  expect(diff.ids).toEqual([]);
  expectCoverage(await closeBatches(dbs.B, D));
  expect(await loanEventIds(dbs.B)).toEqual(referenceEvents);

  // Closing D again changes nothing: no second accrual, no second fee.
  await closeOn("cob-b2");
  expect(differences(await snapshotBook(dbs.B)).ids).toEqual([]);
  expect(await second.stop()).toBe(0);
}, 600_000);

it("C: two instances split the close; one SIGKILLed mid-close, the other finishes its unit once the lease expires", async () => {
  const [l1, l2] = await Promise.all([startLoans("C", "cob-l1", { FAILPOINTS: "loans.close.after-chunk-write@2" }), startLoans("C", "cob-l2")]);
  await Promise.all([reachable("cob-l1"), reachable("cob-l2")]);
  const died = killed(l1);
  const held = closeOn("cob-l1").catch((err) => err);
  const finished = closeOn("cob-l2");
  expect(await died).toBe("SIGKILL");

  // The dead instance's unit: still leased to it, not done. (The call to it fails only once the
  // client's heartbeat notices the death: not awaited before this.)
  const orphans = await dbs.C.collection("loan_close_units").find({ owner: "cob-l1", done: false }).toArray();
  expect(orphans).toHaveLength(1);
  const orphan = orphans[0];

  expect(await dbs.C.collection("loan_close_runs").findOne({ _id: D as any })).toMatchObject({ status: "started" });

  const r = await finished;
  expect(r.counts.errors).toBe(0);
  expect(await held).toBeInstanceOf(Error);
  const units = await dbs.C.collection("loan_close_units").find({ business_date: D }).toArray();
  expect(units).toHaveLength(UNITS);
  expect(units.every((u) => u.done)).toBe(true);
  // the survivor took the orphan over — only after its lease had run out
  const taken = units.find((u) => u._id === orphan._id)!;
  expect(taken.owner).toBe("cob-l2");
  expect(taken.expires_at.getTime() - LEASE_MS).toBeGreaterThanOrEqual(orphan.expires_at.getTime());
  expect(await dbs.C.collection("loan_close_runs").findOne({ _id: D as any })).toMatchObject({ status: "completed" });

  const diff = differences(await snapshotBook(dbs.C));
  if (diff.first) expect(diff.first.got).toEqual(diff.first.want);
  expect(diff.ids).toEqual([]);
  expectCoverage(await closeBatches(dbs.C, D));
  expect(await loanEventIds(dbs.C)).toEqual(referenceEvents);
  expect(await l2.stop()).toBe(0);
}, 600_000);
