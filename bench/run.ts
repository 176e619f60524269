/**
 * `npm run bench [section …]`: one section per capability, each a script in bench/sections/ that
 * prints its figures and the ratio to a baseline measured in the same run. With no argument every
 * section runs, one after the other, each in its own process (so one's heap never skews another's
 * peak RSS). Big-book sections take minutes; none of this is part of `npm test`.
 */
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import path from "node:path";

const dir = path.join(__dirname, "sections");
const available = readdirSync(dir).filter((f) => f.endsWith(".ts")).map((f) => f.replace(/\.ts$/, "")).sort();
const asked = process.argv.slice(2);
const unknown = asked.filter((s) => !available.includes(s));
if (unknown.length) {
  console.error(`unknown bench section(s): ${unknown.join(", ")}; available: ${available.join(", ")}`);
  process.exit(2);
}
let failed = 0;
for (const section of asked.length ? asked : available) {
  console.log(`\n=== bench: ${section} ===`);
  const r = spawnSync(process.execPath, ["--import", "tsx", path.join(dir, `${section}.ts`)], { stdio: "inherit" });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
