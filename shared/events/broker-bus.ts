/**
 * Which durable bus a broker's services use, shared by the services of one process:
 * - NATS transporter (or JETSTREAM_URL): JetStream on that server, one connection per
 *   (server, namespace) in the process;
 * - no transporter (embedded default) or the Fake one: one InProcessBus per namespace in the
 *   process, so every service of the embedded system publishes to and consumes from the same bus.
 * Buses are reference-counted: the last service to release one closes it.
 */
import type { ServiceBroker } from "moleculer";
import { createDurableBus, type BusLogger, type DurableBus } from "./bus";

export interface BusTarget {
  /** undefined = in process */
  natsUrl?: string;
  namespace: string;
}

/** Reads the broker's transporter option (object form, string form or instance). */
export function busTargetFor(broker: Pick<ServiceBroker, "options" | "namespace">, env: NodeJS.ProcessEnv = process.env): BusTarget {
  const namespace = broker.namespace ?? "";
  if (env.JETSTREAM_URL) return { natsUrl: env.JETSTREAM_URL, namespace };
  const t: unknown = broker.options.transporter;
  if (t == null || t === false || t === "") return { namespace };
  if (typeof t === "string") {
    if (/^nats:\/\//i.test(t)) return { natsUrl: t, namespace };
    if (t.toUpperCase() === "NATS") return { natsUrl: "nats://localhost:4222", namespace };
    if (t.toUpperCase() === "FAKE") return { namespace };
    throw unsupported(t);
  }
  if (typeof t === "object") {
    const o = t as { type?: unknown; options?: Record<string, unknown>; opts?: Record<string, unknown>; constructor?: { name?: string } };
    const type = typeof o.type === "string" ? o.type : o.constructor?.name?.replace(/Transporter$/, "");
    const options = o.options ?? o.opts ?? {};
    if (type?.toUpperCase() === "FAKE") return { namespace };
    if (type?.toUpperCase() === "NATS") {
      const url = options.url ?? options.servers;
      const natsUrl = Array.isArray(url) ? url.join(",") : typeof url === "string" ? url : "nats://localhost:4222";
      return { natsUrl, namespace };
    }
    throw unsupported(String(type));
  }
  throw unsupported(String(t));
}

function unsupported(kind: string): Error {
  return new Error(`durable events need NATS JetStream: transporter "${kind}" is not NATS; set JETSTREAM_URL to a JetStream-enabled NATS server`);
}

interface Shared {
  bus: Promise<DurableBus>;
  refs: number;
}
const shared = new Map<string, Shared>();

function keyOf(target: BusTarget): string {
  return target.natsUrl ? `js|${target.namespace}|${target.natsUrl}` : `mem|${target.namespace}`;
}

/** The process-wide bus for the broker's target; call releaseBus with the same target when done. */
export async function acquireBus(target: BusTarget, logger: BusLogger): Promise<DurableBus> {
  const key = keyOf(target);
  let entry = shared.get(key);
  if (!entry) {
    entry = { bus: createDurableBus({ natsUrl: target.natsUrl, namespace: target.namespace, logger }), refs: 0 };
    shared.set(key, entry);
    // A failed connect must not stay cached: the next service start tries again.
    entry.bus.catch(() => shared.get(key) === entry && shared.delete(key));
  }
  entry.refs++;
  try {
    return await entry.bus;
  } catch (err) {
    entry.refs--;
    throw err;
  }
}

export async function releaseBus(target: BusTarget): Promise<void> {
  const key = keyOf(target);
  const entry = shared.get(key);
  if (!entry) return;
  if (--entry.refs > 0) return;
  shared.delete(key);
  const bus = await entry.bus.catch(() => undefined);
  await bus?.close();
}
