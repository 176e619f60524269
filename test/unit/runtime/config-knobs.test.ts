/**
 * The numeric knobs of shared/config.ts (loans, scheduler, snapshots): a bad value refuses the
 * start with every bad knob named, instead of running with NaN (a close of business with NaN
 * units, a scheduler retrying every NaN ms).
 */
import { readConfig } from "../../../shared/config";

test("defaults when unset or empty", () => {
  const c = readConfig({ LOANS_CLOSE_UNITS: "" });
  expect(c.loans).toEqual({ idempotencyRetentionDays: 30, close: { units: 8, chunkSize: 500, leaseMs: 30_000, concurrency: 2 } });
  expect(c.scheduler).toEqual({ clock: true, pumpIntervalMs: 15_000, maxAttempts: 5, retryBaseMs: 60_000, retryMaxMs: 1_800_000, jobTimeoutMs: 7_200_000, discoveryGraceMs: 30_000 });
  expect(c.snapshotsConcurrency).toBe(8);
  expect(c.seedDemo).toBe("auto");
  expect(c.gatewayHost).toBe("0.0.0.0");
});

test("values are read as whole numbers; a discovery grace of 0 means none", () => {
  const c = readConfig({ LOANS_CLOSE_UNITS: "16", LOANS_CLOSE_CHUNK: " 250 ", SCHEDULER_DISCOVERY_GRACE_MS: "0", SNAPSHOTS_CONCURRENCY: "3", SCHEDULER_CLOCK: "off", SEED_DEMO: "false", GATEWAY_HOST: "127.0.0.1" });
  expect(c.loans.close.units).toBe(16);
  expect(c.loans.close.chunkSize).toBe(250);
  expect(c.scheduler.discoveryGraceMs).toBe(0);
  expect(c.snapshotsConcurrency).toBe(3);
  expect(c.scheduler.clock).toBe(false);
  expect(c.seedDemo).toBe("false");
  expect(c.gatewayHost).toBe("127.0.0.1");
});

test("every bad knob is named in one refusal", () => {
  let message = "";
  try {
    readConfig({ LOANS_CLOSE_UNITS: "eight", LOANS_CLOSE_CHUNK: "0", SNAPSHOTS_CONCURRENCY: "1.5", SCHEDULER_RETRY_BASE_MS: "-1", LOANS_IDEMPOTENCY_RETENTION_DAYS: "1e3", SCHEDULER_MAX_ATTEMPTS: "5000" });
  } catch (err) {
    message = (err as Error).message;
  }
  expect(message).toMatch(/^bad configuration: /);
  for (const [name, got, range] of [
    ["LOANS_CLOSE_UNITS", "eight", "1 to 10000"],
    ["LOANS_CLOSE_CHUNK", "0", "1 to 100000"],
    ["SNAPSHOTS_CONCURRENCY", "1.5", "1 to 1000"],
    ["SCHEDULER_RETRY_BASE_MS", "-1", "1 to 86400000"],
    ["LOANS_IDEMPOTENCY_RETENTION_DAYS", "1e3", "1 to 3650"],
    ["SCHEDULER_MAX_ATTEMPTS", "5000", "1 to 1000"],
  ]) {
    expect(message).toContain(`${name} must be a whole number from ${range}, got "${got}"`);
  }
});

test("SCHEDULER_CLOCK and SEED_DEMO take only their words", () => {
  expect(() => readConfig({ SCHEDULER_CLOCK: "no" })).toThrow(/SCHEDULER_CLOCK must be on or off, got "no"/);
  expect(() => readConfig({ SEED_DEMO: "yes" })).toThrow(/SEED_DEMO must be auto, true or false, got "yes"/);
});

test("words, ports, services and counts are refused together", () => {
  expect(() => readConfig({ SERVICES: "loans,lonas", PORT: "http", LOG_FORMAT: "xml", SCHEDULER_CLOCK: "maybe", LOANS_CLOSE_UNITS: "0" })).toThrow(
    /^bad configuration: SERVICES names unknown services: lonas .*; PORT must be a port number, got "http"; LOG_FORMAT must be text or json, got "xml"; SCHEDULER_CLOCK must be on or off, got "maybe"; LOANS_CLOSE_UNITS must be a whole number from 1 to 10000, got "0"$/,
  );
});
