/** Retrying a failed job (DESIGN.md §8: "a failed job retries with back-off"). */

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /** Delay after the first failure; doubles per failed attempt. */
  baseDelayMs: number;
  /** Upper bound of the delay. */
  maxDelayMs: number;
}

/** The wait after failed attempt `attempt` (1-based): base × 2^(attempt − 1), capped. */
export function retryDelayMs(attempt: number, policy: Pick<RetryPolicy, "baseDelayMs" | "maxDelayMs">): number {
  return Math.min(policy.baseDelayMs * 2 ** Math.max(0, attempt - 1), policy.maxDelayMs);
}
