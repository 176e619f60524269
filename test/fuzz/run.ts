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
const timeLimitS = Number(process.env.FUZZ_TIME_LIMIT_S ?? 900);
/**
 * Parallel schemathesis processes, each testing a share of the operations with one worker:
 * schemathesis's own workers are threads, which CPython 3.11 can trip over (a thread-unsafe AST
 * recursion counter), and processes use both cores besides. Two fit the 2-core machines.
 */
const shards = Math.max(1, Number(process.env.FUZZ_SHARDS ?? 2));
const token = "dev-admin-token";

async function main(): Promise<number> {
  if (!existsSync(st)) {
    console.error(`[fuzz] ${st} is missing: run scripts/setup.sh --test`);
    return 1;
  }
  const started = Date.now();
  // A free port can be taken by the embedded MongoDB server before the gateway binds it: retry.
  let sys = await startSystem();
  for (let attempt = 1; attempt < 3 && !(await ready(sys.base, 180_000, sys.exited)); attempt++) {
    console.error(`[fuzz] the system did not start (${sys.exited() ?? "not ready"}); retrying on another port`);
    await stop(sys.child);
    sys = await startSystem();
  }
  const { base, child: system, exited: exitedEarly } = sys;
  const systemLog = () => sys.log();
  try {
    if (!(await ready(base, 1_000, exitedEarly))) {
      console.error(`[fuzz] the system did not become ready:\n${systemLog()}`);
      return 1;
    }
    const operations = await settledOperations(base);
    if (operations.api === 0) {
      console.error("[fuzz] FAILED: the OpenAPI document lists no /api/v1 operation");
      return 1;
    }
    console.log(`[fuzz] system ready on ${base} with ${operations.api} API operations after ${((Date.now() - started) / 1000).toFixed(1)} s; running schemathesis`);
    const args = [
      "--config-file", join(root, "test/fuzz/schemathesis.toml"),
      "run", `${base}/api/openapi.json`,
      "-H", `Authorization: Bearer ${token}`,
      "--checks", "all",
      "--max-examples", String(examples),
      "--workers", "1",
      "--request-timeout", "20",
      "--generation-database", "none",
      "--no-color",
    ];
    const remaining = timeLimitS * 1000 - (Date.now() - started);
    const env = { PYTHONPATH: join(root, "test/fuzz"), SCHEMATHESIS_HOOKS: "hooks" };
    const results = await Promise.all(
      shareOut(operations.ids, shards).map((ids, i) =>
        run(st, [...args, ...ids.flatMap((id) => ["--include-operation-id", id])], env, remaining).then((r) => {
          console.log(`\n[fuzz] ── shard ${i + 1}/${shards}: ${ids.length} operations ──\n${quoted(r.output)}`);
          return r.code;
        }),
      ),
    );
    const code = results.includes("timeout") ? "timeout" : results.every((c) => c === 0) ? 0 : 1;
    const stillReady = !exitedEarly() && (await ready(base, 10_000, exitedEarly));
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    if (code === "timeout") console.error(`[fuzz] FAILED: schemathesis did not finish within ${timeLimitS} s`);
    if (!stillReady) console.error(`[fuzz] FAILED: ${exitedEarly() ?? "/ready no longer answers 200"} after fuzzing\n${systemLog()}`);
    const ok = code === 0 && stillReady;
    console.log(`[fuzz] ${ok ? "passed" : "FAILED"} in ${seconds} s (limit ${timeLimitS} s)`);
    return ok ? 0 : 1;
  } finally {
    await stop(system);
  }
}

/** bin/start.ts on a free port, as `npm start` runs it (in-process transport, embedded MongoDB, demo data). */
async function startSystem(): Promise<{ base: string; child: ChildProcess; log(): string; exited(): string | undefined }> {
  const port = await freePort();
  const child = spawn(join(root, "scripts/node"), ["--import", "tsx", "bin/start.ts"], {
    cwd: root,
    env: { ...process.env, PORT: String(port), GATEWAY_HOST: "127.0.0.1", LOG_LEVEL: "error", AUTH_TOKENS: "", HEALTH_PORT: "0", MONGO_URL: "", TRANSPORTER: "", SERVICES: "", NODE_ENV: "development", SCHEDULER_CLOCK: "off" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  const keep = (chunk: Buffer) => (log = (log + chunk.toString()).slice(-20_000));
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  let exited: string | undefined;
  child.once("exit", (code, signal) => (exited = `the system exited (${signal ?? code})`));
  return { base: `http://127.0.0.1:${port}`, child, log: () => log, exited: () => exited };
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
 * /ready: wait until two reads a second apart list the same operations.
 */
async function settledOperations(base: string): Promise<{ api: number; ids: string[] }> {
  const read = async () => {
    const doc = (await (await fetch(`${base}/api/openapi.json`)).json()) as { paths: Record<string, Record<string, { operationId: string }>> };
    const entries = Object.entries(doc.paths);
    return {
      api: entries.filter(([p]) => p.startsWith("/api/v1/")).reduce((n, [, ops]) => n + Object.keys(ops).length, 0),
      ids: entries.flatMap(([, ops]) => Object.values(ops).map((op) => op.operationId)).sort(),
    };
  };
  let last = { api: -1, ids: [] as string[] };
  for (let i = 0; i < 30; i++) {
    const now = await read();
    if (now.api > 0 && now.ids.join() === last.ids.join()) return now;
    last = now;
    await new Promise((r) => setTimeout(r, 1000));
  }
  return last;
}

/**
 * Schemathesis's report, each line behind "[st] ": its closing banner ("== 2 warnings in 95s ==")
 * has pytest's shape, and a CI that reads a run's last test-runner line would take it for a run
 * of no test. The stage's own verdict is the "[fuzz] passed" line, the suite's count is Jest's.
 */
function quoted(output: string): string {
  const banner = /^=+ (.*?) =+$/;
  return output
    .replace(/\n$/, "")
    .split("\n")
    .map((line) => `[st] ${line.replace(banner, (_, text: string) => `-- ${text.replace(/ in ([\d.]+s)$/, " (took $1)")} --`)}`)
    .join("\n");
}

/** Deals ids round-robin into n shares (alphabetical ids spread each service over the shares). */
function shareOut(ids: string[], n: number): string[][] {
  const shares: string[][] = Array.from({ length: Math.min(n, ids.length) }, () => []);
  ids.forEach((id, i) => shares[i % shares.length].push(id));
  return shares;
}

/** Runs a command with its output captured (shards print one after another, not interleaved). */
function run(cmd: string, args: string[], env: Record<string, string>, timeoutMs: number): Promise<{ code: number | "timeout"; output: string }> {
  return new Promise((done) => {
    const child = spawn(cmd, args, { cwd: root, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      done({ code: "timeout", output });
    }, Math.max(1000, timeoutMs));
    child.once("exit", (code) => {
      clearTimeout(timer);
      done({ code: code ?? 1, output });
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
