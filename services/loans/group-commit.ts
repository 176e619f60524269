import { BSON } from "mongodb";

/**
 * Group commit: writes of one kind asked for while one is in flight go together in the next, so
 * at N mutations in flight a side write costs about one round trip per batch instead of one per
 * mutation. Nothing waits for a batch to fill: a write with nothing in flight goes at once. Each
 * caller's promise settles when the write holding its items did (an error fails every caller of
 * that batch; their loans keep `pending`, which the next request or the sweep finishes).
 */
export class GroupCommit<T> {
  private queue: { items: readonly T[]; resolve: () => void; reject: (err: unknown) => void }[] = [];
  private busy = false;

  constructor(
    private readonly write: (items: T[]) => Promise<void>,
    private readonly maxItems = 500,
  ) {}

  add(items: readonly T[] | undefined): Promise<void> {
    if (!items?.length) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ items, resolve, reject });
      if (!this.busy) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.busy = true;
    try {
      while (this.queue.length) {
        let count = 0;
        let take = 0;
        while (take < this.queue.length && (take === 0 || count + this.queue[take].items.length <= this.maxItems)) count += this.queue[take++].items.length;
        const batch = this.queue.splice(0, take);
        try {
          await this.write(batch.flatMap((b) => b.items));
          for (const b of batch) b.resolve();
        } catch (err) {
          for (const b of batch) b.reject(err);
        }
      }
    } finally {
      this.busy = false;
    }
  }
}

/**
 * The read side of the same idea: `_id` lookups asked for while one is in flight go together in
 * the next, as one `{ _id: { $in: [...] } }` query (a lookup per id on every server, the wire
 * server included). Each caller gets its own document, or null.
 */
export class GroupRead<K, D extends { _id: unknown }> {
  private queue: { id: K; resolve: (doc: D | null) => void; reject: (err: unknown) => void }[] = [];
  private busy = false;

  constructor(
    private readonly find: (ids: K[]) => Promise<D[]>,
    private readonly keyOf: (id: K | D["_id"]) => string = String,
    private readonly maxIds = 500,
  ) {}

  get(id: K): Promise<D | null> {
    return new Promise<D | null>((resolve, reject) => {
      this.queue.push({ id, resolve, reject });
      if (!this.busy) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.busy = true;
    try {
      while (this.queue.length) {
        const batch = this.queue.splice(0, this.maxIds);
        try {
          const ids = [...new Map(batch.map((b) => [this.keyOf(b.id), b.id])).values()];
          const found = new Map((await this.find(ids)).map((d) => [this.keyOf(d._id), d]));
          // Each caller its own copy when several asked for one document (callers change what they
          // get); through BSON, so ObjectIds and Dates stay what they are (structuredClone would
          // turn an ObjectId into a plain object).
          const given = new Set<string>();
          for (const b of batch) {
            const k = this.keyOf(b.id);
            const doc = found.get(k) ?? null;
            b.resolve(doc && given.has(k) ? (BSON.deserialize(BSON.serialize(doc)) as D) : doc);
            given.add(k);
          }
        } catch (err) {
          for (const b of batch) b.reject(err);
        }
      }
    } finally {
      this.busy = false;
    }
  }
}

/**
 * Group commit for writes whose callers each need their own outcome (a version-guarded update:
 * matched or not): `write` answers one result per item, in order.
 */
export class GroupCall<T, R> {
  private queue: { item: T; resolve: (r: R) => void; reject: (err: unknown) => void }[] = [];
  private busy = false;

  constructor(
    private readonly write: (items: T[]) => Promise<R[]>,
    private readonly maxItems = 500,
  ) {}

  call(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.busy) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.busy = true;
    try {
      while (this.queue.length) {
        const batch = this.queue.splice(0, this.maxItems);
        try {
          const results = await this.write(batch.map((b) => b.item));
          batch.forEach((b, i) => b.resolve(results[i]));
        } catch (err) {
          for (const b of batch) b.reject(err);
        }
      }
    } finally {
      this.busy = false;
    }
  }
}
