/**
 * A real nats-server for tests, on a free port, optionally with JetStream in a temp store.
 * The binary comes from NATS_SERVER_BIN or PATH (scripts/setup.sh --test installs it).
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { canConnect } from "../../shared/runtime/mongo-server";

export interface RunningNats {
  url: string;
  port: number;
  /** SIGTERM, wait for exit, remove the JetStream store. */
  stop(): Promise<void>;
  /** SIGKILL at once, for crash tests; call stop() afterwards to clean up. */
  kill(): void;
}

export interface NatsOptions {
  jetstream?: boolean;
}

export async function startNats(opts: NatsOptions = {}): Promise<RunningNats> {
  // Another process may take the probed port before nats-server binds it: retry on a new one.
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(opts, await freePort());
    } catch (err) {
      lastError = err;
    }
  }
  throw lastError;
}

async function startOnce(opts: NatsOptions, port: number): Promise<RunningNats> {
  const bin = process.env.NATS_SERVER_BIN || "nats-server";
  const storeDir = opts.jetstream ? await mkdtemp(join(tmpdir(), "nats-js-")) : undefined;
  const args = ["-a", "127.0.0.1", "-p", String(port)];
  if (storeDir) args.push("-js", "-sd", storeDir);

  const child = spawn(bin, args, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  let exited = false;
  let spawnError: Error | undefined;
  // A binary that cannot be spawned emits "error" and may never emit "exit".
  const exitedPromise = new Promise<void>((done) => {
    child.once("exit", () => ((exited = true), done()));
    child.once("error", (err) => ((spawnError = err), (exited = true), done()));
  });

  const cleanup = async (): Promise<void> => {
    if (!exited) {
      child.kill("SIGTERM");
      const forced = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exitedPromise;
      clearTimeout(forced);
    }
    if (storeDir) await rm(storeDir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 15000;
  while (!(await canConnect("127.0.0.1", port, 500))) {
    if (spawnError) {
      await cleanup();
      throw new Error(`cannot run ${bin} (set NATS_SERVER_BIN or install nats-server): ${spawnError.message}`);
    }
    if (exited || Date.now() > deadline) {
      await cleanup();
      throw new Error(`nats-server did not start on port ${port}:\n${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }

  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    stop: cleanup,
    kill: () => {
      if (!exited) child.kill("SIGKILL");
    },
  };
}

/** Binds port 0 to let the OS pick a free port, then releases it for nats-server. */
function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => done(port));
    });
  });
}
