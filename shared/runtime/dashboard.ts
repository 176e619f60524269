/**
 * The dashboard page at /dashboard (DESIGN.md §12, issue 13 point 3): static files from
 * `dashboard/` at the package root and Chart.js from node_modules (no CDN), served by the gateway
 * as one moleculer-web route. The page signs in with a bearer token and calls the REST API itself,
 * so the route needs no authentication of its own.
 */
import { existsSync, readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import path from "node:path";

/** The package root (where package.json is): the same from `shared/runtime` and `dist/shared/runtime`. */
function packageRoot(from = __dirname): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, "package.json"))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

const FILES: Record<string, { file: () => string; type: string }> = {
  "/": { file: () => path.join(packageRoot(), "dashboard", "index.html"), type: "text/html; charset=utf-8" },
  "/app.js": { file: () => path.join(packageRoot(), "dashboard", "app.js"), type: "text/javascript; charset=utf-8" },
  "/series.js": { file: () => path.join(packageRoot(), "dashboard", "series.js"), type: "text/javascript; charset=utf-8" },
  "/style.css": { file: () => path.join(packageRoot(), "dashboard", "style.css"), type: "text/css; charset=utf-8" },
  "/vendor/chart.js": { file: () => path.join(path.dirname(require.resolve("chart.js")), "chart.umd.min.js"), type: "text/javascript; charset=utf-8" },
};

/** Everything the page loads comes from this origin; no inline script. */
const SECURITY_HEADERS = {
  "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
  "X-Content-Type-Options": "nosniff",
  "Cache-Control": "no-cache",
};

/** The moleculer-web route serving the dashboard; files are read once, on first request. */
export function dashboardRoute(): Record<string, unknown> {
  const cache = new Map<string, Buffer>();
  const serve = (name: string) =>
    function (_req: IncomingMessage, res: ServerResponse) {
      const spec = FILES[name];
      let body = cache.get(name);
      if (!body) cache.set(name, (body = readFileSync(spec.file())));
      res.writeHead(200, { "Content-Type": spec.type, "Content-Length": body.length, ...SECURITY_HEADERS });
      res.end(body);
    };
  return {
    path: "/dashboard",
    authentication: false,
    authorization: false,
    mappingPolicy: "restrict",
    aliases: Object.fromEntries(Object.keys(FILES).map((name) => [`GET ${name}`, serve(name)])),
  };
}
