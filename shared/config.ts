/**
 * Configuration read once from the environment (DESIGN.md §1: transport and storage are
 * configuration). Every knob the system has is here, so an operator finds them in one place.
 */
import os from "node:os";
import path from "node:path";

export interface AppConfig {
  /** Moleculer transporter URL, e.g. nats://127.0.0.1:4222; empty = in-process (embedded). */
  transporter: string;
  /** MongoDB URL; empty = start an embedded MongoDB-compatible server. */
  mongoUrl: string;
  /** Gateway HTTP port. */
  port: number;
  /** Address the gateway listens on. */
  gatewayHost: string;
  /** Per-node liveness/readiness/metrics HTTP port; 0 = off. */
  healthPort: number;
  /** `token:role,token:role,token:investor:<id>`; empty outside production = dev token. */
  authTokens: string;
  logLevel: string;
  /** `text` (console lines) or `json` (one JSON object per line, through pino). */
  logFormat: "text" | "json";
  /** GC_TUNING=off starts the node with V8's default collector pacing (shared/runtime/gc-tuning.ts). */
  gcTuning: boolean;
  /** OIDC / JWT bearer tokens, beside AUTH_TOKENS; off while jwksUrl is empty. */
  oidc: OidcConfig;
  namespace: string;
  /** Business time zone: what "today" means for due dates, ticks and snapshots. */
  businessTz: string;
  /** Which services this node runs (`SERVICES=loans,rates`); empty = all. */
  services: string[];
  nodeEnv: string;
  nodeId?: string;
  /** `kid:base64key,…` AES-256 keys for investors' bank details; empty outside production = dev key. */
  investorDataKeys: string;
  /** The key id new investor records are sealed with; empty = the last of investorDataKeys. */
  investorDataKeyId: string;
  /** Portfolio types a portfolio may have (seed 004: configuration-defined). */
  portfolioTypes: string[];
  /** SMTP server for loan tapes (nodemailer URL, e.g. smtp://user:pass@mail:587); empty = mail drop. */
  smtpUrl: string;
  /** Where tapes are dropped as .eml files when no SMTP_URL is set. */
  mailDropDir: string;
  /** Demo data at start: `auto` seeds an embedded database only. */
  seedDemo: "auto" | "true" | "false";
  scheduler: SchedulerConfig;
  loans: LoansConfig;
  /** Portfolios whose snapshots the daily job computes at once. */
  snapshotsConcurrency: number;
}

export interface SchedulerConfig {
  /** The in-process clock adds each due date; off where Kubernetes CronJobs do it. */
  clock: boolean;
  pumpIntervalMs: number;
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
  jobTimeoutMs: number;
  discoveryGraceMs: number;
}

export interface LoansConfig {
  /** How long a payment's idempotency key answers a retry with its first answer. */
  idempotencyRetentionDays: number;
  /** Close of business (DESIGN.md §8): work units leased by instances, loans per chunk, lease length, units one instance closes at once. */
  close: { units: number; chunkSize: number; leaseMs: number; concurrency: number };
}

export const DEFAULT_PORTFOLIO_TYPES = ["general", "manual", "position_only"];
export interface OidcConfig {
  /** The identity provider's JWKS URL (its `jwks_uri`); empty = OIDC tokens are not accepted. */
  jwksUrl: string;
  /** Required `iss` claim. */
  issuer: string;
  /** Required `aud` claim (one of the token's audiences). */
  audience: string;
  /** Claim holding the caller's roles (a string or an array; dotted path, e.g. `realm_access.roles`). */
  rolesClaim: string;
  /** Claim holding an investor token's investor id. */
  investorClaim: string;
}

export const ALL_SERVICES = [
  "gateway",
  "scheduler",
  "programs",
  "rates",
  "loans",
  "portfolios",
  "snapshots",
  "investors",
  "tapes",
] as const;
export type ServiceName = (typeof ALL_SERVICES)[number];

export function readConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const services = (env.SERVICES ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = services.filter((s) => !(ALL_SERVICES as readonly string[]).includes(s));
  // Every bad variable is named at once, so an operator fixes them in one go.
  const problems: string[] = [];
  if (unknown.length) problems.push(`SERVICES names unknown services: ${unknown.join(", ")} (known: ${ALL_SERVICES.join(", ")})`);
  // A bad value leaves its field undefined: with any problem the config is not returned.
  const read = <T>(parse: () => T): T => {
    try {
      return parse();
    } catch (err) {
      problems.push((err as Error).message);
      return undefined as T;
    }
  };
  const count = (name: string, fallback: number, max: number, min = 1) => read(() => countFrom(env[name], fallback, name, min, max));
  const config: AppConfig = {
    transporter: env.TRANSPORTER ?? "",
    mongoUrl: env.MONGO_URL ?? "",
    port: read(() => intFrom(env.PORT, 3000, "PORT")),
    gatewayHost: env.GATEWAY_HOST || "0.0.0.0",
    healthPort: read(() => intFrom(env.HEALTH_PORT, 0, "HEALTH_PORT")),
    authTokens: env.AUTH_TOKENS ?? "",
    logLevel: env.LOG_LEVEL ?? "info",
    logFormat: read(() => logFormatFrom(env.LOG_FORMAT)),
    gcTuning: read(() => onOffFrom(env.GC_TUNING, "GC_TUNING")),
    oidc: {
      jwksUrl: env.OIDC_JWKS_URL ?? "",
      issuer: env.OIDC_ISSUER ?? "",
      audience: env.OIDC_AUDIENCE ?? "",
      rolesClaim: env.OIDC_ROLES_CLAIM || "roles",
      investorClaim: env.OIDC_INVESTOR_CLAIM || "investor_id",
    },
    namespace: env.NAMESPACE ?? "",
    businessTz: env.BUSINESS_TZ ?? "America/New_York",
    services: services.length ? services : [...ALL_SERVICES],
    nodeEnv: env.NODE_ENV ?? "development",
    nodeId: env.NODE_ID || undefined,
    investorDataKeys: env.INVESTOR_DATA_KEYS ?? "",
    investorDataKeyId: env.INVESTOR_DATA_KEY_ID ?? "",
    portfolioTypes: read(() => listFrom(env.PORTFOLIO_TYPES, DEFAULT_PORTFOLIO_TYPES, "PORTFOLIO_TYPES")),
    smtpUrl: env.SMTP_URL ?? "",
    mailDropDir: env.MAIL_DROP_DIR || path.join(os.tmpdir(), "loan-platform-mail"),
    seedDemo: read(() => seedDemoFrom(env.SEED_DEMO)),
    scheduler: {
      clock: read(() => onOffFrom(env.SCHEDULER_CLOCK, "SCHEDULER_CLOCK")),
      pumpIntervalMs: count("SCHEDULER_PUMP_INTERVAL_MS", 15_000, DAY_MS),
      maxAttempts: count("SCHEDULER_MAX_ATTEMPTS", 5, 1_000),
      retryBaseMs: count("SCHEDULER_RETRY_BASE_MS", 60_000, DAY_MS),
      retryMaxMs: count("SCHEDULER_RETRY_MAX_MS", 30 * 60_000, DAY_MS),
      jobTimeoutMs: count("SCHEDULER_JOB_TIMEOUT_MS", 2 * 3_600_000, 7 * DAY_MS),
      discoveryGraceMs: count("SCHEDULER_DISCOVERY_GRACE_MS", 30_000, DAY_MS, 0),
    },
    loans: {
      idempotencyRetentionDays: count("LOANS_IDEMPOTENCY_RETENTION_DAYS", 30, 3_650),
      close: {
        units: count("LOANS_CLOSE_UNITS", 8, 10_000),
        chunkSize: count("LOANS_CLOSE_CHUNK", 500, 100_000),
        leaseMs: count("LOANS_CLOSE_LEASE_MS", 30_000, DAY_MS),
        concurrency: count("LOANS_CLOSE_CONCURRENCY", 2, 1_000),
      },
    },
    snapshotsConcurrency: count("SNAPSHOTS_CONCURRENCY", 8, 1_000),
  };
  if (config.oidc.jwksUrl && (!config.oidc.issuer || !config.oidc.audience)) {
    problems.push("OIDC_JWKS_URL needs OIDC_ISSUER and OIDC_AUDIENCE: a token is only trusted for this issuer and audience");
  }
  if (problems.length) throw new Error(`bad configuration: ${problems.join("; ")}`);
  return config;
}

function logFormatFrom(raw: string | undefined): "text" | "json" {
  if (raw === undefined || raw === "" || raw === "text") return "text";
  if (raw === "json") return "json";
  throw new Error(`LOG_FORMAT must be text or json, got "${raw}"`);
}

const DAY_MS = 86_400_000;

/** A whole number from min to max (a count, a size or milliseconds: where 0 would stall or spin, min is 1). */
function countFrom(raw: string | undefined, fallback: number, name: string, min: number, max: number): number {
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < min || n > max) throw new Error(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  return n;
}

function seedDemoFrom(raw: string | undefined): "auto" | "true" | "false" {
  if (raw === undefined || raw === "") return "auto";
  if (raw === "auto" || raw === "true" || raw === "false") return raw;
  throw new Error(`SEED_DEMO must be auto, true or false, got "${raw}"`);
}

function onOffFrom(raw: string | undefined, name: string): boolean {
  if (raw === undefined || raw === "" || raw === "on") return true;
  if (raw === "off") return false;
  throw new Error(`${name} must be on or off, got "${raw}"`);
}

function intFrom(raw: string | undefined, fallback: number, name: string): number {
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${name} must be a port number, got "${raw}"`);
  return n;
}

function listFrom(raw: string | undefined, fallback: string[], name: string): string[] {
  const items = (raw ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  if (!items.length) return fallback;
  const bad = items.filter((s) => !/^[a-z][a-z0-9_]{0,39}$/.test(s));
  if (bad.length) throw new Error(`${name} items must be lower_snake_case words, got: ${bad.join(", ")}`);
  return items;
}
