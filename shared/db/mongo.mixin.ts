/**
 * The one way a service reaches MongoDB (DESIGN.md §1): a mongoose connection of its own, the
 * models it owns declared in one line (`mixins: [MongoMixin({ programs: programSchema })]`),
 * indexes created at start, and a `health` action that pings the database.
 *
 * moleculer-db's mongoose adapter stops at mongoose 8, and we need little of it: this stays thin.
 */
import mongoose, { type Connection, type Model, type Schema } from "mongoose";
import type { Context, ServiceSchema } from "moleculer";
import { wirePlugin } from "./wire";

/** Models are loosely typed on purpose: handlers read documents through `toJSON()` (wire shape). */
export type ModelMap<S extends Record<string, Schema<any>>> = { [K in keyof S]: Model<any> };

/** What a service using the mixin gets on `this`. */
export interface MongoVars<S extends Record<string, Schema<any>>> {
  db: Connection;
  models: ModelMap<S>;
}

/** Where the connection URL comes from: broker metadata (tests, embedded start) or MONGO_URL. */
export function mongoUrlFor(brokerMetadata: Record<string, unknown> | undefined): string {
  const url = (brokerMetadata?.mongoUrl as string | undefined) || process.env.MONGO_URL;
  if (!url) throw new Error("no MongoDB URL: set MONGO_URL (bin/start.ts starts an embedded server when it is unset)");
  return url;
}

/**
 * @param schemas collection name → mongoose schema. The collection name is the key, verbatim, so
 *   what a service owns is readable from its file.
 */
export function MongoMixin<S extends Record<string, Schema<any>>>(schemas: S): Partial<ServiceSchema> {
  return {
    actions: {
      health: {
        visibility: "public",
        async handler(this: any, _ctx: Context) {
          const started = process.hrtime.bigint();
          await this.db.db!.admin().ping();
          const ms = Number(process.hrtime.bigint() - started) / 1e6;
          return { service: this.name, status: "ok", mongo: { status: "up", ping_ms: Math.round(ms * 10) / 10 } };
        },
      },
    },
    async started(this: any) {
      const url = mongoUrlFor(this.broker.metadata ?? this.broker.options?.metadata);
      // autoIndex off: indexes are created once, here, and a failure stops the service from starting.
      this.db = mongoose.createConnection(url, { autoIndex: false, autoCreate: true, serverSelectionTimeoutMS: 10_000 });
      await this.db.asPromise();
      const models: Record<string, Model<any>> = {};
      for (const [collection, schema] of Object.entries(schemas)) {
        if (!(schema as any).__wire) {
          schema.plugin(wirePlugin);
          (schema as any).__wire = true;
        }
        models[collection] = this.db.model(collection, schema, collection);
      }
      this.models = models;
      for (const model of Object.values(models)) await model.createIndexes();
    },
    async stopped(this: any) {
      if (this.db) await this.db.close();
    },
  };
}
