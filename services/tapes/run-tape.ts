/**
 * One tape run for (config, business date D) (DESIGN.md §11): the portfolio's snapshot of D and its
 * member loans as that snapshot saw them, read a page at a time → the file, streamed into the chunk
 * store with its SHA-256, and the totals counted on the way → the reconciliation (a mismatch fails
 * the run with both figures and drops the file) → the email. A run is
 * keyed by `<config>:<D>`, so a second request for the same date answers the first, and a failed
 * run resumes where it stopped (a stored file is not regenerated, only re-sent).
 */
import type { Model } from "mongoose";
import { TotalsAccumulator, reconcile } from "../../shared/tapes/reconcile";
import { tapeColumns } from "../../shared/tapes/layouts";
import { ChunkSink, dropChunksFrom, readStoredFile } from "./file-store";
import { sendTapeMail, type MailSettings } from "./mailer";
import { counted, snapshotPages } from "./source";
import { CONTENT_TYPES, writeCsv, writeXlsx } from "./writers";

export interface RunDeps {
  runs: Model<any>;
  chunks: Model<any>;
  call(action: string, params: Record<string, unknown>): Promise<any>;
  mail: MailSettings;
  logger: { info(...a: unknown[]): void; error(...a: unknown[]): void };
}

export interface TapeConfig {
  id: string;
  name: string;
  portfolio_id: string;
  tape_format: "csv" | "xlsx";
  required_fields?: string[] | null;
  layout?: string | null;
  recipient_email: string[];
}

/** A run left "running" longer than this was interrupted (a crash): it may be taken over. */
const STALE_RUNNING_MS = 30 * 60_000;

class StageError extends Error {
  constructor(readonly stage: string, message: string, readonly retryable: boolean) {
    super(message);
  }
}

/** The run of `config` for D: the existing one if any (resumed when it failed), else a new one. */
export async function runTape(deps: RunDeps, config: TapeConfig, businessDate: string, trigger: string): Promise<any> {
  const run_key = `${config.id}:${businessDate}`;
  let run = await deps.runs.findOne({ run_key });
  if (!run) {
    try {
      run = await deps.runs.create({
        run_key, config_id: config.id, portfolio_id: config.portfolio_id, business_date: businessDate, tape_format: config.tape_format,
        trigger, status: "running", attempts: 0, started_at: new Date(),
      });
    } catch (err: any) {
      if (err?.code !== 11000) throw err;
      return (await deps.runs.findOne({ run_key }))!.toJSON();
    }
    return attempt(deps, config, run._id.toString());
  }
  if (run.status === "failed" && run.retryable !== false) return attempt(deps, config, run._id.toString());
  if (run.status === "running" && Date.now() - new Date(run.updated_at).getTime() > STALE_RUNNING_MS) return attempt(deps, config, run._id.toString());
  return run.toJSON();
}

/** One attempt at a run: claims it (status guard), does what is left, records the outcome. */
export async function attempt(deps: RunDeps, config: TapeConfig, runId: string): Promise<any> {
  const claimed = await deps.runs.findOneAndUpdate(
    { _id: runId, $or: [{ status: "failed" }, { status: "running", attempts: 0 }, { status: "running", updated_at: { $lt: new Date(Date.now() - STALE_RUNNING_MS) } }] },
    { $set: { status: "running", error: null, failed_stage: null, retryable: null }, $inc: { attempts: 1 } },
    { returnDocument: "after" },
  );
  if (!claimed) return (await deps.runs.findById(runId))!.toJSON();
  const run = claimed.toJSON();
  try {
    const file = run.file ?? (await generate(deps, config, run));
    const email = await send(deps, config, run, file);
    return (await deps.runs.findByIdAndUpdate(runId, { $set: { status: "completed", email, finished_at: new Date() } }, { returnDocument: "after" }))!.toJSON();
  } catch (err) {
    const e = err instanceof StageError ? err : new StageError("generate", err instanceof Error ? err.message : String(err), true);
    deps.logger.error(`tape run ${runId} (${config.name}, ${run.business_date}) failed at ${e.stage}: ${e.message}`);
    return (await deps.runs.findByIdAndUpdate(runId, { $set: { status: "failed", failed_stage: e.stage, error: e.message, retryable: e.retryable, finished_at: new Date() } }, { returnDocument: "after" }))!.toJSON();
  }
}

async function snapshotOf(deps: RunDeps, portfolio_id: string, business_date: string): Promise<any> {
  try {
    // Not taken yet: a 404, or an empty answer, asks for one.
    const snapshot = await deps.call("snapshots.get", { portfolio_id, business_date });
    if (snapshot) return snapshot;
  } catch (err: any) {
    if (err?.code !== 404) throw new StageError("snapshot", `no snapshot of portfolio ${portfolio_id} for ${business_date}: ${err?.message ?? err}`, true);
  }
  try {
    return await deps.call("snapshots.take", { portfolio_id, business_date });
  } catch (err: any) {
    // A refusal (422: a date before the loans' positions) refuses again tomorrow: not retryable.
    throw new StageError("snapshot", `could not take the snapshot of portfolio ${portfolio_id} for ${business_date}: ${err?.message ?? err}`, err?.code !== 422);
  }
}

async function generate(deps: RunDeps, config: TapeConfig, run: any) {
  const { portfolio_id, business_date } = run;
  const snapshot = await snapshotOf(deps, portfolio_id, business_date);
  // One pass over the snapshot's loans, a page at a time: the file is written as they arrive and
  // the totals counted on the way; the reconciliation is checked once all are in (DESIGN.md §11:
  // a tape that disagrees with its snapshot is never sent, and its file is not kept).
  const acc = new TotalsAccumulator();
  let readError: unknown = null;
  const pages = (async function* () {
    try {
      yield* counted(snapshotPages(deps.call, portfolio_id, business_date), acc);
    } catch (err) {
      readError = err;
      throw err;
    }
  })();
  const summary = () => {
    const totals = acc.result();
    return { totals, reconciliation: reconcile(totals, snapshot) };
  };
  const sink = new ChunkSink(deps.chunks, run.id);
  const content = { columns: tapeColumns(config), pages, ctx: { portfolio_id, business_date }, summary, title: config.name };
  try {
    if (config.tape_format === "xlsx") await writeXlsx(content, sink);
    else await writeCsv(content, sink);
  } catch (err: any) {
    if (readError) throw new StageError("snapshot", `could not read the loans of the snapshot: ${(readError as any)?.message ?? readError}`, true);
    throw err;
  }
  const { totals, reconciliation } = summary();
  await deps.runs.updateOne({ _id: run.id }, { $set: { totals, row_count: totals.loan_count, reconciliation } });
  const stored = sink.result();
  if (!reconciliation.ok) {
    await dropChunksFrom(deps.chunks, run.id, 0);
    throw new StageError("reconcile", reconciliation.message, false);
  }
  await dropChunksFrom(deps.chunks, run.id, stored.chunks);
  const file = { name: fileName(config, business_date), content_type: CONTENT_TYPES[config.tape_format], ...stored };
  await deps.runs.updateOne({ _id: run.id }, { $set: { file } });
  deps.logger.info(`tape ${file.name}: ${totals.loan_count} loans, ${stored.size} bytes, sha256 ${stored.sha256}`);
  return file;
}

async function send(deps: RunDeps, config: TapeConfig, run: any, file: any) {
  try {
    const receipt = await sendTapeMail(
      deps.mail,
      {
        to: config.recipient_email,
        subject: `Loan tape ${config.name} — ${run.business_date}`,
        text: `Loan tape "${config.name}" of portfolio ${run.portfolio_id} as of ${run.business_date}.\nFile ${file.name}, SHA-256 ${file.sha256}.`,
        filename: file.name,
        contentType: file.content_type,
        content: readStoredFile(deps.chunks, run.id, file.chunks),
      },
      `tape-${run.id}`,
    );
    if (receipt.path) deps.logger.info(`tape ${file.name} dropped as ${receipt.path}`);
    return { ...receipt, recipients: config.recipient_email, sent_at: new Date().toISOString() };
  } catch (err: any) {
    throw new StageError("email", `sending to ${deps.mail.smtpUrl ? "the SMTP server" : "the mail drop"} failed: ${err?.message ?? err}`, true);
  }
}

export function fileName(config: Pick<TapeConfig, "name" | "tape_format">, businessDate: string): string {
  const slug = config.name.normalize("NFKD").replace(/[^A-Za-z0-9]+/g, "_").replace(/^_+|_+$/g, "").slice(0, 60) || "tape";
  return `${slug}_${businessDate}.${config.tape_format}`;
}
