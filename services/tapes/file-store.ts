/**
 * A tape file stored as chunk documents `{ _id: "<run id>:<n>", data }`: written while the file is
 * generated (SHA-256 and size computed on the way through), read back by `_id` one chunk at a time,
 * so neither direction holds the whole file in memory.
 */
import { createHash } from "node:crypto";
import { Readable, Writable } from "node:stream";
import type { Model } from "mongoose";

const CHUNK_BYTES = 1024 * 1024;

export interface StoredFile {
  sha256: string;
  size: number;
  chunks: number;
}

const chunkId = (runId: string, n: number) => `${runId}:${String(n).padStart(6, "0")}`;

/** A Writable that stores what it receives; `result()` once it has finished. */
export class ChunkSink extends Writable {
  private readonly hash = createHash("sha256");
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private size = 0;
  private n = 0;

  constructor(private readonly model: Model<any>, private readonly runId: string) {
    super();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes < CHUNK_BYTES) return cb();
    this.flush().then(() => cb(), cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.flush().then(() => cb(), cb);
  }

  private async flush(): Promise<void> {
    if (!this.pendingBytes) return;
    const data = Buffer.concat(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
    const n = this.n++;
    // Upsert: a retried generation overwrites the chunks of the failed one.
    await this.model.replaceOne({ _id: chunkId(this.runId, n) }, { _id: chunkId(this.runId, n), run_id: this.runId, n, data }, { upsert: true });
  }

  result(): StoredFile {
    return { sha256: this.hash.digest("hex"), size: this.size, chunks: this.n };
  }
}

/** The stored file as a stream, one chunk document at a time. */
export function readStoredFile(model: Model<any>, runId: string, chunks: number): Readable {
  async function* generate() {
    for (let n = 0; n < chunks; n++) {
      const doc = await model.findById(chunkId(runId, n)).lean<{ data: any }>();
      if (!doc) throw new Error(`tape file of run ${runId} is missing chunk ${n}`);
      const data = doc.data;
      // The driver's Binary wraps the bytes: hand on a view of them, not a copy of a megabyte.
      const bytes = Buffer.isBuffer(data) ? data : (data.buffer ?? data);
      yield Buffer.isBuffer(bytes) ? bytes : bytes instanceof Uint8Array ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) : Buffer.from(bytes);
    }
  }
  return Readable.from(generate(), { objectMode: false });
}

/** Removes chunks beyond `keep` (left by an earlier, longer attempt). */
export async function dropChunksFrom(model: Model<any>, runId: string, keep: number): Promise<void> {
  await model.deleteMany({ run_id: runId, n: { $gte: keep } });
}
