/**
 * Named crash points for the tests that prove a mutation survives a crash at its worst moment
 * (issue 8: SIGKILL between the loan write and its side writes). `FAILPOINTS=a,b` arms them;
 * unarmed, a failpoint is one Set lookup. Nothing else in the system reads this variable.
 */
const armed = new Set((process.env.FAILPOINTS ?? "").split(",").map((s) => s.trim()).filter(Boolean));

export function failpoint(name: string): void {
  if (armed.size && armed.has(name)) process.kill(process.pid, "SIGKILL");
}
