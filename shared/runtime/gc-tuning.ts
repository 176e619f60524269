/**
 * V8 garbage-collector settings for a node of the system, applied when it starts (bin/start.ts),
 * so every deployment — `npm start`, the Kubernetes pods, the benches — runs with the same.
 *
 * External memory counted in the global limit. Every MongoDB command is built in Buffers outside
 * the JS heap (the driver copies a write's documents four times on its way to the socket), and by
 * default V8 starts a full collection whenever such memory has grown 64 MB since the last one,
 * however small the heap. Under a steady 1,000 payments a second that was a full collection every
 * ~3 s ("external memory pressure" in --trace-incremental-marking), each holding up every request
 * in flight for 15–25 ms plus ~100 ms of marking: the payments bench's p99 was those requests.
 * Counted in the global limit, external memory paces full collections as the heap's own growth
 * does: 5 instead of 11–12 per 20 s run, p99 93–98 ms instead of 110–118 (three alternating pairs).
 *
 * The heap grows at most twofold while a close of business runs (`whileBatch`). A close allocates
 * in 500-loan chunks, and V8's own growth factor (up to 4) let its heap reach four times what it
 * keeps: peak RSS 1.02 GB at 100,000 loans and 1.1 GB at 200,000. With the factor at 2 for the
 * close: 660 and 711 MB, and the close as fast (27.7 s and 55.6 s; with V8's default pacing of
 * external memory instead, 28.0 s and 64.2 s, its extra full collections costing 8 s of CPU).
 */
import { setFlagsFromString } from "node:v8";

let tuned = false;
let batches = 0;

export function tuneGarbageCollector(): void {
  tuned = true;
  setFlagsFromString("--external-memory-accounted-in-global-limit");
}

/** Runs a memory-heavy batch (a close of business) with the heap's growth held to twofold. */
export async function whileBatch<T>(run: () => Promise<T>): Promise<T> {
  if (batches++ === 0 && tuned) setFlagsFromString("--heap-growing-percent=100");
  try {
    return await run();
  } finally {
    // 0: V8 chooses the factor again
    if (--batches === 0 && tuned) setFlagsFromString("--heap-growing-percent=0");
  }
}
