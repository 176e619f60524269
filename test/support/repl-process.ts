/**
 * `bin/repl.ts` as a real process joined to a test cluster over NATS: commands are typed on its
 * stdin and answers read from its stdout, as an operator uses it.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { eventually } from "./http";

export interface ReplProcess {
  /** Everything the REPL printed so far. */
  output(): string;
  /** Types a command and returns what the REPL printed until `until` appears. */
  type(command: string, until: RegExp, timeoutMs?: number): Promise<string>;
  /** Ends its stdin and waits for it to exit (killed after 10 s). */
  stop(): Promise<void>;
}

export async function startRepl(natsUrl: string): Promise<ReplProcess> {
  const clean = { ...process.env };
  for (const key of ["MONGO_URL", "SERVICES", "JETSTREAM_URL"]) delete clean[key];
  const repl = spawn(process.execPath, ["--import", "tsx", "bin/repl.ts"], {
    cwd: path.resolve(__dirname, "../.."),
    env: { ...clean, TRANSPORTER: natsUrl, LOG_LEVEL: "warn" },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let out = "";
  repl.stdout!.on("data", (d) => (out += d));
  repl.stderr!.on("data", (d) => (out += d));
  await eventually(() => out.includes("loans $") || repl.exitCode !== null, 60_000);
  if (repl.exitCode !== null) throw new Error(`repl exited:\n${out}`);
  return {
    output: () => out,
    async type(command, until, timeoutMs = 20_000) {
      const from = out.length;
      repl.stdin!.write(`${command}\n`);
      return eventually(() => {
        const answer = out.slice(from);
        return until.test(answer) ? answer : undefined;
      }, timeoutMs);
    },
    async stop() {
      if (repl.exitCode !== null) return;
      const exited = new Promise((r) => repl.once("exit", r));
      repl.stdin!.end();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 10_000)))]);
      clearTimeout(timer);
      if (repl.exitCode === null) repl.kill("SIGKILL");
    },
  };
}
