/**
 * The fuzz stage of `npm test` (issue 7): starts the embedded system (bin/start.ts, as a newcomer
 * runs it) on a free port, points schemathesis at its own /api/openapi.json — so every route any
 * service registers is fuzzed, with nobody listing it — with every check and at least
 * FUZZ_EXAMPLES (100) examples per operation, then proves the system still answers /ready.
 *
 * Fails on any schemathesis failure (5xx, a response that does not match the document, a dropped
 * connection), on a system that died or stopped being ready, or on passing FUZZ_TIME_LIMIT_S.
 *
 * Needs schemathesis in .tools/fuzz-venv, or FUZZ_VENV (scripts/setup.sh --test installs the pinned version).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { join, resolve } from "node:path";

const root = resolve(__dirname, "../..");
const st = join(resolve(root, process.env.FUZZ_VENV ?? ".tools/fuzz-venv"), "bin/st");
const examples = Number(process.env.FUZZ_EXAMPLES ?? 100);
const timeLimitS = Number(process.env.FUZZ_TIME_LIMIT_S ?? 285);
const workers = process.env.FUZZ_WORKERS ?? "2";
const token = "dev-admin-token";

async function main(): Promise<number> {
  if (!existsSync(st)) {
    console.error(`[fuzz] ${st} is missing: run scripts/setup.sh --test`);
    return 1;
  }
  const started = Date.now();
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const system = spawn(join(root, "scripts/node"), ["--import", "tsx", "bin/start.ts"], {
    cwd: root,
    env: { ...process.env, PORT: String(port), GATEWAY_HOST: "127.0.0.1", LOG_LEVEL: "error", AUTH_TOKENS: "", HEALTH_PORT: "0", MONGO_URL: "", TRANSPORTER: "", SERVICES: "", NODE_ENV: "development", SCHEDULER_CLOCK: "off" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let systemLog = "";
  const keep = (chunk: Buffer) => (systemLog = (systemLog + chunk.toString()).slice(-20_000));
  system.stdout!.on("data", keep);
  system.stderr!.on("data", keep);
  let exitedEarly: string | undefined;
  system.once("exit", (code, signal) => (exitedEarly = `the system exited (${signal ?? code})`));

  try {
    if (!(await ready(base, 180_000, () => exitedEarly))) {
      console.error(`[fuzz] the system did not become ready:\n${systemLog}`);
      return 1;
    }
    const operations = await settledOperations(base);
    if (operations === 0) {
      console.error("[fuzz] FAILED: the OpenAPI document lists no /api/v1 operation");
      return 1;
    }
    console.log(`[fuzz] system ready on ${base} with ${operations} API operations after ${((Date.now() - started) / 1000).toFixed(1)} s; running schemathesis`);
    const args = [
      "--config-file", join(root, "test/fuzz/schemathesis.toml"),
      "run", `${base}/api/openapi.json`,
      "-H", `Authorization: Bearer ${token}`,
      "--checks", "all",
      "--max-examples", String(examples),
      "--workers", workers,
      "--request-timeout", "20",
      "--generation-database", "none",
      "--no-color",
    ];
    const remaining = timeLimitS * 1000 - (Date.now() - started);
    const code = await run(st, args, { PYTHONPATH: join(root, "test/fuzz"), SCHEMATHESIS_HOOKS: "hooks" }, remaining);
    const stillReady = !exitedEarly && (await ready(base, 10_000, () => exitedEarly));
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    if (code === "timeout") console.error(`[fuzz] FAILED: schemathesis did not finish within ${timeLimitS} s`);
    if (!stillReady) console.error(`[fuzz] FAILED: ${exitedEarly ?? "/ready no longer answers 200"} after fuzzing\n${systemLog}`);
    const ok = code === 0 && stillReady;
    console.log(`[fuzz] ${ok ? "passed" : "FAILED"} in ${seconds} s (limit ${timeLimitS} s)`);
    return ok ? 0 : 1;
  } finally {
    await stop(system);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

async function ready(base: string, timeoutMs: number, dead: () => string | undefined): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !dead()) {
    try {
      const res = await fetch(`${base}/ready`, { signal: AbortSignal.timeout(3000) });
      if (res.status === 200) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

/**
 * The gateway regenerates its routes shortly after services appear, so the document can lag
 * /ready: wait until two reads a second apart list the same operations, and count the API ones.
 */
async function settledOperations(base: string): Promise<number> {
  const count = async () => {
    const doc = (await (await fetch(`${base}/api/openapi.json`)).json()) as { paths: Record<string, object> };
    return Object.entries(doc.paths).filter(([p]) => p.startsWith("/api/v1/")).reduce((n, [, ops]) => n + Object.keys(ops).length, 0);
  };
  let last = -1;
  for (let i = 0; i < 30; i++) {
    const now = await count();
    if (now === last && now > 0) return now;
    last = now;
    await new Promise((r) => setTimeout(r, 1000));
  }
  return last;
}

function run(cmd: string, args: string[], env: Record<string, string>, timeoutMs: number): Promise<number | "timeout"> {
  return new Promise((done) => {
    const child = spawn(cmd, args, { cwd: root, env: { ...process.env, ...env }, stdio: "inherit" });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      done("timeout");
    }, Math.max(1000, timeoutMs));
    child.once("exit", (code) => {
      clearTimeout(timer);
      done(code ?? 1);
    });
  });
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    const kill = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.once("exit", () => {
      clearTimeout(kill);
      done();
    });
    child.kill("SIGTERM");
  });
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error("[fuzz] failed:", err);
    process.exit(1);
  },
);
