/**
 * Named crash points for the tests that prove a mutation survives a crash at its worst moment
 * (issue 8: SIGKILL between the loan write and its side writes). `FAILPOINTS=a,b` arms them;
 * `a@3` fires on the third time `a` is reached (issue 9: a close killed after its third chunk).
 * Unarmed, a failpoint is one size check. Nothing else in the system reads this variable.
 */
const armed = new Map<string, number>();
for (const spec of (process.env.FAILPOINTS ?? "").split(",").map((s) => s.trim()).filter(Boolean)) {
  const [name, at] = spec.split("@");
  armed.set(name, at ? Math.max(1, Number(at) || 1) : 1);
}
const reached = new Map<string, number>();

export function failpoint(name: string): void {
  if (!armed.size) return;
  const at = armed.get(name);
  if (at === undefined) return;
  const n = (reached.get(name) ?? 0) + 1;
  reached.set(name, n);
  if (n >= at) process.kill(process.pid, "SIGKILL");
}
