/**
 * Issue 13 point 4: business metrics on a broker's Prometheus text. The helpers register their
 * metrics by name; the durable-events mixin feeds consumer lag and dead letters, checked here on
 * the in-process bus and on JetStream.
 */
import { ServiceBroker, type ServiceSchema } from "moleculer";
import { brokerOptions } from "../../moleculer.config";
import { readConfig } from "../../shared/config";
import { MongoMixin } from "../../shared/db/mongo.mixin";
import { DurableEventsMixin } from "../../shared/events/durable-events.mixin";
import { prometheusText } from "../../shared/runtime/prometheus";
import {
  BUSINESS_METRICS,
  prometheusName,
  recordCloseOfBusiness,
  recordPaymentBooked,
  recordTapeRun,
  registerBusinessMetrics,
} from "../../shared/runtime/business-metrics";
import { eventually } from "../support/http";
import { startTestMongo, uniqueDbUrl, type RunningMongo } from "../support/mongo";
import { startNats, type RunningNats } from "../support/nats";

let mongo: RunningMongo;
let nats: RunningNats;
beforeAll(async () => {
  [mongo, nats] = await Promise.all([startTestMongo(), startNats({ jetstream: true })]);
}, 60_000);
afterAll(async () => {
  await nats?.stop();
  await mongo?.stop();
});

function broker(transporter = ""): ServiceBroker {
  const config = { ...readConfig({}), transporter, logLevel: "fatal" };
  return new ServiceBroker({ ...brokerOptions(config, { mongoUrl: uniqueDbUrl(mongo.url, "metrics") }), skipProcessEventRegistration: true });
}

/** The value of one Prometheus sample line, e.g. sample(text, 'app_cob_runs{status="completed"}'). */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

it("records payments, close of business and tape runs under their Prometheus names", async () => {
  const b = broker();
  await b.start();
  try {
    registerBusinessMetrics(b);
    registerBusinessMetrics(b); // idempotent: a second registration must not reset values
    recordPaymentBooked(b, { program_type: "installment" });
    recordPaymentBooked(b, { program_type: "installment" });
    recordPaymentBooked(b, { program_type: "lease", type: "recovery" });
    recordCloseOfBusiness(b, { business_date: "2026-11-20", loans: 5000, seconds: 2.5, status: "completed" });
    recordTapeRun(b, { status: "completed", format: "csv", rows: 120 });
    registerBusinessMetrics(b);
    const text = prometheusText(b)!;
    expect(sample(text, 'app_payments_booked{program_type="installment",type="payment"}')).toBe(2);
    expect(sample(text, 'app_payments_booked{program_type="lease",type="recovery"}')).toBe(1);
    expect(sample(text, 'app_cob_runs{status="completed"}')).toBe(1);
    expect(sample(text, "app_cob_loans")).toBe(5000);
    expect(sample(text, "app_cob_duration_seconds")).toBe(2.5);
    expect(sample(text, "app_cob_loans_per_second")).toBe(2000);
    expect(sample(text, "app_cob_business_date")).toBe(Date.UTC(2026, 10, 20) / 1000);
    expect(sample(text, 'app_jobs_runs{job="close_of_business",status="completed"}')).toBe(1);
    expect(sample(text, 'app_tapes_runs{status="completed",format="csv"}')).toBe(1);
    expect(sample(text, 'app_tapes_rows{format="csv"}')).toBe(120);
    expect(Object.keys(BUSINESS_METRICS).map(prometheusName)).toContain("app_events_consumer_lag");
  } finally {
    await b.stop();
  }
});

/** Held handlers wait for this to be released: the backlog grows meanwhile. */
let release: () => void = () => undefined;
let gate = new Promise<void>((r) => (release = r));

function failingConsumer(name: string): ServiceSchema {
  return {
    name,
    mixins: [
      MongoMixin({}),
      DurableEventsMixin({
        subscriptions: {
          "probe.failed": { handler: "onFailed", maxDeliver: 2, retryDelayMs: 10, maxRetryDelayMs: 10 },
          "probe.held": "onHeld",
        },
        lagIntervalMs: 50,
      }),
    ],
    methods: {
      onFailed() {
        throw new Error("this consumer always fails");
      },
      async onHeld() {
        await gate;
      },
    },
    actions: {
      publish: {
        params: { id: "string", subject: "string" },
        async handler(this: any, ctx: any) {
          await this.publishDurable(ctx.params.subject, ctx.params.id, { n: 1 });
        },
      },
    },
  };
}

describe.each([
  ["in-process", () => ""],
  ["JetStream", () => nats.url],
])("durable events on the %s bus", (_kind, transporter) => {
  it("count dead letters and report each consumer's backlog", async () => {
    const name = `probe_${Math.random().toString(36).slice(2, 7)}`;
    const b = broker(transporter());
    b.createService(failingConsumer(name));
    await b.start();
    try {
      gate = new Promise<void>((r) => (release = r));
      for (const n of [1, 2]) await b.call(`${name}.publish`, { id: `${name}-f${n}`, subject: "probe.failed" });
      for (const n of [1, 2, 3]) await b.call(`${name}.publish`, { id: `${name}-h${n}`, subject: "probe.held" });
      const text = () => prometheusText(b)!;
      await eventually(() => sample(text(), `app_events_dead_letters{consumer="${name}",subject="probe.failed"}`) === 2, 15_000);
      // Settled by dead-lettering: that backlog drains; the held one counts what waits (one in flight + two).
      await eventually(() => sample(text(), `app_events_consumer_lag{consumer="${name}",subject="probe.failed"}`) === 0, 15_000);
      await eventually(() => sample(text(), `app_events_consumer_lag{consumer="${name}",subject="probe.held"}`) === 3, 15_000);
      release();
      await eventually(() => sample(text(), `app_events_consumer_lag{consumer="${name}",subject="probe.held"}`) === 0, 15_000);
    } finally {
      await b.stop();
    }
  });
});
