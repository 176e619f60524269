/**
 * The retry policy both buses share: what to do with one delivery once its handler has run.
 * Keeping it in one place is what makes the in-process bus behave like JetStream.
 */
import type { ConsumeOptions, DeadLetter, DeliveredEvent, DurableHandler } from "./bus";

export const DEFAULT_MAX_DELIVER = 5;
export const DEFAULT_ACK_WAIT_MS = 30_000;
export const DEFAULT_CONCURRENCY = 1;
export const DEFAULT_RETRY_DELAY_MS = 1_000;
export const DEFAULT_MAX_RETRY_DELAY_MS = 60_000;
export const DEFAULT_SHUTDOWN_GRACE_MS = 5_000;

/**
 * Deliveries also count attempts that never reached an outcome (the consumer crashed, or was
 * stopped, mid-handler). A message that keeps killing its consumer would loop forever, so past
 * this many deliveries it is dead-lettered without running the handler again.
 */
export const POISON_FACTOR = 3;

export interface ConsumerSettings {
  consumer: string;
  subject: string;
  handler: DurableHandler;
  maxDeliver: number;
  ackWaitMs: number;
  concurrency: number;
  retryDelayMs: number;
  maxRetryDelayMs: number;
  shutdownGraceMs: number;
  onDeadLetter?: ConsumeOptions["onDeadLetter"];
}

export function settingsOf(opts: ConsumeOptions): ConsumerSettings {
  const positive = (name: string, value: number | undefined, fallback: number): number => {
    const v = value ?? fallback;
    if (!Number.isFinite(v) || v < 0) throw new Error(`consume(${opts.consumer}): ${name} must be ≥ 0, got ${v}`);
    return v;
  };
  if (!opts.consumer) throw new Error("consume: consumer name is required");
  return {
    consumer: opts.consumer,
    subject: opts.subject,
    handler: opts.handler,
    maxDeliver: Math.max(1, Math.floor(positive("maxDeliver", opts.maxDeliver, DEFAULT_MAX_DELIVER))),
    ackWaitMs: Math.max(1, positive("ackWaitMs", opts.ackWaitMs, DEFAULT_ACK_WAIT_MS)),
    concurrency: Math.max(1, Math.floor(positive("concurrency", opts.concurrency, DEFAULT_CONCURRENCY))),
    retryDelayMs: positive("retryDelayMs", opts.retryDelayMs, DEFAULT_RETRY_DELAY_MS),
    maxRetryDelayMs: positive("maxRetryDelayMs", opts.maxRetryDelayMs, DEFAULT_MAX_RETRY_DELAY_MS),
    shutdownGraceMs: positive("shutdownGraceMs", opts.shutdownGraceMs, DEFAULT_SHUTDOWN_GRACE_MS),
    onDeadLetter: opts.onDeadLetter,
  };
}

/** Exponential backoff: retryDelayMs · 2^(delivery−1), capped. */
export function retryDelay(delivery: number, s: Pick<ConsumerSettings, "retryDelayMs" | "maxRetryDelayMs">): number {
  return Math.min(s.maxRetryDelayMs, s.retryDelayMs * 2 ** Math.max(0, delivery - 1));
}

export type Outcome = { kind: "ack" } | { kind: "retry"; delayMs: number; error: string } | { kind: "dead"; error: string };

/** Runs the handler for one delivery and decides: ack, retry later, or dead-letter. */
export async function runDelivery(event: DeliveredEvent, s: ConsumerSettings): Promise<Outcome> {
  if (event.delivery > s.maxDeliver * POISON_FACTOR) {
    return { kind: "dead", error: `delivered ${event.delivery} times without an outcome (consumer crashed or stopped each time)` };
  }
  try {
    await s.handler(event);
    return { kind: "ack" };
  } catch (err) {
    const error = errorText(err);
    if (event.delivery >= s.maxDeliver) return { kind: "dead", error };
    return { kind: "retry", delayMs: retryDelay(event.delivery, s), error };
  }
}

/** Runs the dead-letter hook; a failing hook (metrics) never affects delivery. */
export function notifyDeadLetter(s: Pick<ConsumerSettings, "onDeadLetter">, letter: DeadLetter, logger: { warn(...args: unknown[]): void }): void {
  try {
    s.onDeadLetter?.(letter);
  } catch (err) {
    logger.warn(`onDeadLetter hook failed: ${errorText(err)}`);
  }
}

export function errorText(err: unknown): string {
  if (err instanceof Error) return err.stack ?? `${err.name}: ${err.message}`;
  return String(err);
}
