/** Runs bin/start.ts as a real process, the way `npm start` or a container does. */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import path from "node:path";
import { eventually } from "./http";

const root = path.resolve(__dirname, "../..");

export interface StartedProcess {
  child: ChildProcess;
  output(): string;
  /** SIGTERM and the exit code. */
  stop(): Promise<number | null>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer().listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
    srv.on("error", reject);
  });
}

/**
 * Starts a node with exactly `env` on top of a clean environment (no inherited MONGO_URL,
 * TRANSPORTER…), and waits until it prints its start-up summary.
 */
export async function startSystemProcess(env: Record<string, string>, timeoutMs = 60_000): Promise<StartedProcess> {
  const clean: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: "warn" };
  for (const key of ["MONGO_URL", "TRANSPORTER", "AUTH_TOKENS", "SERVICES", "NODE_ENV", "PORT", "JETSTREAM_URL"]) delete clean[key];
  const child = spawn(process.execPath, ["--import", "tsx", "bin/start.ts"], { cwd: root, env: { ...clean, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  await eventually(() => / up in [\d.]+ s:/.test(out) || child.exitCode !== null, timeoutMs, 50);
  if (child.exitCode !== null) throw new Error(`bin/start.ts exited early:\n${out}`);
  return {
    child,
    output: () => out,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve(child.exitCode);
        child.once("exit", (code) => resolve(code));
        child.kill("SIGTERM");
      }),
  };
}
