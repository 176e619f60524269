/**
 * Subject and name rules shared by both buses, so an event subject that works in process also
 * works on JetStream (and the other way round).
 *
 * Event subjects are NATS-style dotted tokens (`loan.payment.applied`). Subscriptions may use the
 * NATS wildcards `*` (one token) and `>` (one or more trailing tokens): `loan.transaction.*`.
 */

import { createHash } from "node:crypto";

const TOKEN = /^[A-Za-z0-9_-]+$/;

/** Throws unless `subject` is a concrete subject one can publish on (no wildcards). */
export function assertPublishSubject(subject: string): void {
  const tokens = subject.split(".");
  if (!subject || tokens.some((t) => !TOKEN.test(t))) {
    throw new Error(`invalid event subject "${subject}": dotted tokens of [A-Za-z0-9_-], no wildcards`);
  }
}

/** Throws unless `filter` is a valid subscription subject (tokens, `*`, or a final `>`). */
export function assertFilterSubject(filter: string): void {
  const tokens = filter.split(".");
  const ok =
    !!filter &&
    tokens.every((t, i) => TOKEN.test(t) || t === "*" || (t === ">" && i === tokens.length - 1));
  if (!ok) throw new Error(`invalid subscription subject "${filter}"`);
}

/** NATS subject matching, for the in-process bus (JetStream does this on the server). */
export function subjectMatches(filter: string, subject: string): boolean {
  const f = filter.split(".");
  const s = subject.split(".");
  for (let i = 0; i < f.length; i++) {
    if (f[i] === ">") return s.length > i;
    if (i >= s.length) return false;
    if (f[i] !== "*" && f[i] !== s[i]) return false;
  }
  return f.length === s.length;
}

/**
 * A JetStream stream/consumer name from arbitrary text: names may not contain `.`, `*`, `>`,
 * whitespace or path separators. Dots become `_`, wildcards get spelled out so that
 * `loan.transaction.*` and `loan.transaction.x` never share a durable consumer.
 */
export function safeName(text: string): string {
  return text
    .replace(/\*/g, "STAR")
    .replace(/>/g, "ALL")
    .replace(/\./g, "_")
    .replace(/[^A-Za-z0-9_-]/g, "-");
}

/**
 * The durable consumer name of (consumer, subject): one durable per pair, stable across restarts.
 * Readable part plus a short hash of the exact pair, since safeName alone is not one-to-one
 * (`a.b` and `a_b` would share a durable).
 */
export function durableName(consumer: string, subject: string): string {
  const hash = createHash("sha256").update(`${consumer}\u0000${subject}`).digest("hex").slice(0, 8);
  return `${safeName(consumer)}__${safeName(subject)}_${hash}`;
}

/** A subject token from a Moleculer namespace (which may contain dots or other characters). */
export function namespaceToken(namespace: string | undefined): string {
  return namespace ? safeName(namespace) : "";
}
