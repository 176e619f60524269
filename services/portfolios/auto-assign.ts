/**
 * The daily auto-assign (DESIGN.md §8, §9; seed 000: 5:00 AM): every unassigned active loan goes
 * into the first open portfolio, by `priority` then age, whose criteria it matches.
 *
 * One streamed pass: the active loans are read once, with a MongoDB filter that is the union of
 * every portfolio's criteria (criteriaToMongo), the claimed ones skipped, and each loan is
 * evaluated in memory against the compiled criteria in portfolio order (the first match wins).
 * Writes are inserts of small documents, a chunk at a time: the claims (a loan a static add took
 * meanwhile fails on the unique key and is skipped) and the history records; no projection
 * document is rewritten. After the pass the run announces its assignments as
 * `portfolio.loans.added` batch events (shared/contracts/portfolios.ts), 1,500 loans each, and
 * writes each portfolio's first dates once, folded in memory. On the embedded server every
 * non-_id query scans the collection, so one pass beats a query per portfolio
 * (bench/sections/auto-assign.ts measures both).
 *
 * Idempotent per business date: a completed run answers its stored result; a run that died
 * part-way is resumed (loans it claimed are no longer unassigned; a recovery pass finishes their
 * history and re-announces their events and dates, all keyed so that repeating changes nothing).
 */
import type { Model } from "mongoose";
import { PortfolioEvents, type PortfolioMembershipBatchEvent } from "../../shared/contracts/portfolios";
import { compileCriteria, criteriaToMongo, type CompiledCriteria, type Criteria, type CriteriaView } from "../../shared/portfolios/criteria";
import type { FirstDates } from "../../shared/finance/portfolio/firstDates";
import { applyLoansAdded } from "./first-dates";
import { membershipEvent, membershipId, type Membership } from "./membership";

export interface AutoAssignDeps {
  portfolios: Model<any>;
  loans: Model<any>;
  claims: Model<any>;
  memberships: Model<any>;
  runs: Model<any>;
  publishMany(events: { subject: string; id: string; payload: unknown }[]): Promise<void>;
  logger?: { info(...args: unknown[]): void };
  chunkSize?: number;
}

export interface AutoAssignResult {
  business_date: string;
  status: "completed";
  scanned: number;
  assigned: number;
  by_portfolio: Record<string, number>;
  duration_ms: number;
  /** Where the time went: reading and matching, claims, history records, events, first dates. */
  phases_ms?: Phases;
  repeated?: boolean;
}

type Phases = { read_and_match: number; claims: number; history: number; events: number; first_dates: number };

/** The criteria view of a projection's stored `m`: its Decimal128s are parsed only if a rule reads them. */
const viewOfStored = (m: Record<string, any>) => m as CriteriaView;

/** Open portfolios with criteria, in assignment order: priority, then age. */
async function candidatePortfolios(portfolios: Model<any>) {
  const docs = await portfolios.find({ status: "open", criteria: { $ne: null } }, { criteria: 1, priority: 1, created_at: 1, program_id: 1 }).lean();
  return (docs as any[])
    .sort((a, b) => (a.priority ?? 100) - (b.priority ?? 100) || +new Date(a.created_at) - +new Date(b.created_at) || String(a._id).localeCompare(String(b._id)))
    .map((d) => {
      const criteria = scopedCriteria(d.criteria as Criteria, d.program_id ?? null);
      return { id: String(d._id), criteria, match: compileCriteria(criteria) as CompiledCriteria };
    });
}

/** Seed 000: a portfolio with a program takes that program's loans only. */
export function scopedCriteria(criteria: Criteria, programId: string | null): Criteria {
  return programId ? { all: [{ field: "program_id", op: "eq", value: programId }, criteria] } : criteria;
}

export async function runAutoAssign(deps: AutoAssignDeps, businessDate: string): Promise<AutoAssignResult> {
  const started = Date.now();
  const done: any = await deps.runs.findById(businessDate).lean();
  if (done?.status === "completed") return { ...(resultOf(done) as AutoAssignResult), repeated: true };
  await deps.runs.updateOne({ _id: businessDate }, { $set: { status: "running", started_at: new Date() } }, { upsert: true });

  const added = new Map<string, FirstDates[]>();
  const counts: Record<string, number> = {};
  const phases: Phases = { read_and_match: 0, claims: 0, history: 0, events: 0, first_dates: 0 };
  if (done) await recoverInterruptedRun(deps, businessDate, added, counts, phases);

  const candidates = await candidatePortfolios(deps.portfolios);
  const assignedRows: AssignedRow[] = [];
  let scanned = 0;
  if (candidates.length) {
    const claimed = new Set((await deps.claims.collection.find({}, { projection: { _id: 1 } }).toArray()).map((c: any) => c._id as string));
    const filter = { "m.status": "active", $or: candidates.map((c) => criteriaToMongo(c.criteria)) };
    const cursor = deps.loans.collection.find(filter, { projection: { m: 1, membership_end: 1, first_transaction_date: 1, first_cash_flow_date: 1 }, batchSize: 5000 });
    const chunkSize = deps.chunkSize ?? 2000;
    let chunk: { doc: any; portfolioId: string }[] = [];
    let readFrom = Date.now();
    for await (const doc of cursor as AsyncIterable<any>) {
      if (claimed.has(doc._id)) continue;
      scanned++;
      if (doc.membership_end && doc.membership_end > businessDate) continue; // history cannot go back in time
      const view = viewOfStored(doc.m ?? {});
      const hit = candidates.find((c) => c.match(view));
      if (!hit) continue;
      chunk.push({ doc, portfolioId: hit.id });
      if (chunk.length >= chunkSize) {
        phases.read_and_match += Date.now() - readFrom;
        assignedRows.push(...(await writeChunk(deps, businessDate, chunk, phases)));
        chunk = [];
        readFrom = Date.now();
      }
    }
    phases.read_and_match += Date.now() - readFrom;
    if (chunk.length) assignedRows.push(...(await writeChunk(deps, businessDate, chunk, phases)));
  }
  const eventsFrom = Date.now();
  await announce(deps, businessDate, assignedRows, added, counts);
  phases.events += Date.now() - eventsFrom;

  const datesFrom = Date.now();
  for (const [portfolioId, loans] of added) await applyLoansAdded(deps.portfolios, portfolioId, loans);
  phases.first_dates = Date.now() - datesFrom;
  const assigned = Object.values(counts).reduce((s, n) => s + n, 0);
  const result: AutoAssignResult = { business_date: businessDate, status: "completed", scanned, assigned, by_portfolio: counts, duration_ms: Date.now() - started, phases_ms: phases };
  await deps.runs.updateOne({ _id: businessDate }, { $set: { ...result, completed_at: new Date() } });
  deps.logger?.info(`auto_assign ${businessDate}: ${assigned} of ${scanned} candidate loans assigned in ${result.duration_ms} ms`);
  return result;
}

function resultOf(run: any): Omit<AutoAssignResult, "repeated"> {
  return { business_date: run._id, status: "completed", scanned: run.scanned ?? 0, assigned: run.assigned ?? 0, by_portfolio: run.by_portfolio ?? {}, duration_ms: run.duration_ms ?? 0 };
}

type AssignedRow = { m: Membership; dates: FirstDates };

/** Loans per `portfolio.loans.added` event: about 330 bytes each keeps one well under JetStream's 1 MB. */
const BATCH_EVENT_SIZE = 1500;

/** Claims and history records for one chunk; returns the loans this run won. */
async function writeChunk(deps: AutoAssignDeps, date: string, chunk: { doc: any; portfolioId: string }[], phases: Phases): Promise<AssignedRow[]> {
  let t = Date.now();
  const rows = chunk.map(({ doc, portfolioId }) => ({ doc, m: { _id: membershipId(doc._id, date, portfolioId, "auto"), loan_id: doc._id as string, portfolio_id: portfolioId, added_on: date, removed_on: null, source: "auto_assign" as const, removed_by: null } }));
  // Claim first: a loan a static add took meanwhile fails on the unique key and is skipped.
  const claims = rows.map(({ m }) => ({ _id: m.loan_id, portfolio_id: m.portfolio_id, since: date, source: "auto_assign", membership_id: m._id, investor_id: null }));
  const lost = new Set<number>();
  try {
    await deps.claims.collection.insertMany(claims as any[], { ordered: false });
  } catch (err) {
    for (const i of duplicateIndexes(err)) lost.add(i);
  }
  const won = rows.filter((_, i) => !lost.has(i));
  phases.claims += Date.now() - t;
  t = Date.now();
  await insertIgnoringDuplicates(deps.memberships, won.map((r) => r.m));
  phases.history += Date.now() - t;
  return won.map((r) => ({ m: r.m, dates: { first_transaction_date: r.doc.first_transaction_date ?? null, first_cash_flow_date: r.doc.first_cash_flow_date ?? null } }));
}

/** The indexes of a bulk insert's duplicate-key failures; anything else is rethrown. */
function duplicateIndexes(err: unknown): number[] {
  const list = writeErrorsOf(err);
  if (!list.length || !list.every((w) => w.code === 11000)) throw err;
  return list.map((w) => w.index);
}

async function insertIgnoringDuplicates(model: Model<any>, docs: Record<string, unknown>[]): Promise<void> {
  if (!docs.length) return;
  try {
    await model.collection.insertMany(docs as any[], { ordered: false });
  } catch (err) {
    duplicateIndexes(err);
  }
}

function writeErrorsOf(err: unknown): { code?: number; index: number }[] {
  const w = (err as { writeErrors?: unknown }).writeErrors;
  return (Array.isArray(w) ? w : w ? [w] : []) as { code?: number; index: number }[];
}

/**
 * The rows as `portfolio.loans.added` batch events (BATCH_EVENT_SIZE loans each), written to the
 * outbox in one call, and the rows counted and dated per portfolio.
 */
async function announce(deps: AutoAssignDeps, date: string, rows: { m: Membership; dates: Partial<FirstDates> }[], added: Map<string, FirstDates[]>, counts: Record<string, number>) {
  const occurred_at = new Date().toISOString();
  const events = [];
  for (let i = 0; i < rows.length; i += BATCH_EVENT_SIZE) {
    const part = rows.slice(i, i + BATCH_EVENT_SIZE);
    const id = `${PortfolioEvents.loansAdded}:${date}:${part[0].m._id}:${part.length}`;
    const batch: PortfolioMembershipBatchEvent = { event_id: id, business_date: date, source: "auto_assign", memberships: part.map((r) => membershipEvent("added", r.m, date, null).payload), occurred_at };
    events.push({ subject: PortfolioEvents.loansAdded, id, payload: batch });
  }
  if (events.length) await deps.publishMany(events);
  for (const { m, dates } of rows) {
    counts[m.portfolio_id] = (counts[m.portfolio_id] ?? 0) + 1;
    const list = added.get(m.portfolio_id) ?? [];
    list.push({ first_transaction_date: dates.first_transaction_date ?? null, first_cash_flow_date: dates.first_cash_flow_date ?? null });
    added.set(m.portfolio_id, list);
  }
}

/**
 * Loans a dead run of this date claimed: finish their history records, announce them again
 * (same event ids) and fold their dates.
 */
async function recoverInterruptedRun(deps: AutoAssignDeps, date: string, added: Map<string, FirstDates[]>, counts: Record<string, number>, phases: Phases) {
  const t = Date.now();
  const claims: any[] = await deps.claims.collection.find({ since: date, source: "auto_assign" }).toArray();
  for (let i = 0; i < claims.length; i += BATCH_EVENT_SIZE) {
    const part = claims.slice(i, i + BATCH_EVENT_SIZE);
    const docs: any[] = await deps.loans.collection.find({ _id: { $in: part.map((c) => c._id) } }, { projection: { first_transaction_date: 1, first_cash_flow_date: 1 } }).toArray();
    const byId = new Map(docs.map((d) => [d._id, d]));
    const rows = part.map((c) => ({ m: { _id: c.membership_id, loan_id: c._id, portfolio_id: c.portfolio_id, added_on: date, removed_on: null, source: "auto_assign" as const, removed_by: null }, dates: byId.get(c._id) ?? {} }));
    await insertIgnoringDuplicates(deps.memberships, rows.map((r) => r.m));
    await announce(deps, date, rows, added, counts);
  }
  phases.history += Date.now() - t;
}
