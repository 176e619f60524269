/**
 * The other process of issue 8 point 10: it consumes the durable `loan.*` events from JetStream
 * through DurableEventsMixin, as a real service would, and keeps a projection of every loan in
 * its own database (collection `loan_projection`, one document per loan), replacing a loan's
 * record only with a newer version (loan-projection.ts). Run as
 * `node --import tsx test/support/loan-infra/projection-consumer.ts` with
 *   JETSTREAM_URL  the nats-server with JetStream (the consumer is no Moleculer node of the system)
 *   MONGO_URL      the projection's own database
 * It prints `projection consumer ready` once consuming, and stops cleanly on SIGTERM.
 */
import { ServiceBroker } from "moleculer";
import { Schema } from "mongoose";
import { MongoMixin } from "../../../shared/db/mongo.mixin";
import { DurableEventsMixin } from "../../../shared/events/durable-events.mixin";
import type { DeliveredEvent } from "../../../shared/events/bus";
import { isDuplicateKey } from "../../../shared/db/crud";
import { LOAN_EVENTS_FILTER } from "../../../shared/contracts/loans";
import { applyLoanEvent, loanPicturesOf, type ProjectedLoan } from "./loan-projection";

const Mixed = Schema.Types.Mixed;
const projectionSchema = new Schema({ _id: String, version: Number, attributes: Mixed, state: Mixed, event_id: String, subject: String }, { versionKey: false, minimize: false });

async function main(): Promise<void> {
  if (!process.env.JETSTREAM_URL || !process.env.MONGO_URL) throw new Error("JETSTREAM_URL and MONGO_URL are required");
  const broker = new ServiceBroker({
    nodeID: `loan-projection-${process.pid}`,
    transporter: null,
    logger: { type: "Console", options: { level: "warn" } },
    metadata: { mongoUrl: process.env.MONGO_URL },
  });
  broker.createService({
    name: "loanprojection",
    mixins: [
      MongoMixin({ loan_projection: projectionSchema }),
      // Several at once on purpose: events of one loan may then be applied out of order, and the
      // version guard must still leave the newest picture.
      DurableEventsMixin({ subscriptions: { [LOAN_EVENTS_FILTER]: { handler: "onLoanEvent", concurrency: 8 } } }),
    ],
    methods: {
      async onLoanEvent(this: any, e: DeliveredEvent) {
        for (const picture of loanPicturesOf(e.subject, e.payload)) await this.keep(picture, e);
      },
      /** Read, apply, and write only over the version read (a concurrent newer write wins). */
      async keep(this: any, picture: Pick<ProjectedLoan, "_id" | "version" | "attributes" | "state">, e: DeliveredEvent) {
        const model = this.models.loan_projection;
        for (let attempt = 0; attempt < 50; attempt++) {
          const held = (await model.findById(picture._id).lean()) as ProjectedLoan | null;
          const next = applyLoanEvent(held, picture, e);
          if (!next) return;
          if (!held) {
            try {
              await model.create(next);
              return;
            } catch (err) {
              if (!isDuplicateKey(err)) throw err;
              continue;
            }
          }
          const r = await model.replaceOne({ _id: picture._id, version: held.version }, next);
          if (r.matchedCount === 1) return;
        }
        throw new Error(`projection of loan ${picture._id} kept changing under event ${e.id}`);
      },
    },
  });
  await broker.start();
  console.log("projection consumer ready");
  process.once("SIGTERM", () => {
    void broker.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}

main().catch((err) => {
  console.error("projection consumer failed:", err);
  process.exit(1);
});
