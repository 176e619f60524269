/**
 * A durable consumer of `loan.transaction.booked` for tests: a Moleculer service with its own
 * collection, consuming through DurableEventsMixin exactly as a real service does, and recording
 * every event it is handed (handleOnce in the mixin already skips a redelivered event id, so one
 * record per event id is what exactly-once looks like; two records for one transaction would be
 * two different events published for it).
 */
import type { ServiceSchema } from "moleculer";
import { Schema } from "mongoose";
import { MongoMixin } from "../../../shared/db/mongo.mixin";
import { DurableEventsMixin } from "../../../shared/events/durable-events.mixin";
import type { DeliveredEvent } from "../../../shared/events/bus";
import { LoanEvents } from "../../../shared/contracts/loans";

const seenSchema = new Schema({ event_id: String, subject: String, loan_id: String, transaction_id: String, delivery: Number }, { versionKey: false });

export function bookedWatcher(name = "bookedwatch"): ServiceSchema {
  return {
    name,
    mixins: [MongoMixin({ [`${name}_seen`]: seenSchema }), DurableEventsMixin({ subscriptions: { [LoanEvents.transactionBooked]: "onBooked" } })],
    methods: {
      async onBooked(this: any, e: DeliveredEvent) {
        const p = e.payload as { loan_id: string; transaction: { id: string } };
        await this.models[`${name}_seen`].create({ event_id: e.id, subject: e.subject, loan_id: p.loan_id, transaction_id: p.transaction.id, delivery: e.delivery });
      },
    },
  } as ServiceSchema;
}
