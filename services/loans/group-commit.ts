import { BSON } from "mongodb";

/**
 * The loop the three share: one batch in flight at a time; what is asked meanwhile queues and
 * goes in the next. Nothing waits for a batch to fill: a request with nothing in flight goes at
 * once. A batch that throws fails every caller in it, and the loop goes on with the next.
 */
abstract class Batching<Q extends { reject: (err: unknown) => void }> {
  private queue: Q[] = [];
  private busy = false;

  protected enqueue(entry: Q): void {
    this.queue.push(entry);
    if (!this.busy) void this.drain();
  }

  /** How many queued entries the next batch takes (at least one). */
  protected abstract take(queue: readonly Q[]): number;

  /** Runs one batch and settles its callers (a throw rejects them all). */
  protected abstract run(batch: Q[]): Promise<void>;

  private async drain(): Promise<void> {
    this.busy = true;
    try {
      while (this.queue.length) {
        const batch = this.queue.splice(0, this.take(this.queue));
        try {
          await this.run(batch);
        } catch (err) {
          for (const b of batch) b.reject(err);
        }
      }
    } finally {
      this.busy = false;
    }
  }
}

interface Waiting<T, R> {
  item: T;
  resolve: (r: R) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit: writes of one kind asked for while one is in flight go together in the next, so
 * at N mutations in flight a side write costs about one round trip per batch instead of one per
 * mutation. Each caller's promise settles when the write holding its items did (an error fails
 * every caller of that batch; their loans keep `pending`, which the next request or the sweep
 * finishes). A batch holds at most `maxItems` items, never splitting one caller's.
 */
export class GroupCommit<T> extends Batching<Waiting<readonly T[], void>> {
  constructor(
    private readonly write: (items: T[]) => Promise<void>,
    private readonly maxItems = 500,
  ) {
    super();
  }

  add(items: readonly T[] | undefined): Promise<void> {
    if (!items?.length) return Promise.resolve();
    return new Promise<void>((resolve, reject) => this.enqueue({ item: items, resolve, reject }));
  }

  protected take(queue: readonly Waiting<readonly T[], void>[]): number {
    let count = 0;
    let take = 0;
    while (take < queue.length && (take === 0 || count + queue[take].item.length <= this.maxItems)) count += queue[take++].item.length;
    return take;
  }

  protected async run(batch: Waiting<readonly T[], void>[]): Promise<void> {
    await this.write(batch.flatMap((b) => b.item));
    for (const b of batch) b.resolve();
  }
}

/**
 * The read side of the same idea: `_id` lookups asked for while one is in flight go together in
 * the next, as one `{ _id: { $in: [...] } }` query (a lookup per id on every server, the wire
 * server included). Each caller gets its own document, or null.
 */
export class GroupRead<K, D extends { _id: unknown }> extends Batching<Waiting<K, D | null>> {
  constructor(
    private readonly find: (ids: K[]) => Promise<D[]>,
    private readonly keyOf: (id: K | D["_id"]) => string = String,
    private readonly maxIds = 500,
  ) {
    super();
  }

  get(id: K): Promise<D | null> {
    return new Promise<D | null>((resolve, reject) => this.enqueue({ item: id, resolve, reject }));
  }

  protected take(): number {
    return this.maxIds;
  }

  protected async run(batch: Waiting<K, D | null>[]): Promise<void> {
    const ids = [...new Map(batch.map((b) => [this.keyOf(b.item), b.item])).values()];
    const found = new Map((await this.find(ids)).map((d) => [this.keyOf(d._id), d]));
    // Each caller its own copy when several asked for one document (callers change what they
    // get); through BSON, so ObjectIds and Dates stay what they are (structuredClone would
    // turn an ObjectId into a plain object).
    const given = new Set<string>();
    for (const b of batch) {
      const k = this.keyOf(b.item);
      const doc = found.get(k) ?? null;
      b.resolve(doc && given.has(k) ? (BSON.deserialize(BSON.serialize(doc)) as D) : doc);
      given.add(k);
    }
  }
}

/**
 * Group commit for writes whose callers each need their own outcome (a version-guarded update:
 * matched or not): `write` answers one result per item, in order.
 */
export class GroupCall<T, R> extends Batching<Waiting<T, R>> {
  constructor(
    private readonly write: (items: T[]) => Promise<R[]>,
    private readonly maxItems = 500,
  ) {
    super();
  }

  call(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => this.enqueue({ item, resolve, reject }));
  }

  protected take(): number {
    return this.maxItems;
  }

  protected async run(batch: Waiting<T, R>[]): Promise<void> {
    const results = await this.write(batch.map((b) => b.item));
    batch.forEach((b, i) => b.resolve(results[i]));
  }
}
