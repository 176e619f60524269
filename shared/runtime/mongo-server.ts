/**
 * Finds a MongoDB for the embedded start (no MONGO_URL): a real mongod through
 * mongodb-memory-server where its binary can be had, else the MongoDB wire-protocol server built
 * from Maven Central (test/support/mongo-wire-server). Tests reuse the Java launcher from here.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { connect } from "node:net";
import { dirname, join, resolve } from "node:path";

export type MongoServerKind = "external" | "memory-server" | "java-wire" | "testcontainers";

export interface RunningMongo {
  url: string;
  kind: MongoServerKind;
  stop(): Promise<void>;
}

export interface MongoServerOptions {
  log?: (msg: string) => void;
}

/** Relative to the repository root; scripts/setup.sh builds it with Maven. */
export const WIRE_SERVER_JAR = "test/support/mongo-wire-server/target/mongo-wire-server.jar";

/** The nearest directory above `from` holding package.json (works from sources and from dist/). */
export function findRepoRoot(from: string = __dirname): string {
  let dir = resolve(from);
  for (;;) {
    if (existsSync(join(dir, "package.json"))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${from}`);
    dir = parent;
  }
}

export function wireServerJarPath(): string {
  return join(findRepoRoot(), WIRE_SERVER_JAR);
}

export async function startMongoServer(opts: MongoServerOptions = {}): Promise<RunningMongo> {
  const log = opts.log ?? (() => undefined);
  const external = process.env.MONGO_URL;
  if (external) {
    return { url: external, kind: "external", stop: async () => undefined };
  }

  const reasons: string[] = [];
  try {
    const memory = await tryMemoryServer(log);
    if (memory) return memory;
    reasons.push("mongodb-memory-server: no mongod binary and its download host is unreachable");
  } catch (err) {
    reasons.push(`mongodb-memory-server: ${errorMessage(err)}`);
    log(`mongodb-memory-server failed (${errorMessage(err)}), trying the Java wire server`);
  }

  const jar = wireServerJarPath();
  if (existsSync(jar)) {
    try {
      const server = await startJavaWireServer({ jar });
      log(`MongoDB wire-protocol server (mongo-java-server, in memory) at ${server.url}`);
      return server;
    } catch (err) {
      reasons.push(`Java wire server: ${errorMessage(err)}`);
    }
  } else {
    reasons.push(`Java wire server: ${jar} is missing (run: npm run setup; needs java and mvn)`);
  }
  throw new Error(`No MongoDB available. Set MONGO_URL, or fix one of:\n  - ${reasons.join("\n  - ")}`);
}

/**
 * Starts mongodb-memory-server only when its mongod is already on disk (MONGOMS_SYSTEM_BINARY or
 * an earlier download) or its download host answers: its own download retries for seconds, or for
 * a minute on a network that drops packets, before failing. Returns undefined when it cannot run.
 */
async function tryMemoryServer(log: (msg: string) => void): Promise<RunningMongo | undefined> {
  const mms = await import("mongodb-memory-server-core");
  // A configured system binary goes straight to create(), so a wrong path is reported, not skipped.
  const binary =
    process.env.MONGOMS_SYSTEM_BINARY ||
    (await mms.DryMongoBinary.locateBinary(mms.DryMongoBinary.getEnsuredOptions()).catch(() => undefined));
  if (!binary) {
    const host = downloadHost();
    if (!(await httpsAnswers(host.host, host.port, 3000))) {
      log(`no local mongod and ${host.host}:${host.port} is unreachable: skipping mongodb-memory-server`);
      return undefined;
    }
    log(`downloading mongod from ${host.host} (mongodb-memory-server)`);
  }
  const server = await mms.MongoMemoryServer.create();
  log(`mongod (mongodb-memory-server) at ${server.getUri()}`);
  return {
    url: server.getUri(),
    kind: "memory-server",
    stop: async () => {
      await server.stop();
    },
  };
}

function downloadHost(): { host: string; port: number } {
  const configured = process.env.MONGOMS_DOWNLOAD_URL ?? process.env.MONGOMS_DOWNLOAD_MIRROR;
  if (configured) {
    try {
      const url = new URL(configured);
      return { host: url.hostname, port: Number(url.port) || (url.protocol === "http:" ? 80 : 443) };
    } catch {
      // An unparsable mirror is the library's problem to report; probe the default host.
    }
  }
  return { host: "fastdl.mongodb.org", port: 443 };
}

/**
 * True when an HTTPS server answers a HEAD within timeoutMs. TLS, not a bare TCP connect: some
 * sandboxes run a transparent proxy that accepts every TCP connection but cannot fake a certificate.
 */
function httpsAnswers(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((done) => {
    const req = httpsRequest({ host, port, method: "HEAD", path: "/", agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      done(true);
    });
    req.once("timeout", () => req.destroy());
    req.once("error", () => done(false));
    req.end();
  });
}

/** True when a TCP connection opens within timeoutMs (DNS failures count as false). */
export function canConnect(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ host, port });
    const finish = (ok: boolean): void => {
      socket.destroy();
      done(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once("connect", () => finish(true));
    socket.once("error", () => finish(false));
  });
}

export interface JavaWireServerOptions {
  /** Path to mongo-wire-server.jar; defaults to the one built under the repository root. */
  jar?: string;
  /** How long to wait for its LISTENING line. */
  startTimeoutMs?: number;
}

/**
 * Spawns the Java launcher on a free port. Its stdin stays a pipe from this process: when this
 * process dies, the pipe closes and the launcher exits, so no orphan keeps the port.
 */
/**
 * The server copies every document it touches, so at hundreds of writes a second it allocates
 * ~1.5 GB every 2 s, and G1's default 200 ms pause goal let young collections stop it 85–180 ms
 * every 2 s: every request in flight then waited (the payments bench's p99 was that pause). A
 * 20 ms goal makes G1 collect a smaller young generation more often: measured p99 214–230 → 136 ms
 * at ~760 payments/s, the same throughput.
 *
 * String deduplication: every document is a tree of Java maps whose keys (and many values: dates,
 * statuses, "0.00") are separate String objects; G1 then shares their bytes. Measured on the
 * close-of-business bench's book: 34.8 → 24.7 KB of live heap per loan after the build, 41.1 →
 * 28.3 after a close (the live set is most of what a big book's collections cost).
 */
export const WIRE_SERVER_JVM_DEFAULTS = ["-XX:MaxGCPauseMillis=20", "-XX:+UseStringDeduplication"];

export function startJavaWireServer(opts: JavaWireServerOptions = {}): Promise<RunningMongo> {
  const jar = opts.jar ?? wireServerJarPath();
  if (!existsSync(jar)) {
    return Promise.reject(new Error(`${jar} is missing: build it with npm run setup (needs java and mvn)`));
  }
  const java = process.env.JAVA_HOME ? join(process.env.JAVA_HOME, "bin", "java") : "java";
  // MONGO_WIRE_JAVA_OPTS (e.g. "-Xmx2g"): JVM options, after ours (the JVM takes the last); the
  // heap is otherwise sized from the machine (a quarter of memory), which a big book's garbage
  // fills before it collects.
  const jvmOpts = (process.env.MONGO_WIRE_JAVA_OPTS ?? "").split(/\s+/).filter(Boolean);
  const child = spawn(java, [...WIRE_SERVER_JVM_DEFAULTS, ...jvmOpts, "-jar", jar, "0"], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });

  return new Promise<RunningMongo>((resolveStart, rejectStart) => {
    let stdout = "";
    const timer = setTimeout(() => {
      fail(new Error(`mongo-wire-server did not report LISTENING within ${opts.startTimeoutMs ?? 30000} ms`));
      child.kill("SIGKILL");
    }, opts.startTimeoutMs ?? 30000);
    const fail = (err: Error): void => {
      clearTimeout(timer);
      rejectStart(err);
    };
    child.once("error", (err) => fail(new Error(`cannot run ${java}: ${err.message}`)));
    child.once("exit", (code, signal) => {
      fail(new Error(`mongo-wire-server exited (${signal ?? code}) before listening:\n${stderr}`));
    });
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", function onData(chunk: string) {
      stdout += chunk;
      const match = /^LISTENING (\d+)$/m.exec(stdout);
      if (!match) return;
      clearTimeout(timer);
      child.stdout.off("data", onData);
      child.stdout.resume();
      const url = `mongodb://127.0.0.1:${match[1]}/`;
      resolveStart({ url, kind: "java-wire", stop: () => stopChild(child) });
    });
  });
}

/** Closes stdin (the launcher's exit signal), then escalates to SIGTERM and SIGKILL. */
function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    const term = setTimeout(() => child.kill("SIGTERM"), 2000);
    const kill = setTimeout(() => child.kill("SIGKILL"), 5000);
    child.once("exit", () => {
      clearTimeout(term);
      clearTimeout(kill);
      done();
    });
    child.stdin?.end();
  });
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
