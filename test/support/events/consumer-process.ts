/**
 * The consuming process of the kill test (test/integration/events/kill-consumer.test.ts), run as
 * `node --import tsx test/support/events/consumer-process.ts`. The test SIGKILLs it midway and
 * starts another; what it writes to MongoDB is what the test checks.
 *
 * Env: NATS_URL, MONGO_URL (with the database), CONSUMER, SUBJECT, CONCURRENCY, ACK_WAIT_MS.
 *
 * The handler is idempotent in the way services must be (shared/events/idempotency.ts):
 * - handleOnce skips events already recorded in processed_events;
 * - the application itself is one atomic single-document write guarded by the event id: bucket
 *   `b<k>` gets `$inc: { n: 1 }` and `$push: { ids }` only if its `ids` lacks the event id, so a
 *   redelivery that slips past handleOnce (crash between apply and record) changes nothing;
 * - `kill_applied` records each event id once (unique `_id`).
 * Redeliveries (delivery > 1) are logged in `kill_redeliveries` with what happened to them
 * (test/support/events/kill-model.ts).
 */
import mongoose from "mongoose";
import { handleOnce } from "../../../shared/events/idempotency";
import { JetStreamBus } from "../../../shared/events/jetstream-bus";
import { bucketOf, killModels, type Redelivery } from "./kill-model";

async function main(): Promise<void> {
  const env = (name: string): string => {
    const v = process.env[name];
    if (!v) throw new Error(`${name} is required`);
    return v;
  };
  const consumer = env("CONSUMER");
  const conn = await mongoose.createConnection(env("MONGO_URL")).asPromise();
  const { Buckets, Applied, Redeliveries } = killModels(conn);

  const logger = { debug: () => undefined, info: console.log, warn: console.warn, error: console.error };
  const bus = await JetStreamBus.connect({ natsUrl: env("NATS_URL"), logger });
  const handle = await bus.consume({
    consumer,
    subject: env("SUBJECT"),
    concurrency: Number(process.env.CONCURRENCY ?? 16),
    ackWaitMs: Number(process.env.ACK_WAIT_MS ?? 2000),
    handler: async (event) => {
      let outcome: Redelivery["outcome"] = "skipped";
      const result = await handleOnce(conn, consumer, event, async () => {
        const r = await Buckets.updateOne({ _id: bucketOf(event.id), ids: { $ne: event.id } }, { $inc: { n: 1 }, $push: { ids: event.id } });
        outcome = r.modifiedCount === 1 ? "applied" : "no-op";
        try {
          await Applied.create({ _id: event.id, delivery: event.delivery, pid: process.pid });
        } catch (err) {
          if ((err as { code?: number }).code !== 11000) throw err;
        }
      });
      if (result === "duplicate") outcome = "skipped";
      if (event.delivery > 1) await Redeliveries.create({ event_id: event.id, delivery: event.delivery, pid: process.pid, outcome });
    },
  });
  console.log(`ready pid=${process.pid}`);

  // Graceful stop for the second instance (the first one is SIGKILLed and never gets here).
  process.once("SIGTERM", () => {
    void (async () => {
      await handle.stop();
      await bus.close();
      await conn.close();
      process.exit(0);
    })();
  });
}

main().catch((err) => {
  console.error("consumer-process failed:", err);
  process.exit(1);
});
