/**
 * The daily auto-assign (DESIGN.md §8, §9; seed 000: 5:00 AM): every unassigned active loan goes
 * into the first open portfolio, by `priority` then age, whose criteria it matches.
 *
 * One streamed pass: the loans are read once, with a MongoDB filter that is the union of every
 * portfolio's criteria (criteriaToMongo) over unassigned active loans, and each loan is
 * evaluated in memory against the compiled criteria in portfolio order (the first match wins).
 * Writes go one bulk write and one outbox insert per chunk; the portfolios' first dates are
 * folded in memory and written once per portfolio at the end. On the embedded server every
 * non-_id query scans the collection, so one pass beats a query per portfolio (bench/sections/
 * auto-assign.ts measures both).
 *
 * Idempotent per business date: a completed run answers its stored result; a run that died
 * part-way is resumed (loans it assigned are no longer unassigned; a recovery pass re-announces
 * their events and dates, which are keyed so that repeating them changes nothing).
 */
import Decimal from "decimal.js";
import type { Model } from "mongoose";
import { PortfolioEvents } from "../../shared/contracts/portfolios";
import { CRITERIA_FIELDS, compileCriteria, criteriaToMongo, type CompiledCriteria, type Criteria, type CriteriaView } from "../../shared/portfolios/criteria";
import type { FirstDates } from "../../shared/finance/portfolio/firstDates";
import { applyLoansAdded } from "./first-dates";
import { lastMembershipEnd, membershipEvent, type Membership } from "./membership";

export interface AutoAssignDeps {
  portfolios: Model<any>;
  loans: Model<any>;
  claims: Model<any>;
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
  repeated?: boolean;
}

const DECIMAL_FIELDS = Object.entries(CRITERIA_FIELDS).filter(([, t]) => t.kind === "decimal").map(([k]) => k);

/** The criteria view of a projection's stored `m` (Decimal128 → Decimal). */
function viewOfStored(m: Record<string, any>): CriteriaView {
  const view: Record<string, any> = { ...m };
  for (const k of DECIMAL_FIELDS) if (m[k] != null) view[k] = new Decimal(m[k].toString());
  return view as CriteriaView;
}

/** Open portfolios with criteria, in assignment order: priority, then age. */
async function candidatePortfolios(portfolios: Model<any>) {
  const docs = await portfolios.find({ status: "open", criteria: { $ne: null } }, { criteria: 1, priority: 1, created_at: 1 }).lean();
  return (docs as any[])
    .sort((a, b) => (a.priority ?? 100) - (b.priority ?? 100) || +new Date(a.created_at) - +new Date(b.created_at) || String(a._id).localeCompare(String(b._id)))
    .map((d) => ({ id: String(d._id), criteria: d.criteria as Criteria, match: compileCriteria(d.criteria as Criteria) as CompiledCriteria }));
}

export async function runAutoAssign(deps: AutoAssignDeps, businessDate: string): Promise<AutoAssignResult> {
  const started = Date.now();
  const done: any = await deps.runs.findById(businessDate).lean();
  if (done?.status === "completed") return { ...(resultOf(done) as AutoAssignResult), repeated: true };
  await deps.runs.updateOne({ _id: businessDate }, { $set: { status: "running", started_at: new Date() } }, { upsert: true });

  const added = new Map<string, FirstDates[]>();
  const counts: Record<string, number> = {};
  if (done) await recoverInterruptedRun(deps, businessDate, added, counts);

  const candidates = await candidatePortfolios(deps.portfolios);
  let scanned = 0;
  if (candidates.length) {
    const filter = { portfolio_id: null, "m.status": "active", $or: candidates.map((c) => criteriaToMongo(c.criteria)) };
    const cursor = deps.loans.collection.find(filter, { projection: { m: 1, memberships: 1, first_transaction_date: 1, first_cash_flow_date: 1 }, batchSize: 2000 });
    const chunkSize = deps.chunkSize ?? 2000;
    let chunk: { doc: any; portfolioId: string }[] = [];
    for await (const doc of cursor as AsyncIterable<any>) {
      scanned++;
      const end = lastMembershipEnd((doc.memberships ?? []) as Membership[]);
      if (end && end > businessDate) continue; // history cannot go back in time
      const view = viewOfStored(doc.m ?? {});
      const hit = candidates.find((c) => c.match(view));
      if (!hit) continue;
      chunk.push({ doc, portfolioId: hit.id });
      if (chunk.length >= chunkSize) {
        await writeChunk(deps, businessDate, chunk, added, counts);
        chunk = [];
      }
    }
    if (chunk.length) await writeChunk(deps, businessDate, chunk, added, counts);
  }

  for (const [portfolioId, loans] of added) await applyLoansAdded(deps.portfolios, portfolioId, loans);
  const assigned = Object.values(counts).reduce((s, n) => s + n, 0);
  const result: AutoAssignResult = { business_date: businessDate, status: "completed", scanned, assigned, by_portfolio: counts, duration_ms: Date.now() - started };
  await deps.runs.updateOne({ _id: businessDate }, { $set: { ...result, completed_at: new Date() } });
  deps.logger?.info(`auto_assign ${businessDate}: ${assigned} of ${scanned} candidate loans assigned in ${result.duration_ms} ms`);
  return result;
}

function resultOf(run: any): Omit<AutoAssignResult, "repeated"> {
  return { business_date: run._id, status: "completed", scanned: run.scanned ?? 0, assigned: run.assigned ?? 0, by_portfolio: run.by_portfolio ?? {}, duration_ms: run.duration_ms ?? 0 };
}

async function writeChunk(deps: AutoAssignDeps, date: string, chunk: { doc: any; portfolioId: string }[], added: Map<string, FirstDates[]>, counts: Record<string, number>) {
  // Claim first: a loan a static add took meanwhile fails on the unique key and is skipped.
  const claims = chunk.map(({ doc, portfolioId }) => ({ _id: doc._id, portfolio_id: portfolioId, since: date, source: "auto_assign" }));
  const lost = new Set<number>();
  try {
    await deps.claims.collection.insertMany(claims as any[], { ordered: false });
  } catch (err) {
    const list = writeErrorsOf(err);
    if (!list.length || !list.every((w) => w.code === 11000)) throw err;
    for (const w of list) lost.add(w.index);
  }
  const won = chunk.filter((_, i) => !lost.has(i));
  if (!won.length) return;
  await deps.loans.collection.bulkWrite(
    won.map(({ doc, portfolioId }) => ({
      updateOne: {
        filter: { _id: doc._id },
        update: { $set: { portfolio_id: portfolioId }, $push: { memberships: { portfolio_id: portfolioId, added_on: date, removed_on: null, source: "auto_assign", removed_by: null } } },
      },
    })) as any[],
    { ordered: false },
  );
  await announce(deps, date, won.map((c) => ({ loanId: c.doc._id, portfolioId: c.portfolioId, n: (c.doc.memberships ?? []).length, dates: c.doc })), added, counts);
}

function writeErrorsOf(err: unknown): { code?: number; index: number }[] {
  const w = (err as { writeErrors?: unknown }).writeErrors;
  return (Array.isArray(w) ? w : w ? [w] : []) as { code?: number; index: number }[];
}

async function announce(deps: AutoAssignDeps, date: string, rows: { loanId: string; portfolioId: string; n: number; dates: any }[], added: Map<string, FirstDates[]>, counts: Record<string, number>) {
  const events = rows.map((r) => {
    const ev = membershipEvent("added", r.loanId, r.portfolioId, date, r.n, "auto_assign", null);
    return { subject: PortfolioEvents.loanAdded, id: ev.id, payload: ev.payload };
  });
  await deps.publishMany(events);
  for (const r of rows) {
    counts[r.portfolioId] = (counts[r.portfolioId] ?? 0) + 1;
    const list = added.get(r.portfolioId) ?? [];
    list.push({ first_transaction_date: r.dates.first_transaction_date ?? null, first_cash_flow_date: r.dates.first_cash_flow_date ?? null });
    added.set(r.portfolioId, list);
  }
}

/**
 * Loans a dead run of this date claimed: finish their history entry where the run died before
 * writing it, announce them again (same event ids) and fold their dates.
 */
async function recoverInterruptedRun(deps: AutoAssignDeps, date: string, added: Map<string, FirstDates[]>, counts: Record<string, number>) {
  const claims: any[] = await deps.claims.collection.find({ since: date, source: "auto_assign" }).toArray();
  for (let i = 0; i < claims.length; i += 2000) {
    const rows: { loanId: string; portfolioId: string; n: number; dates: any }[] = [];
    for (const claim of claims.slice(i, i + 2000)) {
      const doc: any = await deps.loans.collection.findOne({ _id: claim._id }, { projection: { memberships: 1, first_transaction_date: 1, first_cash_flow_date: 1 } });
      if (!doc) continue;
      const ms = (doc.memberships ?? []) as Membership[];
      let n = ms.findIndex((m) => m.source === "auto_assign" && m.added_on === date && m.portfolio_id === claim.portfolio_id);
      if (n < 0) {
        n = ms.length;
        const entry = { portfolio_id: claim.portfolio_id, added_on: date, removed_on: null, source: "auto_assign", removed_by: null };
        await deps.loans.collection.updateOne({ _id: claim._id }, { $set: { portfolio_id: claim.portfolio_id }, $push: { memberships: entry } } as any);
      }
      rows.push({ loanId: claim._id, portfolioId: claim.portfolio_id, n, dates: doc });
    }
    await announce(deps, date, rows, added, counts);
  }
}
