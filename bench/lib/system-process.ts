/**
 * Nodes of the system for the service benches: bin/start.ts as a child process with the given
 * SERVICES / TRANSPORTER / MONGO_URL / PORT, exactly as a deployment starts it. BENCH_CPU_PROF=<dir>
 * starts each child with --cpu-prof (the profile is written when the child stops).
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { appendFileSync } from "node:fs";

const root = path.resolve(__dirname, "../..");

export interface NodeProcess {
  name: string;
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

export async function startNodeProcess(name: string, env: Record<string, string>, timeoutMs = 120_000): Promise<NodeProcess> {
  const clean: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: "warn", SEED_DEMO: "false" };
  for (const key of ["MONGO_URL", "TRANSPORTER", "AUTH_TOKENS", "SERVICES", "NODE_ENV", "PORT", "JETSTREAM_URL", "HEALTH_PORT"]) delete clean[key];
  const prof = process.env.BENCH_CPU_PROF ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`, `--cpu-prof-name=${name}-${Date.now()}.cpuprofile`] : [];
  // BENCH_NODE_FLAGS: more node flags for the system's processes (e.g. --trace-gc); BENCH_NODE_LOG=<dir>:
  // each process's whole output to <dir>/<name>.log.
  const flags = (process.env.BENCH_NODE_FLAGS ?? "").split(/\s+/).filter(Boolean);
  const child = spawn(process.execPath, [...prof, ...flags, "--import", "tsx", "bin/start.ts"], { cwd: root, env: { ...clean, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  const logFile = process.env.BENCH_NODE_LOG ? path.join(process.env.BENCH_NODE_LOG, `${name}.log`) : null;
  let out = "";
  const keep = (d: Buffer) => {
    out = (out + d).slice(-20_000);
    if (logFile) appendFileSync(logFile, d);
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  const deadline = Date.now() + timeoutMs;
  while (!/ up in [\d.]+ s:/.test(out)) {
    if (child.exitCode !== null) throw new Error(`${name} exited early:\n${out}`);
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`${name} did not start in ${timeoutMs} ms:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    name,
    child,
    output: () => out,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        const kill = setTimeout(() => child.kill("SIGKILL"), 20_000);
        child.once("exit", () => (clearTimeout(kill), resolve()));
        child.kill("SIGTERM");
      }),
  };
}
