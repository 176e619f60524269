/**
 * Headless Chromium (Debian's `chromium` package) driven over the DevTools protocol with Node's
 * own WebSocket: enough to open a page, run script in it, wait for a condition and take a
 * screenshot. No browser download, no driver library.
 */
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { eventually } from "./http";
import { freePort } from "./processes";

export function chromiumBinary(): string | undefined {
  for (const bin of [process.env.CHROMIUM_BIN, "chromium", "chromium-browser", "google-chrome"]) {
    if (!bin) continue;
    try {
      execFileSync("which", [bin], { stdio: "ignore" });
      return bin;
    } catch {
      // not this one
    }
  }
  return undefined;
}

export interface Page {
  /** Evaluates an expression in the page; returns its value (by value: JSON-able results). */
  evaluate<T = unknown>(expression: string): Promise<T>;
  navigate(url: string): Promise<void>;
  screenshot(): Promise<Buffer>;
  close(): Promise<void>;
}

export async function openPage(width = 1400, height = 1000): Promise<Page> {
  const bin = chromiumBinary();
  if (!bin) throw new Error("Chromium is not installed (Debian: apt-get install chromium; or set CHROMIUM_BIN)");
  const port = await freePort();
  const profile = mkdtempSync(path.join(tmpdir(), "chromium-"));
  const browser: ChildProcess = spawn(
    bin,
    ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", `--remote-debugging-port=${port}`, `--user-data-dir=${profile}`, `--window-size=${width},${height}`, "about:blank"],
    { stdio: "ignore" },
  );
  const targets = await eventually(async () => {
    const list = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as { type: string; webSocketDebuggerUrl: string }[];
    return list.find((t) => t.type === "page") ? list : undefined;
  }, 30_000, 100);
  const ws = new WebSocket(targets.find((t) => t.type === "page")!.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  ws.onmessage = (msg) => {
    const data = JSON.parse(String(msg.data));
    const waiter = data.id !== undefined ? pending.get(data.id) : undefined;
    if (!waiter) return;
    pending.delete(data.id);
    if (data.error) waiter.reject(new Error(`${data.error.message}`));
    else waiter.resolve(data.result);
  };
  const send = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<any>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      ws.send(JSON.stringify({ id, method, params }));
    });
  await send("Emulation.setDeviceMetricsOverride", { width, height, deviceScaleFactor: 1, mobile: false });

  const page: Page = {
    async evaluate<T>(expression: string): Promise<T> {
      const r = await send("Runtime.evaluate", { expression, returnByValue: true, awaitPromise: true });
      if (r.exceptionDetails) throw new Error(`page error: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
      return r.result.value as T;
    },
    async navigate(url: string) {
      await send("Page.navigate", { url });
      await eventually(() => page.evaluate<boolean>(`location.href.startsWith(${JSON.stringify(url)}) && document.readyState === "complete"`), 20_000, 50);
    },
    async screenshot() {
      const r = await send("Page.captureScreenshot", { format: "png" });
      return Buffer.from(r.data, "base64");
    },
    async close() {
      ws.close();
      const exited = new Promise((r) => browser.once("exit", r));
      browser.kill("SIGTERM");
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 5_000)))]);
      clearTimeout(timer);
      if (browser.exitCode === null) browser.kill("SIGKILL");
      rmSync(profile, { recursive: true, force: true });
    },
  };
  return page;
}
