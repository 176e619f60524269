/**
 * CPU seconds used by this process and every process below it (Linux /proc), so a bench can say
 * where a phase's CPU went: the node processes of the system, the database, the load generator.
 */
import { readdirSync, readFileSync } from "node:fs";

export type CpuSnapshot = Map<number, { name: string; seconds: number }>;

const TICKS = 100; // USER_HZ on Linux

function stat(pid: number): { ppid: number; seconds: number } | null {
  try {
    const raw = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = raw.slice(raw.lastIndexOf(")") + 2).split(" ");
    return { ppid: Number(fields[1]), seconds: (Number(fields[11]) + Number(fields[12])) / TICKS };
  } catch {
    return null;
  }
}

function nameOf(pid: number): string {
  try {
    const args = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
    const jar = args.find((a) => a.endsWith(".jar"));
    if (jar) return "java (mongo wire server)";
    if (args[0]?.includes("nats-server")) return "nats-server";
    const services = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").find((e) => e.startsWith("SERVICES="));
    if (args.includes("bin/start.ts")) return `node ${services?.slice(9) ?? "all"}`;
    return pid === process.pid ? "bench (load generator)" : args.slice(0, 2).join(" ").slice(0, 40);
  } catch {
    return String(pid);
  }
}

export function cpuSnapshot(): CpuSnapshot {
  const parents = new Map<number, number>();
  const seconds = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const s = stat(pid);
    if (!s) continue;
    parents.set(pid, s.ppid);
    seconds.set(pid, s.seconds);
  }
  const mine = (pid: number): boolean => {
    for (let p: number | undefined = pid, hops = 0; p && hops < 20; p = parents.get(p), hops++) if (p === process.pid) return true;
    return false;
  };
  const out: CpuSnapshot = new Map();
  for (const [pid, s] of seconds) if (mine(pid)) out.set(pid, { name: nameOf(pid), seconds: s });
  return out;
}

/** CPU seconds per process name between two snapshots (tsx loaders and other helpers folded in by name). */
export function cpuBetween(before: CpuSnapshot, after: CpuSnapshot): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [pid, a] of after) {
    const used = a.seconds - (before.get(pid)?.seconds ?? 0);
    if (used > 0.05) out[a.name] = (out[a.name] ?? 0) + used;
  }
  return out;
}

/** Machine-wide CPU seconds from /proc/stat: busy (all but idle and iowait) and stolen by the hypervisor. */
function machineSeconds(): { busy: number; steal: number } {
  const [, ...f] = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/);
  const n = f.map(Number); // user nice system idle iowait irq softirq steal guest guest_nice
  return { busy: (n[0] + n[1] + n[2] + n[5] + n[6]) / TICKS, steal: n[7] / TICKS };
}

export interface CpuMark {
  /** ms since the timeline started */
  at: number;
  processes: CpuSnapshot;
  machine: { busy: number; steal: number };
}

/**
 * A CPU snapshot every second while a load runs, so any window of it can say what each process
 * spent in it. `stop()` takes a last one and returns them all.
 */
export function cpuTimeline(everyMs = 1000): { stop(): CpuMark[] } {
  const t0 = performance.now();
  const marks: CpuMark[] = [];
  const mark = () => marks.push({ at: performance.now() - t0, processes: cpuSnapshot(), machine: machineSeconds() });
  mark();
  const timer = setInterval(mark, everyMs);
  return {
    stop() {
      clearInterval(timer);
      mark();
      return marks;
    },
  };
}

/** CPU per process name, and the machine's busy and stolen seconds, between the marks nearest `from` and `to` (ms). */
export function cpuInWindow(marks: CpuMark[], from: number, to: number): { processes: Record<string, number>; machine: { busy: number; steal: number }; ms: number } {
  const nearest = (t: number) => marks.reduce((best, m) => (Math.abs(m.at - t) < Math.abs(best.at - t) ? m : best));
  const a = nearest(from);
  const b = nearest(to);
  return {
    processes: cpuBetween(a.processes, b.processes),
    machine: { busy: b.machine.busy - a.machine.busy, steal: b.machine.steal - a.machine.steal },
    ms: b.at - a.at,
  };
}
