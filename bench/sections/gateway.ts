/**
 * Gateway throughput: the embedded system started as `npm start` does (LOG_LEVEL=info, logs read
 * from its stdout as a log collector would), then GET /api/v1/programs from 50 concurrent
 * keep-alive clients for 10 s on loopback. Prints requests/s, latency percentiles, and the
 * server's CPU time per request (from /proc: the figure that stays comparable on a busy machine,
 * where throughput mostly measures the neighbours).
 *
 *   npm run bench -- gateway            (BENCH_SECONDS, BENCH_CONCURRENCY, LOG_FORMAT to vary)
 */
import { spawn } from "node:child_process";
import http from "node:http";
import { createServer } from "node:net";
import path from "node:path";
import { readFileSync } from "node:fs";

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 50);
const root = path.resolve(__dirname, "../..");

async function main(): Promise<void> {
  const port = await freePort();
  const child = spawn(process.execPath, ["--import", "tsx", "bin/start.ts"], {
    cwd: root,
    env: { ...process.env, PORT: String(port), LOG_LEVEL: process.env.LOG_LEVEL ?? "info", AUTH_TOKENS: "bench:admin", TRANSPORTER: "", MONGO_URL: process.env.MONGO_URL ?? "" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let logBytes = 0;
  let logLines = 0;
  let started = false;
  const onData = (d: Buffer) => {
    logBytes += d.length;
    for (const b of d) if (b === 10) logLines++;
    if (!started && d.toString().includes(" up in ")) started = true;
  };
  child.stdout.on("data", onData);
  child.stderr.on("data", onData);
  try {
    await until(() => started || child.exitCode !== null, 90_000);
    if (child.exitCode !== null) throw new Error("the system did not start");
    const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
    const get = () =>
      new Promise<number>((resolve, reject) => {
        const req = http.get({ host: "127.0.0.1", port, path: "/api/v1/programs", agent, headers: { Authorization: "Bearer bench" } }, (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode ?? 0));
        });
        req.on("error", reject);
      });
    await until(async () => (await get()) === 200, 30_000);
    for (let i = 0; i < 200; i++) await get(); // warm-up
    const cpuBefore = cpuMs(child.pid!);
    const linesBefore = logLines;
    const bytesBefore = logBytes;
    const latencies: number[] = [];
    let errors = 0;
    const end = Date.now() + seconds * 1000;
    const worker = async () => {
      while (Date.now() < end) {
        const t = process.hrtime.bigint();
        const status = await get().catch(() => 0);
        if (status !== 200) errors++;
        latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
      }
    };
    const t0 = Date.now();
    await Promise.all(Array.from({ length: concurrency }, worker));
    const elapsed = (Date.now() - t0) / 1000;
    const cpu = cpuMs(child.pid!) - cpuBefore;
    latencies.sort((a, b) => a - b);
    const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))].toFixed(1);
    const n = latencies.length;
    console.log(`gateway GET /api/v1/programs, ${concurrency} clients, ${elapsed.toFixed(1)} s, LOG_LEVEL=${process.env.LOG_LEVEL ?? "info"} LOG_FORMAT=${process.env.LOG_FORMAT ?? "text"}`);
    console.log(`  ${(n / elapsed).toFixed(0)} req/s  (${n} requests, ${errors} errors)  latency ms p50 ${pct(50)}  p90 ${pct(90)}  p99 ${pct(99)}`);
    console.log(`  server CPU: ${((cpu / n) * 1000).toFixed(0)} µs per request (${(cpu / 1000 / elapsed).toFixed(2)} cores busy)`);
    console.log(`  log output: ${((logLines - linesBefore) / n).toFixed(2)} lines and ${((logBytes - bytesBefore) / n).toFixed(0)} bytes per request`);
    agent.destroy();
  } finally {
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
  }
}

/** User + system CPU time of a process so far, in ms (Linux /proc; clock ticks are 100 Hz). */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function until(fn: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await Promise.resolve(fn()).catch(() => false))) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 100));
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer().listen(0, "127.0.0.1", () => {
      const p = (srv.address() as { port: number }).port;
      srv.close(() => resolve(p));
    });
    srv.on("error", reject);
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
