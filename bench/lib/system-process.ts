/**
 * Nodes of the system for the service benches: bin/start.ts as a child process with the given
 * SERVICES / TRANSPORTER / MONGO_URL / PORT, exactly as a deployment starts it. BENCH_CPU_PROF=<dir>
 * starts each child with --cpu-prof (the profile is written when the child stops).
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";

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
  const child = spawn(process.execPath, [...prof, "--import", "tsx", "bin/start.ts"], { cwd: root, env: { ...clean, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (d) => (out = (out + d).slice(-20_000)));
  child.stderr!.on("data", (d) => (out = (out + d).slice(-20_000)));
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
