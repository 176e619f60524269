/**
 * The few operations every entity-owning service repeats: create (unique violations become 409),
 * get (404), list (paged), and patch guarded by the entity's `version` (optimistic concurrency:
 * two concurrent patches cannot silently overwrite each other).
 */
import type { Model } from "mongoose";
import { Types } from "mongoose";
import { ConflictError, NotFoundError, PreconditionRequiredError } from "../errors";
import type { Page } from "./pagination";

export function isDuplicateKey(err: any): boolean {
  return err?.code === 11000 || err?.code === 11001;
}

export async function createEntity(model: Model<any>, entity: string, doc: Record<string, unknown>) {
  try {
    return await model.create(doc as any);
  } catch (err) {
    if (isDuplicateKey(err)) throw new ConflictError(`${entity} already exists`, { keys: (err as any).keyValue ?? {} });
    throw err;
  }
}

export async function getEntity(model: Model<any>, entity: string, id: string) {
  const doc = Types.ObjectId.isValid(id) && id.length === 24 ? await model.findById(id) : null;
  if (!doc) throw new NotFoundError(entity, id);
  return doc;
}

export async function listEntities(
  model: Model<any>,
  filter: Record<string, any>,
  paging: { limit: number; offset: number },
  sort: Record<string, 1 | -1> = { _id: 1 },
): Promise<Page<unknown>> {
  const [items, total] = await Promise.all([
    model.find(filter).sort(sort).skip(paging.offset).limit(paging.limit),
    model.countDocuments(filter),
  ]);
  return { items: items.map((d) => d.toJSON()), total, limit: paging.limit, offset: paging.offset };
}

/**
 * Applies `patch` to the entity if it is still at `expectedVersion`: for a PATCH, the version the
 * client read (428 when it named none); for an internal change, the version just read. A stale
 * version or a lost race is a 409, never a silent overwrite.
 */
export async function patchEntity(
  model: Model<any>,
  entity: string,
  id: string,
  patch: Record<string, unknown>,
  expectedVersion: number | undefined,
) {
  if (typeof expectedVersion !== "number") throw new PreconditionRequiredError();
  try {
    const updated = await model.findOneAndUpdate(
      { _id: id, version: expectedVersion } as Record<string, any>,
      { $set: patch, $inc: { version: 1 } } as any,
      { returnDocument: "after" },
    );
    if (!updated) {
      const exists = await model.exists({ _id: id } as Record<string, any>);
      if (!exists) throw new NotFoundError(entity, id);
      throw new ConflictError(`${entity} ${id} was changed by someone else (version ${expectedVersion} is stale)`, { id });
    }
    return updated;
  } catch (err) {
    if (isDuplicateKey(err)) throw new ConflictError(`${entity} already exists`, { keys: (err as any).keyValue ?? {} });
    throw err;
  }
}

/** A `{ $gte, $lte }` filter on an ISO-date field, or undefined when neither bound is given. */
export function dateRange(from?: string, to?: string): Record<string, string> | undefined {
  if (!from && !to) return undefined;
  return { ...(from ? { $gte: from } : {}), ...(to ? { $lte: to } : {}) };
}

/** Drops keys whose value is undefined, so `$set` never clears what the caller did not send. */
export function definedOnly(obj: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined));
}
