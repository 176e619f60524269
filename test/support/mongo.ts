/**
 * A MongoDB for tests: MONGO_URL if set; a mongo:7 container when a Docker engine answers;
 * otherwise the Java wire-protocol server (mongo-java-server, in memory). Each test file should
 * use its own database through uniqueDbUrl, so files can share one server.
 */
import { request } from "node:http";
import { homedir } from "node:os";
import { join } from "node:path";
import { canConnect, startJavaWireServer, type RunningMongo } from "../../shared/runtime/mongo-server";

export type { MongoServerKind, RunningMongo } from "../../shared/runtime/mongo-server";

export async function startTestMongo(): Promise<RunningMongo> {
  const external = process.env.MONGO_URL;
  if (external) return { url: external, kind: "external", stop: async () => undefined };
  if (await dockerEngineAnswers()) return startMongoContainer();
  return startJavaWireServer();
}

let dbCounter = 0;

/**
 * The base URL with a fresh database name (prefix, pid, time, counter) in its path; the query
 * string is kept. MongoDB allows 63 characters and no punctuation beyond '_' and '-' here.
 */
export function uniqueDbUrl(baseUrl: string, prefix: string): string {
  const safePrefix = prefix.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 30);
  const db = `${safePrefix}_${process.pid}_${Date.now().toString(36)}_${(dbCounter++).toString(36)}`;
  const schemeEnd = baseUrl.indexOf("://");
  if (schemeEnd < 0) throw new Error(`not a MongoDB URL: ${baseUrl}`);
  const queryAt = baseUrl.indexOf("?", schemeEnd);
  const beforeQuery = queryAt < 0 ? baseUrl : baseUrl.slice(0, queryAt);
  const query = queryAt < 0 ? "" : baseUrl.slice(queryAt);
  // Hosts may be a comma-separated list, so split on the first '/' after the authority by hand.
  const pathAt = beforeQuery.indexOf("/", schemeEnd + 3);
  const authority = pathAt < 0 ? beforeQuery : beforeQuery.slice(0, pathAt);
  return `${authority}/${db}${query}`;
}

async function startMongoContainer(): Promise<RunningMongo> {
  const { GenericContainer, Wait } = await import("testcontainers");
  const container = await new GenericContainer("mongo:7")
    .withExposedPorts(27017)
    .withWaitStrategy(Wait.forLogMessage(/Waiting for connections/))
    .start();
  return {
    url: `mongodb://${container.getHost()}:${container.getMappedPort(27017)}/`,
    kind: "testcontainers",
    stop: async () => {
      await container.stop();
    },
  };
}

/**
 * Asks the engine's /_ping directly: testcontainers' own discovery tries several strategies and
 * can take many seconds to give up on a machine with a docker CLI but no engine.
 */
export async function dockerEngineAnswers(timeoutMs = 1500): Promise<boolean> {
  const dockerHost = process.env.DOCKER_HOST;
  if (dockerHost?.startsWith("tcp://")) {
    const url = new URL(dockerHost.replace(/^tcp:/, "http:"));
    const port = Number(url.port) || 2375;
    // A TLS endpoint cannot be pinged without its client certificates: let testcontainers try it.
    if (process.env.DOCKER_TLS_VERIFY) return canConnect(url.hostname, port, timeoutMs);
    return ping({ host: url.hostname, port }, timeoutMs);
  }
  const sockets = dockerHost?.startsWith("unix://")
    ? [dockerHost.slice("unix://".length)]
    : [
        "/var/run/docker.sock",
        join(homedir(), ".docker", "run", "docker.sock"),
        ...(process.env.XDG_RUNTIME_DIR ? [join(process.env.XDG_RUNTIME_DIR, "docker.sock")] : []),
      ];
  const answers = await Promise.all(sockets.map((socketPath) => ping({ socketPath }, timeoutMs)));
  return answers.some(Boolean);
}

/** The engine answers GET /_ping with 200 "OK"; anything else (a proxy's 404, a timeout) is no engine. */
function ping(target: { socketPath: string } | { host: string; port: number }, timeoutMs: number): Promise<boolean> {
  return new Promise((done) => {
    const req = request({ ...target, path: "/_ping", method: "GET", agent: false, timeout: timeoutMs }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => done(res.statusCode === 200 && body.trim() === "OK"));
    });
    req.once("timeout", () => req.destroy());
    req.once("error", () => done(false));
    req.end();
  });
}
