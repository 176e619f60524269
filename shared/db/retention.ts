/**
 * Keeps bookkeeping collections from growing without end (no TTL indexes on the embedded server,
 * DESIGN.md §1): each rule deletes the records whose date field is older than what the rule keeps.
 * For records whose only job is to make a retry or a redelivery harmless (processed events,
 * idempotency answers, announced close chunks), kept past the longest window in which that retry
 * can still come.
 *
 * On a real MongoDB each rule's query uses the index on its date field; on the embedded server it
 * reads the collection once an interval (hourly by default), never on a request's path.
 */
import type { Model } from "mongoose";

export interface RetentionRule {
  /** What the log calls it. */
  name: string;
  model: Model<any>;
  /** The record's date field: a Date, or ISO-8601 UTC text when `iso` (compared as text). */
  field: string;
  iso?: boolean;
  keepMs: number;
}

export interface RetentionLogger {
  info(msg: string): void;
  warn(msg: string): void;
}

/** Deletes what the rule no longer keeps; returns how many records went. */
export async function purgeExpired(rule: RetentionRule, now: Date = new Date()): Promise<number> {
  const cutoff = new Date(now.getTime() - rule.keepMs);
  const res = await rule.model.deleteMany({ [rule.field]: { $lt: rule.iso ? cutoff.toISOString() : cutoff } });
  return res.deletedCount ?? 0;
}

/** Runs every rule at start and then on an interval; a failure is logged and retried next time. */
export class RetentionSweeper {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly rules: readonly RetentionRule[],
    private readonly logger: RetentionLogger,
    private readonly intervalMs = 3600_000,
  ) {}

  start(): void {
    if (this.timer || !this.rules.length) return;
    this.timer = setInterval(() => void this.sweep(), this.intervalMs);
    this.timer.unref?.();
    void this.sweep();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One pass over every rule (one at a time: a sweep is background work). */
  sweep(): Promise<void> {
    this.running ??= (async () => {
      for (const rule of this.rules) {
        try {
          const n = await purgeExpired(rule);
          if (n) this.logger.info(`retention: ${n} ${rule.name} record(s) older than ${Math.round(rule.keepMs / 3600_000)} h deleted`);
        } catch (err) {
          this.logger.warn(`retention: ${rule.name}: ${(err as Error)?.message ?? err} (retrying next interval)`);
        }
      }
    })().finally(() => (this.running = undefined));
    return this.running;
  }
}
