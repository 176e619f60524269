/**
 * A light HTTP load generator for the service benches: a keep-alive agent, a fixed number of
 * requests in flight, one record per request (end time, latency, status). node:http rather than
 * fetch: the generator shares the machine with the system it measures, so it must cost little.
 */
import http from "node:http";

export interface Reply {
  status: number;
  body: any;
}

export interface Sample {
  /** ms since the load started, when the answer arrived */
  at: number;
  ms: number;
  status: number;
}

export function httpClient(baseUrl: string, token: string, sockets = 128) {
  const url = new URL(baseUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: sockets });
  return function request(method: string, path: string, body?: unknown): Promise<Reply> {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: url.hostname,
          port: url.port,
          method,
          path,
          agent,
          headers: { Authorization: `Bearer ${token}`, ...(data ? { "Content-Type": "application/json", "Content-Length": data.length } : {}) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            let parsed: any = text;
            try {
              parsed = JSON.parse(text);
            } catch {
              /* not JSON */
            }
            resolve({ status: res.statusCode ?? 0, body: parsed });
          });
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      if (data) req.write(data);
      req.end();
    });
  };
}

/**
 * Runs `task(n)` for n = 0, 1, 2 … with `concurrency` in flight until `count` tasks ran or
 * `durationMs` passed (no new task starts after that); returns one sample per task.
 */
export async function runPool(opts: { concurrency: number; count?: number; durationMs?: number }, task: (n: number) => Promise<number>): Promise<{ samples: Sample[]; elapsedMs: number }> {
  const samples: Sample[] = [];
  const t0 = performance.now();
  let next = 0;
  const more = () => (opts.count === undefined || next < opts.count) && (opts.durationMs === undefined || performance.now() - t0 < opts.durationMs);
  async function worker(): Promise<void> {
    while (more()) {
      const n = next++;
      const start = performance.now();
      let status: number;
      try {
        status = await task(n);
      } catch {
        status = -1;
      }
      const end = performance.now();
      samples.push({ at: end - t0, ms: end - start, status });
    }
  }
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  return { samples, elapsedMs: performance.now() - t0 };
}

export interface LoadFigures {
  requests: number;
  errors: number;
  perSecond: number;
  p50: number;
  p99: number;
  /** rate over the first and the last 10 s of the run */
  first10: number;
  last10: number;
}

export function figures(samples: Sample[], elapsedMs: number, okStatus: (s: number) => boolean): LoadFigures {
  const ok = samples.filter((s) => okStatus(s.status));
  const lat = ok.map((s) => s.ms).sort((a, b) => a - b);
  const pct = (p: number) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))] : NaN);
  const window = Math.min(10_000, elapsedMs / 2);
  const inWindow = (from: number, to: number) => ok.filter((s) => s.at >= from && s.at < to).length / (window / 1000);
  return {
    requests: ok.length,
    errors: samples.length - ok.length,
    perSecond: ok.length / (elapsedMs / 1000),
    p50: pct(50),
    p99: pct(99),
    first10: inWindow(0, window),
    last10: inWindow(elapsedMs - window, elapsedMs),
  };
}
